"""Bundled rule presets and the facility catalogue (installed as ``circles.presets``)."""
