"""Rule-file YAML with positions: reading it safely, and saying where each problem is.

Files are read with ruamel.yaml (which keeps line and column of every node) under expansion
limits; schema errors from pydantic become one line each, ``path:line:col: entity: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from circles.rules.schema import Circle
from circles.rules.yaml_limits import bomb_message, shown, too_large


def position(node: Any, loc: Sequence[str | int]) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node of ``loc`` that exists in the YAML tree."""
    line, col = 1, 1
    if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
        line, col = node.lc.line + 1, node.lc.col + 1
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            kline, kcol = node.lc.key(key)
            line, col = kline + 1, kcol + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            iline, icol = node.lc.item(key)
            line, col = iline + 1, icol + 1
            node = node[key]
        else:
            break
    return line, col


def entity_path(data: Any, loc: Sequence[str | int]) -> str:
    """Readable entity path such as ``life_15min.requirements[2](fresh_market).max_time_min``."""
    circle_id = data.get("id") if isinstance(data, dict) else None
    parts = [str(circle_id) if isinstance(circle_id, str) else "circle"]
    node = data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and 0 <= key < len(node):
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f"({node['id']})"
            else:
                node = None
            parts[-1] += label
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def plain_value(node: Any) -> Any:
    """Convert ruamel's commented containers into plain dicts and lists."""
    if isinstance(node, dict):
        return {k if isinstance(k, str) else str(k): plain_value(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain_value(v) for v in node]
    return node


_TYPE_WORDS = {
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping of keys",
    "list_type": "a list",
    "model_type": "a mapping of keys",
}


def _pydantic_message(error: ErrorDetails) -> str:
    kind = error["type"]
    got = shown(error.get("input"))
    if kind == "extra_forbidden":
        return "unknown key; check the spelling against rules/README.md"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"got {got}; expected one of {expected}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"{got} is not an id: use lower-case letters, digits and _ (e.g. fresh_market)"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(error.get("ctx", {}).values()), "")
        limit_text = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
        return f"must be {bound} {limit_text} (got {got})"
    if kind == "too_short":
        return "must not be empty"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"got {got}; expected one of {expected}"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _loc(error: ErrorDetails) -> list[str | int]:
    """The error location without pydantic's union-branch labels."""
    out: list[str | int] = []
    for part in error["loc"]:
        if isinstance(part, str) and (
            part in {"str", "list[str]", "float", "int"}
            or part.startswith(("list[", "dict[", "constrained-", "function-"))
        ):
            continue
        out.append(part)
    return out


def read_yaml(path: Path, problems: list[str]) -> Any:
    """The YAML tree of ``path`` with positions, or None with the problem recorded."""
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(f"{path}:1:1: file: no such file")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}:1:1: file: cannot read the file ({exc}); save it as UTF-8")
        return None
    if not text.strip():
        problems.append(
            f"{path}:1:1: file: the rule file is empty; describe one circle (id, name, mode, "
            "requirements), see rules/README.md"
        )
        return None
    try:
        tree = yaml.load(text)
    except RecursionError:
        problems.append(f"{path}:1:1: file: values nested too deeply; flatten the file")
        return None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or str(exc)
        problems.append(f"{path}:{line}:{col}: file: YAML syntax error: {what}")
        return None
    except YAMLError as exc:
        problems.append(f"{path}:1:1: file: YAML syntax error: {exc}")
        return None
    if too_large(tree):
        problems.append(f"{path}:1:1: file: {bomb_message()}")
        return None
    if tree is None:
        problems.append(
            f"{path}:1:1: file: the rule file holds only comments; describe one circle (id, "
            "name, mode, requirements), see rules/README.md"
        )
    return tree


def schema_pass(path: Path, tree: Any, problems: list[str]) -> Circle | None:
    """The circle the tree describes, or None with every schema problem recorded."""
    if not isinstance(tree, CommentedMap):
        problems.append(f"{path}:1:1: file: a rule file must be a mapping of keys (id, name, ...)")
        return None
    data = plain_value(tree)
    try:
        return Circle.model_validate(data)
    except ValidationError as exc:
        seen = set()
        for error in exc.errors():
            loc = _loc(error)
            line, col = position(tree, loc)
            message = f"{path}:{line}:{col}: {entity_path(data, loc)}: {_pydantic_message(error)}"
            if message not in seen:
                seen.add(message)
                problems.append(message)
        return None


def suggest(value: str, known: Iterable[str], fallback: str = "") -> str:
    """``; did you mean 'x'?`` for a near miss, else ``fallback``."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else fallback
