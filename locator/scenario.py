"""What-if scenarios: the live network with candidate outlets added and outlets switched off.

>>> from locator.scenario import Scenario, compare            # doctest: +SKIP
>>> s = Scenario(store.network(), add=[{"lat": 38.5, "lon": 106.3, "name": "银川新点"}],
...              remove=["SC-0042"], name="宁夏方案")
>>> s.evaluate(places, cities, radius_km=50).share_covered     # doctest: +SKIP
>>> compare("live" network, s, places, cities, drive_minutes=120).to_xlsx("cmp.xlsx")

A :class:`Scenario` never changes its base network: :attr:`Scenario.network` is a new
outlet frame (the base minus ``remove`` plus ``add``), checked by the outlet contract
(:func:`locator.network.outlets_frame`). Added candidates count as **authorized**
outlets (a planner's proposal is a proposal for an authorized outlet) with ids
``cand-1``, ``cand-2`` ... unless they carry one (``candidate_id`` or ``outlet_id``).

Figures come from :class:`locator.coverage.CoverageModel` and its report, so a
scenario's numbers mean exactly what the coverage report's mean.

Speed: a scenario's model is a full :class:`~locator.coverage.CoverageModel` rebuild
(about 0.1-0.2 s on the bundled 391 outlets x 2,992 places, see
``benchmarks/bench_scenario.py``), inside the 0.5 s per change the app needs; the
nearest-outlet search is under half of that (the rest is the per-place tables
the report needs anyway), so an incremental path would save little and was not added.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .coverage import AreaCoverage, CoverageModel, CoverageReport, Gap, gaps_frame
from .errors import ConfigurationError, DataError, Problem
from .network import OUTLET_COLUMNS, DataWarning, Network, coordinate_problems, outlets_frame
from .network.rules import _as_float

__all__ = [
    "CANDIDATE_FIELDS",
    "LIVE",
    "Scenario",
    "ScenarioComparison",
    "ScenarioResult",
    "compare",
]

#: The name that means "the current network" (CLI ``scenario compare live X``, API).
LIVE = "live"
#: The fields of an added candidate kept in a scenario (and in the store).
CANDIDATE_FIELDS = (
    "candidate_id", "name", "kind", "province", "city", "district", "address", "lat", "lon",
)  # fmt: skip
#: Columns of a candidate outlet taken from a table (the other contract columns: "").
_TEXT_FIELDS = ("name", "kind", "province", "city", "district", "address")
#: Scenario names: printable, no path or URL separators (they are URL path segments).
_NAME = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff/\\?#%]{1,100}$")
DEFAULT_GAP_LIMIT = 10


def check_name(name: Any, what: str = "name") -> str:
    """A scenario name: 1-100 characters, no control characters or lone surrogates,
    no ``/ \\ ? # %``,
    not ``live`` (that means the current network). ConfigurationError otherwise."""
    if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
        raise ConfigurationError(
            f"{what} must be 1-100 characters without control characters, / \\ ? # % "
            f"or surrounding spaces, got {name!r}"
        )
    if name.lower() == LIVE:
        raise ConfigurationError(f"{what} {name!r} is reserved: it means the current network")
    return name


# --------------------------------------------------------------------------- inputs
def _candidate_table(add: Any) -> tuple[pd.DataFrame, int]:
    """The candidates as a frame and the row number of its first row in messages
    (a table: 2, as a spreadsheet shows it; a list: 1, the first candidate)."""
    if add is None:
        return pd.DataFrame(columns=["lat", "lon"]), 1
    if isinstance(add, pd.DataFrame):
        return add.reset_index(drop=True), 2
    if isinstance(add, Mapping | str | bytes):
        raise ConfigurationError(
            "add must be a DataFrame or a list of candidates (dicts with lat, lon), "
            f"got {type(add).__name__}"
        )
    rows = list(add)
    bad = [i for i, r in enumerate(rows, start=1) if not isinstance(r, Mapping)]
    if bad:
        raise ConfigurationError(
            f"add: candidate {bad[0]} is a {type(rows[bad[0] - 1]).__name__}, "
            "not a dict with lat and lon"
        )
    # object columns: text pandas would store as Arrow strings may hold anything
    return pd.DataFrame([dict(r) for r in rows], dtype=object), 1


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _id_and_text_problems(
    ids: list[str],
    labels: list[str],
    texts: dict[str, list[str]],
    taken: set[str],
    first: int,
) -> list[Problem]:
    """Candidate ids already used (by an outlet, by another candidate) and text no file
    or store can hold (a NUL, a lone surrogate)."""
    from .store.core import _unstorable  # the one rule for text a store cannot keep

    problems = []
    for col, values in {"candidate_id": ids, **texts}.items():
        for i, value in enumerate(values):
            if (why := _unstorable(value)) is not None:
                problems.append(Problem(i + first, col, None, f"{labels[i]}: {why}"))
    seen: dict[str, int] = {}
    for i, cid in enumerate(ids):
        if cid in taken:
            problems.append(
                Problem(i + first, "candidate_id", cid, "an outlet of the network has this id")
            )
        elif cid in seen:
            problems.append(
                Problem(i + first, "candidate_id", cid, f"same id as candidate {seen[cid] + first}")
            )
        seen.setdefault(cid, i)
    return problems


def _candidates(add: Any, taken: set[str]) -> pd.DataFrame:
    """Candidate outlets in the contract's columns (all authorized); DataError naming
    the candidate and the column for every bad one."""
    table, first = _candidate_table(add)
    n = len(table)
    missing = [c for c in ("lat", "lon") if c not in table.columns]
    if missing and n:
        raise DataError(
            [
                Problem(None, c, None, "missing column (a candidate needs lat and lon)")
                for c in missing
            ],
            source="candidates",
        )
    if "candidate_id" in table.columns:
        given = [_cell(v) for v in table["candidate_id"]]
    elif "outlet_id" in table.columns:
        given = [_cell(v) for v in table["outlet_id"]]
    else:
        given = [""] * n
    ids = [g or f"cand-{i}" for i, g in enumerate(given, start=1)]

    def text(col: str) -> list[str]:
        return [_cell(v) for v in table[col]] if col in table.columns else [""] * n

    names = text("name")
    # a row of suggest_sites(...).frame(): named after its nearest place
    for alt in ("nearest_place_zh", "nearest_place"):
        fallback = text(alt)
        names = [nm or fb for nm, fb in zip(names, fallback, strict=True)]
    labels = [
        f"candidate {cid!r}" + (f" ({nm})" if nm else "")
        for cid, nm in zip(ids, names, strict=True)
    ]
    problems: list[Problem] = []
    if n:
        lat = _as_float(table["lat"].to_numpy(dtype=object))
        lon = _as_float(table["lon"].to_numpy(dtype=object))
        shown = {"lat": table["lat"].tolist(), "lon": table["lon"].tolist()}
        for p in coordinate_problems(lat, lon, row_offset=first, shown=shown):
            label = labels[int(p.row or first) - first]
            problems.append(Problem(p.row, p.column, p.value, f"{label}: {p.reason}"))
    problems += _id_and_text_problems(ids, labels, {c: text(c) for c in _TEXT_FIELDS}, taken, first)
    if problems:
        raise DataError(sorted(problems, key=lambda p: p.row or 0), source="candidates")
    out = pd.DataFrame({"outlet_id": pd.Series(ids, dtype=object)})
    for col in _TEXT_FIELDS:
        out[col] = pd.Series(text(col), dtype=object)
    out["name"] = pd.Series(names, dtype=object)
    out["lat"] = lat if n else np.zeros(0)
    out["lon"] = lon if n else np.zeros(0)
    out["coord_sys"] = pd.Series(text("coord_sys"), dtype=object)
    out["authorized"] = True
    try:  # kind and coord_sys by the outlet contract; coordinates to WGS-84
        checked = outlets_frame(out, source="candidates")
    except DataError as err:
        raise DataError(
            [replace(p, row=None if p.row is None else p.row - 2 + first) for p in err.errors],
            source="candidates",
        ) from None
    return checked.reset_index(drop=True)


def _removals(remove: Any, ids: Sequence[str]) -> tuple[str, ...]:
    if remove is None:
        return ()
    if isinstance(remove, str | bytes) or not isinstance(remove, Iterable):
        raise ConfigurationError(
            f"remove must be a list of outlet ids, got {type(remove).__name__}"
        )
    wanted = [_cell(r) for r in remove]
    known = set(ids)
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise DataError(
            [
                Problem(None, "remove", r, "no open outlet with this id in the network")
                for r in unknown
            ],
            source="scenario",
        )
    return tuple(dict.fromkeys(wanted))  # order kept, repeats once


# --------------------------------------------------------------------------- results
def _metrics_rows(res: ScenarioResult) -> list[tuple[str, str, str, Any]]:
    """(scope, area, metric, value) rows: the national figures, then per city."""
    rows: list[tuple[str, str, str, Any]] = [("scenario", "", "name", res.name)]
    for metric in _NATIONAL:
        rows.append(("national", "", metric, getattr(res, metric)))
    for c in res.cities:
        for metric in _PER_CITY:
            rows.append(("city", c.name, metric, getattr(c, metric)))
    return rows


_NATIONAL = (
    "radius_km", "outlets", "outlets_authorized", "outlets_added", "outlets_removed",
    "population_total", "population_covered", "share_covered", "population_backup",
    "share_backup", "population_uncovered", "places_uncovered", "distance_p50_km",
    "distance_p90_km",
)  # fmt: skip
_PER_CITY = ("outlets", "population_covered", "share_covered", "population_backup",
             "places_uncovered")  # fmt: skip


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's coverage at one radius (or drive time, an estimate): national
    figures, the largest gaps (``gaps``: at most the ``gap_limit`` asked) and every
    listed city. ``report`` is the full :class:`~locator.coverage.CoverageReport`."""

    name: str
    note: str
    radius_km: float
    drive_minutes: float | None
    outlets: int
    outlets_authorized: int
    outlets_added: int
    outlets_removed: int
    population_total: int
    population_covered: int
    share_covered: float | None
    population_backup: int
    share_backup: float | None
    population_uncovered: int
    places_uncovered: int
    distance_p50_km: float | None
    distance_p90_km: float | None
    gaps: list[Gap] = field(default_factory=list)
    cities: list[AreaCoverage] = field(default_factory=list)
    report: CoverageReport | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-ready: the national figures, ``gaps`` and ``cities`` as lists."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in ("name", "note", "radius_km", "drive_minutes", *_NATIONAL[1:])
        }
        out["coverage_note"] = self.report.note if self.report is not None else ""
        out["gaps"] = [g.to_dict() for g in self.gaps]
        out["cities"] = [c.to_dict() for c in self.cities]
        return out

    def gaps_frame(self) -> pd.DataFrame:
        return gaps_frame(self.gaps)

    def cities_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [c.to_dict() for c in self.cities], columns=list(AreaCoverage.__dataclass_fields__)
        )

    def frame(self) -> pd.DataFrame:
        """The figures as one long table: ``scope`` (scenario/national/city), ``area``,
        ``metric``, ``value`` (what :meth:`to_csv` and :meth:`to_xlsx` write)."""
        return pd.DataFrame(_metrics_rows(self), columns=["scope", "area", "metric", "value"])

    def to_csv(self, path: str | os.PathLike[str], *, encoding: str | None = None) -> None:
        """:meth:`frame` as CSV, atomically and formula-safe (:mod:`locator.outputs`)."""
        from .outputs import write_csv

        write_csv(self.frame(), path, encoding=encoding)

    def to_xlsx(self, path: str | os.PathLike[str]) -> None:
        from .outputs import write_xlsx

        write_xlsx(self.frame(), path)


@dataclass(frozen=True)
class ScenarioComparison:
    """Two scenarios side by side: :attr:`frame` has ``scope``, ``area``, ``metric``,
    ``A``, ``B`` and ``B-A`` (empty where the difference means nothing), national
    figures first, then per listed city. ``a`` and ``b`` are the two results."""

    a: ScenarioResult
    b: ScenarioResult
    frame: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        from .outputs import jsonable

        return {
            "a": self.a.name,
            "b": self.b.name,
            "radius_km": self.a.radius_km,
            "drive_minutes": self.a.drive_minutes,
            "rows": jsonable(self.frame.to_dict(orient="records")),
        }

    def to_csv(self, path: str | os.PathLike[str], *, encoding: str | None = None) -> None:
        """The side-by-side table as CSV, atomically and formula-safe."""
        from .outputs import write_csv

        write_csv(self.frame, path, encoding=encoding)

    def to_xlsx(self, path: str | os.PathLike[str]) -> None:
        from .outputs import write_xlsx

        write_xlsx(self.frame, path)


# --------------------------------------------------------------------------- the scenario
class Scenario:
    """The base network with ``add`` (candidate outlets) and ``remove`` (outlet ids
    switched off); the base itself is never changed. See the module docstring.

    ``base_network``: a :class:`~locator.network.Network` (``store.network()``,
    ``load_network()``) or an outlet frame. ``add``: a frame or a list of dicts with
    ``lat``, ``lon`` and optionally ``candidate_id``, ``name``, ``city``, ``province``,
    ``kind``, ``coord_sys`` (rows of ``suggest_sites(...).frame()`` work as they are).
    ``remove``: outlet ids of the base (an unknown id is a DataError).
    ``radius_km`` / ``drive_minutes``: the scenario's default reach for
    :meth:`evaluate` (kept when saved).
    """

    def __init__(
        self,
        base_network: Network | pd.DataFrame,
        add: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
        remove: Iterable[str] | None = None,
        name: str | None = None,
        note: str | None = None,
        *,
        radius_km: float | None = None,
        drive_minutes: float | None = None,
    ) -> None:
        base = outlets_frame(base_network)
        self.base: pd.DataFrame = base
        self.name = "scenario" if name is None else str(name)
        self.note = "" if note is None else str(note)
        from .store.core import _unstorable

        if (why := _unstorable(self.note)) is not None:
            raise DataError([Problem(None, "note", None, why)], source="scenario")
        if radius_km is not None and drive_minutes is not None:
            raise ConfigurationError("give radius_km or drive_minutes, not both")
        self.radius_km = None if radius_km is None else float(radius_km)
        self.drive_minutes = None if drive_minutes is None else float(drive_minutes)
        ids = [str(i) for i in base["outlet_id"]] if "outlet_id" in base else []
        self.remove: tuple[str, ...] = _removals(remove, ids)
        self.added: pd.DataFrame = _candidates(add, set(ids))
        keep = ~base["outlet_id"].isin(self.remove) if self.remove else np.ones(len(base), bool)
        kept = base[np.asarray(keep, dtype=bool)]
        cols = [c for c in OUTLET_COLUMNS if c in base.columns]
        cand = self.added.reindex(columns=cols, fill_value="")
        cand["authorized"] = True
        parts = [kept] + ([cand] if len(cand) else [])
        frame = (
            pd.concat(parts, ignore_index=True) if len(parts) > 1 else kept.reset_index(drop=True)
        )
        frame["authorized"] = frame["authorized"].astype(bool)
        with warnings.catch_warnings():
            # the base's notes were shown when it was loaded, the candidates' above
            warnings.simplefilter("ignore", DataWarning)
            self._network = Network.coerce(frame, source=f"scenario {self.name}")
        self._model: tuple[int, int, CoverageModel] | None = None

    def __repr__(self) -> str:
        return (
            f"Scenario({self.name!r}, +{len(self.added)} candidate(s), "
            f"-{len(self.remove)} outlet(s))"
        )

    @property
    def network(self) -> pd.DataFrame:
        """The resulting outlet frame (base minus removed, plus candidates)."""
        return self._network.frame

    def candidates(self) -> list[dict[str, Any]]:
        """The added candidates as plain dicts (:data:`CANDIDATE_FIELDS`; WGS-84)."""
        out = []
        for row in self.added.to_dict(orient="records"):
            d = {k: row.get(k, "") for k in CANDIDATE_FIELDS if k != "candidate_id"}
            d = {"candidate_id": row["outlet_id"], **d}
            d["lat"], d["lon"] = float(row["lat"]), float(row["lon"])
            out.append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "note": self.note,
            "add": self.candidates(),
            "remove": list(self.remove),
            "radius_km": self.radius_km,
            "drive_minutes": self.drive_minutes,
        }

    def model(self, places: pd.DataFrame, cities: pd.DataFrame | None = None) -> CoverageModel:
        """The :class:`~locator.coverage.CoverageModel` of :attr:`network` (kept for
        the last ``places``/``cities`` given, so several radii cost one build)."""
        cached = self._model
        if cached is not None and cached[0] == id(places) and cached[1] == id(cities):
            return cached[2]
        model = CoverageModel(self.network, places, cities)
        self._model = (id(places), id(cities), model)
        return model

    def evaluate(
        self,
        places: pd.DataFrame | None = None,
        cities: pd.DataFrame | None = None,
        radius_km: float | None = None,
        drive_minutes: float | None = None,
        *,
        gap_limit: int | None = DEFAULT_GAP_LIMIT,
    ) -> ScenarioResult:
        """Coverage of ``places`` (default: the bundled places and listed cities) at
        ``radius_km`` or ``drive_minutes`` (default: the scenario's own, else 50 km)."""
        if places is None:
            from .data import load_cities, load_places

            places = load_places()
            cities = load_cities() if cities is None else cities
        if radius_km is None and drive_minutes is None:
            radius_km, drive_minutes = self.radius_km, self.drive_minutes
        model = self.model(places, cities)
        if drive_minutes is not None:
            rep = model.report(radius_km, drive_minutes=drive_minutes, gap_limit=gap_limit)
        else:
            rep = model.report(radius_km, gap_limit=gap_limit)
        uncovered = rep.population_total - rep.population_covered
        return ScenarioResult(
            name=self.name,
            note=self.note,
            radius_km=rep.radius_km,
            drive_minutes=rep.drive_minutes,
            outlets=len(self.network),
            outlets_authorized=rep.outlets_authorized,
            outlets_added=len(self.added),
            outlets_removed=len(self.remove),
            population_total=rep.population_total,
            population_covered=rep.population_covered,
            share_covered=rep.share_covered,
            population_backup=rep.population_backup,
            share_backup=rep.share_backup,
            population_uncovered=uncovered,
            places_uncovered=rep.places_uncovered,
            distance_p50_km=rep.distance_p50_km,
            distance_p90_km=rep.distance_p90_km,
            gaps=list(rep.gaps),
            cities=list(rep.cities),
            report=rep,
        )


def _as_scenario(obj: Scenario | Network | pd.DataFrame, default_name: str) -> Scenario:
    if isinstance(obj, Scenario):
        return obj
    return Scenario(obj, name=default_name)


def _diff(a: Any, b: Any) -> Any:
    numeric = (int, float, np.integer, np.floating)
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, numeric) and isinstance(b, numeric):
        return b - a
    return None


def compare(
    a: Scenario | Network | pd.DataFrame,
    b: Scenario | Network | pd.DataFrame,
    places: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    radius_km: float | None = None,
    drive_minutes: float | None = None,
) -> ScenarioComparison:
    """``a`` and ``b`` side by side at one reach (``radius_km`` or ``drive_minutes``;
    neither: ``a``'s own, else 50 km). A network or frame stands for itself (named
    ``live``). National figures first, then per listed city; ``B-A`` is the change."""
    sa_, sb = _as_scenario(a, LIVE), _as_scenario(b, LIVE)
    if radius_km is None and drive_minutes is None:
        radius_km, drive_minutes = sa_.radius_km, sa_.drive_minutes
        if radius_km is None and drive_minutes is None:
            radius_km, drive_minutes = sb.radius_km, sb.drive_minutes
    if places is None:
        from .data import load_cities, load_places

        places = load_places()
        cities = load_cities() if cities is None else cities
    ra = sa_.evaluate(places, cities, radius_km, drive_minutes, gap_limit=0)
    rb = sb.evaluate(places, cities, radius_km, drive_minutes, gap_limit=0)
    rows_a, rows_b = _metrics_rows(ra), _metrics_rows(rb)
    by_key_b = {(s, ar, m): v for s, ar, m, v in rows_b}
    keys_a = {(s, ar, m) for s, ar, m, _ in rows_a}
    rows = []
    for s, ar, m, va in rows_a:
        vb = by_key_b.get((s, ar, m))
        rows.append((s, ar, m, va, vb, _diff(va, vb)))
    for s, ar, m, vb in rows_b:  # a city only B knows (different cities tables)
        if (s, ar, m) not in keys_a:
            rows.append((s, ar, m, None, vb, None))
    frame = pd.DataFrame(rows, columns=["scope", "area", "metric", "A", "B", "B-A"], dtype=object)
    return ScenarioComparison(a=ra, b=rb, frame=frame)
