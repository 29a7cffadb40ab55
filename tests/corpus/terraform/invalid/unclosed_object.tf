resource "aws_s3_bucket" "logs" {
  bucket = "my-logs"

  tags = {
    Name = "logs"

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket = aws_s3_bucket.logs.id
}
