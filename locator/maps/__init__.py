"""Pure map builders: data in, folium objects out.

Nothing here loads a file: callers pass DataFrames / GeoJSON dicts (outlets from
:func:`locator.data.load_outlets`, coverage tables from :mod:`locator.coverage`)
and get back ``folium.Map`` / ``folium.FeatureGroup`` objects that compose with
``add_to``. :mod:`locator.embed` turns a map into one self-contained HTML page.

Three rules hold for every builder:

* **Coordinates** arrive in WGS-84. With ``tiles="amap"`` (AMap/Gaode tiles are
  GCJ-02) every coordinate drawn - markers, lines, polygons, circles - is
  converted to GCJ-02 first; otherwise it is drawn as is. Pass the same ``tiles``
  value to :func:`base_map` and to each layer builder (or use :func:`build_map`,
  which does that for you).
* **Text** from data or users goes through :func:`escape_text` before it reaches a
  popup, tooltip, GeoJSON property or layer name. folium inserts these as live HTML
  inside JavaScript template literals (and Leaflet's layer control uses innerHTML),
  so the escape covers both contexts. Data embedded as JSON in a script goes through
  :func:`_script_json` (both in :mod:`~locator.maps.escaping`). These two functions
  are the only way data enters a map.
* **No data is ever template source.** branca renders each element's script macro,
  wraps the *rendered text* in a new ``Element`` and Jinja-compiles it again
  (``MacroElement.render``); folium's ``Popup``, ``Map`` and ``GeoJson`` do the same.
  So text that survived the first pass is parsed as a Jinja template on the second:
  ``{{ 7*7 }}`` in an outlet name or a query became ``49``, ``{{`` a 500, and a
  ``lipsum.__globals__`` payload ran shell commands on the server. The fix is in the
  two functions above, not at call sites: :func:`escape_text` turns ``{`` and ``}``
  into the HTML references ``&#123;``/``&#125;`` (the browser shows the braces) and
  :func:`_script_json` writes a ``{``, ``%`` or ``#`` that follows a ``{`` as a JSON
  ``\\u`` escape, so neither can ever emit ``{{``, ``{%`` or ``{#`` - the only
  sequences that open a Jinja tag - whatever it is given. GeoJSON property *keys*
  are never data (only the known tooltip fields are kept). As defence in depth, the
  figure made by :func:`base_map` keeps every rendered fragment branca adds to the
  page's header, body and script verbatim (:class:`_VerbatimSlot`, in
  :mod:`~locator.maps.base`), so even text that
  bypassed the escape would be shown, not evaluated. This cannot regress silently:
  ``tests/test_hostile.py`` sends the template payloads (and the rest of the shared
  hostile corpus) through every builder, the embed page, the API, the CLI and the
  app, and a unit test shows an unescaped folium element rendered literally.
* **No CDN-only assets**: maps use plain Leaflet (+ jQuery, which folium's popups
  need, + Leaflet.markercluster). Markers are CSS-styled ``L.divIcon``s and
  circle markers, never Font Awesome / Bootstrap icons, so :mod:`locator.embed` can
  inline every asset from the ``xstatic`` packages.

Layout: :mod:`~locator.maps.escaping` (the two functions above),
:mod:`~locator.maps.base` (tiles, datums, assets, :func:`base_map`),
:mod:`~locator.maps.outlines` (the offline province/prefecture base layer every
:func:`base_map` gets), :mod:`~locator.maps.choropleth` (coverage by district),
:mod:`~locator.maps.layers` (the layer builders, popups, directions links),
:mod:`~locator.maps.elements` (the map's own Leaflet controls; their JavaScript is in
``locator/maps/js/*.js``, package data), :mod:`~locator.maps.compose`
(:func:`build_map`). Labels of kinds and categories come from :mod:`locator.labels`.
Import from ``locator.maps``; the submodules are an implementation detail.
"""

from __future__ import annotations

from ..labels import CATEGORY_LABELS, KIND_LABELS

# Besides __all__, a few names stay importable from here as before (JQUERY_JS,
# GCJ02_JS, _Verbatim, _VerbatimSlot, _escape_tree, _script_json, _share_color):
# locator.embed and the tests use them. Hence the noqa: F401 below.
from .base import (  # noqa: F401
    JQUERY_JS,
    LEAFLET_CSS,
    LEAFLET_JS,
    TILES,
    TileSpec,
    _Verbatim,
    _VerbatimSlot,
    base_map,
    display_coord_sys,
    normalize_tiles,
)
from .choropleth import choropleth_legend, districts_layer
from .compose import build_map
from .elements import GCJ02_JS  # noqa: F401
from .escaping import _escape_tree, _script_json, escape_text  # noqa: F401
from .layers import (
    FAST_THRESHOLD,
    SupportsGeoJSON,
    _share_color,  # noqa: F401
    cities_layer,
    directions_links,
    gaps_layer,
    locate_control,
    outlet_popup_html,
    outlets_layer,
    search_layer,
    service_areas_layer,
)
from .load import load_layer

__all__ = [
    "CATEGORY_LABELS",
    "FAST_THRESHOLD",
    "KIND_LABELS",
    "LEAFLET_CSS",
    "LEAFLET_JS",
    "TILES",
    "SupportsGeoJSON",
    "TileSpec",
    "base_map",
    "build_map",
    "choropleth_legend",
    "cities_layer",
    "directions_links",
    "display_coord_sys",
    "districts_layer",
    "escape_text",
    "gaps_layer",
    "load_layer",
    "locate_control",
    "normalize_tiles",
    "outlet_popup_html",
    "outlets_layer",
    "search_layer",
    "service_areas_layer",
]
