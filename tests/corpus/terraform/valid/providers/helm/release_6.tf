# Example from the provider documentation, variation 6.
resource "helm_release" "example" {
  name       = "my-redis-release-6"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "redis"
  version    = "6.0.1"

  values = [
    "${file("values.yaml")}"
  ]

  set {
    name  = "cluster.enabled"
    value = "true"
  }

  set {
    name  = "metrics.enabled"
    value = "true"
  }

  set {
    name  = "service.annotations.prometheus\\.io/port"
    value = "9127"
    type  = "string"
  }
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
