"""The load layer: outlets as circles sized by orders per day, coloured by overload.

Takes :meth:`locator.load.LoadReport.frame` joined with the outlets' ``lat``/``lon``
(WGS-84; projected for the tiles like every layer) and returns a ``folium.FeatureGroup``;
every text (outlet name, city) goes through :func:`~locator.maps.escaping.escape_text`.
"""

from __future__ import annotations

import math
from typing import Any

import folium
import pandas as pd

from ..labels import message
from ._cells import _bounds, _coords, _float, _records, _text
from .base import _project, _with_css
from .elements import _FastCircles
from .escaping import escape_text

__all__ = ["LOAD_COLORS", "load_color", "load_layer", "load_legend_html"]

#: Fill colour by state: overloaded, busy (p95 above 80 % of capacity), within, unknown.
LOAD_COLORS = {"over": "#c62828", "busy": "#ef6c00", "ok": "#2e7d32", "none": "#1565c0"}


def load_color(utilisation: object, overloaded: object) -> str:
    """The colour of one outlet (see :data:`LOAD_COLORS`)."""
    if overloaded is True:
        return LOAD_COLORS["over"]
    u = _float(utilisation)
    if not math.isfinite(u):
        return LOAD_COLORS["none"]
    return LOAD_COLORS["busy"] if u > 0.8 else LOAD_COLORS["ok"]


def _radius(per_day: float, top: float) -> float:
    """3-24 px, area ~ orders per day (relative to the busiest outlet)."""
    if not math.isfinite(per_day) or per_day <= 0 or top <= 0:
        return 3.0
    return 3.0 + 21.0 * math.sqrt(per_day / top)


def load_layer(
    load: pd.DataFrame,
    *,
    tiles: str | None = "osm",
    name: str = "Load 负荷",
    lang: str = "zh",
    show: bool = True,
) -> folium.FeatureGroup:
    """One circle per outlet with orders (``orders_total > 0``), sized by
    ``orders_per_day_mean`` and coloured by :func:`load_color`; the tooltip gives the
    name, city, orders per day (mean, p95), capacity and utilisation."""
    frame = load[load["orders_total"].fillna(0) > 0].reset_index(drop=True)
    lat, lon = _coords(frame, "load")
    plon, plat = _project(lon, lat, tiles)
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    per_day = frame["orders_per_day_mean"].astype(float)
    top = float(per_day.max()) if len(per_day) else 0.0
    rows: list[list[Any]] = []
    styles: dict[str, int] = {}  # colour -> index in the shared styles
    for i, row in enumerate(_records(frame)):
        over = row.get("overloaded")
        over = bool(over) if over is not None and not pd.isna(over) else None
        bits = [f"<b>{escape_text(_text(row.get('name')) or _text(row.get('outlet_id')))}</b>"]
        if _text(row.get("city")):
            bits.append(escape_text(_text(row.get("city"))))
        bits.append(
            message(
                "load.tip_orders",
                lang,
                mean=f"{_float(row.get('orders_per_day_mean')):.1f}",
                p95=f"{_float(row.get('orders_per_day_p95')):.1f}",
            )
        )
        cap = _float(row.get("capacity_per_day"))
        if math.isfinite(cap):
            util = _float(row.get("utilisation_p95"))
            bits.append(message("load.tip_capacity", lang, cap=f"{cap:g}", use=f"{100 * util:.0f}"))
        if over:
            bits.append(f"<b>{message('load.overloaded', lang)}</b>")
        color = load_color(row.get("utilisation_p95"), over)
        if color not in styles:
            styles[color] = len(styles)
        radius = round(_radius(_float(row.get("orders_per_day_mean")), top), 2)
        rows.append([round(float(plat[i]), 6), round(float(plon[i]), 6), radius,
                     styles[color], "<br>".join(bits)])  # fmt: skip
    if rows:  # one compact element, not a templated CircleMarker + Tooltip per outlet
        shared = [{"color": c, "weight": 1.0, "opacity": 0.9, "fill": True,
                   "fillColor": c, "fillOpacity": 0.45} for c in styles]  # fmt: skip
        group.add_child(_FastCircles(rows, shared, "locator-load"))
    group._locator_bounds = _bounds(plat, plon)  # type: ignore[attr-defined]
    return group


def load_legend_html(lang: str = "zh") -> str:
    """The legend rows of :func:`load_layer` (size and colours)."""
    dot = '<i style="background:{};opacity:.7;border-radius:50%"></i>{}'
    return "<br>".join(
        [
            message("load.legend_size", lang),
            dot.format(LOAD_COLORS["over"], message("load.legend_over", lang)),
            dot.format(LOAD_COLORS["busy"], message("load.legend_busy", lang)),
            dot.format(LOAD_COLORS["ok"], message("load.legend_ok", lang)),
            dot.format(LOAD_COLORS["none"], message("load.legend_none", lang)),
        ]
    )
