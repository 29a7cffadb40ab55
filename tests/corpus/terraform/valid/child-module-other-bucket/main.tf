# The child module locks down its own bucket, not the root's: the root's bucket is still open.
provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "uploads" {
  bucket = "example-uploads"
}

module "logs" {
  source = "./modules/private-bucket"

  name = "example-logs"
}
