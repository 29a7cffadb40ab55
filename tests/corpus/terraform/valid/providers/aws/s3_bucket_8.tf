/* Example from the provider documentation,
   variation 8. */
resource "aws_s3_bucket" "api" {
  bucket = "my-tf-test-bucket-8"

  tags = {
    Name        = "My bucket"
    Environment = "Dev"
  }
}

resource "aws_s3_bucket_versioning" "api" {
  bucket = aws_s3_bucket.api.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "api" {
  bucket = aws_s3_bucket.api.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
