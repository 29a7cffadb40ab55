/* Example from the provider documentation,
   variation 2. */
resource "aws_s3_bucket" "this" {
  bucket = "my-tf-test-bucket-2"
}

resource "aws_s3_bucket_policy" "allow_access_from_another_account" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.allow_access_from_another_account.json
}

data "aws_iam_policy_document" "allow_access_from_another_account" {
  statement {
    principals {
      type        = "AWS"
      identifiers = ["123456789012"]
    }

    actions = [
      "s3:GetObject",
      "s3:ListBucket",
    ]

    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
  }
}

variable "region_2" {
  type    = string
  default = "eu-west-1"
}

output "region_2" {
  value = var.region_2
}
