# Example from the provider documentation, variation 6.
resource "aws_vpc" "main" {
  cidr_block       = "10.6.0.0/16"
  instance_tenancy = "default"

  tags = {
    Name = "main"
  }
}

resource "aws_subnet" "private" {
  for_each = {
    a = "10.6.1.0/24"
    b = "10.6.2.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
