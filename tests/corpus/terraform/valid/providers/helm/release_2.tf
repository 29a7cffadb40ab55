/* Example from the provider documentation,
   variation 2. */
resource "helm_release" "example" {
  name       = "my-redis-release-2"
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

variable "region_2" {
  type    = string
  default = "eu-west-1"
}

output "region_2" {
  value = var.region_2
}
