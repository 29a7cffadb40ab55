/* Example from the provider documentation,
   variation 8. */
resource "aws_vpc" "main" {
  cidr_block       = "10.8.0.0/16"
  instance_tenancy = "default"

  tags = {
    Name = "main"
  }
}

resource "aws_subnet" "private" {
  for_each = {
    a = "10.8.1.0/24"
    b = "10.8.2.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}
