"""The search box and result list of an embeddable locator page (``search.js``).

:func:`search_panel` adds to a map a panel beside it: a ``<input type="search">``, the
candidates of an ambiguous name and the nearest authorized outlets of the chosen
place, in sync with numbered markers on the map (clicking a result pans to it and
opens its popup; choosing another place re-sorts the list). Everything is computed in
the page, from data written here with :func:`~locator.maps.escaping._script_json`:

* ``index``: the compact name index (:func:`locator.name_index.name_index`; the caller
  passes it: maps never load data);
* the outlets: WGS-84 and drawn coordinates, name, kind label, address, ``tel:`` links
  (:func:`locator.directions.phone_links`) and an open-now timeline;
* ``drive``: the :class:`~locator.drive.DriveTimeModel` factors, so the page's drive
  estimate is the Python one;
* the open-now **timelines**: for each distinct hours text, the label of
  :func:`locator.hours.hours_status` for every stretch between two changes (opening,
  closing, midnight) over the :data:`TIMELINE_DAYS` days after the page was made. The
  page shows the label of the current moment; a page older than that shows the hours
  text instead ("hours: Mo-Fr 09:00-18:00"). Holidays and make-up workdays are thus
  those of Python's calendar.

Outlet strings in that JSON are escaped with :func:`~locator.maps.escaping.escape_text`
like every popup's (the page shows them literally; a directions link decodes the name
before percent-encoding it), place names of the index go in as ``textContent``, and
links are only ``https:``/``tel:`` URLs the script made, so nothing in the data is
ever parsed as markup (or, thanks to ``_script_json``, as a template).
Distances in the page are WGS-84 geodesics (Vincenty's inverse formula), directions
links are built as :func:`locator.directions.directions_links` builds them; the
tests run both ports in node against the Python functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import folium
import pandas as pd

from ..directions import phone_links
from ..drive import DriveTimeModel
from ..hours import UNKNOWN_LABEL, as_local, hours_status, to_osm
from ..labels import KIND_LABELS
from ._cells import _bool, _coords, _records, _text
from .base import _project
from .elements import GCJ02_JS, js_source
from .escaping import _escape_tree, _script_json

__all__ = ["TIMELINE_DAYS", "hours_timeline", "search_panel", "search_rows"]

#: Days after the page is made for which it knows each outlet's open-now label.
TIMELINE_DAYS = 7

#: The panel's own text (never data).
TEXT: dict[str, str] = {
    "placeholder": "城市或区县 / city or district",
    "me": "离我最近 / Near me",
    "hint": "输入城市或区县名称（中文、拼音或英文） / Type a city or district name",
    "note": "直线距离（WGS-84 大地线），驾车时间为估算 / Straight-line geodesic distance; "
    "drive times are estimates.",
    "nearestTo": "最近的网点 / Nearest outlets to",
    "none": "没有网点 / No outlets",
    "choose": "请选择 / Choose one:",
    "notFound": "未找到该地名 / No such city or district",
    "pressEnter": "按回车搜索完整地址 / Press Enter to search the full address",
    "denied": "无法定位：未获得位置权限 / "
    "Location unavailable (permission denied or not supported)",
    "here": "我的位置 / my location",
    "centre": "地图中心 / the map centre",
    "about": "约",
    "min": "分钟",
    "unknown": UNKNOWN_LABEL,
    "hoursAre": "营业时间 / hours:",
    "amap": "高德导航",
    "baidu": "百度导航",
    "osm": "OSM",
}

_CSS = """
html, body { height: 100%; margin: 0; }
body.locator-has-search { display: flex; flex-direction: row; overflow: hidden; }
body.locator-has-search > .folium-map { flex: 1 1 auto; min-width: 0; width: auto !important;
  height: 100% !important; position: relative !important; }
.locator-search { flex: 0 0 320px; display: flex; flex-direction: column; min-height: 0;
  box-sizing: border-box; padding: 8px; border-right: 1px solid #ccc; background: #fff;
  font: 13px/1.4 system-ui, sans-serif; overflow: hidden; }
.locator-search-form { display: flex; gap: 4px; }
.locator-search-input { flex: 1 1 auto; min-width: 0; font-size: 16px; padding: 4px 6px; }
.locator-search-me { flex: 0 0 auto; font-size: 12px; }
.locator-search-status { margin: 6px 0 2px; color: #444; }
.locator-search-candidates { display: flex; flex-wrap: wrap; gap: 4px; }
.locator-search-candidate { font-size: 13px; text-align: left; }
.locator-search-results { flex: 1 1 auto; overflow-y: auto; margin: 4px 0; padding-left: 22px; }
.locator-result { padding: 4px 0; border-bottom: 1px solid #eee; cursor: pointer;
  overflow-wrap: anywhere; }
.locator-result.active { background: #fff3e0; }
.locator-result-name { font-weight: 600; }
.locator-result-meta, .locator-result-address { color: #555; }
.locator-result-open { color: #2e7d32; }
.locator-result-links a { margin-right: 8px; }
.locator-search-note { font-size: 11px; color: #777; }
.locator-search .locator-note { position: static !important; transform: none !important;
  margin-top: 4px; pointer-events: auto !important; }
.locator-search-hit { background: #d81b60; color: #fff; border-radius: 50%;
  text-align: center; line-height: 22px; font: bold 12px/22px system-ui, sans-serif; }
@media (max-width: 640px) {
  body.locator-has-search { flex-direction: column; }
  .locator-search { flex: 0 0 45%; border-right: 0; border-bottom: 1px solid #ccc; }
  body.locator-has-search > .folium-map { flex: 1 1 55%; height: auto !important;
    width: 100% !important; }
}
"""


def hours_timeline(text: str, start: dt.datetime, days: int = TIMELINE_DAYS) -> list[list[Any]]:
    """``[[epoch_seconds, label], ...]`` of ``text`` from ``start`` for ``days`` days:
    the :func:`locator.hours.hours_status` label of each stretch between two changes of
    state or two midnights (Asia/Shanghai), and a closing ``[end, None]``."""
    now = as_local(start).replace(second=0, microsecond=0)
    end = now + dt.timedelta(days=days)
    out: list[list[Any]] = []
    while now < end:
        st = hours_status(text, at=now)
        out.append([int(now.timestamp()), st.label])
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
        change = st.closes_at if st.open_now else st.opens_at
        nxt = min(c for c in (change, midnight) if c is not None)
        now = max(nxt, now + dt.timedelta(minutes=1))
    out.append([int(end.timestamp()), None])
    return out


def search_rows(
    outlets: pd.DataFrame, *, tiles: str | None = None, at: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], list[list[list[Any]]]]:
    """The authorized outlets as the page takes them, and the hours timelines they
    index (``hours``: position in the timelines, -1 when the hours are unknown)."""
    start = as_local(at)
    frame = outlets
    if "authorized" in frame.columns:
        frame = frame[[_bool(v) for v in frame["authorized"]]]
    rows: list[dict[str, Any]] = []
    timelines: list[list[list[Any]]] = []
    seen: dict[str, int] = {}
    if frame.empty:
        return rows, timelines
    lat, lon = _coords(frame, "outlets")
    dlon, dlat = _project(lon, lat, tiles)
    for i, r in enumerate(_records(frame)):
        hours = _text(r.get("hours"))
        osm = to_osm(hours) if hours else None
        pos = -1
        if osm is not None:
            if osm not in seen:
                seen[osm] = len(timelines)
                timelines.append(hours_timeline(osm, start))
            pos = seen[osm]
        kind = _text(r.get("kind"))
        rows.append(
            {
                "name": _text(r.get("name")),
                "kind": KIND_LABELS.get(kind, kind),
                "address": _text(r.get("address")),
                "lat": round(float(lat[i]), 6),
                "lon": round(float(lon[i]), 6),
                "dlat": round(float(dlat[i]), 6),
                "dlon": round(float(dlon[i]), 6),
                "tels": [list(p) for p in phone_links(r.get("phone"))],
                "hours": pos,
                "hours_text": osm or "",
            }
        )
    return _escape_tree(rows), _escape_tree(timelines)


class _SearchPanel(folium.MacroElement):
    """The panel (see the module docstring); its code is ``js/search.js``."""

    _template = folium.template.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            {{ this.gcj_js }}
            {{ this.js }}
            var style = document.createElement('style');
            style.textContent = {{ this.css_json }};
            document.head.appendChild(style);
            var data = {{ this.data_json }};
            window.locatorSearch = locatorSearchPanel({{ this._parent.get_name() }}, data,
                                                      {{ this.options_json }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: Mapping[str, Any], options: Mapping[str, Any]):
        super().__init__()
        self._name = "SearchPanel"
        self.gcj_js = GCJ02_JS
        self.js = js_source("search.js")
        self.css_json = _script_json(_CSS)
        self.data_json = _script_json(dict(data))
        self.options_json = _script_json(dict(options))


def search_panel(
    outlets: pd.DataFrame,
    index: Mapping[str, Any],
    *,
    tiles: str | None = None,
    k: int = 5,
    drive: DriveTimeModel | None = None,
    api: bool = False,
    at: dt.datetime | None = None,
) -> _SearchPanel:
    """The search panel element for ``outlets`` (only authorized ones are listed),
    to ``add_to`` a map drawn with the same ``tiles``.

    ``index``: :func:`locator.name_index.name_index`. ``k``: results listed. ``drive``:
    the drive-time model (default :class:`DriveTimeModel`). ``api``: the page may ask
    ``/v1/nearest?q=`` of the server it came from for names the index does not know
    (only ever when loaded over http(s), never from ``file://``). ``at``: the moment the
    open-now timelines start (default now).
    """
    model = drive or DriveTimeModel()
    rows, timelines = search_rows(outlets, tiles=tiles, at=at)
    data = {
        "index": dict(index),
        "outlets": rows,
        "hours": timelines,
        "drive": {
            "circuity": model.circuity,
            "urban_km": model.urban_km,
            "urban_kmh": model.urban_kmh,
            "highway_kmh": model.highway_kmh,
            "overhead_minutes": model.overhead_minutes,
        },
        "kinds": dict(KIND_LABELS),
    }
    options = {
        "k": int(k),
        "gcj": tiles == "amap",
        "api": bool(api),
        "text": TEXT,
    }
    return _SearchPanel(data, options)
