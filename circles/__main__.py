"""``python -m circles``: the command line, as the ``circles`` script runs it."""

from circles.cli import run

run()
