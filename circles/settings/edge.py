"""How a settings field looks at the edges: CLI flag, project-file key, user units, summary key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo

from circles.errors import ProjectFileError

SECONDS_PER_MINUTE = 60.0


def coords_map(value: Any) -> dict[str, str]:
    """``--coords`` values or a project file's ``coords`` as a layer → system map.

    A bare system (``gcj02``) stands for every layer (``*``); ``LAYER=SYSTEM`` for one layer.

    Raises
    ------
    ProjectFileError
        When the value is neither a system, a list of them nor a mapping of layer to system.
    """
    if isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if isinstance(value, str):
        value = [value]
    if isinstance(value, dict):
        return {str(k): str(v).strip().lower() for k, v in value.items()}
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ProjectFileError(
            "coords in the project file: give a system (gcj02) or a mapping of layer to system"
        )
    out: dict[str, str] = {}
    for item in value:
        layer, sep, system = item.partition("=")
        if sep:
            out[layer.strip()] = system.strip().lower()
        else:
            out["*"] = layer.strip().lower()
    return out


@dataclass(frozen=True)
class Edge:
    """How a settings field appears at the edges: CLI, project file, summary.json.

    Attributes
    ----------
    key
        Project-file key (also the CLI flag, with dashes, unless ``flag`` says otherwise);
        None when the field is not read from project files.
    flag
        The CLI flag declarations when they differ from ``--key``.
    scale
        Edge value = SI value × scale (60 for a speed given in metres per minute).
    give
        What a project file should give, for its type errors ("metres (e.g. max_snap: 250)").
    default_text
        The help's ``[default: …]`` when it says more than the default value; "" for none.
    summary
        Key in ``summary.json``'s ``run.parameters`` (True: the field name); False: not listed.
    none_text
        The edge value standing for None (``auto`` for split_crossings).
    invert
        A CLI switch that sets the field to False (``--no-cache``).
    parse
        Turns an edge value (CLI list or project value) into the field's value (``coords``).
    """

    key: str | None
    flag: tuple[str, ...] = ()
    scale: float = 1.0
    give: str = ""
    default_text: str | None = None
    summary: bool | str = False
    none_text: str | None = None
    invert: bool = False
    parse: Callable[[Any], Any] | None = None

    def flags(self, name: str) -> tuple[str, ...]:
        """The CLI flag declarations of field ``name``."""
        return self.flag or (f"--{(self.key or name).replace('_', '-')}",)

    def to_edge(self, value: Any) -> Any:
        """A value in the units users see (CLI, project file, summary.json)."""
        if value is None:
            return self.none_text
        if self.scale != 1.0:
            return round(value * self.scale, 9)  # 48 m/min → 0.8 m/s → 48.0, not 48.000…01
        return value

    def from_edge(self, value: Any) -> Any:
        """A value in SI from the units users give it in: the one unit conversion."""
        if self.none_text is not None and value == self.none_text:
            return None
        if self.parse is not None:
            return self.parse(value)
        if self.invert:
            return not value
        if self.scale != 1.0 and value is not None:
            return value / self.scale
        return value


def edge_of(info: FieldInfo) -> Edge:
    """The :class:`Edge` of a settings field (in its ``Annotated`` metadata)."""
    for item in info.metadata:
        if isinstance(item, Edge):
            return item
    raise TypeError(f"settings field {info} has no Edge")  # pragma: no cover
