"""`python -m flows.cli` runs the `floodgate` command."""

from flows.cli import main

main()
