# Example from the provider documentation, variation 6.
resource "aws_iam_policy" "data" {
  name        = "test_policy_6"
  path        = "/"
  description = "My test policy"

  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": [
        "ec2:Describe*"
      ],
      "Effect": "Allow",
      "Resource": "*"
    }
  ]
}
EOF
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
