"""The Settings model: every audit option once, with its type, SI default, help and edge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from circles.settings.edge import SECONDS_PER_MINUTE, Edge, coords_map, edge_of


class Settings(BaseModel):
    """Everything an audit needs, in SI units; mirrors the ``circles audit`` options.

    Each field's :class:`Edge` (in ``Annotated``) says how it reads in the CLI, in project
    files and in ``summary.json``; :func:`merge` builds a Settings from those edge values.
    """

    model_config = ConfigDict(extra="forbid")

    network: Annotated[
        Path,
        Edge("network"),
        Field(
            description="Street network: an OSM extract (.osm.pbf; walkable ways only) or a line "
            "layer (GPKG/GeoJSON/SHP) whose lines meet at shared end points. Every line is kept: "
            "parallel lines between two junctions are separate edges, and a closed line is a "
            "loop reached either way round."
        ),
    ]
    facilities: Annotated[
        Path,
        Edge("facilities"),
        Field(
            description="Facility points (GPKG/GeoJSON/SHP/GeoParquet, or a CSV, .xlsx or Parquet "
            "table with lon/lat or x/y columns; FILE.gpkg:LAYER or FILE.xlsx:SHEET picks one); "
            "polygons are taken at a representative point. An Amap/Baidu POI export or a POI "
            "table with OSM tags is classified through rules/facilities.yaml (an Amap export "
            "without --coords is read as GCJ-02, with a warning); an OSM extract (.osm.pbf, "
            ".osm) gives its POIs carrying a catalogue tag (nodes, and ways and relations at a "
            "point inside them)."
        ),
    ]
    residents: Annotated[
        Path,
        Edge("residents"),
        Field(description="Residents (compounds, buildings) as points or polygons, same formats."),
    ]
    communities: Annotated[
        Path | None,
        Edge("communities"),
        Field(
            description="Community (社区) polygons; without it, --community-field is read from "
            "the residents."
        ),
    ] = None
    zones: Annotated[
        Path | None,
        Edge("zones"),
        Field(
            description="Zone polygons for circles with per-zone thresholds (the EMS circle); "
            "their --zone-field holds a zone id (central) or a district name the rules list "
            "(江岸区)."
        ),
    ] = None
    zone_field: Annotated[
        str,
        Edge("zone_field", summary=True),
        Field(description="Zone id or district name column of --zones."),
    ] = "zone"
    coords: Annotated[
        dict[str, str],
        Edge("coords", summary=True, parse=coords_map),
        Field(
            description="Coordinate system of an input layer given in longitude/latitude: "
            "LAYER=wgs84|gcj02|bd09 (LAYER: facilities, residents, communities, zones, "
            "planned), or a bare system for every layer in longitude/latitude (projected "
            "layers keep their CRS); GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are converted "
            "to WGS 84. Repeatable."
        ),
    ] = Field(default_factory=dict)
    rules: Annotated[
        list[Path | str],
        Edge("rules", default_text="the bundled wuhan preset"),
        Field(description="Rule file, folder or bundled preset name (repeatable)."),
    ] = Field(default_factory=list)
    circle_ids: Annotated[
        list[str],
        Edge("circles", flag=("--circle",), default_text="all"),
        Field(description="Circle id to evaluate (repeatable)."),
    ] = Field(default_factory=list)
    facility_type_field: Annotated[
        str | None,
        Edge(
            "facility_type_field",
            summary=True,
            default_text="`type` when it holds catalogue ids; an Amap/Baidu export (typecode, "
            "type string, 大类/中类[/小类] in the older or newer labels such as 医疗保健/综合医院, "
            "or names alone) or OSM tags (amenity=school…) are classified through "
            "rules/facilities.yaml instead; see circles facilities classify",
        ),
        Field(description="Facility type column holding catalogue ids."),
    ] = None
    facility_id_field: Annotated[
        str | None,
        Edge("facility_id_field", default_text="id, else row numbers"),
        Field(description="Facility id column."),
    ] = "id"
    facility_name_field: Annotated[
        str | None,
        Edge("facility_name_field"),
        Field(description="Facility name column; hubs match line-haul tables by id or name."),
    ] = "name"
    population_field: Annotated[
        str,
        Edge("population_field", summary=True),
        Field(
            description="Population column of the residents; where it is absent or empty, "
            "households × --persons-per-household, else a weight of 1, with a warning."
        ),
    ] = "population"
    resident_id_field: Annotated[
        str | None,
        Edge("resident_id_field", default_text="id, else row numbers"),
        Field(description="Resident id column."),
    ] = "id"
    households_field: Annotated[
        str | None,
        Edge("households_field", summary=True, default_text="households or 户数 when present"),
        Field(
            description="Households column (户数) of the residents; population = households × "
            "--persons-per-household where the population is absent."
        ),
    ] = None
    # China's 7th population census (2020): 2.62 persons per family household on average
    # (source and tag recorded in summary.json, see circles.evaluate.summary).
    persons_per_household: Annotated[
        float,
        Edge(
            "persons_per_household",
            summary=True,
            give="persons (e.g. persons_per_household: 2.62)",
            default_text="2.62, China's 2020 census national average",
        ),
        Field(description="Persons per household for --households-field."),
    ] = 2.62
    subdistrict_field: Annotated[
        str | None,
        Edge("subdistrict_field", summary=True, default_text="subdistrict or 街道 when present"),
        Field(description="Sub-district (街道) column of --communities; coverage rolls up to it."),
    ] = None
    community_field: Annotated[
        str,
        Edge("community_field", summary=True),
        Field(description="Community id/name column of --communities (or of the residents)."),
    ] = "community"
    walk_speed_m_s: Annotated[
        float | None,
        Edge(
            "walk_speed",
            scale=SECONDS_PER_MINUTE,
            give="metres per minute (e.g. walk_speed: 48)",
            summary="walk_speed_m_per_min",
        ),
        Field(
            description="Walking speed in metres per minute, overriding the rules' speed for a "
            "scenario (e.g. 48 for elderly residents)."
        ),
    ] = None
    crs: Annotated[
        str | None,
        Edge("crs", default_text="the local UTM zone"),
        Field(
            description="Metric CRS to measure in (e.g. EPSG:32650), also assumed for layers "
            "that carry no CRS."
        ),
    ] = None
    max_snap_m: Annotated[
        float,
        Edge("max_snap", give="metres (e.g. max_snap: 250)", summary=True),
        Field(
            description="Points farther than this many metres from the network are flagged "
            "off_network and count as not covered."
        ),
    ] = 250.0
    road_class_field: Annotated[
        str | None,
        Edge("road_class_field", default_text="highway, when present"),
        Field(description="Road class column of a centre-line network, for driving speeds."),
    ] = None
    speed_field: Annotated[
        str | None,
        Edge("speed_field", default_text="maxspeed, when present"),
        Field(
            description="Speed column (km/h) of a centre-line network; used before the class speed."
        ),
    ] = None
    oneway_field: Annotated[
        str | None,
        Edge("oneway_field", default_text="oneway, when present"),
        Field(
            description="One-way column of a centre-line network (yes/true/1/t/ft: along the "
            "line; -1/reverse/tf: against it; no/false/0/f or empty: both ways; other values "
            "are read as both ways, with a warning)."
        ),
    ] = None
    min_component_nodes: Annotated[
        int,
        Edge(
            "min_component_nodes",
            give="a node count (e.g. min_component_nodes: 50)",
            summary=True,
        ),
        Field(
            description="Components of the network with fewer nodes are fragments (never the "
            "largest); points nearest to a fragment are flagged off_network."
        ),
    ] = 50
    split_crossings: Annotated[
        bool | None,
        Edge(
            "split_crossings",
            flag=("--split-crossings/--no-split-crossings",),
            give="e.g. split_crossings: true",
            summary=True,
            none_text="auto",
            default_text="only when the lines look drawn without junctions: crossings on 10 % "
            "of the lines and half the nodes on fragments",
        ),
        Field(
            description="Centre-lines: split lines where they cross, except across levels "
            "(bridge, tunnel, layer columns), and where an end rests on another line; every "
            "split is listed in network_issues.csv."
        ),
    ] = None
    join_ends_m: Annotated[
        float,
        Edge("join_ends", give="metres (e.g. join_ends: 5)", summary=True, default_text="0, off"),
        Field(
            description="Centre-lines: join a dangling line end to the nearest line within this "
            "many metres by a straight connector (walked); listed in network_issues.csv."
        ),
    ] = 0.0
    engine: Annotated[
        str,
        Edge("engine"),
        Field(
            description="Travel-time engine: builtin (bounded multi-source searches, no "
            "preprocessing) or pandana (contraction hierarchies, rebuilt every run)."
        ),
    ] = "builtin"
    cache: Annotated[
        bool,
        Edge(None, flag=("--no-cache",), invert=True, default_text=""),
        Field(
            description="Build the network from the extract even when the cache holds it (the "
            "cache lives in $CIRCLES_CACHE_DIR, else ~/.cache/circles)."
        ),
    ] = True
    planned: Annotated[
        Path | None,
        Edge("planned"),
        Field(
            description="Planned facilities (same formats as --facilities): the audit runs for "
            "the status quo and with them added; the planned report goes to OUT/planned/ and "
            "comparison.csv/.xlsx show the change per circle, requirement and community."
        ),
    ] = None
    service_areas: Annotated[
        Literal["requirement", "per-facility", "none"],
        Edge("service_areas", give="requirement, per-facility or none", summary=True),
        Field(
            description="Service-area polygons of the walking and driving requirements "
            "(service_areas layer): requirement (one per requirement and zone), per-facility "
            "(also facility_areas: one per facility and requirement) or none."
        ),
    ] = "requirement"
    facility_impact: Annotated[
        bool,
        Edge(
            "facility_impact",
            flag=("--facility-impact/--no-facility-impact",),
            give="e.g. facility_impact: true",
        ),
        Field(
            description="Also weigh every existing facility of the walking and driving "
            "requirements (facility_impact.csv and a workbook sheet): the population within its "
            "threshold, those for whom it is the only one (sole provider), and the population "
            "and coverage lost if it closed."
        ),
    ] = False
    layer_format: Annotated[
        Literal["gpkg", "parquet"],
        Edge("layer_format", flag=("--format",)),
        Field(
            description="File kind of the GIS layers of the report (residents, communities, "
            "facilities): gpkg (GeoPackage) or parquet (GeoParquet)."
        ),
    ] = "gpkg"
    crs_out: Annotated[
        str,
        Edge("crs_out", default_text="EPSG:4326, WGS 84 longitude/latitude"),
        Field(
            description="CRS of the GIS layers of the report (e.g. EPSG:4490 for CGCS2000, or "
            "the audit's metric CRS such as EPSG:32650)."
        ),
    ] = "EPSG:4326"
    csv_bom: Annotated[
        bool,
        Edge("csv_bom", flag=("--csv-bom/--no-csv-bom",), give="e.g. csv_bom: false"),
        Field(
            description="Start the report's CSV files with the UTF-8 byte order mark, so that "
            "Excel (a Chinese Excel above all) opens them as UTF-8."
        ),
    ] = True
    basemap: Annotated[
        str,
        Edge("basemap", give="e.g. basemap: osm"),
        Field(
            description="Online basemap under the interactive map.html: none (nothing is loaded "
            "from the internet), osm, amap (Amap tiles; the overlays are shifted to GCJ-02) or "
            "tianditu (needs a key: tianditu:KEY or the environment variable TIANDITU_KEY)."
        ),
    ] = "none"
    out: Annotated[
        Path,
        Edge("out", flag=("-o", "--out"), default_text="./circles-report"),
        Field(description="Report folder."),
    ] = Path("circles-report")

    @field_validator("crs_out")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(value)
        except CRSError as exc:
            raise ValueError(
                "not a coordinate reference system pyproj knows; give e.g. EPSG:4326 or EPSG:4490"
            ) from exc
        return value

    @field_validator("basemap")
    @classmethod
    def _known_basemap(cls, value: str) -> str:
        from circles.report.basemaps import basemap_problem

        problem = basemap_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def walk_speed_m_per_min(self) -> float | None:
        """The walking-speed override in metres per minute (the rule files' unit), or None."""
        value: float | None = edge_of(Settings.model_fields["walk_speed_m_s"]).to_edge(
            self.walk_speed_m_s
        )
        return value

    def run_parameters(self) -> dict[str, Any]:
        """The settings recorded in ``summary.json``'s ``run.parameters``, in edge units."""
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            edge = edge_of(info)
            if edge.summary:
                key = name if edge.summary is True else str(edge.summary)
                value = edge.to_edge(getattr(self, name))
                out[key] = dict(value) if isinstance(value, dict) else value
        return out
