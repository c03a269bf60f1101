"""The audit's settings: one typed model; CLI options, project keys and run.parameters derive.

Every option of ``circles audit`` is one field of :class:`Settings` (:mod:`.model`), written
once: its type, its default (in SI units), its help text and, in an :class:`Edge` beside it
(:mod:`.edge`), how it appears outside the library — the project-file key, the command-line
flag, the unit users give it in (metres per minute for walking speeds) and the key it is
recorded under in ``summary.json``'s ``run.parameters``. The CLI builds its options from these
fields, :mod:`circles.project` accepts exactly their keys, and :func:`merge` (:mod:`.fields`)
is the one place where project-file values and command-line values meet (the command line
wins) and edge units become SI.

Adding an option is adding a field to :class:`Settings`: it then appears in
``circles audit --help``, is accepted in project files and (with ``summary=True``) is recorded
in ``summary.json``.
"""

from circles.settings.edge import SECONDS_PER_MINUTE, Edge, coords_map, edge_of
from circles.settings.fields import (
    default_of,
    edges,
    field_info,
    kind_of,
    merge,
    project_keys,
    to_edge,
)
from circles.settings.model import Settings

__all__ = [
    "SECONDS_PER_MINUTE",
    "Edge",
    "Settings",
    "coords_map",
    "default_of",
    "edge_of",
    "edges",
    "field_info",
    "kind_of",
    "merge",
    "project_keys",
    "to_edge",
]
