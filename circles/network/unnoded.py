"""Whether a centre-line layer looks drawn without junctions, and what the audit says of repairs."""

from __future__ import annotations

#: Network statistics counting each kind of repair (``summary.json``).
REPAIR_STATS = {
    "split_crossing": "crossings_split",
    "split_t": "t_junctions_split",
    "split_self": "self_crossings_split",
    "joined_end": "ends_joined",
    "not_split_levels": "crossings_not_split_levels",
    "not_joined_levels": "ends_not_joined_levels",
}


# lines on a fragment, and crossings per line, beyond which a layer has no junctions
UNNODED_FRAGMENT_SHARE = 0.5
UNNODED_CROSSINGS_PER_LINE = 0.1


def looks_unnoded(n_lines: int, crossings: int, fragment_nodes: int, nodes: int) -> bool:
    """Whether a layer looks drawn without junctions: many crossings, most nodes on fragments."""
    return (
        n_lines > 0
        and nodes > 0
        and crossings >= UNNODED_CROSSINGS_PER_LINE * n_lines
        and fragment_nodes >= UNNODED_FRAGMENT_SHARE * nodes
    )


def topology_warnings(stats: dict, name: str) -> list[str]:
    """Warnings on a centre-line network's junctions: what was repaired, what was left."""
    out: list[str] = []
    if stats.get("split_crossings"):
        how = "--split-crossings"
        before = stats.get("before")
        if stats.get("split_crossings_auto") and before:
            share = min(before["fragment_nodes"] / max(before["nodes"], 1), 1.0)
            how = (
                f"automatically: {before['crossings']} crossings without a shared vertex and "
                f"{share:.0%} of nodes on fragments, the lines look drawn without junctions; "
                "pass --no-split-crossings to keep them as drawn"
            )
        out.append(
            f"network {name}: split {stats.get('crossings_split', 0)} crossings, "
            f"{stats.get('t_junctions_split', 0)} T-junctions and "
            f"{stats.get('self_crossings_split', 0)} self-crossings ({how}): see "
            "network_issues.csv"
        )
    if stats.get("ends_joined"):
        out.append(
            f"network {name}: joined {stats['ends_joined']} dangling line ends to lines within "
            f"{stats['join_ends_m']:g} m (--join-ends): see network_issues.csv"
        )
    levels = stats.get("crossings_not_split_levels", 0)
    if stats.get("crossings", 0) > levels:  # crossings on different levels are drawn right
        why = (
            f" ({levels} of them on different levels by bridge, tunnel or layer)" if levels else ""
        )
        out.append(
            f"{stats['crossings']} places where network lines cross or touch without a shared "
            f"end point were NOT joined{why} (bridges and tunnels are such places; otherwise "
            "split the lines there, or pass --split-crossings): see network_issues.csv"
        )
    nodes = stats.get("nodes") or 0
    if (
        stats.get("source") == "lines"
        and not stats.get("split_crossings")
        and looks_unnoded(
            stats.get("edges_read", 0), stats.get("crossings", 0), stats["fragment_nodes"], nodes
        )
    ):
        out.append(
            f"network {name}: {stats['crossings']} crossings without a shared vertex and "
            f"{min(stats['fragment_nodes'] / nodes, 1.0):.0%} of nodes on fragments: the lines "
            "look drawn without junctions; rerun with --split-crossings"
        )
    return out
