"""Geocoding: an offline geopy-compatible geocoder, online geocoders, cache and batch.

* :class:`OfflineGeocoder`: Chinese addresses and place names (Chinese, pinyin,
  English) to WGS-84 with no network; ambiguity reported, never silently resolved.
* :func:`get_geocoder`: ``"offline"`` or an online service (``nominatim``, ``photon``,
  ``arcgis``, ``baidu``) behind a persistent cache, the service's rate policy and
  errors that tell a failure from "not found".
* :func:`geocode_batch` / :func:`geocode_file`: resumable batch geocoding.

The implementation lives in :mod:`locator.geocoders`; this module is the public face.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import GeocoderServiceError
from .geocoders.batch import (
    RESULT_COLUMNS,
    BatchReport,
    RowResult,
    checkpoint_path,
    geocode_batch,
    geocode_file,
    read_input,
)
from .geocoders.cache import ENV_CACHE, GeocodeCache, default_cache_path, normalize_key
from .geocoders.offline import MAX_QUERY_LENGTH, OfflineGeocoder, Resolution, validate_query
from .geocoders.online import (
    ENV_USER_AGENT,
    SERVICES,
    GeocoderRefused,
    ServiceGeocoder,
    ServicePolicy,
    get_geocoder,
)

__all__ = [
    "ENV_CACHE",
    "ENV_USER_AGENT",
    "MAX_QUERY_LENGTH",
    "RESULT_COLUMNS",
    "SERVICES",
    "BatchReport",
    "GeocodeCache",
    "GeocoderRefused",
    "OfflineGeocoder",
    "Resolution",
    "RowResult",
    "ServiceGeocoder",
    "ServicePolicy",
    "checkpoint_path",
    "default_cache_path",
    "geocode_batch",
    "geocode_file",
    "get_geocoder",
    "normalize_key",
    "origin_from_location",
    "read_input",
    "renamed_note",
    "validate_query",
]


def origin_from_location(location: Any, query: str | None = None) -> dict[str, Any]:
    """The search origin a geopy-style ``Location`` stands for, as the HTTP API,
    ``locator nearest`` and the app report it.

    Keys: ``query``, ``lat``/``lon`` (WGS-84, finite, in range), ``address`` (``None``
    when blank), ``province``, ``city``, ``district``, ``adcode``, ``level`` and
    ``source`` from ``location.raw`` (``None`` when absent), ``ambiguous`` (bool),
    ``candidates`` (a list) and ``renamed_from`` (``{"name", "successor", "year"}`` when
    the query named a former division, else ``None``; :func:`renamed_note` words it).
    Raises :class:`~locator.errors.GeocoderServiceError` when the location has no valid
    coordinates (a geocoder bug, not a bad query).
    """
    try:
        lat, lon = float(location.latitude), float(location.longitude)
    except (AttributeError, TypeError, ValueError) as err:
        raise GeocoderServiceError("malformed geocoder result") from err
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise GeocoderServiceError("geocoder returned invalid coordinates")
    raw = getattr(location, "raw", None)
    raw = raw if isinstance(raw, Mapping) else {}
    candidates = raw.get("candidates") or []
    if not isinstance(candidates, list | tuple):
        candidates = [candidates]
    address = getattr(location, "address", None)
    if isinstance(address, float) and math.isnan(address):
        address = None
    return {
        "query": query,
        "lat": lat,
        "lon": lon,
        "address": str(address) if address is not None and str(address).strip() else None,
        "province": raw.get("province"),
        "city": raw.get("city"),
        "district": raw.get("district"),
        "adcode": raw.get("adcode"),
        "level": raw.get("level"),
        "ambiguous": bool(raw.get("ambiguous", False)),
        "candidates": list(candidates),
        "source": raw.get("source"),
        "renamed_from": _renamed(raw.get("renamed_from")),
    }


def _renamed(value: Any) -> dict[str, Any] | None:
    """A geocoder's ``renamed_from`` as ``{"name", "successor", "year"}``, or None."""
    if not isinstance(value, Mapping) or not value.get("name") or not value.get("successor"):
        return None
    year = value.get("year")
    return {
        "name": str(value["name"]),
        "successor": str(value["successor"]),
        "year": int(year) if isinstance(year, int | float) and math.isfinite(year) else None,
    }


def renamed_note(renamed: Mapping[str, Any] | None) -> str | None:
    """How every front end words a former division: ``下城区 is now 拱墅区 (since 2021)``.

    ``None`` when nothing was renamed. The text holds names from the data: callers
    escape it for their sink (terminal, HTML, Markdown) as any other text."""
    renamed = _renamed(renamed)
    if renamed is None:
        return None
    since = f" (since {renamed['year']})" if renamed["year"] else ""
    return f"{renamed['name']} is now {renamed['successor']}{since}"
