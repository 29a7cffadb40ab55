"""pe-policy: policy-as-code for the whole delivery process."""

__version__ = "0.1.0"
# where pe-policy lives: pre-commit installs it from here (`pe-policy init`), SARIF names it
REPOSITORY_URL = "https://github.com/pe-policy/pe-policy"
