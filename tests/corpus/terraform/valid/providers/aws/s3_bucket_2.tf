/* Example from the provider documentation,
   variation 2. */
resource "aws_s3_bucket" "this" {
  bucket = "my-tf-test-bucket-2"

  tags = {
    Name        = "My bucket"
    Environment = "Dev"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

variable "region_2" {
  type    = string
  default = "eu-west-1"
}

output "region_2" {
  value = var.region_2
}
