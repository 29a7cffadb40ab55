/* Example from the provider documentation,
   variation 5. */
resource "google_sql_database_instance" "main" {
  name             = "main-instance-5"
  database_version = "POSTGRES_15"
  region           = "us-central1"

  settings {
    # Second-generation instance tiers are based on the machine
    # type. See argument reference below.
    tier = "db-f1-micro"

    ip_configuration {
      ipv4_enabled = false
      dynamic "authorized_networks" {
        for_each = var.authorized_networks
        iterator = net
        content {
          name  = net.key
          value = net.value
        }
      }
    }
  }

  deletion_protection = true
}

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
