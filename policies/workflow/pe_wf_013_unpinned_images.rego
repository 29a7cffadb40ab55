# METADATA
# title: Job containers and service images pinned by digest
# description: >-
#   A job's `container:` and its `services:` run images pulled by tag: whoever can push
#   that tag (the image's maintainer, or anyone who takes over their registry account)
#   decides the code that runs next to your token and secrets. Only a digest
#   (`image@sha256:<64-hex>`) names exactly one image. An image given as a `${{ }}`
#   expression is not judged (its value is only known at run time).
# related_resources:
#   - ref: https://docs.github.com/en/actions/using-jobs/running-jobs-in-a-container
# custom:
#   id: PE-WF-013
#   severity: medium
#   kinds: [workflow]
#   source: "seed 003 (security: pin what runs)"
#   remediation: >-
#     Pin the image by digest and keep the tag for readers:
#     `image: node:20@sha256:<digest>` (`docker buildx imagetools inspect node:20` prints it).
package pe.workflow.unpinned_images

import data.pe.workflow.lib.steps.expression_paths
import rego.v1

# (path, image) of every job container and service container
images contains [["jobs", job_id, "container"], job.container] if {
	some job_id, job in input.jobs
	is_string(job.container)
}

images contains [["jobs", job_id, "container", "image"], job.container.image] if {
	some job_id, job in input.jobs
	is_string(job.container.image)
}

images contains [["jobs", job_id, "services", name, "image"], service.image] if {
	some job_id, job in input.jobs
	is_object(job.services)
	some name, service in job.services
	is_string(service.image)
}

deny contains {"msg": msg, "path": path} if {
	some [path, image] in images
	not path in expression_paths # a `${{ }}` (parsed by the loader): known only at run time
	not pinned(image)
	msg := sprintf(
		"%s image %q is not pinned by digest: whoever can push that tag decides what runs; pin it as %s@sha256:<digest>",
		[what(path), image, image],
	)
}

what(path) := "service" if "services" in path

else := "job container"

pinned(image) if regex.match(`@sha256:[0-9a-f]{64}$`, trim_space(image))

pinned(image) if trim_space(image) == "" # `container: ''`: no container
