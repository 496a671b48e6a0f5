"""The map's own Leaflet elements: fast markers, refit-when-shown, the legend, "nearest to me".

Each is a small ``folium.MacroElement``. Their JavaScript lives in ``.js`` files beside
this module (``locator/maps/js/``, shipped as package data; ``tests/test_maps.py``
checks each with ``node --check``). A file defines one function; the element's Jinja
template is only a wrapper that includes the file and calls the function with the
parent map's variable and data written by :func:`~locator.maps.escaping._script_json`.
The file is passed to the template as a *value*, never as template source, and holds
no ``{{``, ``{%`` or ``{#`` (a test checks), so it is the same text after branca's
second rendering pass (see :mod:`locator.maps`).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import folium

from ..labels import both, message
from .escaping import _script_json

__all__ = ["GCJ02_JS", "js_source"]


@cache
def js_source(name: str) -> str:
    """The code of ``locator/maps/js/<name>`` (a package data file), without the
    ``//`` comment lines that open the file (they document it; pages need not carry them)."""
    lines = files(__package__).joinpath("js", name).read_text(encoding="utf-8").splitlines()
    while lines and lines[0].lstrip().startswith("//"):
        lines.pop(0)
    return "\n".join(lines) + "\n"


#: A JavaScript port of :func:`locator.crs.wgs84_to_gcj02` defining
#: ``locatorWgsToGcj(lat, lon) -> [lat, lon]``; tests/test_maps.py runs it in node
#: against the Python version.
GCJ02_JS = js_source("gcj02.js")


class _FastMarkers(folium.MacroElement):
    """Many CSS markers from one compact JSON array (the path for thousands of outlets).

    Each row is ``[lat, lon, css_classes, size_px, tooltip_html, popup_html]``. The CSS
    classes come from a fixed whitelist; tooltip and popup strings were built with
    :func:`escape_text`, and the array is embedded with ``<``, ``>``, ``&`` and ``'``
    as JSON ``\\u`` escapes, so nothing in it can end the script or run.
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.js }}
            var rows = {{ this.rows_json }};
            locatorMarkerRows({{ this._parent.get_name() }}, rows, {{ this.class_name_json }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], class_name: str):
        super().__init__()
        self._name = "FastMarkers"
        self.js = js_source("fast_markers.js")
        self.rows_json = _script_json(rows)
        self.class_name_json = _script_json(class_name)


class _FastCircles(folium.MacroElement):
    """Many circle markers from one compact JSON array (coverage gaps, listed cities):
    one element instead of a ``folium.CircleMarker`` + ``Tooltip`` per circle, each of
    which branca compiles as a Jinja template when the page is rendered.

    Each row is ``[lat, lon, radius_px, style_index, tooltip_html]``; ``styles`` are
    Leaflet path options (numbers, booleans, colours from the layer's code); tooltips
    were built with :func:`escape_text` and the arrays are embedded by
    :func:`_script_json`, so nothing in them can end the script or run.
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.js }}
            var rows = {{ this.rows_json }};
            var styles = {{ this.styles_json }};
            var parent = {{ this._parent.get_name() }};
            locatorCircleRows(parent, rows, styles, {{ this.class_name_json }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], styles: list[dict[str, Any]], class_name: str):
        super().__init__()
        self._name = "FastCircles"
        self.js = js_source("fast_circles.js")
        self.rows_json = _script_json(rows)
        self.styles_json = _script_json(styles)
        self.class_name_json = _script_json(class_name)


class _RefitWhenShown(folium.MacroElement):
    """Fit the bounds again once the map's container gets a real size.

    A map rendered while hidden (a Streamlit tab not yet shown, a collapsed section of a
    host page) has a 0x0 container, so Leaflet's ``fitBounds`` lands at the minimum
    zoom. A ``ResizeObserver`` re-fits when the container is resized, until the user
    moves or zooms the map (then their view wins).
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.js }}
            locatorRefitOnResize({{ this._parent.get_name() }}, {{ this.options_json }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, padding: int, max_zoom: int) -> None:
        super().__init__()
        self._name = "RefitWhenShown"
        self.js = js_source("refit.js")
        self.options_json = _script_json(
            {
                "bounds": [[float(v) for v in corner] for corner in bounds],
                "padding": int(padding),
                "maxZoom": int(max_zoom),
            }
        )


class _Legend(folium.MacroElement):
    """A static legend control (our own text only, never data)."""

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.js }}
            locatorAddLegend({{ this._parent.get_name() }}, {{ this.html_json }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.js = js_source("legend.js")
        self.html = html
        self.html_json = _script_json(html)


def _legend_html(
    outlets: bool,
    unauthorized: bool,
    gaps: bool,
    cities: bool,
    search: bool,
    lang: str | None = None,
) -> str:
    """The legend's rows, in ``lang`` (``"zh"``, ``"en"``) or, by default, both
    languages at once (for pages that serve both audiences)."""

    def say(key: str) -> str:
        return both(key) if lang is None else message(key, lang)

    rows = []
    if outlets or search:
        rows += [
            f'<i style="background:#1565c0"></i>{say("kind.service_center")}',
            f'<i style="background:#2e7d32"></i>{say("kind.repair_point")}',
        ]
    if unauthorized:
        rows.append(
            f'<i style="background:#bdbdbd;border:1px dashed #c62828"></i>{say("not_authorized")}'
        )
    if search:
        rows.append(f'<i style="background:#d81b60;border-radius:2px"></i>{say("legend.origin")}')
    if gaps:
        rows.append(f'<i style="background:#c62828;opacity:.5"></i>{say("legend.gap")}')
    if cities:
        ring = '<i style="border:3px solid {};background:#fff;box-sizing:border-box"></i>'
        rows.append(
            say("legend.city_covered")
            + " "
            + " ".join(
                ring.format(c) + t
                for c, t in (("#d73027", "0"), ("#fdae61", "50"), ("#1a9850", "100%"))
            )
        )
    return "<br>".join(rows)


class _LocateControl(folium.MacroElement):
    """A "nearest to me" button: browser position -> the k nearest authorized outlets.

    Runs entirely in the page (no server): the outlets' WGS-84 coordinates and escaped
    names are embedded as JSON; distances are great-circle (haversine on a sphere,
    within ~0.5 % of the WGS-84 geodesic the Python side uses) and labelled as
    straight-line estimates. On AMap tiles the position is converted to GCJ-02
    before it is drawn. Needs ``allow="geolocation"`` when embedded in an iframe.
    """

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.gcj_js }}
            {{ this.js }}
            var rows = {{ this.rows_json }};  // [lat, lon, dlat, dlon, name_html]
            var show = locatorNearestButton({{ this._parent.get_name() }}, rows,
                                            {{ this.options_json }});
            window.locatorShowNearest = show;  // for tests and host pages
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], *, gcj: bool, k: int):
        super().__init__()
        self._name = "LocateControl"
        self.js = js_source("locate.js")
        self.rows_json = _script_json(rows)
        self.gcj = gcj
        self.k = k
        self.gcj_js = GCJ02_JS if gcj else ""
        self.heading = "Nearest outlets 最近的网点"
        self.note = "Straight-line distance; the road is longer. 直线距离"
        self.label = "Nearest outlets to me 离我最近"
        self.unavailable = "Location unavailable 无法定位"
        self.options_json = _script_json(
            {
                "gcj": self.gcj,
                "k": self.k,
                "heading": self.heading,
                "note": self.note,
                "label": self.label,
                "unavailable": self.unavailable,
            }
        )
