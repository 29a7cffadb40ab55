"""The differential cases: each runs the real `conftest` and `pe-policy` with the same
arguments in `fixtures/` (`conftest` replaced by `pe-policy`, nothing else changed).

`compare` says what must agree besides the exit code: `messages` (the summary line and
the multiset of result lines: stdout, tap, table, github, azuredevops), `json` / `sarif`
(the parsed documents, order-free: conftest's results come out in Go map order), `junit`
(the test cases), `parse` (the printed JSON, line for line), `error` (both fail and say why on stderr),
`quiet` (both print nothing).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    compare: str = "messages"
    stdin: str | None = None
    cwd: str = ""  # below fixtures/
    covers: str = ""  # the bullet


def case(name: str, *args: str, compare: str = "messages", stdin: str | None = None,
         cwd: str = "", covers: str = "") -> Case:
    return Case(name, args, compare, stdin, cwd, covers)


K8S = "k8s/deployment.yaml"
PIPED = "kind: Deployment\nmetadata:\n  name: piped\nspec:\n  replicas: 1\n"
CASES: list[Case] = [
    # --- one test per document ------------------------------------------------------------
    case("k8s-deployment", "test", K8S, covers="documents"),
    case("k8s-secure-deployment-passes", "test", "k8s/secure-deployment.yaml", covers="documents"),
    case("k8s-multi-document-yaml", "test", "k8s/multi.yaml", covers="documents"),
    case("k8s-trailing-separator", "test", "k8s/trailing-separator.yaml", covers="documents"),
    case("k8s-json-array", "test", "k8s/list.json", covers="documents"),
    case("k8s-json-object", "test", "k8s/pod.json", covers="documents"),
    case("k8s-directory", "test", "k8s", covers="documents"),
    case("k8s-several-files", "test", K8S, "k8s/service.yaml", "k8s/multi.yaml", covers="documents"),
    case("combine-per-document", "test", "--combine", "-p", "policies/combine", "k8s/multi.yaml",
         "k8s/service.yaml", covers="documents"),
    case("combine-json", "test", "--combine", "-p", "policies/combine", "k8s", "-o", "json",
         compare="json", covers="documents"),
    case("multi-document-json-output", "test", "k8s/multi.yaml", "k8s/list.json", "-o", "json",
         compare="json", covers="documents"),
    # --- HCL2 --------------------------------------------------------------------------------
    case("terraform-hcl2", "test", "-p", "policies/terraform", "-n", "terraform.aws",
         "terraform/main.tf", covers="hcl2"),
    case("terraform-good", "test", "-p", "policies/terraform", "-n", "terraform.aws",
         "terraform/good.tf", covers="hcl2"),
    case("hcl-file", "test", "-p", "policies/terraform", "--all-namespaces", "terraform/settings.hcl",
         covers="hcl2"),
    case("tfvars", "test", "-p", "policies/terraform", "-n", "terraform.hcl",
         "terraform/prod.tfvars", covers="hcl2"),
    case("terraform-directory-json", "test", "-p", "policies/terraform", "--all-namespaces",
         "terraform", "-o", "json", compare="json", covers="hcl2"),
    case("parse-hcl2", "parse", "terraform/main.tf", "terraform/good.tf", compare="parse",
         covers="hcl2"),
    case("parse-hcl-parser", "parse", "--parser", "hcl2", "terraform/settings.hcl", compare="parse",
         covers="hcl2"),
    case("parse-tfvars", "parse", "terraform/prod.tfvars", "terraform/settings.hcl",
         compare="parse", covers="hcl2"),
    # --- namespaces ----------------------------------------------------------------------------
    case("namespace-default-main", "test", "-p", "policies/ns", K8S, covers="namespaces"),
    case("namespace-one", "test", "-p", "policies/ns", "-n", "k8s.deployment", K8S, covers="namespaces"),
    case("namespace-glob", "test", "-p", "policies/ns", "-n", "k8s.*", K8S, "k8s/service.yaml",
         covers="namespaces"),
    case("namespace-glob-prefix", "test", "-p", "policies/ns", "--namespace", "ma*", K8S,
         covers="namespaces"),
    case("namespace-star", "test", "-p", "policies/ns", "-n", "*", K8S, covers="namespaces"),
    case("namespace-repeated", "test", "-p", "policies/ns", "-n", "main", "-n", "k8s.service",
         "k8s/service.yaml", covers="namespaces"),
    case("namespace-comma", "test", "-p", "policies/ns", "-n", "main,maintenance", K8S,
         covers="namespaces"),
    case("namespace-unknown", "test", "-p", "policies/ns", "-n", "nothing", K8S, covers="namespaces"),
    case("all-namespaces", "test", "-p", "policies/ns", "--all-namespaces", "k8s", covers="namespaces"),
    # --- policies ------------------------------------------------------------------------------
    case("policy-default-dir", "test", K8S, "k8s/pod.json", covers="policy"),
    case("policy-file", "test", "-p", "policy/warn.rego", "k8s/service.yaml", K8S, covers="policy"),
    case("policy-repeated", "test", "-p", "policy/warn.rego", "-p", "policy/violation.rego",
         "k8s/pod.json", "k8s/service.yaml", covers="policy"),
    case("policy-file-and-dir", "test", "-p", "policy/violation.rego", "-p", "policies/ns",
         "k8s/pod.json", covers="policy"),
    case("policy-missing", "test", "-p", "policies/none", K8S, compare="error", covers="policy"),
    # --- exit codes ----------------------------------------------------------------------------
    case("exit-warn-only", "test", "-p", "policy/warn.rego", "k8s/service.yaml", covers="exit"),
    case("fail-on-warn-warnings", "test", "--fail-on-warn", "-p", "policy/warn.rego",
         "k8s/service.yaml", covers="exit"),
    case("fail-on-warn-failures", "test", "--fail-on-warn", K8S, covers="exit"),
    case("fail-on-warn-clean", "test", "--fail-on-warn", "k8s/secure-deployment.yaml", covers="exit"),
    case("no-fail", "test", "--no-fail", K8S, covers="exit"),
    case("empty-filename-is-not-cwd", "test", "", K8S, covers="exit"),
    case("only-empty-filename", "test", "", compare="error", covers="exit"),
    case("invalid-among-valid", "test", "k8s/pod.json", "-", "k8s/service.yaml",
         stdin="kind: [Deployment\n", compare="error", covers="exit"),
    case("missing-file", "test", "k8s/none.yaml", compare="error", covers="exit"),
    case("invalid-yaml", "test", "-", "--stdin-filename", "broken.yaml", stdin="a: [1, 2\n",
         compare="error", covers="exit"),
    # --- rego versions, strict -----------------------------------------------------------------
    case("rego-v0-policy-under-v1", "test", "-p", "policies/v0", K8S, compare="error", covers="rego"),
    case("rego-v0-flag", "test", "-p", "policies/v0", "--rego-version", "v0", K8S, covers="rego"),
    case("strict-refuses-unused", "test", "-p", "policies/strict", "--strict", K8S,
         compare="error", covers="rego"),
    case("strict-off", "test", "-p", "policies/strict", K8S, covers="rego"),
    # --- outputs -------------------------------------------------------------------------------
    case("output-json", "test", K8S, "k8s/service.yaml", "-o", "json", compare="json", covers="output"),
    case("output-tap", "test", "k8s/multi.yaml", "-o", "tap", covers="output"),
    case("output-table", "test", "k8s/multi.yaml", "-o", "table", covers="output"),
    case("output-junit", "test", "k8s/multi.yaml", "k8s/pod.json", "-o", "junit", compare="junit",
         covers="output"),
    case("output-junit-hide-message", "test", "k8s/multi.yaml", "-o", "junit",
         "--junit-hide-message", compare="junit", covers="output"),
    case("output-github", "test", "k8s/multi.yaml", "k8s/secure-deployment.yaml", "-o", "github",
         covers="output"),
    case("output-sarif", "test", "k8s/multi.yaml", "k8s/secure-deployment.yaml", "-o", "sarif",
         compare="sarif", covers="output"),
    case("output-azuredevops", "test", "k8s/multi.yaml", "-p", "policies/exceptions", "-o",
         "azuredevops", covers="output"),
    case("output-github-hide-passed", "test", "k8s", "-o", "github", "--github-hide-passed",
         covers="output"),
    case("quiet-passing", "test", "--quiet", "k8s/secure-deployment.yaml", compare="quiet",
         covers="output"),
    case("quiet-failing", "test", "--quiet", K8S, covers="output"),
    case("exceptions", "test", "-p", "policies/exceptions", "k8s/multi.yaml", K8S, covers="output"),
    case("exceptions-json", "test", "-p", "policies/exceptions", "k8s/multi.yaml", "-o", "json",
         compare="json", covers="output"),
    case("suppress-exceptions", "test", "-p", "policies/exceptions", "k8s/multi.yaml",
         "--suppress-exceptions", covers="output"),
    case("print", "test", "-p", "policies/print", "k8s/multi.yaml", K8S, covers="output"),
    case("loc-metadata-json", "test", "-p", "policies/loc", K8S, "k8s/service.yaml", "-o", "json",
         compare="json", covers="output"),
    case("loc-metadata-github", "test", "-p", "policies/loc", K8S, "k8s/service.yaml", "-o",
         "github", covers="output"),
    case("loc-metadata-sarif", "test", "-p", "policies/loc", K8S, "-o", "sarif", compare="sarif",
         covers="output"),
    # --- inputs --------------------------------------------------------------------------------
    case("stdin-yaml", "test", "-", stdin=PIPED, covers="inputs"),
    case("stdin-filename", "test", "-", "--stdin-filename", "piped.yaml", stdin=PIPED,
         covers="inputs"),
    case("stdin-json-parser", "test", "-", "--parser", "json", "-o", "json",
         stdin='{"kind": "Pod", "metadata": {"name": "from-stdin"}, "spec": {}}', compare="json",
         covers="inputs"),
    case("stdin-hcl2-parser", "test", "-", "--parser", "hcl2", "-p", "policies/terraform",
         "-n", "terraform.aws", stdin='resource "aws_alb_listener" "piped" {\n  protocol = "HTTP"\n}\n',
         covers="inputs"),
    case("parser-yaml-for-other-extension", "test", "--parser", "yaml", "k8s/deployment.yml.bak",
         covers="inputs"),
    case("ignore-regex", "test", "k8s", "--ignore", "multi|list", covers="inputs"),
    case("data-dir", "test", "-p", "policies/data", "-d", "data", "k8s", covers="inputs"),
    case("data-file", "test", "-p", "policies/data", "--data", "data/registries.yaml", "--data",
         "data/sub", "k8s/multi.yaml", covers="inputs"),
    case("config-file-in-cwd", "test", "deployment.yaml", cwd="configfile", covers="inputs"),
    case("config-file-flag", "test", "-c", "configfile/other.toml", "-p", "configfile/rules",
         "configfile/deployment.yaml", compare="json", covers="inputs"),
    case("config-file-yaml", "test", "-c", "configfile/other.yaml", "configfile/deployment.yaml",
         compare="json", covers="inputs"),
    case("conftest-file-data", "test", "-p", "policies/fileinfo", "k8s/pod.json",
         "compose/docker-compose.yml", "terraform/main.tf", covers="inputs"),
    case("compose", "test", "-p", "policies/compose", "-n", "compose", "compose", covers="inputs"),
    case("compose-json", "test", "-p", "policies/compose", "--namespace", "compose",
         "compose/docker-compose.yml", "-o", "json", compare="json", covers="inputs"),
    case("ci-configs", "test", "-p", "policies/ci", "-n", "ci", "ci/.gitlab-ci.yml", "ci/workflow.yml",
         covers="inputs"),
    case("ci-tap", "test", "-p", "policies/ci", "-n", "ci", "ci", "-o", "tap", covers="inputs"),
    # --- verify --------------------------------------------------------------------------------
    case("verify-passing", "verify", "-p", "verify/basic", covers="verify"),
    case("verify-failing", "verify", "--policy", "verify/failing", covers="verify"),
    case("verify-json", "verify", "-p", "verify/failing", "-o", "json", compare="json", covers="verify"),
    case("verify-data", "verify", "-p", "verify/data", "-d", "data", covers="verify"),
    case("verify-namespace-glob", "verify", "-p", "verify/ns", "-n", "team.*", covers="verify"),
    case("verify-namespace", "verify", "-p", "verify/ns", "-n", "other", covers="verify"),
    case("verify-builtins", "verify", "-p", "verify/builtins", covers="verify"),
    case("verify-report-fails", "verify", "-p", "verify/failing", "--report", "fails",
         compare="report", covers="verify"),
    case("verify-strict", "verify", "-p", "policies/strict", "--strict", compare="error",
         covers="verify"),
    case("verify-default-policy-dir", "verify", covers="verify"),
    # --- parse ---------------------------------------------------------------------------------
    case("parse-several", "parse", "k8s/pod.json", "k8s/multi.yaml", "compose/docker-compose.yml",
         compare="parse", covers="parse"),
    case("parse-yaml", "parse", "ci/.gitlab-ci.yml", compare="parse", covers="parse"),
    case("parse-combine", "parse", "--combine", "k8s/service.yaml", "k8s/list.json", compare="parse",
         covers="parse"),
    case("parse-parser", "parse", "--parser", "yaml", "k8s/deployment.yml.bak", compare="parse",
         covers="parse"),
    # --- where regorus and OPA differ ----------------------------------------------------------
    case("opa-behaviour", "test", "-p", "policies/opa", K8S, "k8s/pod.json", covers="engine"),
    case("opa-behaviour-json", "test", "-p", "policies/opa", "k8s/multi.yaml", "-o", "json",
         compare="json", covers="engine"),
]
