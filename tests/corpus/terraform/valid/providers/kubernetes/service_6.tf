# Example from the provider documentation, variation 6.
resource "kubernetes_service" "example" {
  metadata {
    name = "terraform-example-6"
  }
  spec {
    selector = {
      app = kubernetes_pod.example.metadata.0.labels.app
    }
    session_affinity = "ClientIP"
    port {
      port        = 8080
      target_port = 80
    }

    type = "LoadBalancer"
  }
}

variable "region_6" {
  type    = string
  default = "eu-west-1"
}

output "region_6" {
  value = var.region_6
}
