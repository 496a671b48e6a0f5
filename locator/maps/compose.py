"""Composition: :func:`build_map` puts a basemap, the layers, a legend and a fit together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import pandas as pd

from ..labels import both, message
from ._cells import _bool
from .base import base_map, normalize_tiles
from .choropleth import choropleth_legend, districts_layer
from .elements import _Legend, _legend_html, _RefitWhenShown
from .layers import (
    SupportsGeoJSON,
    cities_layer,
    gaps_layer,
    locate_control,
    outlets_layer,
    search_layer,
    service_areas_layer,
)
from .load import load_layer, load_legend_html


def build_map(
    outlets: pd.DataFrame | None = None,
    *,
    tiles: str | None = "osm",
    service_areas: Mapping[str, Any] | SupportsGeoJSON | None = None,
    gaps: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    districts: Mapping[str, Any] | Any | None = None,
    load: pd.DataFrame | None = None,
    origin: tuple[float, float] | None = None,
    results: pd.DataFrame | None = None,
    origin_label: str = "",
    cluster: bool = True,
    legend: bool = True,
    fit: bool = True,
    locate: bool = False,
    lang: str | None = None,
    width: str | int = "100%",
    height: str | int = "100%",
) -> folium.Map:
    """A complete map: basemap, the given layers, a layer control, a legend, fitted.

    Every argument is optional data; layers are drawn bottom to top as the district
    choropleth (``districts``: see :func:`~locator.maps.choropleth.districts_layer`),
    service areas, cities, gaps, outlets, outlet load (``load``: see
    :func:`~locator.maps.load.load_layer`), search (origin + ``results``). All
    coordinates WGS-84 in; converted to GCJ-02 when ``tiles="amap"``. ``locate`` adds
    the "nearest to me" button (:func:`locate_control`) when there are outlets. ``lang`` (``"zh"``,
    ``"en"``) writes the legend and the layer names in that language only; by default
    they are bilingual.
    """
    key = normalize_tiles(tiles)
    m = base_map(tiles=key, width=width, height=height)

    def named(layer: str) -> str:  # the layer control's name, in ``lang`` or both
        return both(f"layer.{layer}") if lang is None else message(f"layer.{layer}", lang)

    layers: list[folium.FeatureGroup] = []
    if districts is not None:
        layers.append(districts_layer(districts, tiles=key))
    if service_areas is not None:
        layers.append(service_areas_layer(service_areas, tiles=key, name=named("service_areas")))
    if cities is not None and len(cities):
        layers.append(cities_layer(cities, tiles=key, name=named("cities")))
    if gaps is not None and len(gaps):
        layers.append(gaps_layer(gaps, tiles=key, name=named("gaps")))
    if outlets is not None:
        layers.append(outlets_layer(outlets, tiles=key, cluster=cluster, name=named("outlets")))
    if load is not None:
        layers.append(load_layer(load, tiles=key, name=named("load"), lang=lang or "zh"))
    if origin is not None:
        res = results if results is not None else pd.DataFrame(columns=["lat", "lon"])
        layers.append(
            search_layer(origin, res, origin_label=origin_label, tiles=key, name=named("search"))
        )
    for layer in layers:
        layer.add_to(m)
    if len(layers) > 1:
        folium.LayerControl(collapsed=False).add_to(m)
    if legend and layers:
        _add_legend(m, outlets, results, gaps, cities, origin, districts, lang, load is not None)
    if locate and outlets is not None and len(outlets):
        m.add_child(locate_control(outlets, tiles=key))
    if fit:
        _fit(m, layers, origin)
    return m


def _add_legend(
    m: folium.Map,
    outlets: pd.DataFrame | None,
    results: pd.DataFrame | None,
    gaps: pd.DataFrame | None,
    cities: pd.DataFrame | None,
    origin: tuple[float, float] | None,
    districts: Any,
    lang: str | None,
    load: bool = False,
) -> None:
    """The legend of what :func:`build_map` drew (the choropleth's scale first)."""
    shown = [x for x in (outlets, results) if x is not None and "authorized" in x.columns]
    html = _legend_html(
        outlets is not None,
        any((~x["authorized"].map(_bool)).any() for x in shown),
        gaps is not None and len(gaps) > 0,
        cities is not None and len(cities) > 0,
        origin is not None,
        lang,
    )
    if districts is not None:
        html = "<br>".join(x for x in (choropleth_legend(), html) if x)
    if load:
        html = "<br>".join(x for x in (load_legend_html(lang or "zh"), html) if x)
    if html:
        m.add_child(_Legend(html))


def _fit(m: folium.Map, layers: list[folium.FeatureGroup], origin: Any) -> None:
    """Fit the map to its layers (to the search results when there is an origin), also
    when it is first shown in a hidden tab."""
    # Search results take priority: zoom to what the user asked about.
    chosen = [layers[-1]] if origin is not None and layers else layers
    boxes = [b for b in (getattr(x, "_locator_bounds", None) for x in chosen) if b]
    if boxes:
        south = min(b[0][0] for b in boxes)
        west = min(b[0][1] for b in boxes)
        north = max(b[1][0] for b in boxes)
        east = max(b[1][1] for b in boxes)
        m.fit_bounds([[south, west], [north, east]], padding=(20, 20), max_zoom=13)
        m.add_child(_RefitWhenShown([[south, west], [north, east]], padding=20, max_zoom=13))
