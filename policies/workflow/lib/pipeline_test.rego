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
	stages["deploy-staging"] == {"deploy"}
	stages.attest == set()
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
	pipeline.ancestors("c") == {"a", "b"} with input as {"jobs": {"a": {}, "b": {"needs": "a"}, "c": {"needs": ["b"]}, "d": {}}}
}

test_pages_and_release_please_workflows_are_not_pipelines if {
	pages := {"on": {"push": {"branches": ["main"]}}, "jobs": {
		"build": {"steps": [{"uses": "actions/configure-pages@0123"}, {"run": "mkdocs build"}, {"uses": "actions/upload-pages-artifact@0123"}]},
		"deploy": {"needs": "build", "environment": {"name": "github-pages"}, "steps": [{"uses": "actions/deploy-pages@0123"}]},
	}}
	not pipeline.is_pipeline with input as pages
	not pipeline.is_pipeline with input as {"on": ["push"], "jobs": {"release-please": {"steps": [{"uses": "googleapis/release-please-action@0123"}]}}}
}
