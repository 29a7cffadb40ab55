# Example from the provider documentation, variation 6.
resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-6"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
