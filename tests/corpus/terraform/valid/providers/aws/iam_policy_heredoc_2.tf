/* Example from the provider documentation,
   variation 2. */
resource "aws_iam_policy" "this" {
  name        = "test_policy_2"
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

variable "region_2" {
  type    = string
  default = "eu-west-1"
}

output "region_2" {
  value = var.region_2
}
