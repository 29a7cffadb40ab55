/* Example from the provider documentation,
   variation 5. */
resource "google_project_iam_member" "project" {
  project = "your-project-id-5"
  role    = "roles/editor"
  member  = "user:jane@example.com"
}

resource "google_project_iam_binding" "project" {
  project = "your-project-id-5"
  role    = "roles/container.admin"

  members = [
    "user:jane@example.com",
  ]

  condition {
    title       = "expires_after_2029_12_31"
    description = "Expiring at midnight of 2029-12-31"
    expression  = "request.time < timestamp(\"2030-01-01T00:00:00Z\")"
  }
}

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
