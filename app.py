"""Streamlit app: find a center, coverage for planners, network data, embed.

UI only: every number comes from the ``locator`` package (the same functions the CLI,
the HTTP API and the notebooks call), every word from :mod:`locator.labels` (中文 by
default, English on the sidebar switch or ``?lang=en``) and every unit from
:mod:`locator.i18n`. Run with ``make app``.

Fast first paint: only the open view runs (``st.tabs(on_change="rerun")``), the Find
view's search box is sent before anything is loaded, heavy modules are imported where
they are used, and the coverage controls are a fragment (a radius change reruns the
figures and the map, nothing else).

Offline-capable: Leaflet, jQuery and MarkerCluster are served from the local
``xstatic-*`` wheels through Streamlit's static serving (``static/vendor``, written at
start-up), never from a CDN; the basemap tiles are decoration.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import io
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from locator import DataError, i18n
from locator.labels import LANGUAGES, MESSAGES, message

HERE = Path(__file__).resolve().parent
VENDOR_URL = "/app/static/vendor"
TILES = {"tile.osm": "osm", "tile.amap": "amap", "tile.none": None}
SAMPLE_KEY = "sample"
NEARBY_KM = 60.0  # outlets drawn around a search origin (the results always are)
VIEWS = ("tab.find", "tab.coverage", "tab.data", "tab.embed", "tab.load")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


# --------------------------------------------------------------------------- language
def _initial_language() -> str:
    """``?lang=en`` on the URL, else 中文."""
    return i18n.language(st.query_params.get("lang"))


def _switch_language() -> None:
    """Switch, keeping the open view (the tabs are keyed by label)."""
    new = i18n.language(st.session_state["lang-choice"])
    st.session_state["lang"] = new
    open_label = st.session_state.get("view")
    for view in VIEWS:
        if open_label in MESSAGES[view].values():
            st.session_state["view"] = message(view, new)
    st.query_params["lang"] = new


st.session_state.setdefault("lang", _initial_language())
# Only the open view runs, and Streamlit forgets the widgets of a run that did not draw
# them: writing these back keeps a typed query, the filters and the radius across views.
KEPT = {"query", "find-kinds", "find-categories", "find-k", "find-max-km", "find-unauth",
        "find-open-now", "cov-mode", "cov-radius", "cov-minutes", "cov-areas", "cov-p",
        "embed-city", "embed-layers", "embed-tiles", "verify-phone", "verify-name",
        "verify-city"}  # fmt: skip
for _k in [k for k in st.session_state if k in KEPT or str(k).startswith("cand-")]:
    st.session_state[_k] = st.session_state[_k]
LANG: str = i18n.language(st.session_state["lang"])


def T(key: str, **values: object) -> str:
    """Message ``key`` in the app's language."""
    return message(key, LANG, **values)


st.set_page_config(page_title=f"{T('app.title')} · Outlet locator", layout="wide")


def _md(text: object) -> str:
    """Data text made inert for st.markdown (no HTML, links or emphasis from the data)."""
    out = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>$])", r"\\\1", out)


def _table(frame: pd.DataFrame, columns: list[str] | None = None, **kwargs: Any) -> None:
    """A library frame as a person reads it: human headers, units, labels."""
    human = i18n.human_table(frame, LANG, columns)
    config: dict[str, Any] = {
        h: st.column_config.NumberColumn(h, format=f) for h, f in human.number_formats.items()
    }
    config.update(kwargs.pop("column_config", {}))
    st.dataframe(human.frame, hide_index=True, width="stretch", column_config=config, **kwargs)


# --------------------------------------------------------------------------- cached data
@st.cache_resource(show_spinner=False)
def _static_assets() -> None:
    from locator.webassets import export_assets

    export_assets(HERE / "static" / "vendor")


@st.cache_data(show_spinner=False)
def _reference() -> tuple[pd.DataFrame, pd.DataFrame]:
    from locator import load_cities, load_places

    return load_cities(), load_places()


@st.cache_resource(show_spinner=False)
def _open_store(url: str) -> Any:
    from locator.store import open_store

    return open_store(url or None)


def _store() -> Any:
    """The network store ($LOCATOR_DATABASE_URL, else the SQLite store in the user data
    dir, seeded with the bundled sample on first use): one per server process and URL."""
    return _open_store(os.environ.get("LOCATOR_DATABASE_URL", ""))


def _store_key() -> str:
    """The cache key of the store's network: its revision (a cheap one-row query) and
    the day (an authorization expires at the end of its valid-until day), so every
    rerun after a change, made here or by another process, reads the new network."""
    return f"{SAMPLE_KEY}:{_store().revision()}:{date.today().isoformat()}"


@st.cache_data(show_spinner=False, max_entries=8)
def _network(key: str, data: bytes | None, name: str | None) -> pd.DataFrame:
    """The store's network (``key`` from :func:`_store_key`), or an uploaded file's
    outlets (cached by content)."""
    if data is None:
        return _store().network().frame
    from locator import load_outlets

    return load_outlets(io.BytesIO(data), name=name)


@st.cache_data(show_spinner=False, max_entries=8)
def _is_sample(key: str) -> bool:
    """Whether the store's network is still exactly the bundled synthetic sample."""
    from locator.data import load_network

    return bool(_store().network().version == load_network().version)


@st.cache_resource(show_spinner=False, max_entries=8)
def _index(key: str, _outlets: pd.DataFrame) -> Any:
    from locator.index import OutletIndex

    return OutletIndex(_outlets)


@st.cache_resource(show_spinner=False, max_entries=8)
def _coverage_model(key: str, _outlets: pd.DataFrame) -> Any:
    from locator.coverage import CoverageModel

    cities, places = _reference()
    return CoverageModel(_outlets, places, cities)


@st.cache_data(show_spinner=False, max_entries=32)
def _areas_geojson(key: str, _outlets: pd.DataFrame, radius_km: float) -> dict[str, Any]:
    from locator.coverage import service_areas

    return service_areas(_outlets, radius_km, by="nation").to_geojson()


@st.cache_data(show_spinner=False, max_entries=32)
def _suggest(key: str, _outlets: pd.DataFrame, p: int, radius_km: float) -> dict[str, Any]:
    from locator.coverage import suggest_sites

    _, places = _reference()
    res = suggest_sites(_outlets, places, p, radius_km)
    return {"frame": res.frame(), "summary": res.to_dict()}


@st.cache_data(show_spinner=False, max_entries=8)
def _audit(key: str, _outlets: pd.DataFrame) -> pd.DataFrame:
    from locator.audit import audit_outlets, findings_frame

    return findings_frame(audit_outlets(_outlets))


@st.cache_data(show_spinner=False, max_entries=16)
def _embed_page(
    key: str, _outlets: pd.DataFrame, city: str, layers: tuple[str, ...], tiles: str | None
) -> str:
    from locator.pages import city_keys, network_page

    listed, _ = _reference()
    return network_page(
        _outlets[_outlets["authorized"]],
        layers=layers,
        city=city_keys(city, listed) if city else None,
        radius_km=50.0,
        coverage_model=lambda: _coverage_model(key, _outlets),
        listed_cities=listed,
        tiles=tiles,
        title=f"ACME outlets — {city or 'all listed cities'}",
        sample=key.startswith(SAMPLE_KEY) and _is_sample(key),
    )


@st.cache_resource(show_spinner=False)
def _geocoder() -> Any:
    from locator import OfflineGeocoder

    return OfflineGeocoder()


@st.cache_resource(show_spinner=False, max_entries=16)
def _national_map(key: str, _outlets: pd.DataFrame, tiles: str | None, lang: str) -> Any:
    """The Find view's map before a search (every authorized outlet): built once per
    network, basemap and language, not on every rerun (draw a ``copy.deepcopy``)."""
    from locator.maps import build_map
    from locator.webassets import localize_map

    return localize_map(
        build_map(_outlets[_outlets["authorized"]], tiles=tiles, lang=lang), VENDOR_URL
    )


def _show_map(m: Any, *, key: str, height: int = 560, clicks: bool = False) -> Any:
    """Render with streamlit-folium, Leaflet served locally. Only clicks are returned,
    so panning and zooming never rerun the script."""
    from streamlit_folium import st_folium

    from locator.webassets import localize_map

    localize_map(m, VENDOR_URL)
    return st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_clicked"] if clicks else [],
        render=False,  # st_folium renders the map itself too: a second render doubled the time
    )


# --------------------------------------------------------------------------- the views
with st.sidebar:
    st.radio(  # its own key: the language itself ("lang") is kept apart from the widget
        T("app.language"),
        LANGUAGES,
        index=LANGUAGES.index(LANG),
        format_func=LANGUAGE_NAMES.__getitem__,
        key="lang-choice",
        horizontal=True,
        on_change=_switch_language,
    )
tabs = st.tabs([T(v) for v in VIEWS], key="view", on_change="rerun")
find_tab, coverage_tab, data_tab, embed_tab, load_tab = tabs
# What the Find view shows first (the search box) is sent before any data is loaded.
if find_tab.open is not False:
    with find_tab:
        find_left, find_right = st.columns([1, 2], gap="large")
        with find_left:
            query = st.text_input(
                T("find.query"),
                placeholder=T("find.placeholder"),
                help=T("find.query_help"),
                key="query",
            )

# Imported only now, so the search box above is painted first (pandas takes a second).
import pandas as pd  # noqa: E402

_static_assets()
cities, places = _reference()
upload = st.session_state.get("upload")  # (sha, bytes, name) of the uploaded network
net_key = upload[0] if upload else _store_key()
try:
    outlets = _network(net_key, upload[1] if upload else None, upload[2] if upload else None)
except DataError:  # validated when uploaded; only a changed file could get here
    st.session_state.pop("upload", None)
    net_key, upload = _store_key(), None
    outlets = _network(net_key, None, None)
store = _store()


def _sidebar() -> tuple[str | None, Any]:
    """Network notice, basemap, counts, sign-in. Returns (tiles, session)."""
    from locator import app_network
    from locator.drive import DriveTimeModel

    st.header(T("app.title"))
    if upload is None and not _is_sample(net_key):
        st.info(T("app.network_store", n=len(outlets)))
    elif upload is None:
        st.warning(T("app.sample"))
    else:
        st.info(T("app.network_file", name=_md(upload[2]), n=len(outlets)))
    tile_key = st.selectbox(T("app.basemap"), list(TILES), format_func=T, key="tiles")
    st.caption(i18n.drive_note(DriveTimeModel(), LANG))
    st.caption(
        T(
            "app.counts",
            authorized=int(outlets["authorized"].sum()),
            listings=len(outlets),
            cities=len(cities),
            places=f"{len(places):,}",
        )
    )
    return TILES[tile_key], _sign_in_box(store, app_network)


def _sign_in_box(store: Any, app_network: Any) -> Any:
    """The sidebar's sign-in: a password box, checked with the store on every run (a
    revoked token stops at once). The token is never echoed nor cached."""
    st.subheader(T("auth.heading"))
    st.text_input(T("auth.token"), type="password", key="net-token", help=T("auth.token_help"))
    secret = st.session_state.get("net-token") or ""
    session = app_network.sign_in(store, secret)
    if session is not None:
        st.success(T("auth.signed_in", name=_md(session.name), role=session.role))
        st.button(T("auth.sign_out"), key="net-sign-out", on_click=_sign_out)
    elif secret.strip():
        st.error(T("auth.unknown"))
    return session


def _sign_out() -> None:
    st.session_state["net-token"] = ""
    st.session_state.pop("net-snapshot", None)


with st.sidebar:
    tiles, session = _sidebar()
index = _index(net_key, outlets)


# --------------------------------------------------------------------------- store editing
def _network_store_view(store: Any, session: Any) -> None:
    """The network store: the table (editable for editors), one outlet's form, its
    history and (admins) its authorization."""
    from locator import app_network

    st.subheader(T("store.heading"))
    if "net-snapshot" not in st.session_state:
        st.session_state["net-snapshot"] = (store.revision(), app_network.snapshot(store))
    revision, table = st.session_state["net-snapshot"]
    st.caption(T("store.caption", n=len(table), url=_md(store.url_for_display), rev=revision))
    if store.revision() != revision:
        st.info(T("store.changed"))
    if st.button(T("store.reload"), key="net-reload"):
        st.session_state.pop("net-snapshot", None)
        st.rerun()
    if session is None or not session.may("editor"):
        _table(table)
        st.caption(T("store.sign_in_to_edit"))
    else:
        edited = st.data_editor(
            table,
            key="net-editor",
            hide_index=True,
            width="stretch",
            num_rows="fixed",
            disabled=list(app_network.LOCKED_COLUMNS),
            column_config={c: st.column_config.Column(_header(c)) for c in table.columns},
        )
        reason = st.text_input(T("store.reason_all"), key="net-reason")
        if st.button(T("store.save_table"), key="net-save", type="primary"):
            _save(store, table, edited, session, reason)
    _outlet_view(store, table, session)


def _header(name: str) -> str:
    from locator.labels import column

    return column(name, LANG)


def _save(store: Any, table: pd.DataFrame, edited: pd.DataFrame, session: Any, reason: str) -> None:
    """Save the edits and say what happened (stale rows are never overwritten)."""
    from locator import app_network

    if not reason.strip():
        st.error(T("store.need_reason"))
        return
    result = app_network.save_edits(store, table, edited, session=session, reason=reason)
    for text in result.messages:
        st.error(_md(text))
    if result.saved:
        st.success(T("store.saved", n=len(result.saved), ids=_md(", ".join(result.saved))))
        st.session_state.pop("net-snapshot", None)
    elif not result.messages:
        st.info(T("store.nothing"))


def _outlet_view(store: Any, table: pd.DataFrame, session: Any) -> None:
    """One outlet: its fields (editable by editors), its history, its authorization."""
    from locator import app_network

    names = dict(zip(table["outlet_id"].astype(str), table["name"].astype(str), strict=True))
    oid = st.selectbox(
        T("store.outlet"), list(names), format_func=lambda k: f"{k} · {names[k]}", key="net-outlet"
    )
    if oid is None:
        return
    row = table[table["outlet_id"].astype(str) == oid].iloc[0]
    if session is not None and session.may("editor"):
        with st.form("net-outlet-form"):
            values = {
                # keyed by outlet: another outlet's boxes start from its own values
                c: st.text_input(
                    _header(c),
                    value="" if pd.isna(row[c]) else str(row[c]),
                    key=f"net-f-{oid}-{c}",
                )
                for c in ("name", "address", "phone", "hours")
            }
            reason = st.text_input(T("store.reason"), key="net-f-reason")
            if st.form_submit_button(T("store.save_outlet")):
                edited = table.copy()
                for c, v in values.items():
                    edited.loc[edited["outlet_id"].astype(str) == oid, c] = v
                _save(store, table, edited, session, reason)
    if session is None:
        st.caption(T("store.sign_in_history"))
        return
    st.markdown(T("store.history_of", id=_md(oid)))
    _table(app_network.history_frame(store, oid))
    if session.may("admin"):
        _authorization_form(store, oid, session)


def _authorization_form(store: Any, oid: str, session: Any) -> None:
    """Grant or revoke the outlet's authorization (admins; reason required)."""
    from locator import DataError

    current = store.get(oid)
    auth = current.get("authorization") or {}
    st.markdown(
        T("store.auth_of", id=_md(oid))
        + T("store.authorized" if current.get("authorized") else "store.unauthorized")
        + (T("store.valid_until_is", d=auth["valid_until"]) if auth.get("valid_until") else "")
    )
    with st.form("net-auth-form"):
        action = st.radio(
            T("store.authorization"),
            ["grant", "revoke"],
            format_func=lambda a: T(f"store.{a}"),
            horizontal=True,
            key="net-a-act",
        )
        evidence = st.text_input(T("store.evidence"), key="net-a-evidence")
        limited = st.checkbox(T("store.limited"), key="net-a-limited")
        until = st.date_input(T("store.valid_until"), key="net-a-until")
        reason = st.text_input(T("store.reason"), key="net-a-reason")
        if st.form_submit_button(T("store.save_auth")):
            if not reason.strip():
                st.error(T("store.need_reason_short"))
                return
            try:
                store.set_authorization(
                    oid,
                    granted=action == "grant",
                    actor=session.name,
                    reason=reason,
                    evidence=evidence or None,
                    valid_until=until if limited else None,
                )
            except DataError as err:
                st.error(_md(err))
            else:
                done = "store.granted" if action == "grant" else "store.revoked"
                st.success(T(done, id=_md(oid)))
                st.session_state.pop("net-snapshot", None)


# --------------------------------------------------------------------------- find
def _origin_from_query(query: str) -> dict[str, Any] | None:
    """Geocode the query; for ambiguous ones let the user pick a candidate."""
    from locator import LocatorError
    from locator.geocode import origin_from_location, renamed_note

    try:
        loc = _geocoder().geocode(query)
    except LocatorError as err:
        st.error(_md(err))
        return None
    if loc is None:
        why = getattr(_geocoder(), "no_match_reason", None)  # offline: "a street alone"
        reason = f" ({_md(why(query))})" if why is not None else ""
        st.error(T("find.no_place", query=_md(query), reason=reason))
        return None
    try:
        found = origin_from_location(loc, query)
    except LocatorError as err:
        st.error(_md(err))
        return None
    origin = {"lat": found["lat"], "lon": found["lon"], "label": found["address"] or query}
    former = renamed_note(found["renamed_from"])
    if former:
        st.info(T("find.former", note=_md(former)))
    cands = found["candidates"]
    if found["ambiguous"] and len(cands) > 1:

        def label(c: dict[str, Any]) -> str:
            parts = [c.get("province"), c.get("city"), c.get("district")]
            text = " ".join(dict.fromkeys(p for p in parts if p))
            pop = c.get("population")
            return f"{_md(text)} ({T('find.pop', pop=f'{int(pop):,}')})" if pop else _md(text)

        choice = st.radio(
            T("find.which", query=_md(query), n=len(cands)),
            range(len(cands)),
            format_func=lambda i: label(cands[i]),
            key=f"cand-{query}",
            horizontal=True,
        )
        c = cands[int(choice)]
        origin.update(lat=float(c["lat"]), lon=float(c["lon"]), label=label(c))
    return origin


def _show_verify(phone: str, name: str, city: str) -> None:
    """The verify answer (locator.verify.verify) for the box in the Find view."""
    from locator import LocatorError
    from locator.verify import verify as verify_listing

    try:
        result = verify_listing(
            outlets,
            phone=phone.strip() or None,
            q=name.strip() or None,
            city=city.strip() or None,
            index=index,
            geocoder=_geocoder(),
            flags=_store().flags() if upload is None else None,  # the store's, recorded
            closed=_store().closed_outlets() if upload is None else None,
        )
    except LocatorError as err:
        st.error(_md(err))
        return
    (st.success if result.authorized else st.error)(_md(result.message))
    for note in result.notes:
        st.info(_md(note))
    for f in result.findings:
        where = T("verify.flag") if f.get("source") == "flag" else T("verify.audit")
        st.warning(_md(f"{where}: {f.get('kind')}: {f.get('message') or ''}"))
    if result.matches:
        matches = pd.DataFrame(
            {
                "listing": [m.name for m in result.matches],
                "city": [m.city for m in result.matches],
                "phone": [m.phone for m in result.matches],
                "matched_by": [", ".join(m.by) for m in result.matches],
                "authorized": [bool(m.authorized) for m in result.matches],
                "status": [m.status for m in result.matches],
            }
        )
        _table(matches, key="verify-matches")
    if result.nearest:
        where = (result.origin or {}).get("label") or T("verify.place_given")
        st.markdown(T("verify.nearest", place=_md(where)))
        nearest = pd.DataFrame(result.nearest)
        cols = ["name", "phone", "address", "distance_km", "drive_minutes"]
        _table(nearest, cols, key="verify-nearest")


def _find_filters() -> dict[str, Any]:
    """The search filters, folded away so the results come first on a phone."""
    from locator.labels import CATEGORY_LABELS, KIND_LABELS

    with st.expander(T("find.filters")):
        kinds = st.multiselect(
            T("find.kind"),
            list(KIND_LABELS),
            default=list(KIND_LABELS),
            format_func=lambda k: T(f"kind.{k}"),
            key="find-kinds",
        )
        categories = st.multiselect(
            T("find.repairs"),
            list(CATEGORY_LABELS),
            format_func=lambda c: T(f"category.{c}"),
            key="find-categories",
        )
        c1, c2 = st.columns(2)
        k = c1.number_input(T("find.k"), min_value=1, max_value=20, value=5, step=1, key="find-k")
        max_km = c2.number_input(
            T("find.max_km"),
            min_value=0.0,
            max_value=2000.0,
            value=0.0,
            step=0.5,
            format="%g",
            key="find-max-km",
        )
        include_unauth = st.checkbox(
            T("find.unauth"), value=False, help=T("find.unauth_help"), key="find-unauth"
        )
    open_now = st.checkbox(
        T("find.open_now"), value=False, help=T("find.open_now_help"), key="find-open-now"
    )
    return {
        "kinds": kinds,
        "categories": categories,
        "k": int(k),
        "max_km": float(max_km),
        "include_unauth": include_unauth,
        "open_now": open_now,
    }


def _clicked_origin() -> dict[str, Any]:
    from locator import LocatorError

    lat, lon = st.session_state["click"]
    label = T("find.map_point", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    try:
        near = _geocoder().reverse((lat, lon))
    except LocatorError:
        near = None
    if near is not None:
        label += T("find.map_point_near", near=near.address)
    return {"lat": lat, "lon": lon, "label": label, "raw": {}}


def _nearest(origin: dict[str, Any], f: dict[str, Any]) -> pd.DataFrame:
    from locator import LocatorError
    from locator.hours import as_local

    try:
        return index.nearest(
            origin["lat"],
            origin["lon"],
            f["k"],
            max_km=f["max_km"] or None,
            kinds=f["kinds"] or None,
            categories=f["categories"] or None,
            authorized_only=not f["include_unauth"],
            open_at=as_local() if f["open_now"] else None,
        )
    except LocatorError as err:
        st.error(_md(err))
        return pd.DataFrame()


def _card(i: int, row: dict[str, Any], links: dict[str, str], tels: list[str]) -> None:
    """One result as a card: name, distance and drive, open or not, address, call and
    directions (every data value escaped)."""
    with st.container(border=True, key=f"result-{i}"):
        badge = "" if row.get("authorized", True) else f" · ⚠ {T('not_authorized')}"
        st.markdown(f"**{i + 1}. {_md(row['name'])}**{badge}")
        drive = T("find.drive", minutes=i18n.duration(row["drive_minutes"], LANG))
        st.markdown(
            f"{i18n.km(row['distance_km'], LANG)} · {drive} · "
            f"{_md(i18n.one_language(row['hours_label'], LANG))}"
        )
        if row.get("address"):
            st.caption(_md(row["address"]))
        phone = f"[{_md(row['phone'])}]({tels[0]})" if tels else _md(row.get("phone") or "")
        routes = (
            f"[{T('link.amap')}]({links['amap']}) · [{T('link.baidu')}]({links['baidu']}) · "
            f"[OSM]({links['osm']})"
        )
        st.markdown(f"{phone} · {T('find.routes', links=routes)}")


def _results(origin: dict[str, Any], results: pd.DataFrame, f: dict[str, Any]) -> None:
    """The results: cards (above the fold on a phone), then the whole table."""
    from locator.directions import directions_links, tel_links

    st.subheader(T("find.nearest_to", place=_md(origin["label"])))
    if results.empty:
        st.warning(T("find.none_open") if f["open_now"] else T("find.none"))
        return
    if not bool(results["within_max"].iloc[0]):
        nearest = i18n.km(results["distance_km"].iloc[0], LANG)
        st.warning(T("find.none_within", km=f"{f['max_km']:g}", nearest=nearest))
    here = (float(origin["lat"]), float(origin["lon"]))
    links = [
        directions_links((float(la), float(lo)), origin=here, to_name=str(nm))
        for la, lo, nm in zip(results["lat"], results["lon"], results["name"], strict=True)
    ]
    tels = [tel_links(p) for p in results["phone"]]
    for i, row in enumerate(results.to_dict("records")):
        _card(i, row, links[i], tels[i])
    with st.expander(T("find.all_results")):
        shown = results.assign(
            amap=[x["amap"] for x in links],
            baidu=[x["baidu"] for x in links],
            osm=[x["osm"] for x in links],
        )
        cols = ["name", "kind", "distance_km", "drive_minutes", "meets_promise", "hours_label"]
        cols += ["hours", "phone", "address", "amap", "baidu", "osm"]
        if f["include_unauth"]:
            cols.insert(1, "authorized")
        route = T("find.directions")
        _table(
            shown,
            cols,
            column_config={
                _header(c): st.column_config.LinkColumn(_header(c), display_text=route)
                for c in ("amap", "baidu", "osm")
            },
        )
    from locator.drive import DriveTimeModel

    st.caption(T("find.caption") + " " + i18n.drive_note(DriveTimeModel(), LANG))


def _find_map(origin: dict[str, Any] | None, results: pd.DataFrame, f: dict[str, Any]) -> None:
    from locator.maps import build_map

    if origin is None:  # a copy: rendering a folium map changes it
        m = copy.deepcopy(_national_map(net_key, outlets, tiles, LANG))
    else:
        nearby = index.within(
            origin["lat"], origin["lon"], NEARBY_KM, authorized_only=not f["include_unauth"]
        )
        m = build_map(
            nearby,
            tiles=tiles,
            origin=(origin["lat"], origin["lon"]),
            results=results,
            origin_label=origin["label"],
            lang=LANG,
        )
    point = _clicked_point(_show_map(m, key="find-map", clicks=True))
    if point is not None and point != st.session_state.get("click"):
        st.session_state["click"] = point
        st.session_state["click_query"] = query
        st.rerun()


def _clicked_point(out: Any) -> tuple[float, float] | None:
    """The WGS-84 (lat, lon) of the map's last click, rounded to 6 decimals, or None:
    the one reading of clicks for every map (on AMap tiles they are GCJ-02)."""
    from locator import crs

    clicked = (out or {}).get("last_clicked")
    if not clicked or clicked.get("lat") is None:
        return None
    lat, lon = float(clicked["lat"]), float(clicked["lng"])
    if tiles == "amap":
        lon, lat = crs.gcj02_to_wgs84(lon, lat)
    return round(lat, 6), round(lon, 6)


def _verify_box() -> None:
    with st.container(border=True):
        st.subheader(T("verify.heading"))
        st.caption(T("verify.caption"))
        v1, v2, v3 = st.columns(3)
        v_phone = v1.text_input(T("verify.phone"), key="verify-phone", placeholder="400-555-0123")
        v_name = v2.text_input(T("verify.name"), key="verify-name")
        v_city = v3.text_input(T("verify.city"), key="verify-city", placeholder="桂林 · Guilin")
        if v_phone.strip() or v_name.strip():
            _show_verify(v_phone, v_name, v_city)


def find_view() -> None:
    """Search box (already sent), filters, result cards under it, the map beside."""
    with find_left:
        f = _find_filters()
    # A click on the map overrides the typed query until the query changes.
    if st.session_state.get("click_query") != query:
        st.session_state.pop("click", None)
    origin = None
    if st.session_state.get("click"):
        origin = _clicked_origin()
    elif query.strip():
        with find_left:
            origin = _origin_from_query(query.strip())
    results = _nearest(origin, f) if origin is not None else pd.DataFrame()
    with find_left:
        if st.session_state.get("click") and st.button(T("find.clear_point")):
            st.session_state.pop("click", None)
            st.rerun()
        if origin is None:
            st.info(T("find.hint"))
        else:
            _results(origin, results, f)
    with find_right:
        _find_map(origin, results, f)
    _verify_box()


# --------------------------------------------------------------------------- coverage
@st.fragment
def coverage_view() -> None:
    """Reach mode and radius, the figures, the map, the tables: a fragment, so a radius
    change reruns only this (the figures are sent before the map is drawn)."""
    model = _coverage_model(net_key, outlets)
    c1, c2 = st.columns([1, 3])
    mode = c1.radio(
        T("cov.reach_by"), ["km", "drive"], format_func=lambda m: T(f"cov.by_{m}"), key="cov-mode"
    )
    if mode == "km":
        radius = c2.slider(T("cov.radius"), 5, 300, 50, step=5, key="cov-radius")
        report = model.report(float(radius), gap_limit=500)
    else:
        minutes = c2.slider(T("cov.minutes"), 15, 480, 120, step=15, key="cov-minutes")
        report = model.report(drive_minutes=float(minutes), gap_limit=500)
        st.caption(report.note)
    _coverage_figures(report)
    r = report.radius_km
    cities_df = report.cities_frame()
    gaps_df = report.gaps_frame()
    _coverage_map(model, mode, r, cities_df, gaps_df)
    _coverage_tables(report, cities_df, gaps_df, r)
    _scenario_panel(report, r)


def _coverage_figures(report: Any) -> None:
    figures = [
        (T("cov.covered"), i18n.percent(report.share_covered, LANG),
         T("cov.covered_of", covered=i18n.count(report.population_covered),
           total=i18n.count(report.population_total))),
        (T("cov.backup"), i18n.percent(report.share_backup, LANG),
         T("cov.people", n=i18n.count(report.population_backup))),
        (T("cov.median"), i18n.km(report.distance_p50_km, LANG),
         T("cov.p90", km=i18n.km(report.distance_p90_km, LANG, digits=0))),
        (T("cov.uncovered"), i18n.count(report.places_uncovered),
         T("cov.of_places", n=i18n.count(report.places_total))),
    ]  # fmt: skip
    for col, (label, value, context) in zip(st.columns(4), figures, strict=True):
        col.metric(label, value)  # no delta: an arrow would suggest a change
        col.caption(context)
    st.caption(T("cov.caption", km=i18n.km(report.radius_km, LANG)))
    if report.cities_without_outlet:
        names = "、".join(c.city for c in report.cities_without_outlet)
        st.error(T("cov.no_outlet", names=_md(names)))


def _coverage_map(
    model: Any, mode: str, r: float, cities_df: pd.DataFrame, gaps_df: pd.DataFrame
) -> None:
    from locator.maps import build_map

    # planner controls (#15): district choropleth and the coverage curve, same reach as above
    p1, p2 = st.columns(2)
    show_areas = p1.toggle(T("cov.show_areas"), value=True, key="cov-areas")
    by_district = p2.toggle(T("cov.by_district"), value=False, key="cov-district")
    districts_report = model.report(r, by="district", gap_limit=0) if by_district else None
    city_points = cities_df.merge(cities[["adcode", "lat", "lon"]], on="adcode", how="left")
    cov_map = build_map(
        None,
        tiles=tiles,
        service_areas=_areas_geojson(net_key, outlets, r) if show_areas else None,
        gaps=gaps_df.head(300),
        cities=city_points,
        districts=districts_report,
        lang=LANG,
    )
    _show_map(cov_map, key="coverage-map", height=520)
    if districts_report is not None:
        st.caption(T("cov.district_caption"))
        with st.expander(T("cov.district_table")):
            _table(districts_report.districts_frame())
    with st.expander(T("cov.curve")):
        if mode == "km":
            curve = model.curve(range(0, 301, 10)).set_index("radius_km")
            curve.index.name = T("cov.radius")
        else:
            curve = model.curve(drive_minutes=range(0, 361, 15)).set_index("drive_minutes")
            curve.index.name = T("cov.minutes")
        shares = curve[["share_covered", "share_backup"]] * 100
        st.line_chart(
            shares.rename(
                columns={"share_covered": T("cov.covered"), "share_backup": T("cov.backup")}
            )
        )
        st.caption(
            T("cov.curve_caption") + (" " + model.drive_model.describe() if mode != "km" else "")
        )


def _coverage_tables(report: Any, cities_df: pd.DataFrame, gaps_df: pd.DataFrame, r: float) -> None:
    from locator.outputs import csv_bytes

    t1, t2, t3, t4 = st.tabs(
        [T("cov.tab_cities"), T("cov.tab_provinces"), T("cov.tab_gaps"), T("cov.tab_sites")]
    )
    with t1:
        _table(cities_df)
    with t2:
        _table(report.provinces_frame())
    with t3:
        _table(gaps_df)
    with t4:
        p = st.number_input(T("cov.new_sites"), 1, 20, 5, key="cov-p")
        if st.button(T("cov.suggest"), key="cov-suggest"):
            st.session_state["suggest"] = (net_key, int(p), r)
        if st.session_state.get("suggest") == (net_key, int(p), r):
            res = _suggest(net_key, outlets, int(p), r)
            s = res["summary"]
            before = i18n.count(s["population_covered_before"])
            after = i18n.count(s["population_covered_after"])
            st.success(T("cov.suggested", p=int(p), before=before, after=after))
            _table(res["frame"])
            st.caption(T("cov.suggest_note"))
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        T("cov.dl_areas"),
        json.dumps(_areas_geojson(net_key, outlets, r), ensure_ascii=False),
        file_name=f"service-areas-{r:g}km.geojson",
        mime="application/geo+json",
    )
    d2.download_button(
        T("cov.dl_gaps"), csv_bytes(gaps_df), file_name=f"gaps-{r:g}km.csv", mime="text/csv"
    )
    d3.download_button(
        T("cov.dl_cities"), csv_bytes(cities_df), file_name=f"cities-{r:g}km.csv", mime="text/csv"
    )


# --------------------------------------------------------------------------- what-if
_Candidate = tuple[str, float, float, str, str]  # candidate_id, lat, lon, name, city
MAX_SCENARIO_POINTS = 50  # candidates placed by hand in one scenario


@st.cache_resource(show_spinner=False)
def _scenario_demand() -> tuple[pd.DataFrame, pd.DataFrame]:
    """One shared (never mutated) copy of the listed cities and places: a scenario keeps
    its coverage model per places object, so a new radius costs a report, not a rebuild."""
    return _reference()


@st.cache_resource(show_spinner=False, max_entries=16)
def _scenario(
    key: str, _outlets: pd.DataFrame, off: tuple[str, ...], add: tuple[_Candidate, ...]
) -> Any:
    """A Scenario on the network in use, its coverage model built."""
    from locator.scenario import Scenario

    listed, demand = _scenario_demand()
    cands = [{"candidate_id": c, "lat": la, "lon": lo, "name": n, "city": ci}
             for c, la, lo, n, ci in add]  # fmt: skip
    name = "scenario" if off or add else "live"
    s = Scenario(_outlets, add=cands, remove=list(off), name=name)
    s.model(demand, listed)
    return s


@st.cache_resource(show_spinner=False, max_entries=16)
def _saved_scenario(key: str, _outlets: pd.DataFrame, name: str, version: int) -> Any:
    """A saved scenario on the network in use, with its model built."""
    s = store.scenario(name).build(_outlets)
    listed, demand = _scenario_demand()
    s.model(demand, listed)
    return s


def _evaluate(s: Any, r: float) -> Any:
    listed, demand = _scenario_demand()
    return s.evaluate(demand, listed, radius_km=r, gap_limit=10)


def _scenario_figures(res: Any, live: Any) -> None:
    """The scenario's figures, each with its change against the live network."""
    figures = [
        (T("cov.covered"), i18n.percent(res.share_covered, LANG),
         res.population_covered - live.population_covered),
        (T("cov.backup"), i18n.percent(res.share_backup, LANG),
         res.population_backup - live.population_backup),
        (T("cov.uncovered"), i18n.count(res.places_uncovered),
         res.places_uncovered - live.places_uncovered),
    ]  # fmt: skip
    for i, (col, (label, value, delta)) in enumerate(zip(st.columns(3), figures, strict=True)):
        col.metric(label, value, delta=f"{delta:+,}" if delta else None,
                   delta_color="inverse" if i == 2 else "normal")  # fmt: skip
    st.caption(T("scen.live_note"))


def _scenario_panel(live: Any, r: float) -> None:
    """假设方案 / What-if: switch outlets off, add suggested sites, see the figures
    change; save by name, open one, compare two (the network is never changed)."""
    from locator.errors import LocatorError

    with st.expander(T("scen.title")):
        st.caption(T("scen.intro"))
        ids = outlets["outlet_id"].astype(str).tolist()
        labels = {
            oid: f"{oid} {name} ({city})"
            for oid, name, city in zip(ids, outlets["name"], outlets["city"], strict=True)
        }
        off = st.multiselect(T("scen.off"), ids, format_func=labels.get, key="scen-off")
        sites = _suggest(net_key, outlets, 5, r)["frame"]
        st.markdown(f"**{T('scen.add')}**")
        chosen: list[_Candidate] = []
        if not len(sites):
            st.caption(T("scen.no_sites"))
        for row in sites.itertuples(index=False):
            place = row.nearest_place_zh or row.nearest_place
            text = T("scen.site", rank=row.rank, place=_md(place), city=_md(row.city),
                     gain=i18n.count(row.population_gained))  # fmt: skip
            if st.checkbox(text, key=f"scen-site-{row.candidate_id}"):
                chosen.append((str(row.candidate_id), float(row.lat), float(row.lon),
                               str(place), str(row.city)))  # fmt: skip
        chosen += _scenario_points()
        current = None
        if off or chosen:
            try:
                current = _scenario(net_key, outlets, tuple(off), tuple(chosen))
            except LocatorError as err:
                st.error(_md(err))
        if current is not None:
            res = _evaluate(current, r)
            st.markdown(f"**{T('scen.figures', added=len(chosen), removed=len(off))}**")
            _scenario_figures(res, live)
        _scenario_map(current, r)
        if current is not None:
            _scenario_save(current)
        _scenario_open_and_compare(live, r)


def _scenario_points() -> list[_Candidate]:
    """Candidates placed by the planner: a click on the scenario map or typed
    coordinates (``lat, lon``, WGS-84); each can be unticked, all can be cleared."""
    points: list[tuple[float, float]] = st.session_state.setdefault("scen-points", [])
    st.markdown(f"**{T('scen.points')}**")
    c1, c2 = st.columns([3, 1])
    typed = c1.text_input(T("scen.coords"), key="scen-coords", placeholder="30.2741, 120.1551")
    if c2.button(T("scen.add_point"), key="scen-add-point") and typed.strip():
        try:
            _add_point(*_parse_point(typed))
        except ValueError as err:
            st.error(_md(err))
    chosen: list[_Candidate] = []
    for i, (lat, lon) in enumerate(points):
        place = _place_name(lat, lon)
        text = T("scen.point", n=i + 1, lat=f"{lat:.5f}", lon=f"{lon:.5f}", place=_md(place[0]))
        if st.checkbox(text, value=True, key=f"scen-point-{i}"):
            name = T("scen.point_name", n=i + 1)
            chosen.append((f"point-{i + 1}", lat, lon, name, place[1]))
    if points:
        st.button(T("scen.clear_points"), key="scen-clear-points", on_click=_clear_points)
    if not points:
        st.caption(T("scen.points_hint"))
    return chosen


def _parse_point(text: str) -> tuple[float, float]:
    """``"30.27, 120.15"`` (also space- or full-width-comma-separated) as (lat, lon)."""
    from locator import LocatorError
    from locator.network import checked_coordinates

    parts = [p for p in text.replace("，", ",").replace(",", " ").split() if p]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise ValueError(T("scen.bad_coords", value=text.strip()[:60])) from None
    try:
        la, lo = checked_coordinates(pd.DataFrame({"lat": [lat], "lon": [lon]}), source=text)
    except LocatorError as err:
        raise ValueError(f"{T('scen.bad_coords', value=text.strip()[:60])} {err}") from None
    return float(la[0]), float(lo[0])


def _clear_points() -> None:
    points = st.session_state.get("scen-points", [])
    for i in range(len(points)):
        st.session_state.pop(f"scen-point-{i}", None)
    points.clear()


def _add_point(lat: float, lon: float) -> None:
    points = st.session_state.setdefault("scen-points", [])
    point = (round(lat, 6), round(lon, 6))
    if point not in points and len(points) < MAX_SCENARIO_POINTS:
        points.append(point)


@st.cache_data(show_spinner=False, max_entries=256)
def _place_name(lat: float, lon: float) -> tuple[str, str]:
    """The district a point is in, and its city (``("", "")`` at sea or abroad)."""
    from locator import LocatorError

    try:
        near = _geocoder().reverse((lat, lon))
    except LocatorError:
        near = None
    if near is None:
        return "", ""
    return str(near.address), str((near.raw or {}).get("city") or "")


def _scenario_map(current: Any, r: float) -> None:
    """The scenario's network on a map, its gaps and (with the district toggle on) its
    choropleth at the same reach; a click adds a candidate there. Behind a toggle, so a
    radius change does not draw a second map nobody looks at."""
    from locator.maps import build_map

    if not st.toggle(T("scen.map"), key="scen-map"):
        return
    listed, demand = _scenario_demand()
    if current is not None:
        network, model = current.network, current.model(demand, listed)
    else:
        network, model = outlets, _coverage_model(net_key, outlets)
    by_district = bool(st.session_state.get("cov-district"))
    m = build_map(
        network,
        tiles=tiles,
        gaps=model.report(r, gap_limit=300).gaps_frame(),
        districts=model.report(r, by="district", gap_limit=0) if by_district else None,
        lang=LANG,
    )
    st.caption(T("scen.map_hint"))
    point = _clicked_point(_show_map(m, key="scen-map-view", height=460, clicks=True))
    if point is not None and point != st.session_state.get("scen-last-click"):
        st.session_state["scen-last-click"] = point
        _add_point(*point)
        st.rerun()


def _scenario_save(s: Any) -> None:
    from locator.errors import LocatorError

    if upload is not None:
        st.caption(T("scen.file_network"))
        return
    if session is None or not session.may("editor"):
        st.caption(T("scen.sign_in"))
        return
    c1, c2 = st.columns([1, 2])
    name = c1.text_input(T("scen.name"), key="scen-name", max_chars=100)
    note = c2.text_input(T("scen.note"), key="scen-note", max_chars=1000)
    overwrite = st.checkbox(T("scen.overwrite"), key="scen-overwrite")
    if st.button(T("scen.save"), key="scen-save", disabled=not name.strip()):
        from locator.scenario import Scenario

        try:
            named = Scenario(s.base, add=s.added, remove=s.remove, name=name.strip(), note=note)
            saved = store.save_scenario(named, actor=session.name, overwrite=overwrite)
        except LocatorError as err:
            st.error(_md(err))
        else:
            st.success(T("scen.saved", name=_md(saved.name), version=saved.version))


def _scenario_open_and_compare(live: Any, r: float) -> None:
    from locator.errors import LocatorError
    from locator.outputs import csv_bytes
    from locator.scenario import LIVE, compare

    if upload is not None:
        return
    saved = {x.name: x for x in store.scenarios()}
    if not saved:
        return
    names = list(saved)
    opened = st.selectbox(T("scen.open"), ["", *names], key="scen-open",
                          format_func=lambda n: n or T("scen.none"))  # fmt: skip
    if opened:
        try:
            entry = _saved_scenario(net_key, outlets, opened, saved[opened].version)
        except LocatorError as err:
            st.error(T("scen.broken", reason=_md(err)))
        else:
            if entry.note:
                st.caption(_md(entry.note))
            _scenario_figures(_evaluate(entry, r), live)
    st.markdown(f"**{T('scen.compare')}**")
    c1, c2 = st.columns(2)
    options = [LIVE, *names]
    shown = lambda n: T("scen.live") if n == LIVE else n  # noqa: E731
    a = c1.selectbox(T("scen.a"), options, key="scen-a", format_func=shown)
    b = c2.selectbox(T("scen.b"), options, index=min(1, len(names)), key="scen-b",
                     format_func=shown)  # fmt: skip
    try:
        sides = []
        for n in (a, b):
            if n == LIVE:
                sides.append(_scenario(net_key, outlets, (), ()))
            else:
                sides.append(_saved_scenario(net_key, outlets, n, saved[n].version))
        listed, demand = _scenario_demand()
        cmp = compare(sides[0], sides[1], demand, listed, radius_km=r)
    except LocatorError as err:
        st.error(T("scen.broken", reason=_md(err)))
        return
    frame = cmp.frame.astype(str).replace({"None": ""})
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(T("scen.dl_compare"), csv_bytes(cmp.frame),
                       file_name=f"compare-{r:g}km.csv", mime="text/csv")  # fmt: skip


# --------------------------------------------------------------------------- data
def data_view() -> None:
    from locator import DataError

    st.markdown(T("data.intro"))
    file = st.file_uploader(T("data.file"), type=["csv", "xlsx", "geojson", "json"])
    if file is not None:
        data = file.getvalue()
        sha = hashlib.sha256(data).hexdigest()[:16]
        if not upload or upload[0] != sha:
            try:
                _network(sha, data, file.name)
            except DataError as err:
                st.error(T("data.refused", name=_md(file.name), n=len(err.errors)))
                problems = pd.DataFrame(
                    [
                        {"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                        for p in err.errors
                    ]
                ).astype(str)
                _table(problems)
            else:
                st.session_state["upload"] = (sha, data, file.name)
                st.rerun()
    if upload:
        st.success(T("data.using", name=_md(upload[2]), n=len(outlets)))
        if st.button(T("data.back")):
            st.session_state.pop("upload", None)
            st.rerun()
    for w in outlets.attrs.get("warnings", []):
        st.warning(_md(w))
    st.subheader(T("data.audit"))
    findings = _audit(net_key, outlets)
    if len(findings):
        _table(findings)
    else:
        st.success(T("data.no_findings"))
    st.subheader(T("data.outlets"))
    _table(outlets)
    _network_store_view(store, session)


# --------------------------------------------------------------------------- embed
def embed_view() -> None:
    from locator.embed import iframe_snippet

    st.markdown(T("embed.intro"))
    c1, c2, c3 = st.columns(3)
    city = c1.selectbox(
        T("embed.city"),
        ["", *cities["city"]],
        format_func=lambda c: c or T("embed.all_cities"),
        key="embed-city",
    )
    layers = c2.multiselect(
        T("embed.layers"),
        ["outlets", "coverage", "gaps"],
        default=["outlets"],
        format_func=lambda x: T(f"embed.layer.{x}"),
        key="embed-layers",
    )
    embed_tiles = c3.selectbox(
        T("embed.basemap"), list(TILES), index=2, format_func=T, key="embed-tiles"
    )
    page = _embed_page(net_key, outlets, city, tuple(layers), TILES[embed_tiles])
    st.download_button(T("embed.download"), page.encode("utf-8"), "map.html", "text/html")
    st.code(iframe_snippet("https://example.org/map.html"), language="html")
    # A data: URL gives the preview an opaque origin: even if hostile text in an uploaded
    # file escaped our escaping, it could not reach the app's page or cookies.
    st.iframe(
        "data:text/html;base64," + base64.b64encode(page.encode("utf-8")).decode(), height=480
    )


# --------------------------------------------------------------------------- load
@st.cache_resource(show_spinner=False, max_entries=4)
def _load_report(
    key: str, _outlets: pd.DataFrame, orders: tuple, capacity: tuple | None, coord_sys: str
) -> Any:
    """The load report of an orders file (``orders``/``capacity``: (sha, bytes, name), or
    ``None`` bytes for the bundled synthetic sample) on the network ``key``."""
    from locator import reference
    from locator.load import outlet_load, read_capacity, read_orders

    if orders[1] is None:
        frame = read_orders(reference.data_path("sample-orders.csv"))
    else:
        frame = read_orders(orders[1], name=orders[2])
    cap = None
    if capacity is not None:
        cap_source = (
            reference.data_path("sample-capacity.csv")
            if capacity[1] is None
            else read_orders(capacity[1], name=capacity[2])
        )
        cap = read_capacity(cap_source)
    return outlet_load(
        frame, _outlets, capacity=cap, undated="skip", coord_sys=coord_sys, source=orders[2]
    )


def _kept_upload(label: str, key: str, state: str) -> tuple | None:
    """An uploaded file as (sha, bytes, name), kept in the session under ``state``."""
    file = st.file_uploader(label, type=["csv"], key=key)
    if file is not None:
        data = file.getvalue()
        st.session_state[state] = (hashlib.sha256(data).hexdigest()[:16], data, file.name)
    return st.session_state.get(state)


def _problems_table(err: DataError) -> None:
    rows = [{"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
            for p in err.errors]  # fmt: skip
    _table(pd.DataFrame(rows).astype(str))


def load_view() -> None:
    """Orders per outlet (an upload, or the bundled synthetic sample): figures, a map of
    outlets sized by load and coloured by overload, the table and downloads."""
    from locator import LocatorError
    from locator.maps import build_map
    from locator.outputs import csv_bytes

    st.markdown(T("load.intro"))
    c1, c2 = st.columns(2)
    with c1:
        orders = _kept_upload(T("load.file"), "load-file", "load-orders")
    with c2:
        capacity = _kept_upload(T("load.capacity_file"), "load-cap-file", "load-capacity")
    if orders is None:
        orders = ("sample", None, "sample-orders.csv")
        st.warning(T("load.sample"))
        if capacity is None and upload is None and _is_sample(net_key):
            capacity = ("sample", None, "sample-capacity.csv")
    else:
        st.info(T("load.using", name=_md(orders[2])))
    coord_sys = st.selectbox(
        T("load.coord_sys"),
        ["wgs84", "gcj02", "bd09"],
        format_func=lambda c: T(f"load.cs_{c}"),
        key="load-coord-sys",
        help=T("load.coord_sys_help"),
    )
    try:
        report = _load_report(net_key, outlets, orders, capacity, coord_sys)
    except DataError as err:
        st.error(T("load.refused", name=_md(err.source or orders[2]), n=len(err.errors)))
        _problems_table(err)
        return
    except (LocatorError, ValueError, UnicodeDecodeError) as err:
        st.error(_md(err))
        return
    frame = report.frame()
    m1, m2, m3 = st.columns(3)
    m1.metric(T("load.orders"), i18n.count(report.orders_used))
    if report.start is not None and report.end is not None:
        m1.caption(
            T("load.orders_of", days=report.days, start=report.start.date(), end=report.end.date())
        )
    m2.metric(T("load.beyond"), i18n.percent(report.share_beyond_promise, LANG))
    m3.metric(
        T("load.overloaded_n"),
        i18n.count(report.outlets_overloaded) if report.has_capacity else "-",
    )
    m3.caption(T("load.of_outlets", n=len(frame)) if report.has_capacity else T("load.no_capacity"))
    if report.orders_undated or report.orders_unassigned:
        st.caption(
            T("load.left_out", undated=report.orders_undated, unassigned=report.orders_unassigned)
        )
    located = frame.merge(outlets[["outlet_id", "lat", "lon"]], on="outlet_id", how="left")
    _show_map(build_map(None, tiles=tiles, load=located, lang=LANG), key="load-map", height=520)
    st.caption(T("load.caption") + " " + report.drive_note)
    _table(frame)
    d1, d2 = st.columns(2)
    d1.download_button(
        T("load.dl_outlets"), csv_bytes(frame), file_name="outlet-load.csv", mime="text/csv"
    )
    d2.download_button(
        T("load.dl_daily"), csv_bytes(report.daily()), file_name="outlet-load-daily.csv",
        mime="text/csv",
    )  # fmt: skip


if find_tab.open is not False:
    find_view()
if coverage_tab.open:
    with coverage_tab:
        coverage_view()
if data_tab.open:
    with data_tab:
        data_view()
if embed_tab.open:
    with embed_tab:
        embed_view()
if load_tab.open:
    with load_tab:
        load_view()
