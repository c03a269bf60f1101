"""Entry point for ``python -m circles``."""

from circles.cli import run

run()
