package pe.terraform.open_ingress_test

import data.pe.terraform.open_ingress
import rego.v1

params := {"admin_ports": [22, 3389, 5432]}

group(ingress) := {"blocks": [{
	"block_type": "resource", "type": "aws_security_group", "name": "g",
	"address": "aws_security_group.g", "values": {"ingress": ingress},
}]}

rule(values) := {"resource_changes": [{
	"address": "aws_security_group_rule.r", "mode": "managed", "type": "aws_security_group_rule",
	"name": "r", "change": {"actions": ["create"], "after": values},
}]}

test_ssh_from_anywhere if {
	results := open_ingress.deny with input as group([{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}])
		with data.pe.params as params
	count(results) == 1
	some r in results
	r.path == ["blocks", 0, "values", "ingress", 0, "cidr_blocks"]
	contains(r.msg, "port 22 (SSH)")
}

test_https_from_anywhere_is_fine if {
	count(open_ingress.deny) == 0 with input as group([{"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}])
		with data.pe.params as params
}

test_ssh_from_vpn_is_fine if {
	count(open_ingress.deny) == 0 with input as group([{"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}])
		with data.pe.params as params
}

test_range_containing_admin_port if {
	results := open_ingress.deny with input as rule({"type": "ingress", "from_port": 3000, "to_port": 4000, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]})
		with data.pe.params as params
	some r in results
	contains(r.msg, "3389 (RDP)")
}

test_all_protocols_ipv6 if {
	results := open_ingress.deny with input as rule({"type": "ingress", "from_port": 0, "to_port": 0, "protocol": "-1", "ipv6_cidr_blocks": ["::/0"]})
		with data.pe.params as params
	some r in results
	contains(r.msg, "all ports")
	r.path == ["resource_changes", 0, "change", "after", "ipv6_cidr_blocks"]
}

test_egress_rule_is_fine if {
	count(open_ingress.deny) == 0 with input as rule({"type": "egress", "from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]})
		with data.pe.params as params
}

test_vpc_ingress_rule_numeric_protocol if {
	input_tf := {"blocks": [{
		"block_type": "resource", "type": "aws_vpc_security_group_ingress_rule", "name": "r", "address": "aws_vpc_security_group_ingress_rule.r",
		"values": {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": -1},
	}]}
	count(open_ingress.deny) == 1 with input as input_tf with data.pe.params as params
}

test_expression_ports_are_not_judged if {
	count(open_ingress.deny) == 0 with input as group([{"from_port": "${var.port}", "to_port": "${var.port}", "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}])
		with data.pe.params as params
}

test_groups_with_the_same_ports_are_each_reported if {
	ssh := {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}
	https := {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}
	results := open_ingress.deny with input as group([ssh, https, ssh]) with data.pe.params as params
	{r.path | some r in results} == {
		["blocks", 0, "values", "ingress", 0, "cidr_blocks"],
		["blocks", 0, "values", "ingress", 2, "cidr_blocks"],
	}
}

test_port_as_string_protocol_in_capitals if {
	ingress := {"from_port": "3389", "to_port": "3389", "protocol": "TCP", "cidr_blocks": "0.0.0.0/0"}
	results := open_ingress.deny with input as group([ingress]) with data.pe.params as params
	count(results) == 1
	some r in results
	contains(r.msg, "port 3389 (RDP)")
}

test_every_port if {
	results := open_ingress.deny with input as rule({"type": "ingress", "from_port": 0, "to_port": 65535, "protocol": 6, "cidr_blocks": ["0.0.0.0/0"]})
		with data.pe.params as params
	some r in results
	contains(r.msg, "all ports (0-65535)")
}
