variable "ports" {
  default = [22, 80
}
