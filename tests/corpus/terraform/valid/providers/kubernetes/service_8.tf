/* Example from the provider documentation,
   variation 8. */
resource "kubernetes_service" "example" {
  metadata {
    name = "terraform-example-8"
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
