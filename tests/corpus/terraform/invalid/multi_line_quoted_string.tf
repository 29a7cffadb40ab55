resource "aws_security_group" "sg" {
  description = "Allow SSH
  from anywhere"
}
