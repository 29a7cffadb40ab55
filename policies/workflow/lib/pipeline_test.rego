package pe.workflow.lib.pipeline_test

import data.pe.workflow.lib.pipeline
import rego.v1

test_triggers_from_string_list_and_mapping if {
	pipeline.triggers == {"push"} with input as {"on": "push"}
	pipeline.triggers == {"push", "pull_request"} with input as {"on": ["push", "pull_request"]}
	pipeline.triggers == {"push", "workflow_dispatch"} with input as {"on": {"push": {"branches": ["main"]}, "workflow_dispatch": null}}
}

test_yaml_1_1_on_key_read_as_true if {
	pipeline.triggers == {"push"} with input as {"true": {"push": null}}
}

test_jobs_classified_by_label if {
	stages := pipeline.job_stages with input as {"jobs": {
		"unit-tests": {}, "security_scan": {}, "lint": {}, "Build": {"name": "Build image"},
		"deploy-staging": {}, "attest": {},
	}}
	stages["unit-tests"] == {"test"}
	stages.security_scan == {"security"}
	stages.lint == {"lint"}
	stages.Build == {"build"}
	stages["deploy-staging"] == set() # a name never makes a deploy
	stages.attest == set()
}

test_deploys_by_environment_or_deploy_tools_not_by_name if {
	stages := pipeline.job_stages with input as {"jobs": {
		"deploy": {"steps": [{"run": "./scripts/notify.sh"}]},
		"ecs": {"steps": [{"uses": "aws-actions/amazon-ecs-deploy-task-definition@0123"}]},
		"run": {"steps": [{"uses": "google-github-actions/deploy-cloudrun@0123"}]},
		"app": {"steps": [{"uses": "azure/webapps-deploy@0123"}]},
		"k8s": {"steps": [{"run": "kubectl apply -f k8s/"}]},
		"chart": {"steps": [{"run": "helm upgrade --install app ./chart"}]},
		"infra": {"steps": [{"run": "terraform apply -auto-approve tfplan"}]},
		"live": {"environment": {"name": "production", "url": "https://example.com"}},
	}}
	stages.deploy == set()
	every job in ["ecs", "run", "app", "k8s", "chart", "infra", "live"] {
		stages[job] == {"deploy"}
	}
}

test_jobs_classified_by_tools if {
	stages := pipeline.job_stages with input as {"jobs": {"checks": {"steps": [
		{"name": "tests", "run": "ruff check ."},
		{"run": "python -m pytest -q"},
		{"uses": "aquasecurity/trivy-action@0123"},
	]}}}
	stages.checks == {"lint", "test", "security"}
}

test_step_names_do_not_classify if {
	stages := pipeline.job_stages with input as {"jobs": {"x": {"steps": [{"name": "Run unit tests", "run": "./ci.sh"}]}}}
	stages.x == set()
}

test_environment_makes_a_deploy_but_not_github_pages if {
	stages := pipeline.job_stages with input as {"jobs": {"a": {"environment": "staging"}, "b": {"environment": {"name": "github-pages"}}}}
	stages.a == {"deploy"}
	stages.b == set()
}

test_auxiliary_jobs_have_no_stage if {
	stages := pipeline.job_stages with input as {"jobs": {"update_release_draft": {}, "deploy-docs": {}, "notify-slack": {"steps": [{"run": "pytest"}]}}}
	every _, s in stages {
		s == set()
	}
}

test_reusable_call_classified_by_file_name if {
	stages := pipeline.job_stages with input as {"jobs": {"a": {"uses": "org/shared/.github/workflows/python-tests.yml@0123"}}}
	stages.a == {"test"}
}

test_pipeline_needs_push_or_pull_request_and_a_test_build_or_deploy_job if {
	pipeline.is_pipeline with input as {"on": ["pull_request"], "jobs": {"t": {"steps": [{"run": "pytest"}]}}}
	not pipeline.is_pipeline with input as {"on": ["pull_request"], "jobs": {"label": {"steps": [{"uses": "actions/labeler@0123"}]}}}
	not pipeline.is_pipeline with input as {"on": ["workflow_dispatch"], "jobs": {"t": {"steps": [{"run": "pytest"}]}}}
	not pipeline.is_pipeline with input as {"on": ["push"], "jobs": {"codeql": {}}}
}

test_ancestors_are_transitive if {
	pipeline.ancestors.c == {"a", "b"} with input as {"jobs": {"a": {}, "b": {"needs": "a"}, "c": {"needs": ["b"]}, "d": {}}}
}

test_pages_and_release_please_workflows_are_not_pipelines if {
	pages := {"on": {"push": {"branches": ["main"]}}, "jobs": {
		"build": {"steps": [{"uses": "actions/configure-pages@0123"}, {"run": "mkdocs build"}, {"uses": "actions/upload-pages-artifact@0123"}]},
		"deploy": {"needs": "build", "environment": {"name": "github-pages"}, "steps": [{"uses": "actions/deploy-pages@0123"}]},
	}}
	not pipeline.is_pipeline with input as pages
	not pipeline.is_pipeline with input as {"on": ["push"], "jobs": {"release-please": {"steps": [{"uses": "googleapis/release-please-action@0123"}]}}}
}

test_labels_match_whole_words_across_case_digits_and_hyphens if {
	stages := pipeline.job_stages with input as {"jobs": {
		"E2E-Tests": {}, "Type-Check": {}, "xe2e": {}, "testament": {}, "pre--commit": {},
		"sec-Scan_nightly": {}, "Build": {"name": "Package-Wheels"},
	}}
	stages["E2E-Tests"] == {"test"}
	stages["Type-Check"] == {"lint"}
	stages.xe2e == set()
	stages.testament == set()
	stages["pre--commit"] == set()
	stages["sec-Scan_nightly"] == {"security"}
	stages.Build == {"build"}
}

test_tools_match_whatever_their_case if {
	stages := pipeline.job_stages with input as {"jobs": {"x": {"steps": [
		{"run": "Ruff Check ."}, {"run": "PYTEST -q"}, {"uses": "AquaSecurity/Trivy-Action@0123"},
		{"run": "Docker Build ."}, {"run": "Helm Upgrade app ./chart"},
	]}}}
	stages.x == {"lint", "test", "security", "build", "deploy"}
}

# tool_hints and auxiliary_hint let patterns be skipped: every tool must name a hint word
test_every_lint_and_test_tool_names_a_hint_word if {
	every run in [
		"ruff check .", "ruff format --check .", "flake8", "pylint src", "black --check .", "isort -c .", "mypy src",
		"pyright", "npx eslint .", "prettier --check .", "npm run lint", "golangci-lint run", "hadolint Dockerfile",
		"shellcheck x.sh", "actionlint", "pre-commit run -a", "tflint", "terraform fmt -check", "markdownlint .",
		"yamllint .", "stylelint x", "rubocop", "make lint",
	] {
		"lint" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"run": run}]}}}
	}
	every uses in ["astral-sh/ruff-action@0123", "pre-commit/action@0123", "super-linter/super-linter@0123"] {
		"lint" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"uses": uses}]}}}
	}
	every run in [
		"pytest -q", "python3 -m unittest", "tox -e py312", "nox", "npm test", "pnpm run test", "yarn test",
		"bun test", "jest --ci", "npx vitest run", "(cd web && mocha", "go test ./...", "cargo test", "cargo nextest run",
		"cargo tarpaulin", "mvn -B verify", "./mvnw test", "./gradlew test", "dotnet test", "bundle exec rspec",
		"vendor/bin/phpunit", "make check", "deno test", "ctest",
	] {
		"test" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"run": run}]}}}
	}
}

test_every_build_tool_names_a_hint_word if {
	every run in [
		"docker build -t x .", "docker buildx build .", "docker compose build", "buildah bud .", "kaniko",
		"python -m build", "python3 -m build", "pyproject-build", "poetry build", "uv build", "hatch build",
		"pdm build", "flit build", "pip wheel .", "python setup.py sdist", "python setup.py bdist_wheel",
		"cibuildwheel", "maturin build", "npm run build", "pnpm build", "yarn build", "bun run build",
		"go build ./...", "cargo build --release", "mvn -B package", "./mvnw install", "./gradlew build",
		"gradle assemble", "dotnet build", "dotnet publish", "make build", "ko build", "goreleaser release",
		"pack build x",
	] {
		"build" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"run": run}]}}}
	}
	every uses in ["docker/build-push-action@0123", "docker/bake-action@0123", "pypa/build@0123"] {
		"build" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"uses": uses}]}}}
	}
}

test_every_deploy_tool_names_a_hint_word if {
	every run in [
		"kubectl apply -f k8s", "kubectl set image d/x x=y", "kubectl rollout restart d/x", "kubectl create -f x",
		"kubectl replace -f x", "helm upgrade --install x", "helm install x", "helmfile apply", "helmfile sync",
		"terraform apply -auto-approve", "tofu apply", "pulumi up", "aws ecs update-service", "aws ecs deploy",
		"aws deploy create-deployment", "aws lambda update-function-code", "aws cloudformation deploy", "sam deploy",
		"cdk deploy", "serverless deploy", "sls deploy", "gcloud run deploy x", "gcloud app deploy",
		"gcloud functions deploy x", "gcloud deploy releases create", "fly deploy", "flyctl deploy",
		"az webapp deploy", "az containerapp update", "vercel deploy", "vercel --prod", "netlify deploy",
		"argocd app sync x", "skaffold run", "skaffold deploy", "twine upload dist/*", "npm publish",
		"docker push x", "cargo publish", "gh release create v1", "ansible-playbook site.yml",
	] {
		"deploy" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"run": run}]}}}
	}
	every uses in [
		"azure/webapps-deploy@0123", "azure/k8s-deploy@0123", "aws-actions/amazon-ecs-deploy-task-definition@0123",
		"google-github-actions/deploy-cloudrun@0123", "google-github-actions/deploy-appengine@0123",
		"superfly/flyctl-actions@0123", "pypa/gh-action-pypi-publish@0123", "softprops/action-gh-release@0123",
		"ncipollo/release-action@0123",
	] {
		"deploy" in pipeline.job_stages.x with input as {"jobs": {"x": {"steps": [{"uses": uses}]}}}
	}
}

test_every_auxiliary_tool_names_a_hint_word if {
	every step in [
		{"uses": "actions/configure-pages@0123"}, {"uses": "actions/deploy-pages@0123"},
		{"uses": "actions/upload-pages-artifact@0123"}, {"uses": "peaceiris/actions-gh-pages@0123"},
		{"run": "mkdocs build"}, {"run": "mkdocs gh-deploy"}, {"run": "sphinx-build docs out"},
		{"uses": "googleapis/release-please-action@0123"}, {"uses": "release-drafter/release-drafter@0123"},
		{"uses": "actions/labeler@0123"}, {"uses": "actions/stale@0123"}, {"uses": "actions/first-interaction@0123"},
	] {
		"x" in pipeline.auxiliary_jobs with input as {"jobs": {"x": {"steps": [step, {"run": "pytest"}]}}}
	}
}
