# Example from the provider documentation, variation 3.
resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-3"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}

terraform {
  required_version = ">= 1.3"
}
