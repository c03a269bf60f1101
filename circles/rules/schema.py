"""Rule-file schema: the pydantic models of circles, requirements, sources and the catalogue.

The models are the one source of truth for the rule format: the validator, the JSON Schema
(``circles rules schema``) and the field reference in ``rules/README.md`` all come from them.
Minutes and km/h stay in the files; code reads them through the ``_s`` and ``_m_s`` properties.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[a-z][a-z0-9_]*$"

Identifier = Annotated[
    str,
    Field(
        pattern=ID_PATTERN, min_length=1, max_length=64, description="lower-case id: a-z, 0-9, _"
    ),
]
PositiveMinutes = Annotated[float, Field(gt=0)]


class Tag(StrEnum):
    """How far a number has been checked against its source: verified, recalled or default."""

    verified = "verified"
    recalled = "recalled"
    default = "default"


class Strict(BaseModel):
    """Base of every rule model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where a number comes from: a document and clause, or a URL, and its verification tag."""

    ref: str = Field(min_length=1, description="Document and clause, or URL, behind the number.")
    tag: Tag = Field(
        description="verified (seen in a retrieved source), recalled (from the text, clause not "
        "retrieved) or default (a planning default of ours)."
    )


Sources = Annotated[
    dict[str, Source],
    Field(description="A source for every number set beside it, keyed by the field name."),
]


class Name(Strict):
    """A bilingual display name."""

    zh: str = Field(min_length=1, description="Chinese name, shown with --lang zh.")
    en: str = Field(min_length=1, description="English name, shown with --lang en.")


class Zone(Strict):
    """A zone with its own thresholds, e.g. Wuhan's central and new urban districts."""

    name: Name = Field(description="Display name of the zone.")
    districts: list[str] = Field(
        default_factory=list,
        description="District (区) names that make up the zone, matched against a zone layer.",
    )
    sources: Sources = Field(default_factory=dict)


class DriveSpeeds(Strict):
    """Driving speeds on the road network (mode ``drive``, or drive access to hubs)."""

    road_class_km_per_h: dict[str, Annotated[float, Field(gt=0, le=150)]] = Field(
        description="Free-flow speed by OSM highway class (or the centre-line class field), km/h; "
        "must include `default` for other classes."
    )
    congestion_factor: float = Field(
        default=1.0, gt=0, le=1, description="Multiplier on every speed for congestion (0-1]."
    )
    use_maxspeed: bool = Field(
        default=True, description="Use a road's tagged maxspeed (times the congestion factor)."
    )
    sources: Sources


class Hub(Strict):
    """The hub model: network access to a hub, a fixed transfer, and a line-haul table."""

    hub_types: list[Identifier] = Field(
        min_length=1,
        description="Facility types that act as hubs (metro_station, rail_station...).",
    )
    access: Literal["walk", "drive"] = Field(
        default="walk", description="How residents reach a hub on the network."
    )
    access_max_min: float = Field(gt=0, description="Longest access time considered, minutes.")
    transfer_min: float = Field(
        ge=0, description="Wait and transfer allowance at the hub, minutes."
    )
    table: str = Field(
        min_length=1,
        description="CSV of line-haul times (columns hub, destination, minutes, ref, tag), "
        "relative to the rule file; `hub` matches the hub facilities' id or name.",
    )
    destinations: dict[Identifier, Name] = Field(
        min_length=1, description="Destination ids used in the table, with display names."
    )
    sources: Sources


class Capacity(Strict):
    """Facilities have a capacity (seats, beds, m²) and residents a need per 1,000 (千人指标).

    The requirement is then met by supply, not by count: a two-step floating catchment gives
    each resident the supply per person within the threshold, and the resident meets the
    requirement when that covers its need (supply ratio ≥ 1).
    """

    field: str = Field(
        min_length=1, description="Facility column holding each facility's capacity (≥ 0)."
    )
    demand_per_1000: float = Field(
        gt=0, description="Need per 1,000 residents in the capacity's unit (千人指标)."
    )
    method: Literal["2sfca", "e2sfca", "gaussian"] = Field(
        default="2sfca",
        description="2sfca: every facility within the threshold counts fully; e2sfca: by time "
        "band (first, second and last third of the threshold weigh 1, 0.68, 0.22); gaussian: "
        "weight (e^(-t²/2) - e^(-1/2)) / (1 - e^(-1/2)) at t = cost / threshold.",
    )


class Requirement(Strict):
    """One rule inside a circle: what must be reached, within what, and how often."""

    id: Identifier = Field(description="Requirement id, unique within the circle.")
    name: Name | None = Field(default=None, description="Display name; defaults to the id.")
    tier: Literal["basic", "quality"] | None = Field(
        default=None,
        description="basic requirements decide whether a resident meets the circle; quality ones "
        "are reported alone. Defaults to the circle's tier.",
    )
    facility_type: Identifier | list[Identifier] | None = Field(
        default=None,
        description="Modes walk and drive: a facility-type id from the catalogue, or a list "
        "meaning any of them.",
    )
    destinations: list[Identifier] | None = Field(
        default=None, description="Mode hub: the destination ids to reach (a selectable set)."
    )
    max_time_min: PositiveMinutes | None = Field(
        default=None, description="Threshold: maximum travel time in minutes (the default zone)."
    )
    max_distance_m: float | None = Field(
        default=None, gt=0, description="Threshold: maximum network distance in metres."
    )
    max_time_min_by_zone: dict[Identifier, PositiveMinutes] | None = Field(
        default=None,
        description="Thresholds for named zones of the circle; residents outside them use "
        "max_time_min.",
    )
    min_count: int = Field(
        default=1,
        ge=1,
        description="How many distinct facilities (mode hub: destinations) must lie within the "
        "threshold.",
    )
    min_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Mode hub: share of the destinations that must be reached (on top of "
        "min_count).",
    )
    target_coverage: float = Field(
        gt=0, le=1, description="Share of the population that should meet the requirement (0-1]."
    )
    capacity: Capacity | None = Field(
        default=None,
        description="Modes walk and drive: facilities' capacity and residents' need; the "
        "requirement is met when the supply per person within the threshold covers the need.",
    )
    sources: Sources

    @property
    def facility_types(self) -> tuple[str, ...]:
        """The facility types that satisfy the requirement (any of them), sorted."""
        if self.facility_type is None:
            return ()
        if isinstance(self.facility_type, str):
            return (self.facility_type,)
        return tuple(sorted(set(self.facility_type)))

    @property
    def max_time_s(self) -> float | None:
        """Default threshold in seconds, or None when the threshold is a distance."""
        return None if self.max_time_min is None else self.max_time_min * 60.0

    def numbers(self) -> dict[str, object]:
        """The numeric fields that are set and must carry a source."""
        out: dict[str, object] = {"target_coverage": self.target_coverage}
        for key in ("max_time_min", "max_distance_m", "max_time_min_by_zone", "min_share"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.min_count != 1:
            out["min_count"] = self.min_count
        if self.capacity is not None:
            out["demand_per_1000"] = self.capacity.demand_per_1000
        return out

    def label(self, lang: str = "en") -> str:
        """Display name in the given language (the id when the rule gives no name)."""
        if self.name is None:
            return self.id
        return self.name.zh if lang == "zh" else self.name.en


class Circle(Strict):
    """One circle: a named set of requirements evaluated with one travel model."""

    id: Identifier = Field(description="Circle id, unique across the rule files of an audit.")
    name: Name = Field(description="Display name in Chinese and English.")
    description: str | None = Field(default=None, description="Free text shown in reports.")
    mode: Literal["walk", "drive", "hub"] = Field(
        description="walk: the undirected walking network; drive: the directed road network; "
        "hub: network access to a hub plus a transfer plus a line-haul table."
    )
    tier: Literal["basic", "quality"] = Field(
        default="basic",
        description="TD/T 1062-2021 element class: basic (must) or quality (optional).",
    )
    speed_m_per_min: float | None = Field(
        default=None, gt=0, description="Walking speed in metres per minute (walk, walk access)."
    )
    drive: DriveSpeeds | None = Field(
        default=None, description="Driving speeds (mode drive, or hub with drive access)."
    )
    direction: Literal["to_facility", "from_facility"] = Field(
        default="to_facility",
        description="Which way travel is timed on a directed network: from_facility for "
        "ambulances leaving an EMS station.",
    )
    zones: dict[Identifier, Zone] = Field(
        default_factory=dict,
        description="Zones with their own thresholds (see max_time_min_by_zone).",
    )
    hub: Hub | None = Field(default=None, description="The hub model (mode hub).")
    target_coverage: float | None = Field(
        default=None, gt=0, le=1, description="Optional target for the whole circle (0-1]."
    )
    sources: Sources = Field(default_factory=dict)
    requirements: list[Requirement] = Field(
        min_length=1,
        description="The requirements; a resident meets the circle when it meets every basic one.",
    )

    @property
    def speed_m_s(self) -> float | None:
        """Walking speed in metres per second."""
        return None if self.speed_m_per_min is None else self.speed_m_per_min / 60.0

    def numbers(self) -> dict[str, object]:
        """The circle-level numeric fields that are set and must carry a source."""
        out: dict[str, object] = {}
        if self.speed_m_per_min is not None:
            out["speed_m_per_min"] = self.speed_m_per_min
        if self.target_coverage is not None:
            out["target_coverage"] = self.target_coverage
        return out

    def gating(self) -> list[Requirement]:
        """The requirements that decide whether a resident meets the circle."""
        basic = [r for r in self.requirements if (r.tier or self.tier) == "basic"]
        return basic or list(self.requirements)

    def label(self, lang: str = "en") -> str:
        """Display name in the given language."""
        return self.name.zh if lang == "zh" else self.name.en


# --------------------------------------------------------------------------- catalogue


class AmapMatch(Strict):
    """How an Amap (高德) POI export names the category."""

    typecodes: list[str] = Field(default_factory=list, description="6-digit Amap typecodes.")
    types: list[str] = Field(
        default_factory=list, description="Amap type strings 大类;中类;小类 (or a prefix of one)."
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Category labels of Amap's newer tree (医疗保健;综合医院, or 综合医院 alone): "
        "a label path matches a row whose category levels end with it at any level, the deepest "
        "level first.",
    )


OsmTag = Annotated[
    str,
    Field(
        pattern=r"^[^=&\s]+=[^=&]+(&[^=&\s]+=[^=&]+)*$",
        description="key=value, or several joined by & that must all hold.",
    ),
]


class NonFacilities(Strict):
    """Source categories whose POIs are never facilities, whatever their names say."""

    labels: list[str] = Field(
        min_length=1,
        description="Category labels (any level, Amap or Baidu): a POI in one of them is not "
        "classified by a name keyword (公园餐厅 is a restaurant, 幼儿园管理有限公司 a company).",
    )
    source: Source = Field(description="Evidence for the list.")


class FacilityEntry(Strict):
    """One canonical facility type and how to recognise it in source data."""

    zh: str = Field(min_length=1, description="Chinese name.")
    en: str = Field(min_length=1, description="English name.")
    amap: AmapMatch | None = Field(default=None, description="Amap categories.")
    baidu: list[str] = Field(default_factory=list, description="Baidu tags (一级;二级).")
    osm: list[OsmTag] = Field(
        default_factory=list,
        description="OSM tags as key=value (or k=v&k2=v2); the type listing the most tags a POI "
        "carries wins; a tie goes to the name's keywords, then to the type listing the tag "
        "earliest, then to the type listed first.",
    )
    keywords: list[str] = Field(
        default_factory=list, description="Name keywords that identify the type."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Name keywords that rule a POI out (e.g. 早教, 托管)."
    )
    source: Source | None = Field(default=None, description="Evidence for the mappings.")


class CatalogueFile(Strict):
    """The facility catalogue file (``rules/facilities.yaml``)."""

    facility_types: dict[Identifier, FacilityEntry] = Field(
        min_length=1, description="Every facility-type id a rule may name."
    )
    non_facility_categories: NonFacilities | None = Field(
        default=None, description="Categories a name keyword never classifies."
    )
