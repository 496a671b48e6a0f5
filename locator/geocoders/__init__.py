"""Geocoders: the offline gazetteer geocoder, online services behind a cache, batch runs.

Import from :mod:`locator.geocode` (the public face); this package holds the parts.
"""

from __future__ import annotations
