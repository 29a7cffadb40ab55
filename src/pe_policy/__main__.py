from pe_policy.cli import run

run()
