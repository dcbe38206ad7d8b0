"""``python -m askwell.cli``."""

from askwell.cli import main

main()
