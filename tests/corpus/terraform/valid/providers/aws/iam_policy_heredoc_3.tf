# Example from the provider documentation, variation 3.
resource "aws_iam_policy" "primary" {
  name        = "test_policy_3"
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

terraform {
  required_version = ">= 1.3"
}
