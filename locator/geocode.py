"""Geocoding: an offline geopy-compatible geocoder, online geocoders, cache and batch.

The implementation lives in :mod:`locator.geocoders`; this module is the public face.
"""

from __future__ import annotations

from .geocoders.offline import MAX_QUERY_LENGTH, OfflineGeocoder, Resolution, validate_query

__all__ = ["MAX_QUERY_LENGTH", "OfflineGeocoder", "Resolution", "validate_query"]
