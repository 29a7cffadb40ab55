# Example from the provider documentation, variation 0.
locals {
  service_name = "forum"
  owner        = "Community Team"

  instance_ids = aws_instance.example[*].id
  first_id     = try(local.instance_ids[0], null)
  by_name      = { for s in var.subnets : s.name => s... }
  public       = [for s in var.subnets : s.cidr if s.public]
  uppers       = [for s in var.list : upper(s)]
  cidrs        = { for i, az in var.azs : az => cidrsubnet(var.cidr, 8, i) }
  nested       = flatten([for k, v in var.networks : [for s in v.subnets : { network = k, subnet = s }]])
  conditional  = var.a != "" ? var.a : "default-a"
  math         = (var.count * 2 + 1) % 10
  splat_legacy = aws_instance.example.*.id
  greeting     = "Hello, %{ if var.name != "" }${var.name}%{ else }unnamed%{ endif }!"
  heredoc      = <<-EOT
    %{ for ip in aws_instance.example[*].private_ip ~}
    server ${ip}
    %{ endfor ~}
  EOT
  escaped      = "$${not.interpolated} and %%{not.a.directive}"
  json_doc     = jsonencode({ "hello" = "world", list = [1, 2, 3] })
  yaml_doc     = yamlencode({ a = "b" })
}
