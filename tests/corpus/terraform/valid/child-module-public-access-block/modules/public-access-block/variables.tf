variable "bucket" {
  description = "Name or ID of the S3 bucket to block public access to"
  type        = string
}
