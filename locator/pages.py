"""Map pages of a network: the one place that turns a request into a map's layers.

The HTTP API's ``/embed/map``, ``locator map`` and the app's Embed view all draw the
same thing from the same request: the outlets of one city (or all), the coverage
circles, the largest gaps and the listed cities at one radius. :func:`page_layers`
makes those layers (city filter, gap limit, city coordinates) and
:meth:`PageLayers.page` renders them through :func:`locator.embed.embed_page` (so
every text goes through the escaping of :mod:`locator.maps` and the page gets the
one Content-Security-Policy). The front ends only parse their own input and say
which outlets may be drawn.

Layering: below ``api``, ``cli`` and ``app``; above ``maps``, ``embed`` and
``coverage``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .coverage import CoverageModel

__all__ = [
    "LAYERS",
    "MAX_GAPS",
    "SAMPLE_NOTE",
    "PageLayers",
    "city_keys",
    "filter_city",
    "network_page",
    "norm_city",
    "page_layers",
    "parse_layers",
]

#: The layers a network page can draw.
LAYERS: tuple[str, ...] = ("outlets", "coverage", "gaps", "cities")
#: What a page drawn from the bundled network says about it.
SAMPLE_NOTE = (
    "Synthetic sample data: a fictional brand, fictional outlets and phone numbers. "
    "示例数据（虚构品牌）"
)
#: Gaps drawn on a national map (the most populous first): thousands of circles make
#: a slow page.
MAX_GAPS = 500

_DEFAULT_TITLE = "Service outlets 服务网点"


def norm_city(name: Any) -> str:
    """A city name for matching: case-folded, no blanks, dashes, underscores or
    apostrophes, no trailing 市 / city / shi (``"Xi'an City"`` -> ``"xian"``)."""
    text = str(name or "").strip().casefold()
    for suffix in ("市", " city", " shi"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return re.sub(r"[\s\-_']", "", text)


def parse_layers(names: str | Iterable[str]) -> list[str]:
    """Layer names (``"outlets,gaps"`` or a list) validated, lower-cased and
    de-duplicated; :class:`~locator.errors.ConfigurationError` naming the unknown ones
    (or saying none was given)."""
    items = names.split(",") if isinstance(names, str) else [str(x) for x in names]
    out = [x.strip().lower() for x in items if x.strip()]
    bad = [x for x in out if x not in LAYERS]
    if bad:
        raise ConfigurationError(
            f"unknown layer(s) {', '.join(bad)}; choose from {', '.join(LAYERS)}"
        )
    if not out:
        raise ConfigurationError(f"no layer given; choose from {', '.join(LAYERS)}")
    return list(dict.fromkeys(out))


def city_keys(city: str, listed: pd.DataFrame | None = None) -> set[str]:
    """The normalized names (:func:`norm_city`) that mean ``city``: itself, plus the
    Chinese and English names of the listed city it names (``Hangzhou`` -> 杭州).
    ``listed``: the listed cities (default :func:`locator.data.load_cities`)."""
    wanted = {norm_city(city)}
    if listed is None:
        from .data import load_cities

        listed = load_cities()
    for row in listed.to_dict("records"):
        names = {norm_city(row.get("city")), norm_city(row.get("name_en"))} - {""}
        if wanted & names:
            wanted |= names
    return wanted


def filter_city(frame: pd.DataFrame, keys: Collection[str], column: str = "city") -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is one of the normalized city ``keys``."""
    return frame[frame[column].map(norm_city).isin(set(keys))]


@dataclass(frozen=True)
class PageLayers:
    """The layers of one network page, as :func:`locator.embed.embed_page` takes them.

    ``gaps_total``: the gaps before ``max_gaps`` kept the most populous (nationally,
    every uncovered place).
    """

    outlets: pd.DataFrame | None
    service_areas: Mapping[str, Any] | None
    gaps: pd.DataFrame | None
    cities: pd.DataFrame | None
    gaps_total: int = 0
    #: The outlets of the page's place (whatever the layers): what its search box lists.
    searchable: pd.DataFrame | None = None

    def page(
        self,
        *,
        tiles: str | None = None,
        origin: tuple[float, float] | None = None,
        results: pd.DataFrame | None = None,
        origin_label: str = "",
        sample: bool = False,
        notes: Sequence[str] = (),
        title: str = _DEFAULT_TITLE,
        locate: bool = True,
        self_contained: bool = True,
        search: bool = False,
        search_api: bool = False,
        k: int = 5,
    ) -> str:
        """The page as a complete HTML document. ``sample``: the network is the
        bundled one (:data:`SAMPLE_NOTE` heads the banner); ``notes``: more banner
        text; ``search``: a search box and result list beside the map, over
        :attr:`searchable` (``search_api``, ``k``: see :func:`locator.embed.embed_page`).
        The other arguments are those of :func:`locator.embed.embed_page`."""
        from . import embed

        banner = [SAMPLE_NOTE] if sample else []
        banner += [n for n in notes if n]
        return embed.embed_page(
            self.outlets,
            tiles=tiles,
            service_areas=self.service_areas,
            gaps=self.gaps,
            cities=self.cities,
            origin=origin,
            results=results,
            origin_label=origin_label,
            locate=locate,
            title=title,
            note=" ".join(banner) or None,
            self_contained=self_contained,
            search=self.searchable if search else None,
            search_api=search_api,
            k=k,
        )


def page_layers(
    outlets: pd.DataFrame,
    *,
    layers: Iterable[str] = ("outlets",),
    city: Collection[str] | None = None,
    radius_km: float = 50.0,
    coverage_model: CoverageModel | Callable[[], CoverageModel] | None = None,
    listed_cities: pd.DataFrame | None = None,
    max_gaps: int | None = MAX_GAPS,
) -> PageLayers:
    """The layers of a network page.

    ``outlets``: the whole network's outlets that may be drawn (the caller leaves out
    unauthorized ones unless asked). ``city``: normalized city keys (:func:`city_keys`,
    or the API's resolved city) to keep the outlets, gaps and cities of; ``None``: the
    whole country. ``coverage_model`` (or a factory): the network's
    :class:`~locator.coverage.CoverageModel`, needed for gaps and cities (default: built
    from ``outlets``, the bundled places and ``listed_cities``). ``max_gaps``: the most
    populous gaps kept (``None`` or 0: all). The coverage layer is the service circles
    of the outlets shown, dissolved per city. No layer at all gives an empty map.
    """
    items = layers.split(",") if isinstance(layers, str) else [str(x) for x in layers]
    wanted = parse_layers(items) if any(x.strip() for x in items) else []
    keys = set(city) if city is not None else None
    shown = filter_city(outlets, keys) if keys is not None else outlets
    areas: Mapping[str, Any] | None = None
    gaps = cities = None
    gaps_total = 0
    if "coverage" in wanted and len(shown):
        from .coverage import service_areas

        areas = service_areas(shown, radius_km, by="city").to_geojson()
    if "gaps" in wanted or "cities" in wanted:
        from .data import load_cities

        listed = load_cities() if listed_cities is None else listed_cities
        model = _model(coverage_model, outlets, listed)
        limit = max_gaps or None
        # Nationally, the report keeps only the largest gaps (cheaper than all of them).
        report = model.report(radius_km, gap_limit=None if keys is not None else limit)
        if "gaps" in wanted:
            gaps = report.gaps_frame()
            if keys is not None:
                gaps = filter_city(gaps, keys)
                gaps_total = len(gaps)
            else:
                gaps_total = len(gaps) if limit is None else int(report.places_uncovered)
            if limit is not None and len(gaps) > limit:
                gaps = gaps.head(limit)  # largest population first
        if "cities" in wanted:
            coords = listed[["adcode", "lat", "lon"]].astype({"adcode": str})
            frame = report.cities_frame().astype({"adcode": str})
            cities = frame.merge(coords, on="adcode", how="inner").rename(columns={"name": "city"})
            if keys is not None:
                cities = filter_city(cities, keys)
    return PageLayers(
        outlets=shown if "outlets" in wanted else None,
        service_areas=areas,
        gaps=gaps,
        cities=cities,
        gaps_total=gaps_total,
        searchable=shown,
    )


def _model(
    given: CoverageModel | Callable[[], CoverageModel] | None,
    outlets: pd.DataFrame,
    listed: pd.DataFrame,
) -> CoverageModel:
    """The coverage model given, made by the factory given, or built for ``outlets``."""
    from .coverage import CoverageModel

    if isinstance(given, CoverageModel):
        return given
    if given is not None:
        return given()
    from .data import load_places

    return CoverageModel(outlets, load_places(), listed)


def network_page(
    outlets: pd.DataFrame,
    *,
    layers: Iterable[str] = ("outlets",),
    city: Collection[str] | None = None,
    radius_km: float = 50.0,
    coverage_model: CoverageModel | Callable[[], CoverageModel] | None = None,
    listed_cities: pd.DataFrame | None = None,
    max_gaps: int | None = MAX_GAPS,
    **page: Any,
) -> str:
    """:func:`page_layers` rendered by :meth:`PageLayers.page` (``page``: its
    keyword arguments: tiles, origin, results, sample, notes, title, ...)."""
    return page_layers(
        outlets,
        layers=layers,
        city=city,
        radius_km=radius_km,
        coverage_model=coverage_model,
        listed_cities=listed_cities,
        max_gaps=max_gaps,
    ).page(**page)
