"""``python -m alignlens.cli``: the command line."""

from alignlens.cli import main

main()
