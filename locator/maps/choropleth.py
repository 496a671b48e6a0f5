"""The district choropleth: share of population within reach, per district.

:func:`districts_layer` draws the rows of a coverage report asked ``by="district"``
(:class:`locator.coverage.DistrictCoverage`) on the district polygons, coloured by
``share_covered`` (red 0 % -> amber 50 % -> green 100 %), grey and hatched-looking
(light, dashed outline) where the district has **no data** (no place of the demand
layer inside it: unknown, not 0 %). Hovering a district shows a card: the district
(with its prefecture and province), population, covered, the nearest authorized
outlet and its distance. :func:`choropleth_legend` is the matching legend.

Every string in the card is data (district names come from the boundary file,
outlet names from an uploaded network) and goes through
:func:`~locator.maps.escaping._escape_tree`; only the fixed card fields are kept as
GeoJSON properties, so no property key is data. Coordinates are converted for AMap
(GCJ-02) like every other layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import folium
import numpy as np

from ..errors import ConfigurationError
from .base import _project, _with_css, display_coord_sys
from .escaping import _escape_tree, escape_text
from .layers import _geojson_bounds, _share_color

__all__ = ["NO_DATA_COLOR", "choropleth_legend", "districts_layer"]

#: Fill of a district with no demand data.
NO_DATA_COLOR = "#bdbdbd"

#: The hover card: property -> label (bilingual, our own text).
CARD_FIELDS: dict[str, str] = {
    "district": "District 区县",
    "population": "Population 人口",
    "covered": "Covered 覆盖",
    "nearest": "Nearest outlet 最近网点",
    "distance": "Distance 距离",
}


def _card(props: Mapping[str, Any]) -> dict[str, Any]:
    """The card's text for one district (numbers formatted here, strings escaped later)."""
    area = " · ".join(
        str(props.get(k) or "")
        for k in ("name", "prefecture", "province")
        if props.get(k) and (k != "prefecture" or props.get(k) != props.get("province"))
    )
    has = bool(props.get("has_data"))
    pop = props.get("population_total")
    share = props.get("share_covered")
    cov = props.get("population_covered")
    if not has:
        population, covered = "no data 无数据", "no data 无数据"
    else:
        population = f"{int(pop or 0):,}"
        covered = (
            f"{share:.0%} ({int(cov or 0):,})" if isinstance(share, float) else "no data 无数据"
        )
    km = props.get("nearest_km")
    return {
        "district": area,
        "population": population,
        "covered": covered,
        "nearest": props.get("nearest_outlet_name") or "-",
        "distance": f"{km:,.1f} km" if isinstance(km, int | float) else "-",
        # styling only (never shown): the share, or None for no data
        "_share": float(share) if has and isinstance(share, float) else None,
    }


def districts_layer(
    districts: Mapping[str, Any] | Any,
    *,
    tiles: str | None = "osm",
    name: str = "Coverage by district 区县覆盖",
    show: bool = True,
) -> folium.FeatureGroup:
    """The choropleth from a district FeatureCollection (``CoverageReport.districts_geojson()``
    or :func:`locator.coverage.districts_geojson`), or a :class:`~locator.coverage.CoverageReport`
    asked ``by="district"`` (its polygons are then simplified for drawing)."""
    if hasattr(districts, "districts") and not isinstance(districts, Mapping):
        from ..coverage.districts import CHOROPLETH_SIMPLIFY_DEG, districts_geojson

        if not districts.districts:
            raise ConfigurationError("the report has no districts: ask report(by='district')")
        districts = districts_geojson(
            districts.districts,
            radius_km=districts.radius_km,
            decimals=3,
            simplify_deg=CHOROPLETH_SIMPLIFY_DEG,
        )
    if not isinstance(districts, Mapping) or districts.get("type") != "FeatureCollection":
        raise ConfigurationError("districts must be a GeoJSON FeatureCollection dict")
    features = []
    for f in districts.get("features", []):
        if not f.get("geometry"):
            continue
        card = _card(dict(f.get("properties") or {}))
        share = card.pop("_share")
        props = _escape_tree(card)
        props["fill"] = NO_DATA_COLOR if share is None else _share_color(share)
        props["nodata"] = share is None
        features.append(
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": props,
            }
        )
    fc = {"type": "FeatureCollection", "features": _projected(features, tiles)}
    group = _with_css(folium.FeatureGroup(name=escape_text(name), show=show))
    if features:
        folium.GeoJson(
            fc,
            style_function=_style,
            highlight_function=lambda _f: {"weight": 2, "color": "#212121"},
            tooltip=folium.GeoJsonTooltip(
                fields=list(CARD_FIELDS), aliases=list(CARD_FIELDS.values()), sticky=True
            ),
        ).add_to(group)
    group._locator_bounds = _geojson_bounds(fc)  # type: ignore[attr-defined]
    return group


def _projected(features: list[dict[str, Any]], tiles: str | None) -> list[dict[str, Any]]:
    """The features with their geometries in the datum of ``tiles``: new coordinate
    lists on AMap (one vectorised conversion for every position), the same otherwise."""
    if display_coord_sys(tiles) != "gcj02":
        return features
    flat: list[Any] = []

    def collect(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            flat.append(c[:2])
        else:
            for x in c:
                collect(x)

    for f in features:
        collect(f["geometry"].get("coordinates", []))
    if not flat:
        return features
    xy = np.asarray(flat, dtype=float)
    lon, lat = _project(xy[:, 0], xy[:, 1], tiles)
    it = iter(np.round(np.column_stack([lon, lat]), 6).tolist())

    def rebuild(c: Any) -> Any:
        if c and isinstance(c[0], int | float):
            return next(it)
        return [rebuild(x) for x in c]

    out = []
    for f in features:
        geom = dict(f["geometry"])
        geom["coordinates"] = rebuild(geom.get("coordinates", []))
        out.append({**f, "geometry": geom})
    return out


def _style(feature: Mapping[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    if props.get("nodata"):
        return {
            "fillColor": NO_DATA_COLOR,
            "fillOpacity": 0.35,
            "color": "#9e9e9e",
            "weight": 0.4,
            "dashArray": "2 2",
        }
    return {"fillColor": props["fill"], "fillOpacity": 0.7, "color": "#ffffff", "weight": 0.4}


def choropleth_legend(steps: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0)) -> str:
    """The legend's HTML (our own text only): colour steps of share covered, and no data."""
    box = '<i style="background:{};border-radius:0"></i>'
    rows = ["Share of population covered 人口覆盖率"]
    rows += [box.format(_share_color(s)) + f"{s:.0%}" for s in steps]
    rows.append(box.format(NO_DATA_COLOR) + "no data 无数据")
    return "<br>".join(rows)
