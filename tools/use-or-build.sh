#!/usr/bin/env bash
# use-or-build.sh NAME VERSION BUILD-COMMAND
# Puts NAME at VERSION into .tools/bin: a link to the one on PATH when it reports that
# version, else the binary BUILD-COMMAND builds from the pinned Go module.
set -euo pipefail
name=$1 version=$2 build=$3
tools=$(cd "$(dirname "$0")/.." && pwd)/.tools/bin
mkdir -p "$tools"
existing=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$tools" | paste -sd: -) command -v "$name" || true)
if [ -n "$existing" ] && { "$existing" version 2>/dev/null || "$existing" --version 2>/dev/null; } | grep -qw -- "${version#v}"; then
    ln -sf "$existing" "$tools/$name"
    echo "$name $version: using $existing"
    exit 0
fi
if ! command -v go >/dev/null; then
    echo "$name $version is needed and Go is not installed: install Go 1.24+ (https://go.dev/doc/install) or put $name $version on PATH" >&2
    exit 1
fi
echo "$name $version: building from its Go module (first time only, a few minutes)"
start=$(date +%s)
GOBIN="$tools" GOFLAGS="${GOFLAGS:-} -trimpath" bash -c "$build"
"$tools/$name" --help >/dev/null
echo "$name $version: built in $(( $(date +%s) - start )) s"
