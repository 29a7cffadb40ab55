locals {
  name = "app-${var.env"
}
