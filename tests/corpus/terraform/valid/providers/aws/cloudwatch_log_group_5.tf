/* Example from the provider documentation,
   variation 5. */
resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-5"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
