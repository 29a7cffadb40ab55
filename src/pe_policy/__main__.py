from pe_policy.cli import main

main()
