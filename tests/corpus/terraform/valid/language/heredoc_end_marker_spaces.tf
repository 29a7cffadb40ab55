# A heredoc whose closing marker carries trailing spaces (valid: Terraform trims the line).
resource "aws_iam_policy" "deploy" {
  name   = "deploy"
  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
}
POLICY  
}

resource "aws_security_group" "bastion" {
  name = "bastion"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
