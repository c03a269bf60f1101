"""circles: audit how well residents reach everyday facilities on real street networks.

The public API (imported on first use, so that ``import circles`` stays light)::

    from circles import Settings, run_audit, run_scenario, load_rules, CirclesError

    result = run_audit(Settings(network=..., facilities=..., residents=...))
    result.coverage, result.residents, result.summary
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("circles")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: public name → the module that defines it
_PUBLIC = {
    "AuditResult": "circles.audit",
    "run_audit": "circles.audit",
    "Scenario": "circles.scenario",
    "run_scenario": "circles.scenario",
    "Settings": "circles.settings",
    "load_rules": "circles.rules.load",
    "LoadedCircle": "circles.rules.load",
    "CirclesError": "circles.errors",
    "InputDataError": "circles.errors",
    "NetworkError": "circles.errors",
    "OutputError": "circles.errors",
    "ProjectFileError": "circles.errors",
    "RuleError": "circles.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    """The public names, imported from their modules on first use."""
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'circles' has no attribute {name!r}")
