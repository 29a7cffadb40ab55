resource "aws_instance" "web" {
  ami = "ami-a1b2c3d4"
  ami = "ami-e5f6a7b8"
}
