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
    "read_input",
    "validate_query",
]
