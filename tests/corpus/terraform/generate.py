"""Writes the `.tf` corpus under valid/providers/: the providers' documentation examples
(AWS, Google, AzureRM, Kubernetes, Helm, random, null) in the forms their registry pages
show, each in several real variations (names, counts, `for_each`, `dynamic` blocks,
lifecycle rules, heredoc or `jsonencode` policies).  Run it to regenerate; the files are
committed so the test reads exactly what is here.

    python tests/corpus/terraform/generate.py
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "valid" / "providers"

# Each example: (provider, resource slug, text).  @N@ is the variation number, @NAME@ a name.
EXAMPLES: list[tuple[str, str, str]] = [
    ("aws", "s3_bucket", '''resource "aws_s3_bucket" "@NAME@" {
  bucket = "my-tf-test-bucket-@N@"

  tags = {
    Name        = "My bucket"
    Environment = "Dev"
  }
}

resource "aws_s3_bucket_versioning" "@NAME@" {
  bucket = aws_s3_bucket.@NAME@.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "@NAME@" {
  bucket = aws_s3_bucket.@NAME@.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
'''),
    ("aws", "s3_bucket_policy", '''resource "aws_s3_bucket" "@NAME@" {
  bucket = "my-tf-test-bucket-@N@"
}

resource "aws_s3_bucket_policy" "allow_access_from_another_account" {
  bucket = aws_s3_bucket.@NAME@.id
  policy = data.aws_iam_policy_document.allow_access_from_another_account.json
}

data "aws_iam_policy_document" "allow_access_from_another_account" {
  statement {
    principals {
      type        = "AWS"
      identifiers = ["123456789012"]
    }

    actions = [
      "s3:GetObject",
      "s3:ListBucket",
    ]

    resources = [
      aws_s3_bucket.@NAME@.arn,
      "${aws_s3_bucket.@NAME@.arn}/*",
    ]
  }
}
'''),
    ("aws", "s3_sse", '''resource "aws_kms_key" "mykey" {
  description             = "This key is used to encrypt bucket objects"
  deletion_window_in_days = 10
}

resource "aws_s3_bucket" "mybucket" {
  bucket = "mybucket-@N@"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "example" {
  bucket = aws_s3_bucket.mybucket.id

  rule {
    apply_server_side_encryption_by_default {
      kms_master_key_id = aws_kms_key.mykey.arn
      sse_algorithm     = "aws:kms"
    }
  }
}
'''),
    ("aws", "iam_role", '''resource "aws_iam_role" "@NAME@" {
  name = "test_role_@N@"

  # Terraform's "jsonencode" function converts a
  # Terraform expression result to valid JSON syntax.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Action = "sts:AssumeRole"
        Effect = "Allow"
        Sid    = ""
        Principal = {
          Service = "ec2.amazonaws.com"
        }
      },
    ]
  })

  tags = {
    tag-key = "tag-value"
  }
}
'''),
    ("aws", "iam_policy_heredoc", '''resource "aws_iam_policy" "@NAME@" {
  name        = "test_policy_@N@"
  path        = "/"
  description = "My test policy"

  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": [
        "ec2:Describe*"
      ],
      "Effect": "Allow",
      "Resource": "*"
    }
  ]
}
EOF
}
'''),
    ("aws", "iam_role_policy", '''resource "aws_iam_role_policy" "test_policy" {
  name = "test_policy_@N@"
  role = aws_iam_role.test_role.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Action = [
          "ec2:Describe*",
        ]
        Effect   = "Allow"
        Resource = "*"
      },
    ]
  })
}

resource "aws_iam_role" "test_role" {
  name = "test_role_@N@"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Action = "sts:AssumeRole"
        Effect = "Allow"
        Sid    = ""
        Principal = {
          Service = "ec2.amazonaws.com"
        }
      },
    ]
  })
}
'''),
    ("aws", "security_group", '''resource "aws_security_group" "allow_tls" {
  name        = "allow_tls_@N@"
  description = "Allow TLS inbound traffic and all outbound traffic"
  vpc_id      = aws_vpc.main.id

  tags = {
    Name = "allow_tls"
  }
}

resource "aws_vpc_security_group_ingress_rule" "allow_tls_ipv4" {
  security_group_id = aws_security_group.allow_tls.id
  cidr_ipv4         = aws_vpc.main.cidr_block
  from_port         = 443
  ip_protocol       = "tcp"
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "allow_all_traffic_ipv4" {
  security_group_id = aws_security_group.allow_tls.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1" # semantically equivalent to all ports
}
'''),
    ("aws", "security_group_dynamic", '''variable "ingress_ports" {
  type    = list(number)
  default = [80, 443, 8080]
}

resource "aws_security_group" "@NAME@" {
  name   = "web-@N@"
  vpc_id = var.vpc_id

  dynamic "ingress" {
    for_each = var.ingress_ports
    iterator = port
    content {
      from_port   = port.value
      to_port     = port.value
      protocol    = "tcp"
      cidr_blocks = ["10.0.0.0/8"]
    }
  }

  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}
'''),
    ("aws", "instance", '''data "aws_ami" "ubuntu" {
  most_recent = true

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }

  owners = ["099720109477"] # Canonical
}

resource "aws_instance" "@NAME@" {
  ami           = data.aws_ami.ubuntu.id
  instance_type = "t3.micro"

  root_block_device {
    encrypted   = true
    volume_size = 20
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags = {
    Name = "HelloWorld-@N@"
  }
}
'''),
    ("aws", "instance_count", '''resource "aws_instance" "server" {
  count = 4 # create four similar EC2 instances

  ami           = "ami-a1b2c3d4"
  instance_type = "t2.micro"

  tags = {
    Name = "Server ${count.index}"
  }
}

output "server_ids" {
  value = aws_instance.server[*].id
}
'''),
    ("aws", "db_instance", '''resource "aws_db_instance" "@NAME@" {
  allocated_storage           = 10
  db_name                     = "mydb"
  engine                      = "mysql"
  engine_version              = "8.0"
  instance_class              = "db.t3.micro"
  username                    = "foo"
  manage_master_user_password = true
  parameter_group_name        = "default.mysql8.0"
  skip_final_snapshot         = true
  storage_encrypted           = true
}
'''),
    ("aws", "vpc", '''resource "aws_vpc" "main" {
  cidr_block       = "10.@N@.0.0/16"
  instance_tenancy = "default"

  tags = {
    Name = "main"
  }
}

resource "aws_subnet" "private" {
  for_each = {
    a = "10.@N@.1.0/24"
    b = "10.@N@.2.0/24"
  }

  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1${each.key}"
}
'''),
    ("aws", "lambda_function", '''data "aws_iam_policy_document" "assume_role" {
  statement {
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    actions = ["sts:AssumeRole"]
  }
}

resource "aws_iam_role" "iam_for_lambda" {
  name               = "iam_for_lambda_@N@"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

data "archive_file" "lambda" {
  type        = "zip"
  source_file = "lambda.js"
  output_path = "lambda_function_payload.zip"
}

resource "aws_lambda_function" "test_lambda" {
  filename      = "lambda_function_payload.zip"
  function_name = "lambda_function_name_@N@"
  role          = aws_iam_role.iam_for_lambda.arn
  handler       = "index.test"

  source_code_hash = data.archive_file.lambda.output_base64sha256

  runtime = "nodejs18.x"

  environment {
    variables = {
      foo = "bar"
    }
  }
}
'''),
    ("aws", "sqs_queue", '''resource "aws_sqs_queue" "terraform_queue" {
  name                      = "terraform-example-queue-@N@"
  delay_seconds             = 90
  max_message_size          = 2048
  message_retention_seconds = 86400
  receive_wait_time_seconds = 10
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.terraform_queue_deadletter.arn
    maxReceiveCount     = 4
  })

  tags = {
    Environment = "production"
  }
}

resource "aws_sqs_queue" "terraform_queue_deadletter" {
  name = "terraform-example-deadletter-queue-@N@"
}
'''),
    ("aws", "cloudwatch_log_group", '''resource "aws_cloudwatch_log_group" "yada" {
  name              = "Yada-@N@"
  retention_in_days = 30

  tags = {
    Environment = "production"
    Application = "serviceA"
  }
}
'''),
    ("aws", "ssoadmin_inline_policy", '''data "aws_ssoadmin_instances" "example" {}

resource "aws_ssoadmin_permission_set" "example" {
  name         = "Example-@N@"
  instance_arn = tolist(data.aws_ssoadmin_instances.example.arns)[0]
}

data "aws_iam_policy_document" "example" {
  statement {
    sid = "1"

    actions = [
      "s3:ListAllMyBuckets",
      "s3:GetBucketLocation",
    ]

    resources = [
      "arn:aws:s3:::*",
    ]
  }
}

resource "aws_ssoadmin_permission_set_inline_policy" "example" {
  inline_policy      = data.aws_iam_policy_document.example.json
  instance_arn       = aws_ssoadmin_permission_set.example.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.example.arn
}
'''),
    ("aws", "provider_function", '''terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

locals {
  role_arn = "arn:aws:iam::444455556666:role/example-@N@"
  parsed   = provider::aws::arn_parse(local.role_arn)
}

output "account_id" {
  value = local.parsed.account_id
}

output "rebuilt" {
  value = provider::aws::arn_build("aws", "iam", "", local.parsed.account_id, "role/example-@N@")
}
'''),
    ("google", "storage_bucket", '''resource "google_storage_bucket" "static-site" {
  name          = "image-store-@N@.com"
  location      = "EU"
  force_destroy = true

  uniform_bucket_level_access = true

  website {
    main_page_suffix = "index.html"
    not_found_page   = "404.html"
  }
  cors {
    origin          = ["http://image-store.com"]
    method          = ["GET", "HEAD", "PUT", "POST", "DELETE"]
    response_header = ["*"]
    max_age_seconds = 3600
  }
}
'''),
    ("google", "compute_instance", '''resource "google_service_account" "default" {
  account_id   = "my-custom-sa-@N@"
  display_name = "Custom SA for VM Instance"
}

resource "google_compute_instance" "default" {
  name         = "my-instance-@N@"
  machine_type = "n2-standard-2"
  zone         = "us-central1-a"

  tags = ["foo", "bar"]

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-11"
      labels = {
        my_label = "value"
      }
    }
  }

  // Local SSD disk
  scratch_disk {
    interface = "NVME"
  }

  network_interface {
    network = "default"

    access_config {
      // Ephemeral public IP
    }
  }

  metadata = {
    foo = "bar"
  }

  metadata_startup_script = "echo hi > /test.txt"

  service_account {
    # Google recommends custom service accounts that have cloud-platform scope and permissions granted via IAM Roles.
    email  = google_service_account.default.email
    scopes = ["cloud-platform"]
  }
}
'''),
    ("google", "sql_database_instance", '''resource "google_sql_database_instance" "main" {
  name             = "main-instance-@N@"
  database_version = "POSTGRES_15"
  region           = "us-central1"

  settings {
    # Second-generation instance tiers are based on the machine
    # type. See argument reference below.
    tier = "db-f1-micro"

    ip_configuration {
      ipv4_enabled = false
      dynamic "authorized_networks" {
        for_each = var.authorized_networks
        iterator = net
        content {
          name  = net.key
          value = net.value
        }
      }
    }
  }

  deletion_protection = true
}
'''),
    ("google", "project_iam", '''resource "google_project_iam_member" "project" {
  project = "your-project-id-@N@"
  role    = "roles/editor"
  member  = "user:jane@example.com"
}

resource "google_project_iam_binding" "project" {
  project = "your-project-id-@N@"
  role    = "roles/container.admin"

  members = [
    "user:jane@example.com",
  ]

  condition {
    title       = "expires_after_2029_12_31"
    description = "Expiring at midnight of 2029-12-31"
    expression  = "request.time < timestamp(\\"2030-01-01T00:00:00Z\\")"
  }
}
'''),
    ("google", "container_cluster", '''resource "google_container_cluster" "primary" {
  name     = "my-gke-cluster-@N@"
  location = "us-central1"

  # We can't create a cluster with no node pool defined, but we want to only use
  # separately managed node pools. So we create the smallest possible default
  # node pool and immediately delete it.
  remove_default_node_pool = true
  initial_node_count       = 1
}

resource "google_container_node_pool" "primary_preemptible_nodes" {
  name       = "my-node-pool"
  location   = "us-central1"
  cluster    = google_container_cluster.primary.name
  node_count = 1

  node_config {
    preemptible  = true
    machine_type = "e2-medium"

    # Google recommends custom service accounts that have cloud-platform scope and permissions granted via IAM Roles.
    service_account = google_service_account.default.email
    oauth_scopes = [
      "https://www.googleapis.com/auth/cloud-platform"
    ]
  }
}
'''),
    ("azurerm", "resource_group", '''provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "example" {
  name     = "example-resources-@N@"
  location = "West Europe"
}

resource "azurerm_storage_account" "example" {
  name                     = "storageaccountname@N@"
  resource_group_name      = azurerm_resource_group.example.name
  location                 = azurerm_resource_group.example.location
  account_tier             = "Standard"
  account_replication_type = "GRS"

  tags = {
    environment = "staging"
  }
}
'''),
    ("azurerm", "virtual_network", '''resource "azurerm_network_security_group" "example" {
  name                = "example-security-group-@N@"
  location            = azurerm_resource_group.example.location
  resource_group_name = azurerm_resource_group.example.name
}

resource "azurerm_virtual_network" "example" {
  name                = "example-network-@N@"
  location            = azurerm_resource_group.example.location
  resource_group_name = azurerm_resource_group.example.name
  address_space       = ["10.0.0.0/16"]
  dns_servers         = ["10.0.0.4", "10.0.0.5"]

  subnet {
    name             = "subnet1"
    address_prefixes = ["10.0.1.0/24"]
  }

  subnet {
    name             = "subnet2"
    address_prefixes = ["10.0.2.0/24"]
    security_group   = azurerm_network_security_group.example.id
  }

  tags = {
    environment = "Production"
  }
}
'''),
    ("azurerm", "linux_virtual_machine", '''resource "azurerm_linux_virtual_machine" "example" {
  name                = "example-machine-@N@"
  resource_group_name = azurerm_resource_group.example.name
  location            = azurerm_resource_group.example.location
  size                = "Standard_F2"
  admin_username      = "adminuser"
  network_interface_ids = [
    azurerm_network_interface.example.id,
  ]

  admin_ssh_key {
    username   = "adminuser"
    public_key = file("~/.ssh/id_rsa.pub")
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Standard_LRS"
  }

  source_image_reference {
    publisher = "Canonical"
    offer     = "0001-com-ubuntu-server-jammy"
    sku       = "22_04-lts"
    version   = "latest"
  }
}
'''),
    ("azurerm", "key_vault", '''data "azurerm_client_config" "current" {}

resource "azurerm_key_vault" "example" {
  name                        = "examplekeyvault@N@"
  location                    = azurerm_resource_group.example.location
  resource_group_name         = azurerm_resource_group.example.name
  enabled_for_disk_encryption = true
  tenant_id                   = data.azurerm_client_config.current.tenant_id
  soft_delete_retention_days  = 7
  purge_protection_enabled    = false

  sku_name = "standard"

  access_policy {
    tenant_id = data.azurerm_client_config.current.tenant_id
    object_id = data.azurerm_client_config.current.object_id

    key_permissions = [
      "Get",
    ]

    secret_permissions = [
      "Get",
    ]

    storage_permissions = [
      "Get",
    ]
  }
}
'''),
    ("kubernetes", "deployment", '''resource "kubernetes_deployment" "example" {
  metadata {
    name = "terraform-example-@N@"
    labels = {
      test = "MyExampleApp"
    }
  }

  spec {
    replicas = 3

    selector {
      match_labels = {
        test = "MyExampleApp"
      }
    }

    template {
      metadata {
        labels = {
          test = "MyExampleApp"
        }
      }

      spec {
        container {
          image = "nginx:1.21.6"
          name  = "example"

          resources {
            limits = {
              cpu    = "0.5"
              memory = "512Mi"
            }
            requests = {
              cpu    = "250m"
              memory = "50Mi"
            }
          }

          liveness_probe {
            http_get {
              path = "/"
              port = 80

              http_header {
                name  = "X-Custom-Header"
                value = "Awesome"
              }
            }

            initial_delay_seconds = 3
            period_seconds        = 3
          }
        }
      }
    }
  }
}
'''),
    ("kubernetes", "config_map_secret", '''resource "kubernetes_config_map" "example" {
  metadata {
    name = "my-config-@N@"
  }

  data = {
    api_host             = "myhost:443"
    db_host              = "dbhost:5432"
    "my_config_file.yml" = "${file("${path.module}/my_config_file.yml")}"
  }

  binary_data = {
    "my_payload.bin" = "${filebase64("${path.module}/my_payload.bin")}"
  }
}

resource "kubernetes_namespace" "example" {
  metadata {
    annotations = {
      name = "example-annotation"
    }

    labels = {
      mylabel = "label-value"
    }

    name = "terraform-example-namespace-@N@"
  }
}
'''),
    ("kubernetes", "service", '''resource "kubernetes_service" "example" {
  metadata {
    name = "terraform-example-@N@"
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
'''),
    ("helm", "release", '''resource "helm_release" "example" {
  name       = "my-redis-release-@N@"
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
    name  = "service.annotations.prometheus\\\\.io/port"
    value = "9127"
    type  = "string"
  }
}
'''),
    ("random", "random_and_null", '''resource "random_id" "server" {
  keepers = {
    # Generate a new id each time we switch to a new AMI id
    ami_id = var.ami_id
  }

  byte_length = 8
}

resource "random_password" "password" {
  length           = 16
  special          = true
  override_special = "!#$%&*()-_=+[]{}<>:?"
}

resource "null_resource" "cluster" {
  # Changes to any instance of the cluster requires re-provisioning
  triggers = {
    cluster_instance_ids = join(",", aws_instance.cluster[*].id)
  }

  connection {
    host = element(aws_instance.cluster[*].public_ip, 0)
  }

  provisioner "remote-exec" {
    # Bootstrap script called with private_ip of each node in the cluster
    inline = [
      "bootstrap-cluster.sh ${join(" ", aws_instance.cluster[*].private_ip)}",
    ]
  }
}

resource "terraform_data" "replacement" {
  input = var.revision
}
'''),
    ("language", "variables_outputs", '''variable "image_id" {
  type        = string
  description = "The id of the machine image (AMI) to use for the server."

  validation {
    condition     = length(var.image_id) > 4 && substr(var.image_id, 0, 4) == "ami-"
    error_message = "The image_id value must be a valid AMI id, starting with \\"ami-\\"."
  }
}

variable "availability_zone_names" {
  type    = list(string)
  default = ["us-west-1a"]
}

variable "docker_ports" {
  type = list(object({
    internal = number
    external = number
    protocol = string
  }))
  default = [
    {
      internal = 8300
      external = 8300
      protocol = "tcp"
    }
  ]
}

variable "db_password" {
  type      = string
  sensitive = true
  nullable  = false
}

output "instance_ip_addr" {
  value       = aws_instance.server.private_ip
  description = "The private IP address of the main server instance."

  precondition {
    condition     = data.aws_ebs_volume.example.encrypted
    error_message = "The server's root volume is not encrypted."
  }
}
'''),
    ("language", "moved_import_check", '''moved {
  from = aws_instance.a
  to   = aws_instance.b
}

moved {
  from = module.a
  to   = module.b
}

import {
  to = aws_instance.example
  id = "i-abcd1234"
}

removed {
  from = aws_instance.old

  lifecycle {
    destroy = false
  }
}

check "health_check" {
  data "http" "terraform_io" {
    url = "https://www.terraform.io"
  }

  assert {
    condition     = data.http.terraform_io.status_code == 200
    error_message = "${data.http.terraform_io.url} returned an unhealthy status code"
  }
}
'''),
    ("language", "modules_backend", '''terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket = "mybucket"
    key    = "path/to/my/key"
    region = "us-east-1"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

module "servers" {
  source  = "terraform-aws-modules/ec2-instance/aws"
  version = "5.6.0"

  for_each = toset(["one", "two", "three"])
  name     = "instance-${each.key}"

  providers = {
    aws = aws.west
  }

  depends_on = [aws_iam_role_policy.example]
}

module "vpc" {
  source = "git::https://example.com/vpc.git?ref=v1.2.0"
  count  = var.create_vpc ? 1 : 0
}
'''),
    ("language", "expressions_templates", '''locals {
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
'''),
    ("language", "lifecycle_provisioners", '''resource "aws_instance" "web" {
  ami           = "ami-a1b2c3d4"
  instance_type = "t3.micro"

  lifecycle {
    create_before_destroy = true
    prevent_destroy       = false
    ignore_changes = [
      tags,
    ]
    replace_triggered_by = [
      aws_ecs_service.svc.id
    ]

    precondition {
      condition     = data.aws_ami.example.architecture == "x86_64"
      error_message = "The selected AMI must be for the x86_64 architecture."
    }
  }

  provisioner "local-exec" {
    command = "echo The server's IP address is ${self.private_ip}"
  }

  provisioner "file" {
    source      = "conf/myapp.conf"
    destination = "/etc/myapp.conf"

    connection {
      type     = "ssh"
      user     = "root"
      password = var.root_password
      host     = self.public_ip
    }
  }
}
'''),
]

# Variations keep each example real Terraform: a name, a count or for_each on the first
# resource, tags, a lifecycle block, a comment style.
NAMES = ["example", "main", "this", "primary", "app", "logs", "data", "web", "api", "backend"]


EXTRAS = [
    "",
    """
locals {
  environment_@N@ = "staging"
  common_tags_@N@ = {
    Environment = local.environment_@N@
    ManagedBy   = "terraform"
  }
}
""",
    """
variable "region_@N@" {
  type    = string
  default = "eu-west-1"
}

output "region_@N@" {
  value = var.region_@N@
}
""",
    """
terraform {
  required_version = ">= 1.@N@"
}
""",
]
HEADERS = ["# Example from the provider documentation, variation @N@.",
           "// generated by tests/corpus/terraform/generate.py",
           "/* Example from the provider documentation,\n   variation @N@. */"]


def _variation(text: str, n: int) -> str:
    name = NAMES[n % len(NAMES)]
    whole = HEADERS[n % len(HEADERS)] + "\n" + text + EXTRAS[n % len(EXTRAS)]
    return whole.replace("@NAME@", name).replace("@N@", str(n))


def main() -> None:
    count = 0
    for provider, slug, text in EXAMPLES:
        directory = OUT / provider
        directory.mkdir(parents=True, exist_ok=True)
        for n in range(9):
            (directory / f"{slug}_{n}.tf").write_text(_variation(text, n), encoding="utf-8")
            count += 1
    print(f"wrote {count} files under {OUT}")


if __name__ == "__main__":
    main()
