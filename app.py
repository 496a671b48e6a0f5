"""Streamlit app: find a center, coverage for planners, network data, embed.

UI only: every number comes from the ``locator`` package (the same functions the CLI,
the HTTP API and the notebooks call). Run with ``make app``.

Offline-capable: Leaflet, jQuery and MarkerCluster are served from the local
``xstatic-*`` wheels through Streamlit's static serving (``static/vendor``, written at
start-up), never from a CDN; the basemap tiles are decoration.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from locator import (
    DataError,
    LocatorError,
    app_network,
    crs,
    load_cities,
    load_outlets,
    load_places,
)
from locator.audit import audit_outlets, findings_frame
from locator.coverage import CoverageModel, service_areas, suggest_sites
from locator.directions import directions_links as route_links
from locator.directions import tel_links
from locator.drive import DriveTimeModel
from locator.embed import iframe_snippet
from locator.geocode import origin_from_location, renamed_note
from locator.hours import as_local
from locator.index import OutletIndex
from locator.labels import CATEGORY_LABELS, KIND_LABELS
from locator.maps import build_map
from locator.outputs import csv_bytes
from locator.pages import city_keys, network_page
from locator.verify import verify as verify_listing
from locator.webassets import export_assets, localize_map

HERE = Path(__file__).resolve().parent
VENDOR_URL = "/app/static/vendor"
TILE_OPTIONS = {
    "OpenStreetMap (WGS-84)": "osm",
    "AMap 高德 (GCJ-02)": "amap",
    "No basemap (offline)": None,
}
SAMPLE_KEY = "sample"
NEARBY_KM = 60.0  # outlets drawn around a search origin (the results always are)

st.set_page_config(page_title="Outlet locator · 售后网点查询", layout="wide")


# --------------------------------------------------------------------------- cached data
@st.cache_resource(show_spinner=False)
def _static_assets() -> None:
    export_assets(HERE / "static" / "vendor")


@st.cache_data(show_spinner=False)
def _reference() -> tuple[pd.DataFrame, pd.DataFrame]:
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
    return load_outlets(io.BytesIO(data), name=name)


@st.cache_data(show_spinner=False, max_entries=8)
def _is_sample(key: str) -> bool:
    """Whether the store's network is still exactly the bundled synthetic sample."""
    from locator.data import load_network

    return bool(_store().network().version == load_network().version)


@st.cache_resource(show_spinner="Indexing outlets…", max_entries=8)
def _index(key: str, _outlets: pd.DataFrame) -> OutletIndex:
    return OutletIndex(_outlets)


@st.cache_resource(show_spinner="Measuring distances to every place…", max_entries=8)
def _coverage_model(key: str, _outlets: pd.DataFrame) -> CoverageModel:
    cities, places = _reference()
    return CoverageModel(_outlets, places, cities)


@st.cache_data(show_spinner="Drawing service areas…", max_entries=32)
def _areas_geojson(key: str, _outlets: pd.DataFrame, radius_km: float) -> dict[str, Any]:
    return service_areas(_outlets, radius_km, by="nation").to_geojson()


@st.cache_data(show_spinner="Choosing sites…", max_entries=32)
def _suggest(key: str, _outlets: pd.DataFrame, p: int, radius_km: float) -> dict[str, Any]:
    _, places = _reference()
    res = suggest_sites(_outlets, places, p, radius_km)
    return {"frame": res.frame(), "summary": res.to_dict()}


@st.cache_data(show_spinner=False, max_entries=8)
def _audit(key: str, _outlets: pd.DataFrame) -> pd.DataFrame:
    return findings_frame(audit_outlets(_outlets))


@st.cache_data(show_spinner="Building the page…", max_entries=16)
def _embed_page(
    key: str, _outlets: pd.DataFrame, city: str, layers: tuple[str, ...], tiles: str | None
) -> str:
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


@st.cache_resource(show_spinner="Loading the gazetteer…")
def _geocoder() -> Any:
    from locator import OfflineGeocoder

    return OfflineGeocoder()


def _sign_in_box(store: Any) -> app_network.Session | None:
    """The sidebar's sign-in: a password box, checked with the store on every run (a
    revoked token stops at once). The token is never echoed nor cached."""
    st.subheader("Sign in 登录")
    st.text_input(
        "API token",
        type="password",
        key="net-token",
        help="A token from `locator token create --role editor --name NAME`: editors "
        "change outlets, admins also grant and revoke authorizations.",
    )
    secret = st.session_state.get("net-token") or ""
    session = app_network.sign_in(store, secret)
    if session is not None:
        st.success(f"Signed in as **{_md(session.name)}** ({session.role}).")
        st.button("Sign out", key="net-sign-out", on_click=_sign_out)
    elif secret.strip():
        st.error("Unknown or revoked token.")
    return session


def _sign_out() -> None:
    st.session_state["net-token"] = ""
    st.session_state.pop("net-snapshot", None)


def _md(text: object) -> str:
    """Data text made inert for st.markdown (no HTML, links or emphasis from the data)."""
    out = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>$])", r"\\\1", out)


def _show_map(m: folium.Map, *, key: str, height: int = 560, clicks: bool = False) -> Any:
    """Render with streamlit-folium, Leaflet served locally. Only clicks are returned,
    so panning and zooming never rerun the script."""
    localize_map(m, VENDOR_URL)
    return st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_clicked"] if clicks else [],
    )


# --------------------------------------------------------------------------- sidebar
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

with st.sidebar:
    st.header("Outlet locator")
    if upload is None and not _is_sample(net_key):
        st.info(f"Network: the store ({len(outlets)} open outlets).")
    elif upload is None:
        st.warning(
            "**Sample data.** The outlets shown belong to *ACME家电*, a fictional brand: "
            "synthetic locations and `000-555` phone numbers. Upload your network under "
            "**Network data**."
        )
    else:
        st.info(f"Network: uploaded file **{_md(upload[2])}** ({len(outlets)} outlets).")
    tiles_label = st.selectbox("Basemap", list(TILE_OPTIONS), index=0)
    tiles = TILE_OPTIONS[tiles_label]
    st.caption(DriveTimeModel().describe())
    st.caption(
        f"{int(outlets['authorized'].sum())} authorized outlets of {len(outlets)} listings; "
        f"{len(cities)} listed cities; {len(places):,} GeoNames places (CC-BY 4.0)."
    )

# Network editing: the store and who is signed in (logic in locator.app_network).
store = _store()
with st.sidebar:
    session = _sign_in_box(store)

index = _index(net_key, outlets)
find_tab, coverage_tab, data_tab, embed_tab = st.tabs(
    [
        "Find a center 查找网点",
        "Coverage 覆盖分析",
        "Network data 网点数据",
        "Embed 嵌入",
    ]
)


# --------------------------------------------------------------------------- store editing
def _network_store_view(store: Any, session: app_network.Session | None) -> None:
    """The network store: the table (editable for editors), one outlet's form, its
    history and (admins) its authorization."""
    st.subheader("Network store 网点库")
    if "net-snapshot" not in st.session_state:
        st.session_state["net-snapshot"] = (store.revision(), app_network.snapshot(store))
    revision, table = st.session_state["net-snapshot"]
    st.caption(
        f"{len(table)} open outlets in {_md(store.url_for_display)}, as read at revision "
        f"{revision}. Every change is kept in the outlet's history."
    )
    if store.revision() != revision:
        st.info("The store has changed since you loaded this table.")
    if st.button("Reload the table", key="net-reload"):
        st.session_state.pop("net-snapshot", None)
        st.rerun()
    if session is None or not session.may("editor"):
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption("Sign in with an editor token (sidebar) to change outlets.")
    else:
        edited = st.data_editor(
            table,
            key="net-editor",
            hide_index=True,
            width="stretch",
            num_rows="fixed",
            disabled=list(app_network.LOCKED_COLUMNS),
        )
        reason = st.text_input("Reason for these changes (required)", key="net-reason")
        if st.button("Save table changes", key="net-save", type="primary"):
            _save(store, table, edited, session, reason)
    _outlet_view(store, table, session)


def _save(
    store: Any,
    table: pd.DataFrame,
    edited: pd.DataFrame,
    session: app_network.Session,
    reason: str,
) -> None:
    """Save the edits and say what happened (stale rows are never overwritten)."""
    if not reason.strip():
        st.error("Give a reason for the changes: it is recorded in the history.")
        return
    result = app_network.save_edits(store, table, edited, session=session, reason=reason)
    for message in result.messages:
        st.error(_md(message))
    if result.saved:
        st.success(f"Saved {len(result.saved)} outlet(s): {_md(', '.join(result.saved))}.")
        st.session_state.pop("net-snapshot", None)
    elif not result.messages:
        st.info("Nothing to save: no cell was changed.")


def _outlet_view(store: Any, table: pd.DataFrame, session: app_network.Session | None) -> None:
    """One outlet: its fields (editable by editors), its history, its authorization."""
    names = dict(zip(table["outlet_id"].astype(str), table["name"].astype(str), strict=True))
    oid = st.selectbox(
        "Outlet",
        list(names),
        format_func=lambda k: f"{k} · {names[k]}",
        key="net-outlet",
    )
    if oid is None:
        return
    row = table[table["outlet_id"].astype(str) == oid].iloc[0]
    if session is not None and session.may("editor"):
        with st.form("net-outlet-form"):
            values = {
                # keyed by outlet: another outlet's boxes start from its own values
                c: st.text_input(
                    c, value="" if pd.isna(row[c]) else str(row[c]), key=f"net-f-{oid}-{c}"
                )
                for c in ("name", "address", "phone", "hours")
            }
            reason = st.text_input("Reason (required)", key="net-f-reason")
            if st.form_submit_button("Save outlet"):
                edited = table.copy()
                for c, v in values.items():
                    edited.loc[edited["outlet_id"].astype(str) == oid, c] = v
                _save(store, table, edited, session, reason)
    if session is None:
        st.caption("Sign in with a token to see the outlet's history.")
        return
    st.markdown(f"**History of {_md(oid)}**")
    st.dataframe(app_network.history_frame(store, oid), hide_index=True, width="stretch")
    if session.may("admin"):
        _authorization_form(store, oid, session)


def _authorization_form(store: Any, oid: str, session: app_network.Session) -> None:
    """Grant or revoke the outlet's authorization (admins; reason required)."""
    current = store.get(oid)
    auth = current.get("authorization") or {}
    st.markdown(
        f"**Authorization of {_md(oid)}**: "
        + ("authorized" if current.get("authorized") else "not authorized")
        + (f", valid until {auth['valid_until']}" if auth.get("valid_until") else "")
    )
    with st.form("net-auth-form"):
        action = st.radio("Authorization", ["Grant", "Revoke"], horizontal=True, key="net-a-act")
        evidence = st.text_input("Evidence (contract number…)", key="net-a-evidence")
        limited = st.checkbox("Valid until a date", key="net-a-limited")
        until = st.date_input("Valid until", key="net-a-until")
        reason = st.text_input("Reason (required)", key="net-a-reason")
        if st.form_submit_button("Save authorization"):
            if not reason.strip():
                st.error("Give a reason: it is recorded in the history.")
                return
            try:
                store.set_authorization(
                    oid,
                    granted=action == "Grant",
                    actor=session.name,
                    reason=reason,
                    evidence=evidence or None,
                    valid_until=until if limited else None,
                )
            except DataError as err:
                st.error(_md(err))
            else:
                done = "Granted" if action == "Grant" else "Revoked"
                st.success(f"{done} the authorization of {_md(oid)}.")
                st.session_state.pop("net-snapshot", None)


# --------------------------------------------------------------------------- find
def _origin_from_query(query: str) -> dict[str, Any] | None:
    """Geocode the query; for ambiguous ones let the user pick a candidate."""
    try:
        loc = _geocoder().geocode(query)
    except LocatorError as err:
        st.error(_md(err))
        return None
    if loc is None:
        why = getattr(_geocoder(), "no_match_reason", None)  # offline: "a street alone"
        reason = f" ({_md(why(query))})" if why is not None else ""
        st.error(
            f"No place found for “{_md(query)}”{reason}. Try a city or district name "
            "(中文, pinyin or English), or click on the map."
        )
        return None
    try:
        found = origin_from_location(loc, query)
    except LocatorError as err:
        st.error(_md(err))
        return None
    origin = {"lat": found["lat"], "lon": found["lon"], "label": found["address"] or query}
    former = renamed_note(found["renamed_from"])
    if former:
        st.info(f"Former name: {_md(former)}.")
    cands = found["candidates"]
    if found["ambiguous"] and len(cands) > 1:

        def label(c: dict[str, Any]) -> str:
            parts = [c.get("province"), c.get("city"), c.get("district")]
            text = " ".join(dict.fromkeys(p for p in parts if p))
            pop = c.get("population")
            return f"{_md(text)} (pop. {int(pop):,})" if pop else _md(text)

        choice = st.radio(
            f"“{_md(query)}” matches {len(cands)} places — which one?",
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
    try:
        result = verify_listing(
            outlets,
            phone=phone.strip() or None,
            q=name.strip() or None,
            city=city.strip() or None,
            index=index,
            geocoder=_geocoder(),
            flags=_store().flags() if upload is None else None,  # the store's, recorded
        )
    except LocatorError as err:
        st.error(_md(err))
        return
    (st.success if result.authorized else st.error)(_md(result.message))
    for note in result.notes:
        st.info(_md(note))
    for f in result.findings:
        where = "recorded flag" if f.get("source") == "flag" else "audit"
        st.warning(_md(f"{where}: {f.get('kind')}: {f.get('message') or ''}"))
    if result.matches:
        st.dataframe(
            pd.DataFrame(
                {
                    "Listing": [m.name for m in result.matches],
                    "City": [m.city for m in result.matches],
                    "Phone": [m.phone for m in result.matches],
                    "Matched by": [", ".join(m.by) for m in result.matches],
                    "Authorized": ["yes" if m.authorized else "NO" for m in result.matches],
                    "Status": [m.status for m in result.matches],
                }
            ),
            hide_index=True,
            width="stretch",
            key="verify-matches",
        )
    if result.nearest:
        where = (result.origin or {}).get("label") or "the place given"
        st.markdown(f"**Nearest authorized outlets to {_md(where)}:**")
        st.dataframe(
            pd.DataFrame(result.nearest)[
                ["name", "phone", "address", "distance_km", "drive_minutes"]
            ].rename(
                columns={
                    "name": "Authorized outlet",
                    "phone": "Phone",
                    "address": "Address",
                    "distance_km": "km",
                    "drive_minutes": "Drive min (est.)",
                }
            ),
            hide_index=True,
            width="stretch",
            key="verify-nearest",
        )


with find_tab:
    left, right = st.columns([1, 2], gap="large")
    with left:
        query = st.text_input(
            "Address, district or city",
            placeholder="e.g. 深圳南山区科技园 · Xi'an · 朝阳区 · hangzhou",
            help="Chinese, pinyin or English. Or click on the map.",
            key="query",
        )
        kinds = st.multiselect(
            "Kind",
            list(KIND_LABELS),
            default=list(KIND_LABELS),
            format_func=lambda k: KIND_LABELS.get(k, k),
        )
        categories = st.multiselect(
            "Repairs", list(CATEGORY_LABELS), format_func=lambda c: CATEGORY_LABELS.get(c, c)
        )
        c1, c2 = st.columns(2)
        k = c1.number_input("How many", min_value=1, max_value=20, value=5, step=1)
        max_km = c2.number_input(
            "Within km (0 = any)",
            min_value=0.0,
            max_value=2000.0,
            value=0.0,
            step=0.5,
            format="%g",
        )
        include_unauth = st.checkbox(
            "Include unauthorized listings",
            value=False,
            help="Off by default: customers should only be sent to authorized outlets.",
        )
        open_now = st.checkbox(
            "Open now 营业中",
            value=False,
            help="Only outlets open now (Asia/Shanghai; Chinese public holidays and make-up "
            "workdays counted). Outlets with unknown hours are listed after them.",
        )

    # A click on the map overrides the typed query until the query changes.
    if st.session_state.get("click_query") != query:
        st.session_state.pop("click", None)
    origin = None
    if st.session_state.get("click"):
        lat, lon = st.session_state["click"]
        label = f"Map point {lat:.5f}, {lon:.5f}"
        try:
            near = _geocoder().reverse((lat, lon))
        except LocatorError:
            near = None
        if near is not None:
            label += f" (near {near.address})"
        origin = {"lat": lat, "lon": lon, "label": label, "raw": {}}
    elif query.strip():
        with left:
            origin = _origin_from_query(query.strip())

    results = pd.DataFrame()
    if origin is not None:
        try:
            results = index.nearest(
                origin["lat"],
                origin["lon"],
                int(k),
                max_km=float(max_km) or None,
                kinds=kinds or None,
                categories=categories or None,
                authorized_only=not include_unauth,
                open_at=as_local() if open_now else None,
            )
        except LocatorError as err:
            st.error(_md(err))
    with right:
        if origin is None:
            st.info("Type an address, district or city — or click on the map.")
            m = build_map(outlets[outlets["authorized"]], tiles=tiles)
        else:
            nearby = index.within(
                origin["lat"], origin["lon"], NEARBY_KM, authorized_only=not include_unauth
            )
            m = build_map(
                nearby,
                tiles=tiles,
                origin=(origin["lat"], origin["lon"]),
                results=results,
                origin_label=origin["label"],
            )
        out = _show_map(m, key="find-map", clicks=True)
        clicked = (out or {}).get("last_clicked")
        if clicked and clicked.get("lat") is not None:
            lat, lon = float(clicked["lat"]), float(clicked["lng"])
            if tiles == "amap":  # clicks on GCJ-02 tiles are GCJ-02 coordinates
                lon, lat = crs.gcj02_to_wgs84(lon, lat)
            point = (round(lat, 6), round(lon, 6))
            if point != st.session_state.get("click"):
                st.session_state["click"] = point
                st.session_state["click_query"] = query
                st.rerun()
    with left:
        if st.session_state.get("click") and st.button("Clear map point"):
            st.session_state.pop("click", None)
            st.rerun()
    if origin is not None:
        st.subheader(f"Nearest to {_md(origin['label'])}")
        if results.empty:
            st.warning(
                "No outlet matching these filters is open now."
                if open_now
                else "No outlet matches these filters."
            )
        else:
            if not bool(results["within_max"].iloc[0]):
                st.warning(
                    f"No outlet within {max_km:g} km. The nearest is "
                    f"**{results['distance_km'].iloc[0]:.1f} km** away."
                )
            here = (float(origin["lat"]), float(origin["lon"]))
            links = [
                route_links((float(la), float(lo)), origin=here, to_name=str(nm))
                for la, lo, nm in zip(results["lat"], results["lon"], results["name"], strict=True)
            ]
            tels = [tel_links(p) for p in results["phone"]]
            lines = []
            for i, row in enumerate(results.head(3).to_dict("records")):
                lines.append(
                    f"{i + 1}. **{_md(row['name'])}** — {row['distance_km']:.1f} km · "
                    f"~{row['drive_minutes']:.0f} min drive (est.) · "
                    f"{_md(row['hours_label'])} · "
                    + (f"[{_md(row['phone'])}]({tels[i][0]})" if tels[i] else _md(row["phone"]))
                    + f" · [AMap]({links[i]['amap']}) · [Baidu]({links[i]['baidu']}) · "
                    f"[OSM]({links[i]['osm']})"
                )
            st.markdown("\n".join(lines))
            table = pd.DataFrame(
                {
                    "Outlet": results["name"],
                    "Kind": results["kind"].map(lambda s: KIND_LABELS.get(s, s)),
                    "km": results["distance_km"].round(1),
                    "Drive (est.)": results["drive_minutes"].round(0).astype(int).astype(str)
                    + " min",
                    "2-h promise": results["meets_promise"].map({True: "✓", False: "✗"}),
                    "Open 营业": results["hours_label"],
                    "Hours": results["hours"],
                    "Phone": results["phone"],
                    "Address": results["address"],
                    "AMap": [link["amap"] for link in links],
                    "Baidu": [link["baidu"] for link in links],
                    "OSM": [link["osm"] for link in links],
                }
            )
            if include_unauth:
                table.insert(1, "Authorized", results["authorized"].map({True: "yes", False: "NO"}))
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={
                    "AMap": st.column_config.LinkColumn("AMap 高德", display_text="directions"),
                    "Baidu": st.column_config.LinkColumn("Baidu 百度", display_text="directions"),
                    "OSM": st.column_config.LinkColumn("OpenStreetMap", display_text="directions"),
                },
            )
            st.caption(
                "Distances are geodesic (WGS-84 ellipsoid), not routes. "
                + DriveTimeModel().describe()
            )

    # ----------------------------------------------------------------- verify
    with st.container(border=True):
        st.subheader("Verify a listing 核实网点")
        st.caption(
            "Found an “official service center” on a search page or a flyer? Check its "
            "phone number (any spelling) or name against this network."
        )
        v1, v2, v3 = st.columns(3)
        v_phone = v1.text_input("Phone 电话", key="verify-phone", placeholder="400-618-9123")
        v_name = v2.text_input("Name or address 名称/地址", key="verify-name")
        v_city = v3.text_input("City 城市", key="verify-city", placeholder="桂林 · Guilin")
        if v_phone.strip() or v_name.strip():
            _show_verify(v_phone, v_name, v_city)


# --------------------------------------------------------------------------- coverage
with coverage_tab:
    model = _coverage_model(net_key, outlets)
    c1, c2 = st.columns([1, 3])
    mode = c1.radio("Reach by", ["Distance (km)", "Drive time (estimate)"], key="cov-mode")
    if mode == "Distance (km)":
        radius = c2.slider("Radius (km)", 5, 300, 50, step=5, key="cov-radius")
        report = model.report(float(radius), gap_limit=500)
    else:
        minutes = c2.slider("Drive time (min)", 15, 480, 120, step=15, key="cov-minutes")
        report = model.report(drive_minutes=float(minutes), gap_limit=500)
        st.caption(report.note)
    r = report.radius_km
    figures = [
        ("Population covered", f"{report.share_covered:.1%}",
         f"{report.population_covered:,} of {report.population_total:,} people"),
        ("Backup (≥ 2 outlets)", f"{report.share_backup:.1%}",
         f"{report.population_backup:,} people"),
        ("Median distance", f"{report.distance_p50_km:.1f} km",
         f"p90 {report.distance_p90_km:.0f} km, population-weighted"),
        ("Places uncovered", f"{report.places_uncovered:,}", f"of {report.places_total:,} places"),
    ]  # fmt: skip
    for col, (label, value, context) in zip(st.columns(4), figures, strict=True):
        col.metric(label, value)  # no delta: an arrow would suggest a change
        col.caption(context)
    st.caption(
        f"Radius {r:.1f} km (geodesic). Population = GeoNames places ≥ 1,000 people "
        "(city-proper figures, incomplete): shares are of this demand layer."
    )
    if report.cities_without_outlet:
        names = ", ".join(c.city for c in report.cities_without_outlet)
        st.error(f"Listed cities with no authorized outlet of their own: {_md(names)}")

    cities_df = report.cities_frame()
    gaps_df = report.gaps_frame()
    show_areas = st.toggle("Show service areas", value=True, key="cov-areas")
    city_points = cities_df.merge(cities[["adcode", "lat", "lon"]], on="adcode", how="left")
    cov_map = build_map(
        None,
        tiles=tiles,
        service_areas=_areas_geojson(net_key, outlets, r) if show_areas else None,
        gaps=gaps_df.head(300),
        cities=city_points,
    )
    _show_map(cov_map, key="coverage-map", height=520)

    t1, t2, t3, t4 = st.tabs(["Listed cities", "Provinces", "Largest gaps", "Suggested sites"])
    with t1:
        st.dataframe(cities_df, hide_index=True, width="stretch")
    with t2:
        st.dataframe(report.provinces_frame(), hide_index=True, width="stretch")
    with t3:
        st.dataframe(gaps_df, hide_index=True, width="stretch")
    with t4:
        p = st.number_input("New sites", 1, 20, 5, key="cov-p")
        if st.button("Suggest sites", key="cov-suggest"):
            st.session_state["suggest"] = (net_key, int(p), r)
        if st.session_state.get("suggest") == (net_key, int(p), r):
            res = _suggest(net_key, outlets, int(p), r)
            s = res["summary"]
            st.success(
                f"{int(p)} new site(s) would raise coverage from "
                f"{s['population_covered_before']:,} to {s['population_covered_after']:,} people."
            )
            st.dataframe(res["frame"], hide_index=True, width="stretch")
            st.caption("Greedy maximal coverage with existing outlets fixed; candidates = places.")

    d1, d2, d3 = st.columns(3)
    d1.download_button(
        "Service areas (GeoJSON)",
        json.dumps(_areas_geojson(net_key, outlets, r), ensure_ascii=False),
        file_name=f"service-areas-{r:g}km.geojson",
        mime="application/geo+json",
    )
    d2.download_button(
        "Gaps (CSV)",
        csv_bytes(gaps_df),
        file_name=f"gaps-{r:g}km.csv",
        mime="text/csv",
    )
    d3.download_button(
        "Cities (CSV)",
        csv_bytes(cities_df),
        file_name=f"cities-{r:g}km.csv",
        mime="text/csv",
    )


# --------------------------------------------------------------------------- data
with data_tab:
    st.markdown(
        "Upload your network as **CSV** (UTF-8 or GB18030), **XLSX** or **GeoJSON**. "
        "Required columns: `outlet_id, name, lat, lon`; optional: `kind` "
        "(service_center | repair_point), `province, city, district, address, phone, "
        "hours, categories` (`;`-separated), `authorized` (yes/no on every row: true/false, "
        "1/0, 是/否, 授权/未授权; without the column every outlet counts as authorized), "
        "`coord_sys` (wgs84 | gcj02 | bd09 — GCJ-02/BD-09 rows are converted to WGS-84)."
    )
    file = st.file_uploader("Outlets file", type=["csv", "xlsx", "geojson", "json"])
    if file is not None:
        data = file.getvalue()
        sha = hashlib.sha256(data).hexdigest()[:16]
        if not upload or upload[0] != sha:
            try:
                _network(sha, data, file.name)
            except DataError as err:
                st.error(f"**{_md(file.name)}** was not loaded: {len(err.errors)} problem(s). "
                         "Nothing was changed; fix these rows and upload again.")  # fmt: skip
                st.dataframe(
                    pd.DataFrame(
                        [
                            {"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                            for p in err.errors
                        ]
                    ).astype(str),
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.session_state["upload"] = (sha, data, file.name)
                st.rerun()
    if upload:
        st.success(f"Using **{_md(upload[2])}**: {len(outlets)} outlets.")
        if st.button("Back to the sample network"):
            st.session_state.pop("upload", None)
            st.rerun()
    for w in outlets.attrs.get("warnings", []):
        st.warning(_md(w))
    st.subheader("Audit")
    findings = _audit(net_key, outlets)
    if len(findings):
        st.dataframe(findings, hide_index=True, width="stretch")
    else:
        st.success(
            "No findings: no shared hotlines, no outlets far from their city, no duplicates."
        )
    st.subheader("Outlets")
    st.dataframe(outlets, hide_index=True, width="stretch")
    _network_store_view(store, session)


# --------------------------------------------------------------------------- embed
with embed_tab:
    st.markdown(
        "A **self-contained** HTML map: Leaflet, jQuery and MarkerCluster are inlined, so "
        "the page needs no CDN and works from `file://`. Host it anywhere and embed it "
        "with the iframe below."
    )
    c1, c2, c3 = st.columns(3)
    city = c1.selectbox("City", ["All listed cities", *cities["city"]], key="embed-city")
    layers = c2.multiselect("Layers", ["outlets", "coverage", "gaps"], default=["outlets"])
    embed_tiles_label = c3.selectbox("Basemap ", list(TILE_OPTIONS), index=2, key="embed-tiles")
    page = _embed_page(
        net_key,
        outlets,
        "" if city == "All listed cities" else city,
        tuple(layers),
        TILE_OPTIONS[embed_tiles_label],
    )
    st.download_button("Download map.html", page.encode("utf-8"), "map.html", "text/html")
    st.code(iframe_snippet("https://example.org/map.html"), language="html")
    # A data: URL gives the preview an opaque origin: even if hostile text in an uploaded
    # file escaped our escaping, it could not reach the app's page or cookies.
    st.iframe(
        "data:text/html;base64," + base64.b64encode(page.encode("utf-8")).decode(), height=480
    )
