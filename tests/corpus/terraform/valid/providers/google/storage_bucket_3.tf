# Example from the provider documentation, variation 3.
resource "google_storage_bucket" "static-site" {
  name          = "image-store-3.com"
  location      = "EU"
  force_destroy = true

  uniform_bucket_level_access = true

  website {
    main_page_suffix = "index.html"
    not_found_page   = "404.html"
  }
  cors {
    origin          = ["http://image-store.com"]
    method          = ["GET", "HEAD", "PUT", "POST", "DELETE"]
    response_header = ["*"]
    max_age_seconds = 3600
  }
}

terraform {
  required_version = ">= 1.3"
}
