"""A generated Terraform module (one directory of `.tf` files) for the `.tf` benchmark case.

Each file holds a handful of the resources real AWS configurations are made of, in the
forms the provider documentation writes them: IAM policies as heredocs and through
`jsonencode`, security groups whose rules come from `dynamic` blocks, variables with
defaults, locals and outputs.  Some are deliberately non-compliant, so both tools have
findings to report.  Deterministic: the same count gives the same files.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SEED = 20260315


def _variables(n: int) -> str:
    return f'''variable "app{n}_ports" {{
  description = "Ports the app{n} load balancer listens on"
  type        = list(number)
  default     = [80, 443]
}}

variable "app{n}_instance_type" {{
  type    = string
  default = "t3.micro"

  validation {{
    condition     = can(regex("^t3\\\\.", var.app{n}_instance_type))
    error_message = "Only t3 instances are allowed."
  }}
}}

locals {{
  app{n}_name = "app{n}-${{var.environment}}"
  app{n}_tags = merge(var.common_tags, {{
    Service = "app{n}"
    Owner   = "platform"
  }})
  app{n}_cidrs = [for s in var.subnets : s.cidr if s.public]
}}
'''


def _security_group(n: int, bad: bool) -> str:
    cidr = '"0.0.0.0/0"' if bad else '"10.0.0.0/8"'
    return f'''resource "aws_security_group" "app{n}" {{
  name        = local.app{n}_name
  description = "app{n} load balancer"
  vpc_id      = aws_vpc.main.id

  dynamic "ingress" {{
    for_each = var.app{n}_ports
    iterator = port
    content {{
      description = "HTTP(S) on ${{port.value}}"
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = [{cidr}]
    }}
  }}

  ingress {{
    description = "SSH from the bastion"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [{cidr}]
  }}

  egress {{
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }}

  tags = local.app{n}_tags
}}
'''


def _heredoc_policy(n: int, bad: bool) -> str:
    action = '"*"' if bad else '["s3:GetObject", "s3:ListBucket"]'
    resource = '"*"' if bad else f'["arn:aws:s3:::app{n}-assets", "arn:aws:s3:::app{n}-assets/*"]'
    return f'''resource "aws_iam_policy" "app{n}_read" {{
  name        = "app{n}-read"
  path        = "/"
  description = "Read access to the app{n} assets"

  policy = <<-POLICY
    {{
      "Version": "2012-10-17",
      "Statement": [
        {{
          "Sid": "ReadAssets",
          "Effect": "Allow",
          "Action": {action},
          "Resource": {resource}
        }}
      ]
    }}
  POLICY
}}
'''


def _role(n: int, bad: bool) -> str:
    action = '"*"' if bad else '["logs:CreateLogStream", "logs:PutLogEvents"]'
    return f'''resource "aws_iam_role" "app{n}" {{
  name = "app{n}-task"

  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {{
        Action = "sts:AssumeRole"
        Effect = "Allow"
        Sid    = ""
        Principal = {{
          Service = "ecs-tasks.amazonaws.com"
        }}
      }},
    ]
  }})

  inline_policy {{
    name = "app{n}-logs"
    policy = jsonencode({{
      Version = "2012-10-17"
      Statement = [
        {{
          Action   = {action}
          Effect   = "Allow"
          Resource = "arn:aws:logs:*:*:log-group:/ecs/app{n}:*"
        }},
      ]
    }})
  }}

  tags = local.app{n}_tags
}}
'''


def _bucket(n: int, bad: bool) -> str:
    block = "" if bad else f'''
resource "aws_s3_bucket_public_access_block" "app{n}_assets" {{
  bucket = aws_s3_bucket.app{n}_assets.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}
'''
    return f'''resource "aws_s3_bucket" "app{n}_assets" {{
  bucket = "app{n}-assets-${{var.environment}}"
  tags   = local.app{n}_tags
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "app{n}_assets" {{
  bucket = aws_s3_bucket.app{n}_assets.id

  rule {{
    apply_server_side_encryption_by_default {{
      kms_master_key_id = aws_kms_key.main.arn
      sse_algorithm     = "aws:kms"
    }}
  }}
}}
{block}'''


def _instance(n: int, bad: bool) -> str:
    return f'''resource "aws_instance" "app{n}" {{
  ami                    = data.aws_ami.ubuntu.id
  instance_type          = var.app{n}_instance_type
  subnet_id              = element(aws_subnet.private[*].id, {n} % length(aws_subnet.private))
  vpc_security_group_ids = [aws_security_group.app{n}.id]

  root_block_device {{
    volume_size = 20
    volume_type = "gp3"
    encrypted   = {"false" if bad else "true"}
  }}

  metadata_options {{
    http_tokens = "required"
  }}

  user_data = templatefile("${{path.module}}/templates/app.sh.tftpl", {{
    name  = "app{n}"
    ports = var.app{n}_ports
  }})

  tags = merge(local.app{n}_tags, {{ Name = "app{n}" }})
}}

output "app{n}_private_ip" {{
  description = "Private address of app{n}"
  value       = aws_instance.app{n}.private_ip
}}
'''


def module_files(count: int, seed: int = SEED) -> dict[str, str]:
    """`count` `.tf` files (names -> text) of one module, about 4 KB and 7 resources each."""
    rng = random.Random(seed)
    files = {"variables.tf": '''variable "environment" {
  type    = string
  default = "staging"
}

variable "common_tags" {
  type    = map(string)
  default = {}
}

variable "subnets" {
  type = list(object({ cidr = string, public = bool }))
}
''', "versions.tf": '''terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { ManagedBy = "terraform" }
  }
}
'''}
    for n in range(count - len(files)):
        bad = rng.random() < 0.2
        parts = [_variables(n), _security_group(n, bad), _heredoc_policy(n, rng.random() < 0.2),
                 _role(n, rng.random() < 0.2), _bucket(n, rng.random() < 0.2),
                 _instance(n, rng.random() < 0.2)]
        files[f"app{n:04d}.tf"] = "\n".join(parts)
    return files


def write_module(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.tf"):
        old.unlink()
    for name, text in module_files(count).items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--files", type=int, nargs="+", default=[50, 500])
    args = parser.parse_args()
    for count in args.files:
        print(write_module(args.out / f"tf-module-{count}", count))


if __name__ == "__main__":
    main()
