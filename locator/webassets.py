"""Serve Leaflet and friends from the local ``xstatic-*`` wheels instead of a CDN.

The Streamlit app renders maps through ``streamlit-folium``, whose front end loads
each map element's ``default_js``/``default_css`` URLs: CDN links by default, which
fail on intranets and offline. :func:`export_assets` writes the bundled files
(:func:`locator.embed.asset_text`: Leaflet, jQuery, Leaflet.markercluster, with
Leaflet's images already inlined as ``data:`` URIs) into a folder that Streamlit
serves (``server.enableStaticServing``), and :func:`localize_map` points every
element of a map at those local copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium

from .errors import ConfigurationError
from .outputs import write_text

_EXT = {"js": ".js", "css": ".css"}


def _asset_names() -> dict[str, str]:
    """Asset name -> file name in the export folder."""
    from .embed import _ASSETS

    return {name: name + _EXT[kind] for name, (_, _, kind) in _ASSETS.items()}


def export_assets(folder: str | Path) -> dict[str, Path]:
    """Write every bundled asset into ``folder`` (atomically; unchanged files are kept).

    Returns ``{asset name: path}``. Safe to call at every app start.
    """
    from .embed import asset_text

    out: dict[str, Path] = {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, filename in _asset_names().items():
        text = asset_text(name)
        path = folder / filename
        if not path.exists() or _digest(path.read_bytes()) != _digest(text.encode("utf-8")):
            write_text(path, text)
        out[name] = path
    return out


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localize_map(m: folium.Map, base_url: str) -> folium.Map:
    """Point every JS/CSS link of ``m`` and its children at ``base_url/<asset file>``.

    ``base_url`` is where :func:`export_assets`' folder is served (for Streamlit's
    static serving of ``./static/vendor``: ``"/app/static/vendor"``). Raises
    :class:`ConfigurationError` for a link with no local copy (never a silent CDN use).
    Modifies and returns ``m``.
    """
    from .embed import _url_to_asset

    known = _url_to_asset()
    files = _asset_names()
    base = base_url.rstrip("/")

    def swap(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
        new = []
        for name, url in links:
            if url.startswith(base):
                new.append((name, url))
                continue
            asset = known.get(url)
            if asset is None:
                raise ConfigurationError(f"no local copy of {url} ({name})")
            new.append((name, f"{base}/{files[asset]}"))
        return new

    for el in _walk(m):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                # An instance attribute shadows the class-level list (never mutate that).
                setattr(el, attr, swap(list(links)))
    return m
