"""Generated rule documentation: the JSON Schema and the field reference, from the models.

``rules/schema.json`` (for editor completion) and the reference section of ``rules/README.md``
are written by ``circles rules docs --write`` and checked by a test, so they cannot drift from the
validator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from circles.rules.schema import (
    AmapMatch,
    Capacity,
    CatalogueFile,
    Circle,
    DriveSpeeds,
    FacilityEntry,
    Hub,
    Name,
    NonFacilities,
    Requirement,
    Source,
    Zone,
)

BEGIN = "<!-- BEGIN GENERATED REFERENCE (circles rules docs --write) -->"
END = "<!-- END GENERATED REFERENCE -->"
REFERENCE_MODELS: list[tuple[str, type[BaseModel]]] = [
    ("Circle (one rule file)", Circle),
    ("Requirement (each item of `requirements`)", Requirement),
    ("Source (each value of a `sources` mapping)", Source),
    ("Name (`name`)", Name),
    ("Zone (each value of `zones`)", Zone),
    ("DriveSpeeds (`drive`)", DriveSpeeds),
    ("Hub (`hub`)", Hub),
    ("Capacity (`capacity` of a requirement)", Capacity),
    ("Catalogue file (`facilities.yaml`)", CatalogueFile),
    ("Facility type (each value of `facility_types`)", FacilityEntry),
    ("Amap match (`amap`)", AmapMatch),
    ("Non-facility categories (`non_facility_categories`)", NonFacilities),
]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a rule file."""
    schema = Circle.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "circles rule file"
    return schema


def json_schema_text() -> str:
    """The JSON Schema as stable, pretty text."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _container_text(prop: dict[str, Any], kind: str) -> str:
    """The type text of a list (``array``) or a mapping (``object``) property."""
    if kind == "array":
        return f"list of {_type_text(prop.get('items', {}))}"
    values = prop.get("additionalProperties")
    if not isinstance(values, dict) and prop.get("patternProperties"):
        values = next(iter(prop["patternProperties"].values()))
    return f"mapping to {_type_text(values)}" if isinstance(values, dict) else "mapping"


def _type_text(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        parts = [_type_text(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(parts)
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    kind = prop.get("type", "any")
    if kind in {"array", "object"}:
        return _container_text(prop, kind)
    bounds = []
    for key, sign in (
        ("exclusiveMinimum", ">"),
        ("minimum", "≥"),
        ("exclusiveMaximum", "<"),
        ("maximum", "≤"),
    ):
        if key in prop:
            bounds.append(f"{sign} {prop[key]:g}")
    word = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false"}
    text = word.get(kind, kind)
    return f"{text} ({', '.join(bounds)})" if bounds else text


def reference_markdown() -> str:
    """The field reference of every rule model as Markdown tables."""
    lines = [BEGIN, ""]
    for title, model in REFERENCE_MODELS:
        schema = model.model_json_schema()
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        lines += [
            f"### {title}",
            "",
            "| key | type | required | default | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, info in model.model_fields.items():
            prop = props.get(name, {})
            default = "" if info.is_required() else prop.get("default", "")
            default_text = "" if default in ("", None, [], {}) else f"`{json.dumps(default)}`"
            description = (info.description or "").replace("|", "\\|")
            lines.append(
                f"| `{name}` | {_type_text(prop)} | {'yes' if name in required else ''} | "
                f"{default_text} | {description} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def readme_with_reference(readme: str) -> str:
    """``readme`` with its generated section replaced by the current reference."""
    if BEGIN not in readme or END not in readme:
        return readme.rstrip("\n") + "\n\n" + reference_markdown()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + reference_markdown().rstrip("\n") + tail


def write_docs(rules_dir: Path) -> list[Path]:
    """Rewrite ``schema.json`` and the reference section of ``README.md`` in ``rules_dir``."""
    schema_path = rules_dir / "schema.json"
    schema_path.write_text(json_schema_text(), encoding="utf-8")
    readme_path = rules_dir / "README.md"
    text = readme_path.read_text(encoding="utf-8") if readme_path.exists() else ""
    readme_path.write_text(readme_with_reference(text), encoding="utf-8")
    return [schema_path, readme_path]
