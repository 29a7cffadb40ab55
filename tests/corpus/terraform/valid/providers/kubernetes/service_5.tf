/* Example from the provider documentation,
   variation 5. */
resource "kubernetes_service" "example" {
  metadata {
    name = "terraform-example-5"
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

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
