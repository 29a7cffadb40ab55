/* Example from the provider documentation,
   variation 8. */
resource "google_project_iam_member" "project" {
  project = "your-project-id-8"
  role    = "roles/editor"
  member  = "user:jane@example.com"
}

resource "google_project_iam_binding" "project" {
  project = "your-project-id-8"
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
