"""Network audit: listings a planner should look at before trusting the network.

Fake "official service center" listings are a known problem: one hotline advertised
as the local center in many cities with no outlet behind it. :func:`audit_outlets`
flags, each with the outlets involved:

* ``shared_phone``: one phone number (compared on its digits) listed for outlets in
  two or more cities;
* ``far_from_city``: an outlet more than ``far_km`` (default 50 km, geodesic) from
  every centre of the city it claims, i.e. from the city's own centre *and* the
  centres of its districts and counties (a city is an area, not a point: an outlet
  in an outlying county of 重庆 is legitimately 100 km from the city centre);
* ``duplicate_location`` / ``duplicate_address``: several outlets at the same point
  (within ``same_point_m``, default 20 m) or with the same normalized address;
* ``not_authorized``: listings whose ``authorized`` flag is false (read by the one
  yes/no parser of :mod:`locator.network`: the text ``"false"`` is false).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from pyproj import Geod

from .crs import unit_vectors
from .network import Network, outlets_frame

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class AuditFinding:
    """One thing to look at: ``kind``, a readable ``message``, the outlets involved."""

    kind: str
    severity: str  # "high" | "medium" | "info"
    message: str
    outlet_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", str(phone)))


def _norm_address(addr: str) -> str:
    return re.sub(r"[\s,，。.、()（）-]", "", unicodedata.normalize("NFKC", str(addr))).lower()


@functools.lru_cache(maxsize=1)
def _city_centres() -> dict[str, np.ndarray]:
    """Short and full city name -> array of (lat, lon) centres (city + its districts).
    Built once (the division table is fixed for a process); ``locator verify`` audits
    the listings of one phone per request."""
    from .reference import load_divisions, short_name

    div = load_divisions()
    div = div[div["lat"].notna() & div["city"].notna()]
    out: dict[str, np.ndarray] = {}
    for city, g in div[div["level"].isin(["city", "district"])].groupby("city"):
        pts = g[["lat", "lon"]].to_numpy(dtype=float)
        out[str(city)] = pts
        out.setdefault(short_name(str(city)), pts)
    return out


def audit_outlets(
    outlets: Network | pd.DataFrame, *, far_km: float = 50.0, same_point_m: float = 20.0
) -> list[AuditFinding]:
    """Audit an outlets table: a :class:`~locator.network.Network`, the frame from
    :func:`locator.load_outlets`, or any frame, which goes through the same contract
    (:func:`locator.network.outlets_frame`) first."""
    findings: list[AuditFinding] = []
    df = outlets_frame(outlets)
    ids = df["outlet_id"].astype(str)

    # 1. One phone number across several cities.
    digits = df["phone"].map(_digits)
    for _phone, g in df[digits != ""].groupby(digits[digits != ""]):
        cities = sorted(set(g["city"].astype(str)) - {""})
        if len(cities) >= 2:
            findings.append(
                AuditFinding(
                    "shared_phone",
                    "high",
                    f"phone {g['phone'].iat[0]} is listed for {len(g)} outlets in "
                    f"{len(cities)} cities ({', '.join(cities[:8])}"
                    f"{', ...' if len(cities) > 8 else ''})",
                    ids[g.index].tolist(),
                )
            )

    # 2. Far from the city it claims.
    centres = _city_centres()
    for i in range(len(df)):
        row = df.iloc[i]
        city = str(row["city"]).strip()
        pts = centres.get(city)
        if pts is None or not city:
            continue
        n = len(pts)
        _, _, dist = _GEOD.inv(np.full(n, row["lon"]), np.full(n, row["lat"]), pts[:, 1], pts[:, 0])
        nearest_km = float(np.min(dist)) / 1000.0
        if nearest_km > far_km:
            findings.append(
                AuditFinding(
                    "far_from_city",
                    "high",
                    f"outlet {ids[i]} ({row['name']}) claims {city} but is "
                    f"{nearest_km:.0f} km from it",
                    [ids[i]],
                )
            )

    # 3. Same point or same address.
    if len(df) > 1:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree

        tree = cKDTree(unit_vectors(df["lat"].to_numpy(float), df["lon"].to_numpy(float)))
        chord = same_point_m / 6_371_008.8  # chord ~ arc at this scale
        pairs = tree.query_pairs(chord, output_type="ndarray")
        graph = coo_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(df), len(df))
        )
        _, label = connected_components(graph, directed=False)
        sizes = np.bincount(label)
        groups = {lab: np.flatnonzero(label == lab).tolist() for lab in np.flatnonzero(sizes > 1)}
        for m in groups.values():
            findings.append(
                AuditFinding(
                    "duplicate_location",
                    "medium",
                    f"{len(m)} outlets within {same_point_m:.0f} m of each other: "
                    + ", ".join(f"{ids[j]} ({df['name'].iat[j]})" for j in m[:6]),
                    ids[m].tolist(),
                )
            )
    addr = df["address"].map(_norm_address)
    for _addr, g in df[addr != ""].groupby(addr[addr != ""]):
        if len(g) >= 2:
            findings.append(
                AuditFinding(
                    "duplicate_address",
                    "medium",
                    f"{len(g)} outlets share the address {g['address'].iat[0]}",
                    ids[g.index].tolist(),
                )
            )

    # 4. Not authorized.
    na = df[~df["authorized"].to_numpy(dtype=bool)]
    if len(na):
        findings.append(
            AuditFinding(
                "not_authorized",
                "info",
                f"{len(na)} listing(s) are not authorized and are hidden from customers "
                "unless asked for",
                ids[na.index].tolist(),
            )
        )
    order = {"high": 0, "medium": 1, "info": 2}
    return sorted(findings, key=lambda f: order.get(f.severity, 3))


#: Severities from lowest to highest ("low" is accepted as another name for "info").
SEVERITIES = ("info", "medium", "high")
_SEVERITY_ALIASES = {"low": "info"}


def findings_at_or_above(findings: list[AuditFinding], level: str) -> list[AuditFinding]:
    """The findings whose severity is ``level`` (info|low, medium, high) or higher."""
    key = _SEVERITY_ALIASES.get(level.strip().lower(), level.strip().lower())
    if key not in SEVERITIES:
        from .errors import ConfigurationError

        raise ConfigurationError(
            f"unknown severity {level!r}; choose one of: low (= info), medium, high"
        )
    floor = SEVERITIES.index(key)
    rank = {name: i for i, name in enumerate(SEVERITIES)}
    return [f for f in findings if rank.get(f.severity, len(SEVERITIES)) >= floor]


def findings_frame(findings: list[AuditFinding]) -> pd.DataFrame:
    """Findings as a table (one row per finding, outlet ids joined by ';')."""
    return pd.DataFrame(
        [
            {
                "kind": f.kind,
                "severity": f.severity,
                "message": f.message,
                "outlets": len(f.outlet_ids),
                "outlet_ids": ";".join(f.outlet_ids),
            }
            for f in findings
        ],
        columns=["kind", "severity", "message", "outlets", "outlet_ids"],
    )
