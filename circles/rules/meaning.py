"""The second pass over a rule file: what its values mean (ids, types, thresholds, hub tables).

The schema pass has checked shapes and types; here every problem of meaning is collected with
its position: unique ids, facility types the catalogue knows, sane thresholds and counts, hub
tables found in the rule file's own folder with well-formed rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from circles.catalogue.load import Catalogue
from circles.rules.positions import entity_path, plain_value, position, suggest
from circles.rules.schema import Circle, Requirement, Source, Tag

SUPPORTED_MODES = ("walk", "drive", "hub")


MAX_TIME_MIN = {"walk": 180.0, "drive": 180.0, "hub": 1440.0}


MAX_WALK_DISTANCE_M = 15_000.0


MAX_DRIVE_DISTANCE_M = 200_000.0


# the searches keep the min_count nearest facilities of every resident: residents × min_count
MAX_MIN_COUNT = 100


HUB_TABLE_COLUMNS = ("hub", "destination", "minutes", "ref", "tag")


@dataclass(frozen=True)
class HubRow:
    """One line-haul time of a hub table."""

    hub: str
    destination: str
    minutes: float
    source: Source


class MeaningChecker:
    """The meaning pass over one schema-valid circle."""

    def __init__(self, path: Path, tree: CommentedMap, circle: Circle, catalogue: Catalogue):
        self.path, self.tree, self.circle, self.catalogue = path, tree, circle, catalogue
        self.data = plain_value(tree)
        self.problems: list[str] = []

    def add(self, loc: list[str | int], message: str) -> None:
        """Record a problem at ``loc`` with its position."""
        line, col = position(self.tree, loc)
        self.problems.append(f"{self.path}:{line}:{col}: {entity_path(self.data, loc)}: {message}")

    def sources(self, loc: list[str | int], numbers: Iterable[str], given: dict) -> None:
        """Every number at ``loc`` needs a source; no source without a number."""
        numbers = list(numbers)
        for key in sorted(given.keys() - set(numbers)):
            self.add([*loc, "sources", key], f"source given for {key!r}, which is not set here")
        for key in numbers:
            if key not in given:
                self.add([*loc, key], f"no source for {key}; add sources.{key} with ref and tag")

    def type_ids(self, loc: list[str | int], value: str | list[str] | None) -> None:
        """Facility types must be catalogue ids (with a suggestion when close)."""
        types = [value] if isinstance(value, str) else list(value or [])
        for j, ftype in enumerate(types):
            if ftype not in self.catalogue.types:
                where = [*loc, j] if isinstance(value, list) else loc
                self.add(
                    where,
                    f"unknown facility type {ftype!r}"
                    + suggest(
                        ftype, self.catalogue.types, "; see rules/facilities.yaml for the ids"
                    ),
                )

    def run(self) -> list[str]:
        """Check the whole circle; the problems found, in file order."""
        c = self.circle
        self.sources([], c.numbers(), c.sources)
        self.mode_blocks()
        for name, zone in c.zones.items():
            self.sources(["zones", name], ["districts"] if zone.districts else [], zone.sources)
        seen: dict[str, int] = {}
        for i, req in enumerate(c.requirements):
            here: list[str | int] = ["requirements", i]
            if req.id in seen:
                self.add(
                    [*here, "id"],
                    f"duplicate requirement id {req.id!r} (first at requirements[{seen[req.id]}])",
                )
            seen.setdefault(req.id, i)
            self.requirement(here, req)
        return self.problems

    def mode_blocks(self) -> None:
        """The speed, drive and hub blocks a circle's mode needs, and no others."""
        c = self.circle
        needs_walk = c.mode == "walk" or (c.mode == "hub" and c.hub and c.hub.access == "walk")
        needs_drive = c.mode == "drive" or (c.mode == "hub" and c.hub and c.hub.access == "drive")
        if needs_walk and c.speed_m_per_min is None:
            self.add([], "walking needs speed_m_per_min (60 is the planning default)")
        if not needs_walk and c.speed_m_per_min is not None:
            self.add(
                ["speed_m_per_min"],
                f"speed_m_per_min is for walking; mode {c.mode} does "
                "not walk (driving speeds go under drive)",
            )
        if needs_walk and c.speed_m_per_min is not None and not 20 <= c.speed_m_per_min <= 120:
            self.add(
                ["speed_m_per_min"],
                f"walking speed {c.speed_m_per_min:g} m/min is outside "
                "20-120 m/min; 60 m/min is the planning default",
            )
        if needs_drive and c.drive is None:
            self.add([], "driving needs a drive block with road_class_km_per_h")
        if not needs_drive and c.drive is not None:
            self.add(["drive"], f"drive speeds are not used by mode {c.mode}")
        if c.drive is not None:
            if "default" not in c.drive.road_class_km_per_h:
                self.add(
                    ["drive", "road_class_km_per_h"],
                    "add a `default` speed for road classes not listed",
                )
            numbers = ["road_class_km_per_h"] + (
                ["congestion_factor"] if c.drive.congestion_factor != 1.0 else []
            )
            self.sources(["drive"], numbers, c.drive.sources)
        if c.mode == "hub" and c.hub is None:
            self.add([], "mode hub needs a hub block (hub_types, table, destinations...)")
        if c.mode != "hub" and c.hub is not None:
            self.add(["hub"], f"a hub block is only used by mode hub, not {c.mode}")
        if c.hub is not None:
            self.type_ids(["hub", "hub_types"], c.hub.hub_types)
            self.sources(["hub"], ["access_max_min", "transfer_min"], c.hub.sources)
        if c.direction == "from_facility" and c.mode != "drive":
            self.add(["direction"], "direction matters only on the directed drive network")

    def requirement(self, here: list[str | int], req: Requirement) -> None:
        """One requirement: sources, facility types or destinations, thresholds."""
        c = self.circle
        self.sources(here, req.numbers(), req.sources)
        if c.mode in ("walk", "drive"):
            if req.facility_type is None:
                self.add(here, f"mode {c.mode} needs facility_type (an id, or a list of ids)")
            self.type_ids([*here, "facility_type"], req.facility_type)
            for key in ("destinations", "min_share"):
                if getattr(req, key) is not None:
                    self.add([*here, key], f"{key} is for mode hub, not {c.mode}")
            if req.capacity is not None and req.min_count != 1:
                self.add(
                    [*here, "min_count"],
                    "a capacity requirement is met by supply per person, not by a count of "
                    "facilities: leave min_count out",
                )
        else:
            if req.capacity is not None:
                self.add([*here, "capacity"], "capacity is for modes walk and drive, not hub")
            if req.facility_type is not None:
                self.add(
                    [*here, "facility_type"],
                    "mode hub reaches destinations, not facility "
                    "types; list them under destinations",
                )
            if not req.destinations:
                self.add(here, "mode hub needs destinations (ids from hub.destinations)")
            for j, dest in enumerate(req.destinations or []):
                if c.hub is not None and dest not in c.hub.destinations:
                    self.add(
                        [*here, "destinations", j],
                        f"unknown destination {dest!r}"
                        + suggest(dest, c.hub.destinations, "; add it to hub.destinations"),
                    )
            if req.max_distance_m is not None:
                self.add(
                    [*here, "max_distance_m"], "mode hub thresholds are times: use max_time_min"
                )
        self.threshold(here, req)

    def threshold(self, here: list[str | int], req: Requirement) -> None:
        """Thresholds, counts and shares within sane bounds for the mode."""
        c = self.circle
        if req.min_count > MAX_MIN_COUNT:
            self.add(
                [*here, "min_count"],
                f"min_count {req.min_count:,} is not a sane count (at most {MAX_MIN_COUNT}); "
                "give how many facilities must lie within the threshold",
            )
        has_time, has_dist = req.max_time_min is not None, req.max_distance_m is not None
        if req.max_time_min_by_zone is not None:
            if not has_time:
                self.add(
                    [*here, "max_time_min_by_zone"],
                    "zone thresholds without a default: "
                    "residents outside every zone need one; add max_time_min",
                )
            for zone in req.max_time_min_by_zone:
                if zone not in c.zones:
                    self.add(
                        [*here, "max_time_min_by_zone", zone],
                        f"unknown zone {zone!r}"
                        + suggest(zone, c.zones, "; declare it under the circle's zones"),
                    )
        elif not has_time and not has_dist:
            self.add(here, "no threshold: give max_time_min or max_distance_m")
        if has_time and has_dist:
            self.add([*here, "max_distance_m"], "give max_time_min or max_distance_m, not both")
        limit = MAX_TIME_MIN[c.mode]
        times = [("max_time_min", req.max_time_min)] + [
            (("max_time_min_by_zone", z), t) for z, t in (req.max_time_min_by_zone or {}).items()
        ]
        for key, minutes in times:
            if minutes is not None and minutes > limit:
                loc = [*here, *key] if isinstance(key, tuple) else [*here, key]
                self.add(
                    loc, f"{minutes:g} min is not a sane {c.mode} threshold (at most {limit:g})"
                )
        dist_limit = MAX_WALK_DISTANCE_M if c.mode == "walk" else MAX_DRIVE_DISTANCE_M
        if req.max_distance_m is not None and req.max_distance_m > dist_limit:
            self.add(
                [*here, "max_distance_m"],
                f"{req.max_distance_m:g} m is not a sane "
                f"{c.mode} threshold (at most {dist_limit:g})",
            )


def read_hub_table(path: Path, tree: CommentedMap, circle: Circle, problems: list[str]) -> tuple:
    """Read and check a hub circle's line-haul table (a plain CSV, never executed)."""
    assert circle.hub is not None
    table = (path.parent / circle.hub.table).resolve()
    line, col = position(tree, ["hub", "table"])
    where = f"{path}:{line}:{col}: {circle.id}.hub.table"
    folder = path.parent.resolve()
    if not table.is_relative_to(folder):  # an absolute path, .. or a symlink leading out
        problems.append(
            f"{where}: {circle.hub.table!r} lies outside the rule file's folder {folder}; put "
            "the table in that folder and name it relative to the rule file"
        )
        return ()
    try:
        with table.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in HUB_TABLE_COLUMNS if c not in header]
            if missing:
                problems.append(
                    f"{where}: {table.name} lacks columns {', '.join(missing)} "
                    f"(needs {', '.join(HUB_TABLE_COLUMNS)})"
                )
                return ()
            rows = []
            for number, raw in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
                here = f"{table}:{number}:1: {circle.id}.hub.table"
                try:
                    minutes = float(row["minutes"])
                except ValueError:
                    problems.append(f"{here}: minutes {row['minutes']!r} is not a number")
                    continue
                if not minutes > 0:
                    problems.append(f"{here}: minutes must be greater than 0 (got {minutes:g})")
                if row["destination"] not in circle.hub.destinations:
                    problems.append(
                        f"{here}: unknown destination {row['destination']!r}"
                        + suggest(
                            row["destination"],
                            circle.hub.destinations,
                            "; add it to hub.destinations",
                        )
                    )
                if row["tag"] not in {t.value for t in Tag}:
                    problems.append(
                        f"{here}: tag {row['tag']!r} is not verified, recalled or default"
                    )
                    continue
                if not row["hub"] or not row["ref"]:
                    problems.append(f"{here}: every row needs a hub and a ref")
                    continue
                rows.append(
                    HubRow(
                        row["hub"],
                        row["destination"],
                        minutes,
                        Source(ref=row["ref"], tag=Tag(row["tag"])),
                    )
                )
            if not rows and not problems:
                problems.append(f"{where}: {table.name} has no rows")
            return tuple(rows)
    except FileNotFoundError:
        problems.append(f"{where}: no such file {table}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{where}: cannot read {table} ({exc})")
    return ()
