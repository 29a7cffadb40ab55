# Attributes and blocks of the same name: "attributes as blocks" (aws_security_group's
# ingress and egress may be written either way), and names that are block types elsewhere.
resource "aws_security_group" "mixed" {
  name = "mixed"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  ingress = [
    {
      description      = "SSH from anywhere"
      from_port        = 22
      to_port          = 22
      protocol         = "tcp"
      cidr_blocks      = ["0.0.0.0/0"]
      ipv6_cidr_blocks = []
      prefix_list_ids  = []
      security_groups  = []
      self             = false
    },
  ]

  egress = []
}

resource "kubernetes_secret" "example" {
  metadata {
    name = "basic-auth"
  }

  data = {
    username = "admin"
    password = var.password
  }

  type = "kubernetes.io/basic-auth"
}

resource "local_file" "config" {
  filename = "${path.module}/config.json"
  content  = jsonencode({ resource = "x", provider = "y", module = "z" })
}
