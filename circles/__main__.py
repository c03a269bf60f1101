"""Entry point for ``python -m circles``."""

from circles.cli import app

app(prog_name="circles")
