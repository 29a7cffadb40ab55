# Example from the provider documentation, variation 6.
terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket = "mybucket"
    key    = "path/to/my/key"
    region = "us-east-1"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

module "servers" {
  source  = "terraform-aws-modules/ec2-instance/aws"
  version = "5.6.0"

  for_each = toset(["one", "two", "three"])
  name     = "instance-${each.key}"

  providers = {
    aws = aws.west
  }

  depends_on = [aws_iam_role_policy.example]
}

module "vpc" {
  source = "git::https://example.com/vpc.git?ref=v1.2.0"
  count  = var.create_vpc ? 1 : 0
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
