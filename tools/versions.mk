# The reference tools pe-policy is tested against, built from these Go modules.
# Read by the Makefile and by tests/reference_tools.py; change a version here only.
OPA_VERSION := v1.22.4
CONFTEST_VERSION := v0.71.1
REGAL_VERSION := v0.39.0
# GitHub's SARIF rules (`validate --rule-kind Gh`): the npm package of Microsoft's SARIF Multitool
MULTITOOL_VERSION := 5.7.0
