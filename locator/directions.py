"""Directions and contact links for an outlet: AMap, Baidu, OpenStreetMap, ``tel:``.

Each Chinese map app takes coordinates in its own system, so the WGS-84 points of
the locator are converted here by :mod:`locator.crs` (at the edge, as everywhere):

* **AMap / Gaode** (GCJ-02), URI API ``navigation``:
  ``https://uri.amap.com/navigation?from=lon,lat,name&to=lon,lat,name&mode=car
  &coordinate=gaode&callnative=0&src=locator``. Without an origin, ``from`` is left
  out and AMap starts from the device's position.
* **Baidu** (BD-09), URI API ``direction``:
  ``https://api.map.baidu.com/direction?origin=latlng:lat,lng|name:..&destination=
  latlng:lat,lng|name:..&mode=driving&coord_type=bd09ll&output=html&src=webapp.locator``.
  Baidu's web direction page needs an origin; without one the link is Baidu's
  ``marker`` page for the outlet.
* **OpenStreetMap** (WGS-84): ``https://www.openstreetmap.org/directions?
  engine=fossgis_osrm_car&route=lat,lon;lat,lon`` (empty origin: the user picks one).

Names are percent-encoded (UTF-8, nothing left unencoded but letters, digits and
``-._~``); the URLs are plain strings: escape them with
:func:`locator.maps.escaping.escape_text` before putting them in HTML.

Many links, one conversion: :func:`project` converts arrays of WGS-84 points to
:class:`Ends` (WGS-84, GCJ-02 and BD-09 at once, one vectorised region test), and
:func:`directions_links` takes an :class:`Ends` wherever it takes a point. The API
projects every outlet once at start-up and each request's origin once, so a
``/v1/nearest`` answer costs no per-result coordinate conversion (it was 75 % of the
service's time per query).

:func:`tel_links` turns a phone cell into ``tel:`` links, one per number in it, each
the number's digits only (a leading ``+`` kept); a cell with no digits gives none.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, NamedTuple
from urllib.parse import quote

import numpy as np
from numpy.typing import ArrayLike

from .crs import gcj02_to_bd09, wgs84_to_gcj02
from .errors import ConfigurationError

__all__ = ["Destination", "Ends", "directions_links", "phone_links", "project", "tel_links"]

Point = tuple[float, float]  # (lat, lon), WGS-84


class Ends(NamedTuple):
    """One point in the three systems the links need (each as ``lat, lon``)."""

    lat: float
    lon: float
    gcj_lat: float
    gcj_lon: float
    bd_lat: float
    bd_lon: float


def project(lat: ArrayLike, lon: ArrayLike) -> list[Ends]:
    """WGS-84 points (arrays or scalars) as :class:`Ends`, converted in one vectorised
    pass (GCJ-02 only inside China, as :func:`locator.crs.wgs84_to_gcj02`; BD-09 from
    that). Each point is checked as :func:`directions_links` checks one."""
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    for y, x in zip(la.tolist(), lo.tolist(), strict=True):
        _point((y, x), "point")
    glo, gla = wgs84_to_gcj02(lo, la)
    blo, bla = gcj02_to_bd09(glo, gla)
    return [
        Ends(*row)
        for row in zip(
            la.tolist(),
            lo.tolist(),
            gla.tolist(),
            glo.tolist(),
            bla.tolist(),
            blo.tolist(),
            strict=True,
        )
    ]


def _ends(value: Any, name: str) -> Ends:
    if isinstance(value, Ends):
        return value
    lat, lon = _point(value, name)
    return project(lat, lon)[0]


def _point(value: Any, name: str) -> Point:
    try:
        lat, lon = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a (lat, lon) pair, got {value!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise ConfigurationError(f"invalid {name} {value!r}: lat/lon out of range")
    return lat, lon


def _q(text: Any) -> str:
    """Percent-encoded UTF-8 (a lone surrogate, which UTF-8 cannot hold, becomes ?)."""
    return quote(str(text or "").encode("utf-8", "replace"), safe="")


class Destination:
    """The destination half of the links to one point, built once (the API keeps one
    per outlet); :meth:`links` adds an origin. :func:`directions_links` is
    ``Destination(to, to_name).links(origin, origin_name)``."""

    __slots__ = ("_amap_to", "_baidu_marker", "_baidu_to", "_osm_to")

    def __init__(self, to: Point | Ends, name: str = "") -> None:
        tlat, tlon, glat, glon, blat, blon = _ends(to, "to")
        dest = _q(name)
        self._amap_to = (
            f"to={glon:.6f},{glat:.6f},{dest}&mode=car&coordinate=gaode&callnative=0&src=locator"
        )
        self._baidu_to = (
            f"&destination=latlng:{blat:.6f},{blon:.6f}%7Cname:{dest}"
            "&mode=driving&coord_type=bd09ll&output=html&src=webapp.locator"
        )
        self._baidu_marker = (
            f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}"
            f"&title={dest}&content={dest}&output=html&coord_type=bd09ll"
            "&src=webapp.locator"
        )
        self._osm_to = f"%3B{tlat:.6f},{tlon:.6f}"

    def links(self, origin: Point | Ends | None = None, origin_name: str = "") -> dict[str, str]:
        """``{"amap", "baidu", "osm"}`` links from ``origin`` (None: the device's own
        position for AMap, the outlet's marker for Baidu, an empty start for OSM)."""
        osm = "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&route="
        if origin is None:
            return {
                "amap": "https://uri.amap.com/navigation?" + self._amap_to,
                "baidu": self._baidu_marker,
                "osm": osm + self._osm_to,
            }
        olat, olon, oglat, oglon, oblat, oblon = _ends(origin, "origin")
        src = _q(origin_name or "起点")
        return {
            "amap": f"https://uri.amap.com/navigation?from={oglon:.6f},{oglat:.6f},{src}&"
            + self._amap_to,
            "baidu": "https://api.map.baidu.com/direction?origin="
            f"latlng:{oblat:.6f},{oblon:.6f}%7Cname:{src}" + self._baidu_to,
            "osm": f"{osm}{olat:.6f},{olon:.6f}{self._osm_to}",
        }


def directions_links(
    to: Point | Ends,
    *,
    origin: Point | Ends | None = None,
    to_name: str = "",
    origin_name: str = "",
) -> dict[str, str]:
    """``{"amap", "baidu", "osm"}`` links routing from ``origin`` to ``to`` (both
    WGS-84 ``(lat, lon)`` or already :func:`project`-ed :class:`Ends`; see the module
    docstring for each app's form)."""
    return Destination(to, to_name).links(origin, origin_name)


_SPLIT = re.compile(r"[/;,、，；|]|\s{2,}|\bor\b|或")


def phone_links(phone: Any) -> list[tuple[str, str]]:
    """``(number as written, tel: link)`` for each number in a phone cell (see
    :func:`tel_links`)."""
    if phone is None or (isinstance(phone, float) and math.isnan(phone)):
        return []
    text = unicodedata.normalize("NFKC", str(phone))
    out: dict[str, str] = {}
    for part in _SPLIT.split(text):
        digits = re.sub(r"\D", "", part)
        if digits:
            plus = "+" if part.strip().startswith("+") else ""
            out.setdefault(f"tel:{plus}{digits}", part.strip())
    return [(shown, link) for link, shown in out.items()]


def tel_links(phone: Any) -> list[str]:
    """``tel:`` links for the numbers in a phone cell (``0571-5550 0100 / 400-000-0000``
    gives two): each the number's digits only, a leading ``+`` kept."""
    return [link for _, link in phone_links(phone)]
