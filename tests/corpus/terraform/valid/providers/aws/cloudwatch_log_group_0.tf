# Example from the provider documentation, variation 0.
resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-0"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}
