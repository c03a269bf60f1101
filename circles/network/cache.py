"""The user cache folder: compiled searches and built networks, never pickles."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$CIRCLES_CACHE_DIR``, else ``$XDG_CACHE_HOME/circles``, else ``~/.cache/circles``."""
    given = os.environ.get("CIRCLES_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "circles"
