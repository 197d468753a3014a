"""`python -m orchestrator.cli ...` runs the siliconbench command."""

from orchestrator.cli.main import main

main()
