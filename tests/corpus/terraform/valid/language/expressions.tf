# Forms from the Terraform language documentation (Expressions, Functions, Strings and Templates).
terraform {
  required_version = ">= 1.8"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "users" {
  type = map(object({
    is_admin = bool
  }))
}

locals {
  # provider-defined functions (Terraform 1.8)
  arn = provider::aws::arn_parse("arn:aws:iam::444455556666:role/example")

  # splat expressions, the modern and the legacy form
  ids        = aws_instance.web[*].id
  legacy_ids = aws_instance.web.*.id

  # for expressions, with grouping and a filter
  upper_names = { for k, v in var.users : upper(k) => v... if v.is_admin }
  admin_list  = [for name, user in var.users : name if user.is_admin]

  # conditionals, indexes, arithmetic
  size     = var.environment == "prod" ? "m5.large" : "t3.micro"
  first_az = data.aws_availability_zones.available.names[0]
  negative = -1
  total    = (var.count + 2) * 3

  # string templates and directives
  greeting = "Hello, %{ if var.name != "" }${var.name}%{ else }unnamed%{ endif }!"
  escaped  = "$${not_interpolated} \"quoted\"\t"
  servers  = <<-EOT
    %{ for ip in aws_instance.web[*].private_ip ~}
    server ${ip}
    %{ endfor ~}
  EOT
}

resource "aws_instance" "web" {
  count         = 3
  ami           = data.aws_ami.ubuntu.id
  instance_type = local.size

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags["LastScanned"]]
  }

  tags = {
    Name = "web-${count.index}"
  }
}

resource "aws_iam_policy" "trimmed" {
  name = "trimmed"

  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": ["ec2:Describe*"],
          "Resource": "*"
        }
      ]
    }
  EOT
}

output "instance_ips" {
  value     = aws_instance.web[*].private_ip
  sensitive = false
}
