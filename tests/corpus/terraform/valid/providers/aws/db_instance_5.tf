/* Example from the provider documentation,
   variation 5. */
resource "aws_db_instance" "logs" {
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

locals {
  environment_5 = "staging"
  common_tags_5 = {
    Environment = local.environment_5
    ManagedBy   = "terraform"
  }
}
