"""HTTP API and the embeddable map page (FastAPI on uvicorn).

:func:`create_app` builds the ASGI app from an outlets table (the bundled *synthetic*
sample by default). Everything that does not depend on the request is built once, at
startup: the exact geodesic :class:`~locator.index.OutletIndex`, JSON-ready outlet
records and GeoJSON features. The geocoder (with its gazetteer) and the
radius-independent :class:`~locator.coverage.CoverageModel` are built once, in the
background from the app's lifespan (or by the first request that needs them, under a
lock, whichever comes first).

Read endpoints (all ``GET``, public unless ``private``; see ``/docs`` for the OpenAPI
description with examples; the write endpoints and their tokens are in
:mod:`.routes_write` and :mod:`.auth`):

* ``/healthz`` - readiness (``503`` ``ready: false`` while the geocoder and coverage
  model are built in the background at start-up) and what is loaded;
* ``/v1/nearest`` - the ``k`` nearest authorized outlets to ``lat``/``lon`` or to a
  geocoded ``q``;
* ``/v1/geocode`` - the offline geocoder's answer for ``q`` (ambiguity and candidates
  included);
* ``/v1/outlets`` - outlets as an RFC 7946 FeatureCollection (``city``, ``kind``,
  ``bbox`` filters);
* ``/v1/coverage`` - coverage figures and geodesic service areas at ``radius_km``;
* ``/embed/map`` - the self-contained map page (no CDN) for ``<iframe>`` embedding.

Parameters
==========
* Coordinates (``lat``/``lon``, ``bbox``) are WGS-84 unless ``coord_sys=gcj02`` (AMap,
  Tencent) or ``bd09`` (Baidu) says otherwise; they are converted on input and every
  coordinate in an answer is WGS-84 (``"coord_sys": "wgs84"``).
* Repeated filters: ``kind=a&kind=b`` (or ``kind=a,b``) = outlets of **any** of the
  kinds; ``category=a&category=b`` (or ``a,b``) = outlets repairing **all** of the
  categories, as :meth:`OutletIndex.nearest` and ``locator nearest`` do.
* An unknown parameter is a ``422`` naming it (``unknown parameter 'foo'``), so a typo
  (``coordsys=gcj02``) is never silently ignored.

Hardening
=========
* Every parameter is validated (finite numbers, ranges, lengths, known names). A bad
  one gets ``422`` and ``{"error": "invalid parameter", "parameter": ..., "reason": ...}``;
  the body never echoes the input (FastAPI's default does, and fails on NaN).
* CPU work (index search, geocoding, coverage, map pages) runs in sync endpoints,
  i.e. in the server's thread pool, never on the event loop.
* API keys of online geocoders are redacted from every message and log record
  (:mod:`locator.geocoders.redact`).
* Every JSON body is strict JSON (:class:`StrictJSONResponse`): NaN/inf become ``null``.
* Request bodies are limited (:class:`BodySizeLimitMiddleware`, ``413``): 16 KiB for
  the write endpoints' JSON, more for ``/v1/imports`` only. CORS is off unless an
  allow-list is given. Every response carries ``X-Content-Type-Options: nosniff``;
  ``/embed/map`` also a Content-Security-Policy with a configurable
  ``frame-ancestors`` allow-list.

Drive times are **estimates** (see :class:`~locator.drive.DriveTimeModel`).

Embedding in a web site
=======================
Run ``locator serve --frame-ancestors https://www.example.com --cors
https://www.example.com`` behind the site's reverse proxy (TLS, rate limits), then::

    <iframe src="https://locator.example.com/embed/map?city=苏州&tiles=osm"
            title="Service outlet map" width="100%" height="480" style="border:0"
            loading="lazy" sandbox="allow-scripts" allow="geolocation"></iframe>

    <script>
    fetch("https://locator.example.com/v1/nearest?q=" + encodeURIComponent(address) + "&k=3")
      .then(r => r.json())
      .then(d => d.results.forEach(o => console.log(o.name, o.distance_km, o.drive_minutes)));
    </script>

The map page works without the Python app too: :func:`locator.embed.embed_page` writes
the same self-contained HTML to a file any web server can host.

Layout
======
* :mod:`.service` - :class:`LocatorService`, what the endpoints share (index, records,
  city names, geocoder, coverage model, caches); no FastAPI import.
* :mod:`.params` - query parameter types (validation, OpenAPI descriptions and
  examples) and response examples.
* :mod:`.routes` - the router and its endpoints.
* :mod:`.routes_write` - the write endpoints on the network store (tokens needed).
* :mod:`.auth` - bearer tokens, roles, the failed-sign-in rate limit, private mode.
* :mod:`.security` - body-size limit, CORS origins, ``frame-ancestors`` and the
  Content-Security-Policy header (built by :func:`locator.embed.content_security_policy`).
* :mod:`.factory` - :func:`create_app`, :func:`create_app_from_env`, error handlers,
  lifespan. (Not ``app.py``: a submodule of that name would hide the lazy
  ``locator.api.app`` below.)

The map page itself is assembled by :mod:`locator.pages`, as for ``locator map`` and
the app.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..pages import LAYERS, SAMPLE_NOTE
from ..pages import MAX_GAPS as EMBED_MAX_GAPS
from .factory import create_app, create_app_from_env
from .routes import StrictJSONResponse, router
from .security import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from .service import (
    MAX_API_RADIUS_KM,
    MAX_HEAVY,
    MAX_K,
    MAX_Q_LENGTH,
    ApiError,
    Geocoder,
    LocatorService,
    dumps,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "EMBED_MAX_GAPS",
    "LAYERS",
    "MAX_API_RADIUS_KM",
    "MAX_HEAVY",
    "MAX_K",
    "MAX_Q_LENGTH",
    "SAMPLE_NOTE",
    "ApiError",
    "BodySizeLimitMiddleware",
    "Geocoder",
    "LocatorService",
    "StrictJSONResponse",
    "create_app",
    "create_app_from_env",
    "dumps",
    "router",
]

_default_app: FastAPI | None = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    """``locator.api.app``: the default app (bundled data, env settings), built on first
    access so that importing this module stays cheap (``uvicorn locator.api:app``)."""
    global _default_app
    if name == "app":
        with _default_lock:
            if _default_app is None:
                _default_app = create_app_from_env()
        return _default_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
