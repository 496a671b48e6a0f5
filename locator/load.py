"""Outlet load from real orders: how many orders each outlet serves, per day and week.

:func:`outlet_load` takes a table of orders and the network and returns a
:class:`LoadReport`:

* **Orders**, either already assigned (the output of ``locator assign``:
  ``nearest1_outlet_id`` and ``nearest1_distance_km``; or any table with ``outlet_id``
  and optionally ``distance_km``) or raw with WGS-84 ``lat``/``lon``, which are then
  assigned to their nearest authorized outlet here (exact geodesic,
  :meth:`locator.index.OutletIndex.nearest_many`, the same as ``locator assign``).
* **Dates** come from ``date_col``, or the one column named ``date``, ``order_date``,
  ``created_at``, ``日期`` or ``下单时间`` (:data:`DATE_COLUMNS`, any case). ISO dates and
  times, ``2024/03/05`` and ``2024年3月5日`` are read; a time zone is converted to
  Asia/Shanghai before the day is taken. An unreadable date is a
  :class:`~locator.errors.DataError` naming every such row and value; an **empty**
  date is an error too unless ``undated="skip"``, which leaves those rows out and counts
  them in :attr:`LoadReport.orders_undated` (never silently).
* **Assigned orders**: an ``outlet_id`` that is not in the network is a DataError naming
  the rows; a row with no outlet (``locator assign`` keeps rows it could not place, with
  an empty outlet and an ``assign_status``) is left out and counted in
  :attr:`LoadReport.orders_unassigned`. Raw orders with missing or bad coordinates are a
  DataError naming the rows.

Per outlet (every outlet of the network, those with no order too): orders in total, per
day over the **whole period of the file** (first to last order day, days without an
order count as 0: mean, p95, peak day and its date), per week (mean = per day x 7;
peak Monday-to-Sunday week), the distance distribution (p50, p90, max geodesic km) and
the share of orders beyond the on-site promise by the drive-time estimate
(:class:`locator.drive.DriveTimeModel`, 2 hours by default; an estimate from geodesic
distance, not routing).

**Capacity** (optional): ``capacity_per_day`` per outlet, from a ``capacity_per_day``
column of the outlets or from ``capacity`` (a mapping, Series, or a frame with
``outlet_id`` and ``capacity_per_day``; see :func:`read_capacity`). Then per outlet:
``overloaded_days`` (days with more orders than the capacity), ``utilisation_p95``
(p95 of daily orders / capacity) and ``overloaded``: ``utilisation_p95 > 1``, i.e.
more than one day in twenty over capacity (a single busy day is in
``overloaded_days``, not a verdict).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .drive import DriveTimeModel
from .errors import ConfigurationError, DataError, Problem

__all__ = [
    "DATE_COLUMNS",
    "LoadReport",
    "outlet_load",
    "read_capacity",
    "read_orders",
]

#: Column names taken as the order date when ``date_col`` is not given (any case).
DATE_COLUMNS = ("date", "order_date", "created_at", "日期", "下单时间")
#: Outlet id / distance columns of assigned orders, in the order they are looked for.
_OUTLET_COLUMNS = ("nearest1_outlet_id", "outlet_id")
_DISTANCE_FOR = {"nearest1_outlet_id": "nearest1_distance_km", "outlet_id": "distance_km"}
_TZ = "Asia/Shanghai"
_PLAIN_ISO = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$"
_CN_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_FREQS = {"D": "D", "day": "D", "W": "W", "week": "W"}

#: Columns of :meth:`LoadReport.frame`, in order.
FRAME_COLUMNS = (
    "outlet_id",
    "name",
    "city",
    "orders_total",
    "orders_per_day_mean",
    "orders_per_day_p95",
    "peak_day_orders",
    "peak_day",
    "orders_per_week_mean",
    "peak_week_orders",
    "peak_week",
    "distance_p50_km",
    "distance_p90_km",
    "distance_max_km",
    "share_beyond_promise",
    "capacity_per_day",
    "overloaded_days",
    "utilisation_p95",
    "overloaded",
)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class LoadReport:
    """What :func:`outlet_load` found; :meth:`frame` per outlet, :meth:`daily` per outlet
    and day (or week), :meth:`to_dict` for JSON, :meth:`write` to CSV/XLSX."""

    freq: Literal["D", "W"]
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    days: int
    orders_total: int
    orders_used: int
    orders_undated: int
    orders_unassigned: int
    assigned_here: bool
    date_col: str
    promise_minutes: float
    reach_km: float
    drive_note: str
    has_capacity: bool
    _outlets: pd.DataFrame = field(repr=False)
    _daily: pd.DataFrame = field(repr=False)
    _weekly: pd.DataFrame = field(repr=False)

    @property
    def share_beyond_promise(self) -> float | None:
        """Share of the orders with a known distance beyond the promise (all outlets)."""
        df = self._outlets
        known = df["_known"].sum()
        return float(df["_beyond"].sum() / known) if known else None

    @property
    def outlets_overloaded(self) -> int:
        return int(self._outlets["overloaded"].fillna(False).astype(bool).sum())

    def frame(self) -> pd.DataFrame:
        """One row per outlet (:data:`FRAME_COLUMNS`): overloaded first, then by
        utilisation, then by orders per day (p95) and in total."""
        df = self._outlets
        key = pd.DataFrame(
            {
                "o": df["overloaded"].fillna(False).astype(bool),
                "u": df["utilisation_p95"].fillna(-1.0),
                "p": df["orders_per_day_p95"],
                "t": df["orders_total"],
                "id": df["outlet_id"],
            }
        )
        order = key.sort_values(["o", "u", "p", "t", "id"], ascending=[False] * 4 + [True]).index
        return df.loc[order, list(FRAME_COLUMNS)].reset_index(drop=True)

    def daily(self) -> pd.DataFrame:
        """Outlet x day (``freq="D"``: ``date``, ``orders``, ``capacity_per_day``,
        ``over_capacity``) or outlet x week (``freq="W"``: ``week`` = its Monday,
        ``orders``), every day/week of the period, zeros included."""
        return (self._daily if self.freq == "D" else self._weekly).copy()

    def to_dict(self, *, outlets: bool = True) -> dict[str, Any]:
        """JSON-ready summary (dates as ISO text), with the per-outlet rows."""
        out: dict[str, Any] = {
            "freq": "day" if self.freq == "D" else "week",
            "start": None if self.start is None else self.start.date().isoformat(),
            "end": None if self.end is None else self.end.date().isoformat(),
            "days": self.days,
            "date_col": self.date_col,
            "orders_total": self.orders_total,
            "orders_used": self.orders_used,
            "orders_undated": self.orders_undated,
            "orders_unassigned": self.orders_unassigned,
            "assigned_here": self.assigned_here,
            "promise_minutes": self.promise_minutes,
            "reach_km": self.reach_km,
            "share_beyond_promise": self.share_beyond_promise,
            "has_capacity": self.has_capacity,
            "outlets_overloaded": self.outlets_overloaded,
            "note": self.drive_note,
        }
        if outlets:
            rows = self.frame().astype(object).where(self.frame().notna(), None)
            out["outlets"] = rows.to_dict(orient="records")
        return out

    def write(self, path: str | os.PathLike[str], *, daily: bool = False) -> None:
        """Write :meth:`frame` (or :meth:`daily`) to ``.csv`` or ``.xlsx`` (by suffix)
        atomically and formula-safe (:mod:`locator.outputs`)."""
        from .outputs import write_csv, write_xlsx

        table = self.daily() if daily else self.frame()
        if str(path).lower().endswith(".xlsx"):
            write_xlsx(table, path)
        else:
            write_csv(table, path)


# --------------------------------------------------------------------------- reading
def read_orders(
    source: str | os.PathLike[str] | bytes, *, name: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """An orders file (a path, or the bytes of an upload named ``name``) as a frame:
    ``.parquet`` as stored, CSV (encoding detected unless given: UTF-8 with or without
    BOM, GB18030, UTF-16) with every cell as text, so ids keep their leading zeros and
    dates are parsed by :func:`outlet_load`, not guessed by pandas."""
    import io

    from .data import detect_encoding

    label = name or ("orders" if isinstance(source, bytes) else os.fspath(source))
    data: Any = io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)
    if label.lower().endswith(".parquet"):
        return pd.read_parquet(data)
    codec = encoding or detect_encoding(source, name=label)
    return pd.read_csv(data, dtype=str, keep_default_na=False, encoding=codec)


def read_capacity(source: Any, *, name: str = "capacity") -> pd.Series:
    """Capacity per outlet as a float Series indexed by outlet id (NaN: none given).

    ``source``: a mapping ``{outlet_id: capacity}``, a Series indexed by outlet id, a
    frame or a CSV/XLSX path with ``outlet_id`` and ``capacity_per_day`` columns. A
    capacity must be a number > 0; a blank means "no capacity for this outlet". A bad
    value or a repeated outlet id is a DataError naming the rows (in ``name``)."""
    if isinstance(source, str | os.PathLike):
        from .data import detect_encoding

        name = os.fspath(source)
        if name.lower().endswith(".xlsx"):
            source = pd.read_excel(name, dtype=str, keep_default_na=False)
        else:
            source = pd.read_csv(
                name, dtype=str, keep_default_na=False, encoding=detect_encoding(name)
            )
    if isinstance(source, Mapping):
        source = pd.Series(dict(source), dtype=object)
    if isinstance(source, pd.Series):
        source = pd.DataFrame({"outlet_id": source.index, "capacity_per_day": source.to_numpy()})
    if not isinstance(source, pd.DataFrame):
        raise ConfigurationError(
            f"capacity must be a mapping, Series, DataFrame or file, got {type(source).__name__}"
        )
    missing = [c for c in ("outlet_id", "capacity_per_day") if c not in source.columns]
    if missing:
        raise DataError(
            [Problem(None, c, None, "missing column (need outlet_id, capacity_per_day)")
             for c in missing],
            source=name,
        )  # fmt: skip
    ids = _text(source["outlet_id"])
    values, problems = _capacities(source["capacity_per_day"])
    for i in np.flatnonzero(ids == ""):
        problems.append(Problem(int(i) + 2, "outlet_id", "", "missing outlet id"))
    dup = pd.Series(ids).duplicated(keep="first").to_numpy() & (ids != "")
    for i in np.flatnonzero(dup):
        problems.append(Problem(int(i) + 2, "outlet_id", ids[i], "outlet listed twice"))
    if problems:
        raise DataError(sorted(problems, key=lambda p: p.row or 0), source=name)
    return pd.Series(values, index=pd.Index(ids, name="outlet_id"), name="capacity_per_day")


def _capacities(col: pd.Series) -> tuple[NDArray[np.float64], list[Problem]]:
    raw = col.to_numpy(dtype=object)
    out = np.full(len(raw), np.nan)
    problems: list[Problem] = []
    for i, v in enumerate(raw):
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            continue
        try:
            if isinstance(v, bool):
                raise ValueError
            num = float(v) if isinstance(v, numbers.Real) else float(str(v).strip())
        except ValueError:
            num = math.nan
        if not (math.isfinite(num) and num > 0):
            problems.append(
                Problem(i + 2, "capacity_per_day", v, "capacity must be a number > 0 (or blank)")
            )
            continue
        out[i] = num
    return out, problems


# --------------------------------------------------------------------------- helpers
def _text(col: pd.Series) -> NDArray[np.object_]:
    return col.astype(object).where(col.notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def _find_date_col(columns: list[str], date_col: str | None, source: str) -> str:
    if date_col is not None:
        if date_col not in columns:
            raise ConfigurationError(
                f"date column {date_col!r} not in {source}; columns are: {', '.join(columns)}"
            )
        return date_col
    found = [c for c in columns if c.strip().lower() in DATE_COLUMNS]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConfigurationError(
            f"no date column in {source} (looked for {', '.join(DATE_COLUMNS)}); name it "
            f"with date_col / --date-col; columns are: {', '.join(columns)}"
        )
    raise ConfigurationError(
        f"several date columns in {source}: {', '.join(found)}; choose one with "
        "date_col / --date-col"
    )


def _parse_dates(col: pd.Series) -> tuple[NDArray[Any], NDArray[np.bool_], list[int]]:
    """(days as datetime64[D], empty mask, positions of unreadable values)."""
    n = len(col)
    if pd.api.types.is_datetime64_any_dtype(col):
        stamps = pd.Series(col.to_numpy(), dtype=col.dtype)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(_TZ).dt.tz_localize(None)
        empty = stamps.isna().to_numpy()
        return stamps.dt.floor("D").to_numpy("datetime64[D]"), empty, []
    text = pd.Series(_text(col))
    empty = (text == "").to_numpy()
    days = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    # Fast path: plain ISO dates and times without a zone, parsed at once; anything
    # else (a zone, 2024/3/5, 2024年3月5日, a bad value) one distinct value at a time.
    iso = text.str.match(_PLAIN_ISO).to_numpy(dtype=bool).copy()
    if iso.any():
        parsed = pd.to_datetime(text[iso], format="ISO8601", errors="coerce")
        done = parsed.notna().to_numpy()
        where = np.flatnonzero(iso)
        days[where[done]] = parsed[done].dt.floor("D").to_numpy("datetime64[D]")
        iso[where[~done]] = False
    bad: list[int] = []
    for i, value in enumerate(text.tolist()):
        if empty[i] or iso[i]:
            continue
        day = _one_date(value)
        if day is None:
            bad.append(i)
        else:
            days[i] = day
    return days, empty, bad


_DATE_CACHE: dict[str, np.datetime64 | None] = {}


def _one_date(value: str) -> np.datetime64 | None:
    """The Asia/Shanghai day of one date or date-time text (None if unreadable)."""
    if value in _DATE_CACHE:
        return _DATE_CACHE[value]
    m = _CN_DATE.match(value)
    text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else value
    if not m and re.match(r"^\d{4}/\d{1,2}/\d{1,2}", text):
        y, mo, rest = text.split("/", 2)
        d, _, tail = rest.partition(" ")
        text = f"{y}-{int(mo):02d}-{int(d[:2]):02d}" + (f" {tail}" if tail else "")
    out: np.datetime64 | None
    try:
        ts = pd.Timestamp(text) if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None
    except (ValueError, OverflowError):
        ts = None
    if ts is None or ts is pd.NaT:
        out = None
    else:
        if ts.tzinfo is not None:
            ts = ts.tz_convert(_TZ).tz_localize(None)
        out = np.datetime64(ts.date(), "D")
    if len(_DATE_CACHE) > 100_000:
        _DATE_CACHE.clear()
    _DATE_CACHE[value] = out
    return out


def _numbers(col: pd.Series) -> NDArray[np.float64]:
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.to_numpy(np.float64, na_value=np.nan)
    return pd.to_numeric(pd.Series(_text(col)), errors="coerce").to_numpy(np.float64)


def _row_problems(pos: NDArray[Any] | list[int], column: str, values: Any, reason: str) -> list:
    return [Problem(int(i) + 2, column, values[int(i)], reason) for i in pos]


# --------------------------------------------------------------------------- the work
def outlet_load(
    orders: pd.DataFrame,
    outlets: Any,
    *,
    date_col: str | None = None,
    outlet_col: str | None = None,
    freq: str = "D",
    capacity: Any = None,
    drive_model: DriveTimeModel | None = None,
    undated: Literal["error", "skip"] = "error",
    lat_col: str = "lat",
    lon_col: str = "lon",
    coord_sys: str = "wgs84",
    source: str = "orders",
) -> LoadReport:
    """Load per outlet from ``orders`` (see the module docstring for every rule).

    ``outlets``: a :class:`~locator.network.Network` or outlet frame. ``outlet_col``:
    the column of assigned orders naming the outlet (default: ``nearest1_outlet_id``,
    else ``outlet_id``; neither present: the orders are assigned from
    ``lat_col``/``lon_col``). ``freq``: ``"D"``/``"day"`` or ``"W"``/``"week"``, the
    grain of :meth:`LoadReport.daily`. ``capacity``: see :func:`read_capacity`.
    ``coord_sys``: the system of ``lat_col``/``lon_col`` (``wgs84``; ``gcj02`` for
    AMap, ``bd09`` for Baidu), converted to WGS-84 before any distance is computed.
    """
    from .network import outlets_frame

    if not isinstance(orders, pd.DataFrame):
        raise ConfigurationError(f"orders must be a pandas DataFrame, got {type(orders).__name__}")
    grain = _FREQS.get(str(freq)) if isinstance(freq, str) else None
    if grain is None:
        raise ConfigurationError(f"freq must be 'D' (day) or 'W' (week), got {freq!r}")
    if undated not in ("error", "skip"):
        raise ConfigurationError(f"undated must be 'error' or 'skip', got {undated!r}")
    model = drive_model if drive_model is not None else DriveTimeModel()
    net = outlets_frame(outlets)
    if "outlet_id" not in net.columns:
        raise DataError([Problem(None, "outlet_id", None, "missing column")], source="outlets")
    orders = _as_wgs84(orders.reset_index(drop=True), lat_col, lon_col, coord_sys)
    columns = [str(c) for c in orders.columns]
    dcol = _find_date_col(columns, date_col, source)
    ids = _text(net["outlet_id"])

    pos, km, unassigned, problems, assigned_here = _served(
        orders, net, ids, outlet_col, lat_col, lon_col, source
    )
    days, empty, bad_dates = _parse_dates(orders[dcol])
    shown_dates = orders[dcol].to_numpy(dtype=object)
    problems += _row_problems(
        bad_dates, dcol, shown_dates, "date not readable (e.g. 2024-03-05 or 2024-03-05 14:30)"
    )
    if undated == "error":
        reason = "no date (undated='skip' / --skip-undated leaves such orders out)"
        problems += _row_problems(np.flatnonzero(empty), dcol, shown_dates, reason)
    if problems:
        raise DataError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")), source=source)

    use = ~empty & ~unassigned
    cap = _capacity(net, ids, capacity)
    return _report(
        net, ids, pos[use], days[use], km[use], model, cap, grain,
        orders_total=len(orders), undated=int((empty & ~unassigned).sum()),
        unassigned=int(unassigned.sum()), assigned_here=assigned_here, date_col=dcol,
    )  # fmt: skip


def _as_wgs84(orders: pd.DataFrame, lat_col: str, lon_col: str, coord_sys: str) -> pd.DataFrame:
    """``orders`` with readable, in-range coordinates converted from ``coord_sys`` to
    WGS-84 (a copy; the caller's frame is never changed). Unreadable values are left as
    they are, so the coordinate check names them as written."""
    from .crs import normalize_coord_sys, to_wgs84

    system = normalize_coord_sys(coord_sys)  # a ConfigurationError naming the choices
    if system == "wgs84" or lat_col not in orders.columns or lon_col not in orders.columns:
        return orders
    lat = pd.to_numeric(orders[lat_col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    lon = pd.to_numeric(orders[lon_col], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not ok.any():
        return orders
    wlon, wlat = to_wgs84(lon[ok], lat[ok], system)
    out = orders.copy()
    for col, values in ((lat_col, wlat), (lon_col, wlon)):
        column = out[col].to_numpy(dtype=object, copy=True)
        column[ok] = np.asarray(values, dtype=np.float64)
        out[col] = column
    return out


def _served(
    orders: pd.DataFrame,
    net: pd.DataFrame,
    ids: NDArray[np.object_],
    outlet_col: str | None,
    lat_col: str,
    lon_col: str,
    source: str,
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.bool_], list[Problem], bool]:
    """Which outlet serves each order and how far away it is: (positions in the
    network, km, unassigned mask, problems, whether the orders were assigned here)."""
    columns = [str(c) for c in orders.columns]
    ocol = outlet_col
    if ocol is None:
        ocol = next((c for c in _OUTLET_COLUMNS if c in columns), None)
    elif ocol not in columns:
        raise ConfigurationError(
            f"outlet column {ocol!r} not in {source}; columns are: {', '.join(columns)}"
        )
    problems: list[Problem] = []
    n = len(orders)
    km = np.full(n, np.nan)
    if ocol is not None:
        assigned_here = False
        given = _text(orders[ocol])
        known = pd.Index(ids)
        pos = known.get_indexer(pd.Index(given))
        unassigned = given == ""
        unknown = (pos < 0) & ~unassigned
        problems += _row_problems(
            np.flatnonzero(unknown), ocol, given, "outlet id not in the network"
        )
        dcol_km = _DISTANCE_FOR.get(ocol, "distance_km")
        if dcol_km in columns:
            km = _numbers(orders[dcol_km])
            bad_km = ~unassigned & ~unknown & ~(np.isfinite(km) & (km >= 0))
            shown = orders[dcol_km].to_numpy(dtype=object)
            problems += _row_problems(
                np.flatnonzero(bad_km), dcol_km, shown, "distance must be a number >= 0 km"
            )
        elif lat_col in columns and lon_col in columns:
            km = _distances(orders, lat_col, lon_col, net, pos, ~unassigned & ~unknown)
    else:
        assigned_here = True
        missing = [c for c in (lat_col, lon_col) if c not in columns]
        if missing:
            raise ConfigurationError(
                f"{source} has no outlet column ({', '.join(_OUTLET_COLUMNS)}) and no "
                f"coordinates ({', '.join(map(repr, missing))} missing): give assigned "
                f"orders or lat/lon; columns are: {', '.join(columns)}"
            )
        pos, km, coord_problems = _assign(orders, lat_col, lon_col, net)
        problems += coord_problems
        unassigned = np.zeros(n, dtype=bool)

    return pos, km, unassigned, problems, assigned_here


def _distances(
    orders: pd.DataFrame,
    lat_col: str,
    lon_col: str,
    net: pd.DataFrame,
    pos: NDArray[np.intp],
    have: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Geodesic km from each order to its given outlet (NaN where unknown)."""
    from pyproj import Geod

    from .network import valid_coordinates

    lat, lon = _numbers(orders[lat_col]), _numbers(orders[lon_col])
    ok = have & valid_coordinates(lat, lon)
    km = np.full(len(orders), np.nan)
    if ok.any():
        olat = net["lat"].to_numpy(np.float64)[pos[ok]]
        olon = net["lon"].to_numpy(np.float64)[pos[ok]]
        _, _, metres = Geod(ellps="WGS84").inv(lon[ok], lat[ok], olon, olat)
        km[ok] = np.asarray(metres) / 1000.0
    return km


def _assign(
    orders: pd.DataFrame, lat_col: str, lon_col: str, net: pd.DataFrame
) -> tuple[NDArray[np.intp], NDArray[np.float64], list[Problem]]:
    """Nearest authorized outlet of each raw order (bad coordinates: problems)."""
    from .index import OutletIndex
    from .network import valid_coordinates

    lat, lon = _numbers(orders[lat_col]), _numbers(orders[lon_col])
    ok = valid_coordinates(lat, lon)
    problems: list[Problem] = []
    for col in (lat_col, lon_col):
        shown = orders[col].to_numpy(dtype=object)
        problems += _row_problems(
            np.flatnonzero(~ok), col, shown, "missing or invalid coordinate (WGS-84 degrees)"
        )
    pos = np.full(len(orders), -1, dtype=np.intp)
    km = np.full(len(orders), np.nan)
    if ok.any() and not problems:
        if not net["authorized"].to_numpy(dtype=bool).any():
            raise ConfigurationError("no authorized outlet to assign the orders to")
        p, d = OutletIndex(net, workers=1).nearest_many(lat[ok], lon[ok], 1)
        pos[ok], km[ok] = p[:, 0], d[:, 0]
    return pos, km, problems


def _capacity(net: pd.DataFrame, ids: NDArray[np.object_], capacity: Any) -> NDArray[np.float64]:
    """Capacity per outlet (network order; NaN = none)."""
    if capacity is None:
        if "capacity_per_day" not in net.columns:
            return np.full(len(ids), np.nan)
        table = pd.DataFrame({"outlet_id": ids, "capacity_per_day": net["capacity_per_day"]})
        return read_capacity(table, name="outlets").to_numpy(np.float64)
    given = read_capacity(capacity)
    unknown = [i for i in given.index if i not in set(ids)]
    if unknown:
        raise DataError(
            [
                Problem(int(np.flatnonzero(given.index == i)[0]) + 2, "outlet_id", i,
                        "outlet id not in the network")
                for i in unknown
            ],
            source="capacity",
        )  # fmt: skip
    return given.reindex(pd.Index(ids)).to_numpy(np.float64)


def _report(
    net: pd.DataFrame,
    ids: NDArray[np.object_],
    pos: NDArray[np.intp],
    days: NDArray[Any],
    km: NDArray[np.float64],
    model: DriveTimeModel,
    cap: NDArray[np.float64],
    grain: str,
    *,
    orders_total: int,
    undated: int,
    unassigned: int,
    assigned_here: bool,
    date_col: str,
) -> LoadReport:
    m = len(ids)
    if days.size:
        start, end = days.min(), days.max()
        period = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    else:
        start = end = None
        period = np.array([], dtype="datetime64[D]")
    nd = period.size
    counts = np.zeros((m, nd), dtype=np.int64)
    if days.size:
        np.add.at(counts, (pos, (days - period[0]).astype(np.int64)), 1)
    total = counts.sum(axis=1)
    per_day = {
        "mean": total / nd if nd else np.full(m, np.nan),
        "p95": np.percentile(counts, 95, axis=1) if nd else np.full(m, np.nan),
    }
    peak_i = counts.argmax(axis=1) if nd else np.zeros(m, dtype=np.intp)
    peak = counts.max(axis=1) if nd else np.zeros(m, dtype=np.int64)
    # Weeks: Monday to Sunday (1970-01-01 was a Thursday).
    monday = period - ((period.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    weeks, week_of = np.unique(monday, return_inverse=True)
    wcounts = np.zeros((m, weeks.size), dtype=np.int64)
    for w in range(weeks.size):
        wcounts[:, w] = counts[:, week_of == w].sum(axis=1)
    minutes = model.minutes(km)
    dist = _distance_figures(pos, km, minutes > model.promise_minutes, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        over = (counts > cap[:, None]).sum(axis=1)
        util = per_day["p95"] / cap
    has_cap = np.isfinite(cap)
    name = _text(net["name"]) if "name" in net.columns else np.full(m, "", dtype=object)
    city = _text(net["city"]) if "city" in net.columns else np.full(m, "", dtype=object)
    frame = pd.DataFrame(
        {
            "outlet_id": ids,
            "name": name,
            "city": city,
            "orders_total": total,
            "orders_per_day_mean": np.round(per_day["mean"], 3),
            "orders_per_day_p95": np.round(per_day["p95"], 3),
            "peak_day_orders": peak,
            "peak_day": [
                period[i].item().isoformat() if nd and t else None
                for i, t in zip(peak_i, total, strict=True)
            ],
            "orders_per_week_mean": np.round(per_day["mean"] * 7, 3),
            "peak_week_orders": wcounts.max(axis=1) if weeks.size else np.zeros(m, np.int64),
            "peak_week": [
                weeks[i].item().isoformat() if weeks.size and t else None
                for i, t in zip(
                    wcounts.argmax(axis=1) if weeks.size else np.zeros(m, np.intp),
                    total,
                    strict=True,
                )
            ],
            **dist,
            "capacity_per_day": cap,
            "overloaded_days": pd.array(np.where(has_cap, over, 0), dtype="Int64"),
            "utilisation_p95": np.round(np.where(has_cap, util, np.nan), 4),
            "overloaded": pd.array(
                [bool(u > 1.0) if h else None for u, h in zip(util, has_cap, strict=True)],
                dtype="boolean",
            ),
        }
    )
    frame.loc[~has_cap, "overloaded_days"] = pd.NA
    daily = pd.DataFrame(
        {
            "outlet_id": np.repeat(ids, nd),
            "name": np.repeat(name, nd),
            "date": np.tile(pd.to_datetime(period).date, m) if nd else [],
            "orders": counts.ravel(),
            "capacity_per_day": np.repeat(cap, nd),
        }
    )
    daily["over_capacity"] = pd.array(
        np.where(
            np.isfinite(daily["capacity_per_day"]),
            daily["orders"] > daily["capacity_per_day"],
            False,
        ),
        dtype="boolean",
    )
    daily.loc[~np.isfinite(daily["capacity_per_day"]), "over_capacity"] = pd.NA
    weekly = pd.DataFrame(
        {
            "outlet_id": np.repeat(ids, weeks.size),
            "name": np.repeat(name, weeks.size),
            "week": np.tile(pd.to_datetime(weeks).date, m) if weeks.size else [],
            "orders": wcounts.ravel(),
        }
    )
    return LoadReport(
        freq="D" if grain == "D" else "W",
        start=None if start is None else pd.Timestamp(start),
        end=None if end is None else pd.Timestamp(end),
        days=nd,
        orders_total=orders_total,
        orders_used=int(days.size),
        orders_undated=undated,
        orders_unassigned=unassigned,
        assigned_here=assigned_here,
        date_col=date_col,
        promise_minutes=model.promise_minutes,
        reach_km=round(model.reach_km(), 3),
        drive_note=model.describe(),
        has_capacity=bool(has_cap.any()),
        _outlets=frame,
        _daily=daily,
        _weekly=weekly,
    )


def _distance_figures(
    pos: NDArray[np.intp], km: NDArray[np.float64], beyond: NDArray[np.bool_], m: int
) -> dict[str, Any]:
    """p50/p90/max km and the share beyond the promise per outlet (NaN with no distance)."""
    p50, p90, mx, share = (np.full(m, np.nan) for _ in range(4))
    known_n = np.zeros(m, dtype=np.int64)
    beyond_n = np.zeros(m, dtype=np.int64)
    ok = np.isfinite(km)
    if ok.any():
        order = np.lexsort((km[ok], pos[ok]))
        p, d, b = pos[ok][order], km[ok][order], beyond[ok][order]
        bounds = np.flatnonzero(np.diff(p)) + 1
        for chunk_p, chunk_d, chunk_b in zip(
            np.split(p, bounds), np.split(d, bounds), np.split(b, bounds), strict=True
        ):
            j = int(chunk_p[0])
            p50[j], p90[j] = np.percentile(chunk_d, [50, 90])
            mx[j] = chunk_d[-1]
            known_n[j], beyond_n[j] = chunk_d.size, int(chunk_b.sum())
            share[j] = beyond_n[j] / chunk_d.size
    return {
        "distance_p50_km": np.round(p50, 3),
        "distance_p90_km": np.round(p90, 3),
        "distance_max_km": np.round(mx, 3),
        "share_beyond_promise": np.round(share, 4),
        "_known": known_n,
        "_beyond": beyond_n,
    }
