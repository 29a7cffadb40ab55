# A root module whose bucket is locked down by a child module of the same configuration.
provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "assets" {
  bucket = "example-assets"
}

module "assets_public_access_block" {
  source = "./modules/public-access-block"

  bucket = aws_s3_bucket.assets.id
}

# a bucket created by a child module that also blocks public access to it
module "logs" {
  source = "./modules/private-bucket"

  name = "example-logs"
}
