/* Example from the provider documentation,
   variation 2. */
resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-2"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}

variable "region_2" {
  type    = string
  default = "eu-west-1"
}

output "region_2" {
  value = var.region_2
}
