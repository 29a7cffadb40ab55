/* Example from the provider documentation,
   variation 8. */
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

locals {
  role_arn = "arn:aws:iam::444455556666:role/example-8"
  parsed   = provider::aws::arn_parse(local.role_arn)
}

output "account_id" {
  value = local.parsed.account_id
}

output "rebuilt" {
  value = provider::aws::arn_build("aws", "iam", "", local.parsed.account_id, "role/example-8")
}
