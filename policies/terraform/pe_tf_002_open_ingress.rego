# METADATA
# title: No ingress from the internet to admin or database ports, or to all ports
# description: >-
#   A security group rule that admits 0.0.0.0/0 or ::/0 to SSH, RDP or a
#   database port (the `admin_ports` parameter), or to every port, exposes the
#   service to the whole internet's scanners. Checked in aws_security_group
#   inline `ingress` blocks, aws_security_group_rule (type ingress) and
#   aws_vpc_security_group_ingress_rule; a port range that contains an admin
#   port counts, and protocol -1 means all ports.
# related_resources:
#   - ref: https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
# custom:
#   id: PE-TF-002
#   severity: critical
#   kinds: [terraform_plan, terraform]
#   source: "seed 003 (security: network)"
#   remediation: >-
#     Admit only known CIDRs (the VPN, a bastion's security group) or reach
#     instances through SSM Session Manager; put databases in private subnets
#     and allow only the application's security group.
package pe.terraform.open_ingress

import data.pe.terraform.lib
import rego.v1

deny contains {"msg": msg, "address": rule.resource.address, "path": rule.path} if {
	some rule in ingress_rules
	exposure := exposures[[rule.protocol, rule.from, rule.to]]
	msg := sprintf(
		"%s: %s allows ingress from %s to %s: admit only known CIDRs or security groups",
		[rule.resource.address, rule.what, rule.cidr, exposure],
	)
}

ingress_rules := array.concat(inline_rules, array.concat(group_rules, vpc_rules))

# aws_security_group { ingress { ... } }
inline_rules := [rule |
	some r in lib.resources_of({"aws_security_group"})
	ingresses := lib.as_list(object.get(r.values, "ingress", []))
	some j, ingress in ingresses
	is_object(ingress)
	some attribute in ["cidr_blocks", "ipv6_cidr_blocks"]
	cidrs := object.get(ingress, attribute, [])
	cidrs != [] # often empty (ipv6): skip the call
	some cidr in lib.as_list(cidrs)
	cidr in open_cidrs
	rule := {
		"resource": r, "what": "security group ingress rule",
		"path": array.concat(r.path, ["ingress", j, attribute]), "cidr": cidr,
		"protocol": object.get(ingress, "protocol", null),
		"from": object.get(ingress, "from_port", null), "to": object.get(ingress, "to_port", null),
	}
]

# aws_security_group_rule { type = "ingress" ... }
group_rules := [rule |
	some r in lib.resources_of({"aws_security_group_rule"})
	r.values.type == "ingress"
	some attribute in ["cidr_blocks", "ipv6_cidr_blocks"]
	some cidr in lib.as_list(object.get(r.values, attribute, []))
	cidr in open_cidrs
	rule := {
		"resource": r, "what": "security group rule",
		"path": array.concat(r.path, [attribute]), "cidr": cidr,
		"protocol": object.get(r.values, "protocol", null),
		"from": object.get(r.values, "from_port", null), "to": object.get(r.values, "to_port", null),
	}
]

# aws_vpc_security_group_ingress_rule { cidr_ipv4 = ... ip_protocol = ... }
vpc_rules := [rule |
	some r in lib.resources_of({"aws_vpc_security_group_ingress_rule"})
	some attribute in ["cidr_ipv4", "cidr_ipv6"]
	cidr := object.get(r.values, attribute, null)
	cidr in open_cidrs
	rule := {
		"resource": r, "what": "security group ingress rule",
		"path": array.concat(r.path, [attribute]), "cidr": cidr,
		"protocol": object.get(r.values, "ip_protocol", null),
		"from": object.get(r.values, "from_port", null), "to": object.get(r.values, "to_port", null),
	}
]

open_cidrs := {"0.0.0.0/0", "::/0"}

# "tcp", "-1", 6 -> "tcp", "-1", "6"
protocol_name(value) := lower(sprintf("%v", [value]))

all_protocols := {"-1", "all"}

port_protocols := {"tcp", "udp", "6", "17"}

# [protocol, from, to] (as written) -> what a rule with these exposes.  The security groups
# of a plan repeat a few settings (tcp 443 443): each is judged once, not once per rule.
exposures[setting] := exposure if {
	some setting in {[rule.protocol, rule.from, rule.to] | some rule in ingress_rules}
	exposure := exposed(protocol_name(setting[0]), setting[1], setting[2])
}

# One `else` chain (the cases exclude each other): a rule stops at its first match.
exposed(protocol, from, to) := "all ports (protocol -1)" if {
	protocol in all_protocols
} else := range_exposed(range) if {
	protocol in port_protocols
	range := [lib.number_of(from), lib.number_of(to)]
}

# All ports, or the admin ports in the range (undefined when it holds none).
range_exposed(range) := sprintf("all ports (%d-%d)", range) if {
	range[0] <= 0
	range[1] >= 65535
} else := ports_description(range, [range[0]]) if {
	range[0] == range[1] # one port, the common case: a lookup
	range[0] in admin_ports
} else := ports_description(range, ports) if {
	range[0] != range[1]
	ports := [port | some port in admin_ports; range[0] <= port; port <= range[1]]
	count(ports) > 0
}

admin_ports := data.pe.params.admin_ports # a rule: read once, not once per security group rule

ports_description(range, _) := sprintf("port %s", [lib.port_label(range[0])]) if range[0] == range[1]

ports_description(range, ports) := sprintf(
	"ports %d-%d, which include %s",
	[range[0], range[1], concat(", ", [lib.port_label(p) | some p in ports])],
) if {
	range[0] != range[1]
}
