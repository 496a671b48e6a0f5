"""locator: find the nearest authorized after-sales outlet and measure network coverage.

The public API is re-exported here. Names are imported lazily so that
``import locator`` stays fast (the app, the CLI and the HTTP API all start from it).
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__ as __version__

_EXPORTS: dict[str, str] = {
    # errors
    "LocatorError": "errors",
    "DataError": "errors",
    "GeocodeError": "errors",
    "GeocoderServiceError": "errors",
    "ConfigurationError": "errors",
    "Problem": "errors",
    # data
    "load_cities": "data",
    "load_places": "data",
    "load_outlets": "data",
    "load_network": "data",
    "validate_outlets": "data",
    # the outlet contract
    "Network": "network",
    "outlets_frame": "network",
    "audit_outlets": "audit",
    "AuditFinding": "audit",
    # "is this listing authorized?" (``locator.verify`` is the module)
    "verify_listing": "verify",
    "VerifyResult": "verify",
    # geocoding
    "OfflineGeocoder": "geocode",
    "get_geocoder": "geocode",
    # nearest
    "OutletIndex": "index",
    "DriveTimeModel": "drive",
    "assign_dask": "batch_dask",
    # coverage
    "CoverageModel": "coverage",
    "coverage_report": "coverage",
    "suggest_sites": "coverage",
    "service_areas": "coverage",
    # load from orders
    "outlet_load": "load",
    "LoadReport": "load",
    # maps and embeddable pages
    "build_map": "maps",
    "escape_text": "maps",
    "embed_page": "embed",
    "iframe_snippet": "embed",
    # coordinate systems
    "crs": "crs",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'locator' has no attribute {name!r}")
    mod = importlib.import_module(f".{module}", __name__)
    value = mod if name == module else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
