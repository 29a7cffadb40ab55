/* Example from the provider documentation,
   variation 5. */
resource "aws_vpc" "main" {
  cidr_block       = "10.5.0.0/16"
  instance_tenancy = "default"

  tags = {
    Name = "main"
  }
}

resource "aws_subnet" "private" {
  for_each = {
    a = "10.5.1.0/24"
    b = "10.5.2.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
