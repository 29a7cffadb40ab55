"""The workflows pe-policy and zizmor are both run on (tests/test_zizmor_differential.py).

Each case is one realistic workflow, written after GitHub's documentation and the
workflows real projects ship, that breaks (or carefully does not break) one rule; it is
written once per trigger it lists, since what a rule decides often turns on the trigger
(a self-hosted runner on `push` is fine, on `pull_request` it is not). A case names the
rule pairs on which pe-policy differs from zizmor *by design*, and why; every other
difference on a mapped pair fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Rule pairs compared: pe-policy rule <-> zizmor audit (offline, auditor persona).
PAIRS: dict[str, str] = {
    "PE-WF-001": "excessive-permissions",
    "PE-WF-002": "unpinned-uses",
    "PE-WF-006": "template-injection",
    "PE-WF-008": "secrets-inherit",
    "PE-WF-010": "github-env",
    "PE-WF-011": "cache-poisoning",
    "PE-WF-012": "bot-conditions",
    "PE-WF-013": "unpinned-images",
    "PE-WF-014": "artipacked",
    "PE-WF-015": "insecure-commands",
    "PE-WF-016": "hardcoded-container-credentials",
    "PE-WF-017": "overprovisioned-secrets",
    "PE-WF-018": "unsound-contains",
    "PE-WF-019": "self-hosted-runner",
    "PE-WF-020": "dangerous-triggers",
}

TRIGGERS: dict[str, str] = {
    "push": "on:\n  push:\n    branches: [main]\n",
    "pull_request": "on:\n  pull_request:\n    branches: [main]\n",
    "pull_request_target": "on:\n  pull_request_target:\n    types: [opened, synchronize]\n",
    "workflow_run": "on:\n  workflow_run:\n    workflows: [ci]\n    types: [completed]\n",
    "release": "on:\n  release:\n    types: [published]\n",
    "tags": "on:\n  push:\n    tags: [\"v*\"]\n",
    "issue_comment": "on:\n  issue_comment:\n    types: [created]\n",
    "issues": "on:\n  issues:\n    types: [opened, edited]\n",
    "schedule": "on:\n  schedule:\n    - cron: \"17 4 * * 1\"\n",
    "dispatch": "on:\n  workflow_dispatch:\n",
    "discussion": "on:\n  discussion:\n    types: [created]\n",
    "review": "on:\n  pull_request_review:\n    types: [submitted]\n",
    "gollum": "on:\n  gollum:\n",
}

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
SETUP_NODE = "actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af # v4.1.0"
SETUP_PYTHON = "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0"
SETUP_GO = "actions/setup-go@41dfa10bad2bb2ae585af6ee5bb4d7d973ad74ed # v5.1.0"
CACHE = "actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 # v4.2.0"
UPLOAD = "actions/upload-artifact@b4b15b8c7c6ac21ea08fcf65892d2ee8f75cf882 # v4.4.3"
DOWNLOAD = "actions/download-artifact@fa0a91b85d4f404e444e00e005971372dc801d16 # v4.1.8"
GITHUB_SCRIPT = "actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea # v7.0.1"
PYPI_PUBLISH = "pypa/gh-action-pypi-publish@15c56dba361d8335944d31a2ecd17d700fc7bcbc # v1.12.2"
GH_RELEASE = "softprops/action-gh-release@01570a1f39cb168c169c802c3bceb9e93fb10974 # v2.1.0"
RUST_CACHE = "Swatinem/rust-cache@82a92a6e8fbeee089604da2575dc567ae9ddeaab # v2.7.5"
DIGEST = "sha256:" + "4f0b8d5a5ec3f8c1f7c3b2ad0e8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d"

# Why pe-policy differs from zizmor, by design (the same reason serves many cases).
WHY_DEFAULT_PERMISSIONS = (
    "zizmor reports a workflow without `permissions` once at its top (and jobs again); "
    "pe-policy reports each job that gets the default token, on the job")
WHY_ARTIPACKED = (
    "zizmor (auditor) reports every checkout that keeps its credentials; pe-policy only where "
    "the job then uploads an artifact, the leak the audit is about")
WHY_SELF_HOSTED = (
    "zizmor (auditor) reports every self-hosted runner; pe-policy only in workflows that pull "
    "requests from forks trigger, where an outsider's code reaches the runner")
WHY_TO_JSON_SECRETS = (
    "toJSON(secrets) is PE-WF-008 in pe-policy (the issue puts it there), "
    "overprovisioned-secrets in zizmor")
WHY_LOCAL_INHERIT = (
    "`secrets: inherit` to a workflow of the same repository (`./`) gives secrets to code the "
    "repository already controls; zizmor reports every inherit")
WHY_GITHUB_ENV_TRIGGERS = (
    "zizmor's github-env only looks at workflows with privileged triggers; pe-policy reports "
    "untrusted data in the environment files on any trigger, since the data is the risk")
WHY_GITHUB_OUTPUT = (
    "pe-policy also reports $GITHUB_OUTPUT (the value travels on to later steps and jobs); "
    "zizmor's github-env covers GITHUB_ENV and GITHUB_PATH")
WHY_SAFE_VALUES = (
    "zizmor (auditor) also reports, with low confidence, fields that cannot carry shell syntax "
    "(numbers, SHAs) or expressions that yield only true/false; pe-policy leaves them alone")
WHY_ENV_WRITES_OF_SAFE_VALUES = (
    "zizmor's github-env reports every write to $GITHUB_ENV in a privileged workflow; pe-policy "
    "only writes of untrusted data (here a SHA and a number)")
WHY_SAFE_ACTION_ONLY = (
    "zizmor does not name pull_request_target when the workflow only runs an action it knows "
    "to be safe there (actions/labeler); pe-policy names the trigger as information everywhere")
WHY_DOCKER_STEP = (
    "a `docker://` step is an action reference to pe-policy (PE-WF-002, like every `uses:`) and "
    "an image to zizmor (unpinned-images)")
WHY_PASTED_SECRET = (
    "a secret pasted into a `run:` script is PE-WF-008 (a secret exposure) in pe-policy and "
    "template-injection in zizmor")
WHY_SECRET_TEST = (
    "`secrets.X && 'yes' || 'no'` only tests the secret: its value never reaches the script "
    "(the issue: not an exposure); zizmor reports any secret in a template")
WHY_RUNS_ON_LABELS = (
    "zizmor does not read the `runs-on: {labels: [self-hosted, ...]}` form; pe-policy does")

@dataclass(frozen=True)
class Case:
    name: str
    triggers: tuple[str, ...]
    body: str  # the workflow after its `on:` block
    differs: dict[str, str] = field(default_factory=dict)  # pe rule -> why it differs

    def files(self) -> dict[str, str]:
        """Path (from the repository root) -> text; a case without triggers is an action."""
        if not self.triggers:
            return {f".github/actions/{self.name}/action.yml": self.body.lstrip()}
        return {f".github/workflows/{self.name}--{trigger}.yml":
                f"name: {self.name}\n\n{TRIGGERS[trigger]}\n{self.body.lstrip()}"
                for trigger in self.triggers}


def job(steps: str, *, name: str = "build", runs_on: str = "ubuntu-latest", extra: str = "",
        permissions: str = "") -> str:
    """A job block; `steps` are the YAML step items, indented by 6."""
    return (f"  {name}:\n    runs-on: {runs_on}\n{permissions}{extra}    steps:\n"
            + "".join(f"      {line}\n" if line else "\n" for line in steps.strip("\n").splitlines()))


READ = "permissions:\n  contents: read\n\n"
NONE = "permissions: {}\n\n"


def workflow(*jobs: str, top: str = READ) -> str:
    return top + "jobs:\n" + "\n".join(jobs)


CASES: list[Case] = [
    # ------------------------------------------------------------ PE-WF-001 permissions
    Case("perm-none-declared", ("push", "pull_request", "schedule"),
         "jobs:\n" + job(f"- uses: {CHECKOUT}\n- run: make test", name="test"),
         {"PE-WF-001": WHY_DEFAULT_PERMISSIONS, "PE-WF-014": WHY_ARTIPACKED}),
    Case("perm-write-all", ("push", "dispatch"),
         "permissions: write-all\n\njobs:\n" + job(f"- uses: {CHECKOUT}\n- run: ./release.sh", name="release"),
         {"PE-WF-014": WHY_ARTIPACKED}),
    Case("perm-job-write-all", ("push", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n- run: gh cache delete --all", name="prune",
                      permissions="    permissions: write-all\n"), top=NONE),
         {"PE-WF-014": WHY_ARTIPACKED}),
    Case("perm-read-only", ("push", "pull_request", "schedule", "dispatch"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make lint"))),
    Case("perm-scoped-write", ("push", "dispatch"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- run: gh release upload v1 dist/*",
                      permissions="    permissions:\n      contents: write\n"), top=NONE)),
    Case("perm-reusable-called", ("dispatch",),
         "jobs:\n  call:\n    uses: ./.github/workflows/perm-read-only--push.yml\n",
         {"PE-WF-001": WHY_DEFAULT_PERMISSIONS}),
    # ------------------------------------------------------------ PE-WF-002 pinning
    Case("pin-tags", ("push", "pull_request", "schedule", "dispatch"),
         workflow(job("- uses: actions/checkout@v4\n  with:\n    persist-credentials: false\n"
                      "- uses: actions/setup-node@v4\n  with:\n    node-version: 20\n- run: npm ci && npm test"))),
    Case("pin-branch-and-short-sha", ("push", "pull_request", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- uses: peaceiris/actions-hugo@master\n- uses: actions/setup-go@41dfa10\n"
                      "- run: hugo --minify"))),
    Case("pin-sha-block-scalar", ("push", "pull_request"),
         workflow(job("- uses: >-\n    actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
                      "  with:\n    persist-credentials: false\n- run: make"))),
    Case("pin-local-action", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- uses: ./.github/actions/setup-toolchain\n- run: make check"))),
    Case("pin-reusable-tag", ("push", "dispatch"),
         workflow("  call:\n    uses: octo-org/shared/.github/workflows/build.yml@v2\n"
                  "    permissions:\n      contents: read\n", top=NONE)),
    Case("pin-reusable-sha", ("push", "dispatch"),
         workflow("  call:\n    uses: octo-org/shared/.github/workflows/build.yml@"
                  "2f3a5c1e9b8d7f6a5e4d3c2b1a0f9e8d7c6b5a49\n"
                  "    permissions:\n      contents: read\n", top=NONE)),
    # ------------------------------------------------------------ PE-WF-006 template injection
    Case("inject-title-run", ("pull_request_target", "pull_request"),
         workflow(job('- run: echo "title - ${{ github.event.pull_request.title }}"', name="greet"))),
    Case("inject-issue-body", ("issues",),
         workflow(job('- run: |\n    body="${{ github.event.issue.body }}"\n    ./triage.sh "$body"', name="triage"))),
    Case("inject-comment-github-script", ("issue_comment",),
         workflow(job(f"- uses: {GITHUB_SCRIPT}\n  with:\n    script: |\n"
                      "      const body = `${{ github.event.comment.body }}`\n"
                      "      console.log(body)", name="react"))),
    Case("inject-head-ref", ("pull_request", "pull_request_target"),
         workflow(job('- run: git log --oneline "origin/${{ github.head_ref }}" -5', name="log"))),
    Case("inject-workflow-run-branch", ("workflow_run",),
         workflow(job('- run: echo "branch ${{ github.event.workflow_run.head_branch }} finished"',
                      name="report"))),
    Case("inject-commit-message", ("push", "pull_request"),
         workflow(job('- run: echo "${{ github.event.head_commit.message }}" | ./changelog.sh',
                      name="notes"))),
    Case("inject-toJSON-event", ("pull_request_target",),
         workflow(job("- run: echo '${{ toJSON(github.event) }}' > event.json", name="dump"))),
    Case("inject-via-env-indirect", ("pull_request_target",),
         workflow(job('- run: echo "${{ env.TITLE }}"', name="greet",
                      extra="    env:\n      TITLE: ${{ github.event.pull_request.title }}\n"))),
    Case("inject-safe-env", ("pull_request_target", "pull_request"),
         workflow(job('- run: echo "title - $TITLE"\n  env:\n    TITLE: ${{ github.event.pull_request.title }}',
                      name="greet"))),
    Case("inject-safe-number-sha", ("pull_request_target", "pull_request"),
         workflow(job('- run: echo "PR ${{ github.event.pull_request.number }} at '
                      '${{ github.event.pull_request.head.sha }}"', name="greet")),
         {"PE-WF-006": WHY_SAFE_VALUES}),
    Case("inject-safe-boolean", ("pull_request_target",),
         workflow(job("- run: echo \"wip=${{ contains(github.event.pull_request.title, 'WIP') }}\"",
                      name="greet")),
         {"PE-WF-006": WHY_SAFE_VALUES}),
    Case("inject-if-only", ("issues",),
         workflow(job("- if: contains(github.event.issue.title, 'bug')\n  run: ./label.sh bug",
                      name="label"))),
    # ------------------------------------------------------------ PE-WF-008 secrets
    Case("secrets-inherit-remote", ("push", "dispatch", "release"),
         workflow("  deploy:\n    uses: octo-org/shared/.github/workflows/deploy.yml@v3\n"
                  "    secrets: inherit\n    permissions:\n      contents: read\n", top=NONE),
         ),
    Case("secrets-inherit-local", ("push", "dispatch"),
         workflow("  deploy:\n    uses: ./.github/workflows/perm-read-only--push.yml\n"
                  "    secrets: inherit\n    permissions:\n      contents: read\n", top=NONE),
         {"PE-WF-008": WHY_LOCAL_INHERIT}),
    Case("secrets-named", ("push", "release"),
         workflow("  deploy:\n    uses: octo-org/shared/.github/workflows/deploy.yml@"
                  "2f3a5c1e9b8d7f6a5e4d3c2b1a0f9e8d7c6b5a49\n"
                  "    secrets:\n      token: ${{ secrets.DEPLOY_TOKEN }}\n"
                  "    permissions:\n      contents: read\n", top=NONE)),
    Case("secrets-toJSON-env", ("push", "dispatch"),
         workflow(job("- run: ./configure.sh\n  env:\n    ALL_SECRETS: ${{ toJSON(secrets) }}", name="configure")),
         {"PE-WF-008": WHY_TO_JSON_SECRETS, "PE-WF-017": WHY_TO_JSON_SECRETS}),
    Case("secrets-condition-only", ("push", "schedule"),
         workflow(job("- if: ${{ secrets.SLACK_WEBHOOK != '' }}\n  run: ./notify.sh\n"
                      "  env:\n    SLACK_WEBHOOK: ${{ secrets.SLACK_WEBHOOK }}", name="notify"))),
    # ------------------------------------------------------------ PE-WF-010 environment files
    Case("envfile-pasted-title", ("pull_request_target", "pull_request"),
         workflow(job('- run: echo "PR_TITLE=${{ github.event.pull_request.title }}" >> "$GITHUB_ENV"\n'
                      "- run: ./label.sh", name="label")),
         {"PE-WF-010": WHY_GITHUB_ENV_TRIGGERS}),
    Case("envfile-through-env", ("workflow_run",),
         workflow(job('- run: echo "BRANCH=$HEAD_BRANCH" >> $GITHUB_ENV\n  env:\n'
                      "    HEAD_BRANCH: ${{ github.event.workflow_run.head_branch }}\n- run: ./deploy-preview.sh",
                      name="preview"))),
    Case("envfile-path", ("pull_request_target",),
         workflow(job('- run: echo "${{ github.event.pull_request.head.ref }}/bin" >> "$GITHUB_PATH"\n'
                      "- run: make", name="tools"))),
    Case("envfile-output", ("issues",),
         workflow(job('- id: meta\n  run: echo "title=${{ github.event.issue.title }}" >> "$GITHUB_OUTPUT"\n'
                      "- run: ./triage.sh", name="triage")),
         {"PE-WF-010": WHY_GITHUB_OUTPUT}),
    Case("envfile-safe-sha", ("pull_request_target", "push"),
         workflow(job('- run: echo "SHORT_SHA=${GITHUB_SHA::7}" >> "$GITHUB_ENV"\n'
                      '- run: echo "PR=${{ github.event.pull_request.number }}" >> "$GITHUB_ENV"\n'
                      "- run: ./tag.sh", name="tag")),
         {"PE-WF-010": WHY_ENV_WRITES_OF_SAFE_VALUES, "PE-WF-006": WHY_SAFE_VALUES}),
    # ------------------------------------------------------------ PE-WF-011 cache poisoning
    Case("cache-release-setup-node", ("release", "tags"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {SETUP_NODE}\n  with:\n    node-version: 20\n    cache: npm\n"
                      "- run: npm ci && npm run build\n- run: npm publish\n  env:\n"
                      "    NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}", name="publish"))),
    Case("cache-actions-cache-publish", ("push",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {CACHE}\n  with:\n    path: ~/.cache/pip\n"
                      "    key: pip-${{ hashFiles('**/requirements.txt') }}\n"
                      "- run: python -m build\n"
                      f"- uses: {PYPI_PUBLISH}", name="publish",
                      permissions="    permissions:\n      id-token: write\n"), top=NONE)),
    Case("cache-rust-release", ("release",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- uses: {RUST_CACHE}\n"
                      f"- run: cargo build --release\n- uses: {GH_RELEASE}\n  with:\n    files: target/release/tool",
                      name="release", permissions="    permissions:\n      contents: write\n"), top=NONE)),
    Case("cache-go-default", ("tags",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {SETUP_GO}\n  with:\n    go-version-file: go.mod\n- run: make dist", name="dist"))),
    Case("cache-off-in-release", ("release",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {SETUP_GO}\n  with:\n    go-version-file: go.mod\n    cache: false\n"
                      f"- uses: {SETUP_PYTHON}\n  with:\n    python-version: '3.12'\n- run: make dist",
                      name="dist"))),
    Case("cache-ci-only", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {SETUP_NODE}\n  with:\n    node-version: 20\n    cache: npm\n- run: npm ci && npm test",
                      name="test"))),
    # ------------------------------------------------------------ PE-WF-012 bot conditions
    Case("bot-actor-automerge", ("pull_request_target", "pull_request"),
         workflow(job('- run: gh pr merge --auto --squash "$PR_URL"\n  env:\n'
                      "    PR_URL: ${{ github.event.pull_request.html_url }}\n    GH_TOKEN: ${{ github.token }}",
                      name="automerge", extra="    if: github.actor == 'dependabot[bot]'\n"))),
    Case("bot-triggering-actor-step", ("pull_request_target",),
         workflow(job("- if: ${{ github.triggering_actor == 'renovate[bot]' }}\n  run: ./approve.sh",
                      name="approve"))),
    Case("bot-user-login", ("pull_request_target", "pull_request"),
         workflow(job('- run: gh pr merge --auto --squash "$PR_URL"\n  env:\n'
                      "    PR_URL: ${{ github.event.pull_request.html_url }}\n    GH_TOKEN: ${{ github.token }}",
                      name="automerge",
                      extra="    if: github.event.pull_request.user.login == 'dependabot[bot]'\n"))),
    # ------------------------------------------------------------ PE-WF-013 images
    Case("image-container-tag", ("push", "pull_request", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make test",
                      name="test", extra="    container:\n      image: node:20-bookworm\n"))),
    Case("image-container-string", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: cargo test",
                      name="test", extra="    container: rust:1.83\n"))),
    Case("image-service-tag", ("push", "pull_request", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make integration",
                      name="integration",
                      extra="    services:\n      postgres:\n        image: postgres:16\n        env:\n"
                            "          POSTGRES_PASSWORD: postgres\n"))),
    Case("image-digests", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make integration",
                      name="integration",
                      extra=f"    container:\n      image: node:20@{DIGEST}\n    services:\n      redis:\n"
                            f"        image: redis:7@{DIGEST}\n"))),
    # ------------------------------------------------------------ PE-WF-014 artipacked
    Case("artipacked-upload", ("push", "pull_request", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n- run: make site\n- uses: {UPLOAD}\n  with:\n    name: site\n    path: .",
                      name="site"))),
    Case("artipacked-no-upload", ("push",),
         workflow(job(f"- uses: {CHECKOUT}\n- run: make test", name="test")),
         {"PE-WF-014": WHY_ARTIPACKED}),
    Case("artipacked-safe", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make site\n"
                      f"- uses: {UPLOAD}\n  with:\n    name: site\n    path: public", name="site"))),
    # ------------------------------------------------------------ PE-WF-015 insecure commands
    Case("unsecure-job-env", ("push", "pull_request", "schedule"),
         workflow(job('- run: echo "::set-env name=VERSION::1.2.3"', name="legacy",
                      extra="    env:\n      ACTIONS_ALLOW_UNSECURE_COMMANDS: true\n"))),
    Case("unsecure-step-env", ("dispatch",),
         workflow(job("- run: ./old-tool.sh\n  env:\n    ACTIONS_ALLOW_UNSECURE_COMMANDS: 'true'", name="legacy"))),
    # ------------------------------------------------------------ PE-WF-016 container credentials
    Case("creds-hardcoded", ("push", "pull_request", "schedule"),
         workflow(job("- run: ./vendor-test.sh", name="vendor",
                      extra=f"    container:\n      image: ghcr.io/octo-org/sdk@{DIGEST}\n      credentials:\n"
                            "        username: octo-ci\n        password: not-a-real-password-123\n"))),
    Case("creds-service-hardcoded", ("push", "dispatch"),
         workflow(job("- run: ./integration.sh", name="integration",
                      extra=f"    services:\n      mock:\n        image: ghcr.io/octo-org/mock@{DIGEST}\n"
                            "        credentials:\n          username: octo-ci\n          password: plaintext-pw\n"))),
    Case("creds-secret", ("push", "pull_request"),
         workflow(job("- run: ./vendor-test.sh", name="vendor",
                      extra=f"    container:\n      image: ghcr.io/octo-org/sdk@{DIGEST}\n      credentials:\n"
                            "        username: ${{ github.actor }}\n        password: ${{ secrets.GHCR_TOKEN }}\n"))),
    # ------------------------------------------------------------ PE-WF-017 overprovisioned
    Case("secrets-dynamic-index", ("push", "dispatch", "schedule"),
         workflow(job("- run: ./smoke.sh\n  env:\n    API_KEY: ${{ secrets[format('{0}_API_KEY', matrix.region)] }}",
                      name="smoke", extra="    strategy:\n      matrix:\n        region: [EU, US]\n"))),
    # ------------------------------------------------------------ PE-WF-018 unsound contains
    Case("contains-string", ("push", "dispatch", "schedule"),
         workflow(job("- run: ./deploy-docs.sh", name="docs",
                      extra="    if: contains('refs/heads/main refs/heads/release', github.ref)\n"))),
    Case("contains-list", ("push", "dispatch"),
         workflow(job("- run: ./deploy-docs.sh", name="docs",
                      extra="    if: contains(fromJSON('[\"refs/heads/main\", \"refs/heads/release\"]'),"
                            " github.ref)\n"))),
    # ------------------------------------------------------------ PE-WF-019 self-hosted
    Case("selfhosted-pr", ("pull_request", "pull_request_target"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: ./bench.sh",
                      name="bench", runs_on="[self-hosted, linux, gpu]"))),
    Case("selfhosted-push", ("push", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: ./bench.sh",
                      name="bench", runs_on="self-hosted")),
         {"PE-WF-019": WHY_SELF_HOSTED}),
    Case("selfhosted-hosted-pr", ("pull_request", "pull_request_target"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: ./bench.sh",
                      name="bench", runs_on="ubuntu-24.04"))),
    # ------------------------------------------------------------ PE-WF-020 triggers
    Case("trigger-labeler", ("pull_request_target",),
         workflow(job("- uses: actions/labeler@8558fd74291d67161a8a78ce36a881fa63b766a9 # v5.0.0", name="label",
                      permissions="    permissions:\n      contents: read\n      pull-requests: write\n"),
                  top=NONE),
         {"PE-WF-020": WHY_SAFE_ACTION_ONLY}),
    Case("trigger-comment-command", ("issue_comment",),
         workflow(job('- if: startsWith(github.event.comment.body, \'/retest\')\n  run: gh run rerun "$RUN"\n'
                      "  env:\n    RUN: ${{ github.event.issue.number }}\n    GH_TOKEN: ${{ github.token }}",
                      name="retest"))),
    Case("trigger-coverage-report", ("workflow_run",),
         workflow(job(f"- uses: {DOWNLOAD}\n  with:\n    name: coverage\n    path: ${{{{ runner.temp }}}}/coverage\n"
                      "    run-id: ${{ github.event.workflow_run.id }}\n    github-token: ${{ github.token }}\n"
                      '- run: cat "$RUNNER_TEMP/coverage/summary.md" >> "$GITHUB_STEP_SUMMARY"',
                      name="report", permissions="    permissions:\n      actions: read\n"), top=NONE)),
    # ------------------------------------------------------------ more forms
    Case("inject-discussion-body", ("discussion",),
         workflow(job('- run: |\n    echo "${{ github.event.discussion.title }}"\n'
                      '    ./answer.sh "${{ github.event.discussion.body }}"', name="answer"))),
    Case("inject-review-body", ("review",),
         workflow(job('- run: ./record-review.sh "${{ github.event.review.body }}"', name="record"))),
    Case("inject-gollum-page", ("gollum",),
         workflow(job('- run: echo "updated ${{ github.event.pages[0].page_name }}"', name="wiki"))),
    Case("inject-join-commits", ("push",),
         workflow(job("- run: echo \"${{ join(github.event.commits.*.message, ' / ') }}\" > notes.txt",
                      name="notes"))),
    Case("inject-azure-cli", ("pull_request_target",),
         workflow(job("- uses: azure/cli@089eac9d8cc39f5d003e94f8b65efc51076c9cbd # v2.1.0\n  with:\n"
                      "    inlineScript: az tag create --resource-id \"$ID\" --tags "
                      "branch=${{ github.head_ref }}", name="tag"))),
    Case("inject-normal-input", ("issues",),
         workflow(job("- uses: peter-evans/create-or-update-comment@71345be0265236311c031f5c7866368bd1eff043 # v4.0.0\n"
                      "  with:\n    issue-number: ${{ github.event.issue.number }}\n"
                      "    body: Thanks for reporting ${{ github.event.issue.title }}", name="thank",
                      permissions="    permissions:\n      issues: write\n"), top=NONE)),
    Case("inject-display-title", ("workflow_run",),
         workflow(job('- run: echo "${{ github.event.workflow_run.display_title }}" >> "$GITHUB_STEP_SUMMARY"',
                      name="summary"))),
    Case("inject-matrix-from-comment", ("issue_comment",),
         workflow(job('- run: ./bench.sh "${{ matrix.target }}"', name="bench",
                      extra="    strategy:\n      matrix:\n"
                            "        target: ${{ fromJSON(github.event.comment.body) }}\n"))),
    Case("inject-step-output", ("pull_request_target",),
         workflow(job("- id: clean\n"
                      "  uses: frabert/replace-string-action@9c9aeb483eab21adfdc44fe50df7a7c8bbc2fd3e # v2.5\n"
                      "  with:\n    pattern: '\\W'\n    string: ${{ github.event.pull_request.title }}\n"
                      "    replace-with: '-'\n"
                      '- run: echo "slug=${{ steps.clean.outputs.replaced }}"', name="slug"))),
    Case("secrets-pasted-run", ("push", "dispatch"),
         workflow(job('- run: |\n    curl -fsS -H "Authorization: Bearer ${{ secrets.API_TOKEN }}" https://api.example.com/ping',
                      name="ping")),
         {"PE-WF-006": WHY_PASTED_SECRET, "PE-WF-008": WHY_PASTED_SECRET}),
    Case("secrets-inherit-remote-sha", ("push", "dispatch"),
         workflow("  deploy:\n    uses: octo-org/shared/.github/workflows/deploy.yml@"
                  "2f3a5c1e9b8d7f6a5e4d3c2b1a0f9e8d7c6b5a49\n"
                  "    secrets: inherit\n    permissions:\n      contents: read\n", top=NONE)),
    Case("pin-docker-step", ("push", "pull_request"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- uses: docker://lycheeverse/lychee:0.18\n  with:\n    args: --no-progress docs/",
                      name="links")),
         {"PE-WF-002": WHY_DOCKER_STEP, "PE-WF-013": WHY_DOCKER_STEP}),
    Case("pin-docker-digest", ("push",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: docker://lycheeverse/lychee@{DIGEST}\n  with:\n    args: docs/", name="links"))),
    Case("pin-subpath-tag", ("push", "schedule"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- uses: github/codeql-action/init@v3\n  with:\n    languages: python\n"
                      "- uses: github/codeql-action/analyze@v3", name="codeql",
                      permissions="    permissions:\n      contents: read\n      security-events: write\n"),
                  top=NONE)),
    Case("cache-setup-uv-release", ("release", "tags"),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      "- uses: astral-sh/setup-uv@38f3f104447c67c051c4a08e39b64a148898af3a # v4.2.0\n"
                      "  with:\n    enable-cache: true\n- run: uv build\n"
                      f"- uses: {PYPI_PUBLISH}", name="publish",
                      permissions="    permissions:\n      id-token: write\n"), top=NONE)),
    Case("cache-python-pip-tags", ("tags",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                      f"- uses: {SETUP_PYTHON}\n  with:\n    python-version: '3.12'\n    cache: pip\n"
                      "- run: python -m build", name="dist"))),
    Case("pwn-checkout-head", ("pull_request_target",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    ref: ${{{{ github.event.pull_request.head.sha }}}}\n"
                      "    persist-credentials: false\n- run: npm ci && npm run build", name="preview"))),
    Case("artifact-into-workspace", ("workflow_run",),
         workflow(job(f"- uses: {DOWNLOAD}\n  with:\n    name: pr\n"
                      "    run-id: ${{ github.event.workflow_run.id }}\n"
                      "    github-token: ${{ github.token }}\n- run: ./scripts/comment.sh pr.txt", name="comment",
                      permissions="    permissions:\n      actions: read\n      pull-requests: write\n"), top=NONE)),
    Case("artifact-gh-run-download", ("workflow_run",),
         workflow(job('- run: gh run download "$RUN_ID" --name preview\n  env:\n'
                      "    RUN_ID: ${{ github.event.workflow_run.id }}\n    GH_TOKEN: ${{ github.token }}\n"
                      "- run: ./preview/deploy.sh", name="deploy-preview",
                      permissions="    permissions:\n      actions: read\n"), top=NONE)),
    Case("artifact-github-script-unzip", ("workflow_run",),
         workflow(job(f"- uses: {GITHUB_SCRIPT}\n  with:\n    script: |\n"
                      "      const all = await github.rest.actions.listWorkflowRunArtifacts({\n"
                      "        owner: context.repo.owner, repo: context.repo.repo,\n"
                      "        run_id: context.payload.workflow_run.id })\n"
                      "      const pr = all.data.artifacts.find(a => a.name == 'pr')\n"
                      "      const zip = await github.rest.actions.downloadArtifact({\n"
                      "        owner: context.repo.owner, repo: context.repo.repo,\n"
                      "        artifact_id: pr.id, archive_format: 'zip' })\n"
                      "      require('fs').writeFileSync('pr.zip', Buffer.from(zip.data))\n"
                      "- run: unzip pr.zip\n- run: ./comment.sh \"$(cat NR)\"", name="comment",
                      permissions="    permissions:\n      actions: read\n      pull-requests: write\n"),
                  top=NONE)),
    Case("unsecure-workflow-env", ("push", "dispatch"),
         "env:\n  ACTIONS_ALLOW_UNSECURE_COMMANDS: true\n\n"
         + workflow(job('- run: echo "::add-path::/opt/tool/bin"', name="legacy"))),
    Case("unsecure-false", ("push", "dispatch"),
         workflow(job("- run: ./tool.sh\n  env:\n    ACTIONS_ALLOW_UNSECURE_COMMANDS: false", name="modern"))),
    Case("selfhosted-labels-pr", ("pull_request",),
         workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n- run: make e2e",
                      name="e2e", runs_on="\n      labels: [self-hosted, arm64]")),
         {"PE-WF-019": WHY_RUNS_ON_LABELS}),
    Case("contains-event-field", ("pull_request",),
         workflow(job("- run: ./docs-only.sh", name="docs",
                      extra="    if: contains('docs,chore', github.event.pull_request.labels[0].name)\n"))),
    Case("bot-actor-push", ("push",),
         workflow(job("- run: ./bump.sh", name="bump",
                      extra="    if: github.actor != 'github-actions[bot]'\n"))),
    # ------------------------------------------------------------ forms GitHub accepts
    Case("forms-anchors-and-expressions", ("push", "pull_request"),
         "env:\n  COMMON: &common\n    CI: true\n    TZ: UTC\n\n"
         + workflow(job(f"- uses: {CHECKOUT}\n  with:\n    persist-credentials: false\n"
                        "- uses: ./.github/actions/setup\n  with: ${{ fromJSON(vars.SETUP_INPUTS) }}\n"
                        "- run: true\n- run: make test\n  env:\n    <<: *common\n    LEVEL: 3", name="test"))),
    Case("secrets-ternary-condition", ("push",),
         workflow(job("- run: echo \"deploy=${{ secrets.DEPLOY_KEY && 'yes' || 'no' }}\" >> \"$GITHUB_OUTPUT\"\n"
                      "  id: can", name="plan")),
         {"PE-WF-006": WHY_SECRET_TEST}),
    # ------------------------------------------------------------ composite actions
    Case("composite-input-in-run", (),
         "name: Greet\ndescription: Greets whoever the caller names\ninputs:\n  who:\n    required: true\n"
         "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo \"Hello ${{ inputs.who }}\"\n"),
    Case("composite-input-through-env", (),
         "name: Greet safely\ndescription: Greets whoever the caller names\ninputs:\n  who:\n    required: true\n"
         "runs:\n  using: composite\n  steps:\n    - shell: bash\n      env:\n        WHO: ${{ inputs.who }}\n"
         "      run: echo \"Hello $WHO\"\n"),
]


def write_corpus(directory: Path) -> list[Path]:
    """Write every case's files (workflows, composite actions) under `directory`; their paths."""
    written = []
    for case in CASES:
        for name, text in case.files().items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def case_of(path: str) -> str:
    """The case a corpus file (a path from the repository root) was written for."""
    parts = path.split("/")
    return parts[-2] if parts[-1] == "action.yml" else parts[-1].split("--")[0]
