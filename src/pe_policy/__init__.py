"""pe-policy: policy-as-code for the whole delivery process."""

__version__ = "0.1.0"
