#!/usr/bin/env bash
# install-multitool.sh VERSION
# Puts Microsoft's SARIF Multitool at VERSION into .tools/bin/sarif-multitool, from the npm
# package @microsoft/sarif-multitool (npm checks each package's integrity hash).
set -euo pipefail
version=$1
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.tools/npm"
if ! command -v npm >/dev/null; then
    echo "sarif-multitool $version is needed and npm is not installed: install Node.js and npm" >&2
    exit 1
fi
npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$prefix" \
    "@microsoft/sarif-multitool@$version"
case "$(uname -s)" in
    Linux) platform=linux ;;
    Darwin) platform=darwin ;;
    *) echo "sarif-multitool: no build for $(uname -s)" >&2; exit 1 ;;
esac
binary="$prefix/node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool"
chmod u+x "$binary"  # what the package's postinstall does (scripts are not run)
ln -sf "$binary" "$root/.tools/bin/sarif-multitool"
"$root/.tools/bin/sarif-multitool" --version | head -1
