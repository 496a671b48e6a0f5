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

:func:`tel_links` turns a phone cell into ``tel:`` links, one per number in it, each
the number's digits only (a leading ``+`` kept); a cell with no digits gives none.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from .crs import wgs84_to_bd09, wgs84_to_gcj02
from .errors import ConfigurationError

__all__ = ["directions_links", "phone_links", "tel_links"]

Point = tuple[float, float]  # (lat, lon), WGS-84


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


def directions_links(
    to: Point,
    *,
    origin: Point | None = None,
    to_name: str = "",
    origin_name: str = "",
) -> dict[str, str]:
    """``{"amap", "baidu", "osm"}`` links routing from ``origin`` to ``to`` (both
    WGS-84 ``(lat, lon)``; see the module docstring for each app's form)."""
    tlat, tlon = _point(to, "to")
    glon, glat = wgs84_to_gcj02(tlon, tlat)
    blon, blat = wgs84_to_bd09(tlon, tlat)
    dest_name = _q(to_name)
    src_name = _q(origin_name or "起点")
    amap = ["https://uri.amap.com/navigation?"]
    if origin is not None:
        olat, olon = _point(origin, "origin")
        oglon, oglat = wgs84_to_gcj02(olon, olat)
        oblon, oblat = wgs84_to_bd09(olon, olat)
        amap.append(f"from={oglon:.6f},{oglat:.6f},{src_name}&")
        baidu = (
            f"https://api.map.baidu.com/direction?origin=latlng:{oblat:.6f},{oblon:.6f}"
            f"%7Cname:{src_name}&destination=latlng:{blat:.6f},{blon:.6f}%7Cname:{dest_name}"
            "&mode=driving&coord_type=bd09ll&output=html&src=webapp.locator"
        )
        osm_from = f"{olat:.6f},{olon:.6f}"
    else:
        baidu = (
            f"https://api.map.baidu.com/marker?location={blat:.6f},{blon:.6f}"
            f"&title={dest_name}&content={dest_name}&output=html&coord_type=bd09ll"
            "&src=webapp.locator"
        )
        osm_from = ""
    amap.append(
        f"to={glon:.6f},{glat:.6f},{dest_name}&mode=car&coordinate=gaode&callnative=0&src=locator"
    )
    osm = (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
        f"&route={osm_from}%3B{tlat:.6f},{tlon:.6f}"
    )
    return {"amap": "".join(amap), "baidu": baidu, "osm": osm}


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
    """``tel:`` links for the numbers in a phone cell (``0571-8888 0000 / 400-000-0000``
    gives two): each the number's digits only, a leading ``+`` kept."""
    return [link for _, link in phone_links(phone)]
