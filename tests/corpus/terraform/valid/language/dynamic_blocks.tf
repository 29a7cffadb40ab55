# From the Terraform language documentation, "dynamic Blocks".
variable "settings" {
  type = list(map(string))
}

resource "aws_elastic_beanstalk_environment" "tfenvtest" {
  name                = "tf-test-name"
  application         = aws_elastic_beanstalk_application.tftest.name
  solution_stack_name = "64bit Amazon Linux 2018.03 v2.11.4 running Go 1.12.6"

  dynamic "setting" {
    for_each = var.settings
    content {
      namespace = setting.value["namespace"]
      name      = setting.value["name"]
      value     = setting.value["value"]
    }
  }
}

resource "aws_instance" "app" {
  ami           = "ami-0c55b159cbfafe1f0"
  instance_type = "t3.micro"

  dynamic "root_block_device" {
    for_each = [var.root_volume]
    iterator = volume
    content {
      volume_size = volume.value.size
      encrypted   = false
    }
  }

  dynamic "ebs_block_device" {
    for_each = var.data_volumes
    content {
      device_name = ebs_block_device.key
      volume_size = ebs_block_device.value

      dynamic "tag" {
        for_each = var.tags
        content {
          key   = tag.key
          value = tag.value
        }
      }
    }
  }
}
