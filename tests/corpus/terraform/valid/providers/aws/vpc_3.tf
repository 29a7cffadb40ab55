# Example from the provider documentation, variation 3.
resource "aws_vpc" "main" {
  cidr_block       = "10.3.0.0/16"
  instance_tenancy = "default"

  tags = {
    Name = "main"
  }
}

resource "aws_subnet" "private" {
  for_each = {
    a = "10.3.1.0/24"
    b = "10.3.2.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

terraform {
  required_version = ">= 1.3"
}
