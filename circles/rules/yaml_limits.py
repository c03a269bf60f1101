"""YAML alias bombs: how many values a loaded YAML tree holds once its aliases are expanded.

A YAML loader builds an alias (``*a``) as a second reference to the anchored value, so a
"billion laughs" file loads quickly and small; it explodes only when the tree is walked, copied
or printed. :func:`expanded_size` counts the values the expanded tree would hold, each shared
value once per reference, in time linear in the size of the file.
"""

from __future__ import annotations

from typing import Any

#: More values than any rule or project file needs; a bomb passes it within a few levels.
MAX_EXPANDED_VALUES = 100_000


def expanded_size(tree: Any, limit: int = MAX_EXPANDED_VALUES) -> int:
    """The number of values (maps, lists and scalars) of ``tree`` with aliases expanded.

    Counting stops a little past ``limit``; a tree that refers to itself counts as ``limit + 1``.
    """
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_ids:  # a value that holds itself expands without end
            return limit + 1
        open_ids.add(key)
        total = 1
        children = (v for kv in node.items() for v in kv) if isinstance(node, dict) else node
        for child in children:
            total += size(child)
            if total > limit:
                break
        open_ids.discard(key)
        sizes[key] = total
        return total

    try:
        return size(tree)
    except RecursionError:  # nesting deeper than Python's stack: no sane file does that
        return limit + 1


def too_large(tree: Any, limit: int = MAX_EXPANDED_VALUES) -> bool:
    """Whether ``tree`` expands to more than ``limit`` values (an alias bomb)."""
    return expanded_size(tree, limit) > limit


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters (a list may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bomb_message(limit: int = MAX_EXPANDED_VALUES) -> str:
    """The remedy for a tree that :func:`too_large` refused (the values are never shown)."""
    return (
        f"its aliases (*name) expand to more than {limit:,} values, which no rule or project "
        "file needs (a YAML alias bomb?); write the values out or use fewer aliases"
    )
