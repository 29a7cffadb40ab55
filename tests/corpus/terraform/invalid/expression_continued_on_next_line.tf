output "id" {
  value = aws_vpc.main
    .id
}
