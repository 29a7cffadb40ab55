"""Credentials in every common form are found (PE-DR-006) and never printed, in any output.

Each fake credential is shaped like the real thing (prefixes, lengths, alphabets) but made up
at run time from a seeded generator: this file holds no token-shaped literal for a secret
scanner to trip over, and no value is ever a real credential.
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import string
from pathlib import Path

import pytest

from pe_policy.config import config_schema
from pe_policy.redact import redact, redact_path, redact_value
from pe_policy.secrets import find_secrets, secret_name
from tests.conftest import run_cli

_RANDOM = random.Random(20240611)
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_UPPER = string.ascii_uppercase + string.digits


def _fake(length: int, alphabet: str = _ALNUM) -> str:
    """Random characters; alphanumeric ones mix upper case, lower case and digits, as keys do."""
    while True:
        value = "".join(_RANDOM.choice(alphabet) for _ in range(length))
        if alphabet != _ALNUM or (re.search("[a-z]", value) and re.search("[A-Z]", value)
                                  and re.search("[0-9]", value)):
            return value


def _b64(size: int, urlsafe: bool = False) -> str:
    raw = bytes(_RANDOM.randrange(256) for _ in range(size))
    return (base64.urlsafe_b64encode(raw).decode().rstrip("=") if urlsafe
            else base64.b64encode(raw).decode())


# label -> (the secret value, a line holding it as people paste it)
CREDENTIALS: dict[str, tuple[str, str]] = {}


def _credential(label: str, value: str, line: str) -> None:
    CREDENTIALS[label] = (value, line.replace("{v}", value))


_credential("AWS access key ID", "AKIA" + _fake(16, _UPPER), "export AWS_ACCESS_KEY_ID={v}")
_credential("AWS secret access key", _fake(40, _ALNUM + "/+"), "aws_secret_access_key = {v}")
_credential("GitHub classic token in a URL", "ghp_" + _fake(36),
            "git push https://{v}@github.com/acme/gateway.git main")
_credential("GitHub fine-grained token", "github_pat_" + _fake(22) + "_" + _fake(59),
            "GH_TOKEN: {v}")
_credential("GitLab token", "glpat-" + _fake(20, _ALNUM + "-_"),
            'curl --header "PRIVATE-TOKEN: {v}" https://gitlab.example.com/api/v4/projects')
_credential("Slack bot token", f"xoxb-{_fake(11, string.digits)}-{_fake(13, string.digits)}-"
            + _fake(24), "slack: {v}")
_credential("Slack webhook", f"T{_fake(8, _UPPER)}/B{_fake(10, _UPPER)}/{_fake(24)}",
            "curl -X POST https://hooks.slack.com/services/{v} -d @message.json")
_credential("npm token in .npmrc", "npm_" + _fake(36), "//registry.npmjs.org/:_authToken={v}")
_credential("PyPI token", "pypi-AgEIcHlwaS5vcmc" + _fake(60, _ALNUM + "-_"),
            "twine upload -u __token__ -p {v} dist/*")
_credential("JSON web token", f"eyJ{_b64(20, True)}.eyJ{_b64(40, True)}.{_b64(32, True)}",
            "Cookie: session={v}")
_credential("password in a Postgres URL", "pg-" + _fake(14),
            "DATABASE_URL=postgres://gateway:{v}@db.prod.internal:5432/gateway")
_credential("password in a Redis URL without a user", _fake(18),
            "REDIS_URL=redis://:{v}@cache.internal:6379/0")
_credential("DEPLOY_PASSWORD=", "Tr0ub4dor&" + _fake(4), "DEPLOY_PASSWORD={v}")
_credential("API_TOKEN:", _fake(32), "API_TOKEN: {v}")
_credential("SECRET_KEY =", "django-insecure-" + _fake(30), "SECRET_KEY = '{v}'")
_credential("*_TOKEN=", _fake(40, _HEX), "SENTRY_AUTH_TOKEN={v}")
_credential("a quoted *_PASSWORD passphrase", "correct horse battery " + _fake(6),
            'SMTP_PASSWORD: "{v}"')
_credential("a password in JSON", "S3cr3t!" + _fake(6),
            '{"username": "deploy", "password": "{v}"}')
_credential("Google API key", "AIza" + _fake(35, _ALNUM + "-_"), "GOOGLE_MAPS_KEY={v}")
_credential("GCP service account private key", _b64(48),
            '"private_key": "-----BEGIN PRIVATE KEY-----\\n{v}\\n-----END PRIVATE KEY-----\\n",')
_credential("Azure storage account key", _b64(64),
            "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={v};"
            "EndpointSuffix=core.windows.net")
_credential("Azure client secret", _fake(3) + "8Q~" + _fake(34, _ALNUM + "_~.-"),
            "AZURE_CLIENT_SECRET={v}")
_credential("Stripe live key", "sk_live_" + _fake(24), 'stripe.api_key = "{v}"')
_credential("OpenAI key", "sk-proj-" + _fake(48, _ALNUM + "-_"), "OPENAI_API_KEY={v}")
_credential("Anthropic key", "sk-ant-api03-" + _fake(80, _ALNUM + "-_"), "x-api-key: {v}")
_credential("SendGrid key", f"SG.{_fake(22, _ALNUM + '-_')}.{_fake(43, _ALNUM + '-_')}",
            "sendgrid: {v}")
_credential("Docker Hub token", "dckr_pat_" + _fake(27, _ALNUM + "-_"),
            "echo {v} | docker login -u acme --password-stdin")
_credential("Vault token", "hvs." + _fake(24), "export VAULT_TOKEN={v}")
_credential("bearer token", _fake(40, _ALNUM + "._-"),
            "curl -H 'Authorization: Bearer {v}' https://api.example.com/v1/deploys")
_credential("basic auth header", base64.b64encode(b"deploy:" + _fake(12).encode()).decode(),
            "Authorization: Basic {v}")
_credential("curl -u user:password", "pw" + _fake(10),
            "curl -u admin:{v} https://nexus.internal/repository/releases/")
_credential("docker login --password", _fake(14) + "!",
            "docker login registry.example.com --username ci --password {v}")
_credential("Hugging Face token", "hf_" + _fake(34), "HF_TOKEN={v}")
_credential("DigitalOcean token", "dop_v1_" + _fake(64, _HEX), "doctl auth init -t {v}")
_credential("mysql -p", "My" + _fake(10), "mysql -h db -u root -p{v} gateway < dump.sql")
_credential("Google OAuth client secret", "GOCSPX-" + _fake(28, _ALNUM + "-_"),
            "client_secret: {v}")
_credential("Terraform Cloud token", f"{_fake(14)}.atlasv1.{_fake(67, _ALNUM + '-_')}",
            'credentials "app.terraform.io" { token = "{v}" }')

# Lines that look like credentials and are not: references, placeholders, names, prose.
LOOKALIKES = [
    "API_TOKEN: ${{ secrets.API_TOKEN }}",
    "password: <your-password>",
    "token: <your-token>",
    "DEPLOY_PASSWORD=changeme",
    "NPM_TOKEN=${NPM_TOKEN}",
    'SECRET_KEY: "{{ vault_secret_key }}"',
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "password: ********",
    "api_key: REDACTED",
    "Authorization: Bearer $TOKEN",
    "DB_PASSWORD from AWS Secrets Manager (rotated after the incident)",
    "permissions: {id-token: write, contents: read}",
    "key: ${{ runner.os }}-pip-${{ hashFiles('**/requirements.txt') }}",
    "TOKEN_URL: https://auth.example.com/oauth2/token",
    "PASSWORD_FILE: /run/secrets/db_password",
    "password = var.db_password",
    "git clone https://deploy@git.example.com/acme/gateway.git",
    'echo "$TOKEN" | docker login -u acme --password-stdin',
    "Smoke tests pass: 12/12",
    "image: ghcr.io/acme/gateway@sha256:" + "3f5e0a1b2c3d4e5f6071" * 3 + "a1b2",
]

# env entries of a workflow: `NAME: value`, what a code frame of that line shows
WORKFLOW_ENV = {
    "DEPLOY_PASSWORD": CREDENTIALS["DEPLOY_PASSWORD="][0],
    "API_TOKEN": CREDENTIALS["API_TOKEN:"][0],
    "SECRET_KEY": CREDENTIALS["SECRET_KEY ="][0],
    "SENTRY_AUTH_TOKEN": CREDENTIALS["*_TOKEN="][0],
    "SMTP_PASSWORD": CREDENTIALS["a quoted *_PASSWORD passphrase"][0],
    "AZURE_CLIENT_SECRET": CREDENTIALS["Azure client secret"][0],
    "NPM_CONFIG__AUTHTOKEN": CREDENTIALS["npm token in .npmrc"][0],
}
PASTED_KEY = CREDENTIALS["GitHub classic token in a URL"][0]  # a token pasted where a name goes

REPORT_HEAD = """\
---
unit_id: "PE-7"
status: "success"
deployed: "2024-06-11 14:05"
links:
  qa_report: "[[QA/QA-Report-PE-7]]"
---

# Deployment Report — PE-7

## Summary
- **Status:** SUCCESS
- **Environment:** production

## Issues Encountered
What the deploy log showed:

```
"""


def _report() -> tuple[str, dict[int, str], dict[int, str]]:
    """The report, and its credential lines and look-alike lines by line number."""
    lines = REPORT_HEAD.splitlines()
    secret_lines: dict[int, str] = {}
    lookalike_lines: dict[int, str] = {}
    for label, (_, line) in CREDENTIALS.items():
        lines.append(line)
        secret_lines[len(lines)] = label
    lines.append("```")
    lines.append("")
    lines.append("Look-alikes, none of them a secret:")
    lines.append("")
    for line in LOOKALIKES:
        lines.append(f"    {line}")
        lookalike_lines[len(lines)] = line
    return "\n".join(lines) + "\n", secret_lines, lookalike_lines


def _workflow() -> str:
    def quoted(value: str) -> str:
        return f'"{value}"' if " " in value else value

    env = "".join(f"      {name}: {quoted(value)}\n" for name, value in WORKFLOW_ENV.items())
    return ("name: Deploy\non:\n  push:\n    branches: [main]\npermissions:\n  contents: read\n"
            "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n" + env
            + f"    steps:\n      - run: ./deploy.sh\n        with:\n          {PASTED_KEY}: \"\"\n")


# A careless user policy: points at every env entry and `with:` key, and quotes them.
LEAKY_REGO = """\
# METADATA
# title: Quotes environment values
# custom:
#   id: ACME-040
#   severity: high
#   kinds: [workflow]
package acme.leaky

import rego.v1

deny contains {"msg": sprintf("%s: %s", [name, value]), "path": ["jobs", id, "env", name],
               "name": name, "value": value, "env": job.env} if {
	some id, job in input.jobs
	some name, value in job.env
}

deny contains {"msg": sprintf("step input %s", [key]),
               "path": ["jobs", id, "steps", i, "with", key]} if {
	some id, job in input.jobs
	some i, step in job.steps
	some key, _ in step["with"]
}
"""

LEAKY_PY = """\
from pe_policy.engine.python_rules import Violation, rule


@rule("ACME-041", severity="high", kinds=["deployment_report"], title="Quotes lines")
def quotes(report, ctx):
    for number, line in enumerate((ctx.document.text or "").splitlines(), start=1):
        if "=" in line or ": " in line:
            yield Violation(f"line {number} says: {line.strip()}", (),
                            properties={"quoted": [line, {"raw": line}]})
"""

FORMATS = ("text", "json", "sarif", "markdown", "junit", "github")


@pytest.fixture
def leaky_repo(tmp_repo: Path) -> Path:
    (tmp_repo / ".github/workflows").mkdir(parents=True)
    (tmp_repo / ".github/workflows/deploy.yml").write_text(_workflow(), encoding="utf-8")
    (tmp_repo / "deployments").mkdir()
    (tmp_repo / "deployments/Deploy-PE-7.md").write_text(_report()[0], encoding="utf-8")
    (tmp_repo / "policies").mkdir()
    (tmp_repo / "policies/leaky.rego").write_text(LEAKY_REGO, encoding="utf-8")
    (tmp_repo / "policies/leaky_rules.py").write_text(LEAKY_PY, encoding="utf-8")
    (tmp_repo / ".pe-policy.yaml").write_text("policies: [policies]\n" + (
        "python_rules: true\n" if "python_rules" in config_schema()["properties"] else ""),
        encoding="utf-8")
    return tmp_repo


def _leaked(output: str) -> list[str]:
    """Which credentials `output` shows: the value itself, HTML-escaped (JUnit XML), or its
    longest alphanumeric run (a mask keeps at most 4 characters at each end)."""
    leaked = []
    for label, (value, _) in CREDENTIALS.items():
        core = max(re.findall(r"[A-Za-z0-9]+", value), key=len)
        forms = {value, html.escape(value), html.escape(value, quote=False)}
        if len(core) >= 8:
            forms.add(core)
        if any(form in output for form in forms):
            leaked.append(label)
    return leaked


def test_there_are_enough_credentials_and_look_alikes() -> None:
    assert len(CREDENTIALS) >= 20 and len(LOOKALIKES) >= 10
    assert len({value for value, _ in CREDENTIALS.values()}) == len(CREDENTIALS)


@pytest.mark.parametrize("label", sorted(CREDENTIALS))
def test_every_credential_form_is_found_and_masked(label: str) -> None:
    _, line = CREDENTIALS[label]
    assert list(find_secrets(line)), f"{label}: not found in {line!r}"
    masked = redact(line)
    assert not _leaked(masked), masked
    assert redact(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("line", LOOKALIKES)
def test_look_alikes_are_not_secrets(line: str) -> None:
    assert list(find_secrets(line)) == []
    assert redact(line) == line


def test_pe_dr_006_reports_every_credential_line_and_no_look_alike(leaky_repo: Path) -> None:
    _, secret_lines, lookalike_lines = _report()
    result = run_cli(["check", "--root", str(leaky_repo), "--format", "json",
                      str(leaky_repo / "deployments")], cwd=leaky_repo)
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "PE-DR-006"]
    reported = {f["location"]["line"] for f in findings}
    missed = sorted(label for number, label in secret_lines.items() if number not in reported)
    assert not missed, f"PE-DR-006 missed: {missed}"
    assert not reported & set(lookalike_lines), [lookalike_lines[n] for n in
                                                 sorted(reported & set(lookalike_lines))]
    assert {f["severity"] for f in findings} == {"critical"}
    assert result.exit_code == 1


@pytest.mark.parametrize("format_", FORMATS)
def test_no_output_format_shows_a_credential(leaky_repo: Path, format_: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # every annotation, not only the 30 most severe GitHub would show of a step
    monkeypatch.setattr("pe_policy.reporters.github.SHOWN_PER_LEVEL", 10_000)
    result = run_cli(["check", "--root", str(leaky_repo), "--format", format_, str(leaky_repo)],
                     cwd=leaky_repo)
    output = result.stdout + result.stderr
    assert not _leaked(output), f"{format_} shows {_leaked(output)}"
    # the findings are all there, only masked: the leaky rules fired on both files
    assert "ACME-040" in output and "ACME-041" in output and "PE-DR-006" in output
    if format_ == "text":  # the code frames of the env lines are there, masked
        frames = [ln for ln in output.splitlines() if re.match(r"\s*\d+ \|\s+[A-Z_]+: ", ln)]
        assert {ln.split("|", 1)[1].split(":")[0].strip() for ln in frames} >= set(WORKFLOW_ENV)


def test_json_paths_and_properties_carry_no_credential(leaky_repo: Path) -> None:
    result = run_cli(["check", "--root", str(leaky_repo), "--format", "json", str(leaky_repo)],
                     cwd=leaky_repo)
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "ACME-040"]
    inputs = [f for f in findings if "with" in f["json_path"]]
    assert len(inputs) == 1 and inputs[0]["json_path"][-1].startswith("ghp_*")
    env = {f["json_path"][-1]: f for f in findings if "env" in f["json_path"]}
    assert set(env) == set(WORKFLOW_ENV)
    for name, finding in env.items():
        assert finding["properties"]["name"] == name
        assert finding["properties"]["value"] != WORKFLOW_ENV[name]
        assert finding["properties"]["env"][name] != WORKFLOW_ENV[name]
    assert not _leaked(result.stdout)


@pytest.mark.parametrize("target", [".github/workflows/deploy.yml", "deployments/Deploy-PE-7.md"])
def test_parse_output_shows_no_credential(leaky_repo: Path, target: str) -> None:
    result = run_cli(["parse", "--positions", str(leaky_repo / target)], cwd=leaky_repo)
    assert result.exit_code == 0, result.stderr
    assert not _leaked(result.stdout), _leaked(result.stdout)
    parsed = json.loads(result.stdout)
    if target.endswith(".yml"):  # the names stay, the values are masked
        env = parsed["input"]["jobs"]["deploy"]["env"]
        assert set(env) == set(WORKFLOW_ENV)
        assert env["DEPLOY_PASSWORD"] == "********"


@pytest.mark.parametrize(("name", "kind"), [
    ("DEPLOY_PASSWORD", "password"), ("db_pass", "password"), ("MYSQL_ROOT_PASSWORD", "password"),
    ("API_TOKEN", "secret"), ("SECRET_KEY", "secret"), ("clientSecret", "secret"),
    ("_authToken", "secret"), ("AccountKey", "secret"), ("x-api-key", "secret"),
    ("PASSWORD_FILE", None), ("TOKEN_URL", None), ("CACHE_KEY", None), ("tokenizer", None),
    ("AWS_ACCESS_KEY_ID", None), ("pass", None), ("sort_key", None),
])
def test_secret_names(name: str, kind: str | None) -> None:
    assert secret_name(name) == kind


def test_values_are_masked_for_their_names() -> None:
    password, token = WORKFLOW_ENV["DEPLOY_PASSWORD"], WORKFLOW_ENV["API_TOKEN"]
    masked = redact_value({"env": {"DEPLOY_PASSWORD": password, "LOG_LEVEL": "debug"},
                           "containers": [{"env": [{"name": "API_TOKEN", "value": token}]}],
                           "permissions": {"id-token": "write"}})
    assert masked["env"] == {"DEPLOY_PASSWORD": "********", "LOG_LEVEL": "debug"}
    assert masked["containers"][0]["env"][0]["value"] not in (token, "")
    assert masked["permissions"] == {"id-token": "write"}
    assert redact_path(("jobs", "deploy", "with", PASTED_KEY, 0))[3].startswith("ghp_*")
