# Example from the provider documentation, variation 6.
resource "aws_instance" "web" {
  ami           = "ami-a1b2c3d4"
  instance_type = "t3.micro"

  lifecycle {
    create_before_destroy = true
    prevent_destroy       = false
    ignore_changes = [
      tags,
    ]
    replace_triggered_by = [
      aws_ecs_service.svc.id
    ]

    precondition {
      condition     = data.aws_ami.example.architecture == "x86_64"
      error_message = "The selected AMI must be for the x86_64 architecture."
    }
  }

  provisioner "local-exec" {
    command = "echo The server's IP address is ${self.private_ip}"
  }

  provisioner "file" {
    source      = "conf/myapp.conf"
    destination = "/etc/myapp.conf"

    connection {
      type     = "ssh"
      user     = "root"
      password = var.root_password
      host     = self.public_ip
    }
  }
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
