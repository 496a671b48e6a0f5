"""Self-contained HTML: one file that draws the map from ``file://`` with the network off.

:func:`render_html` renders a folium map built by :mod:`locator.maps` and, with
``self_contained=True``, replaces every ``<script src>`` / ``<link rel=stylesheet>``
with the library file from the ``xstatic-leaflet``, ``xstatic-jquery`` and
``xstatic-leaflet-markercluster`` wheels, inlined; Leaflet's images become
``data:`` URIs. Any external asset it does not know how to inline is an error,
never a silent CDN request. A Content-Security-Policy ``<meta>`` limits the page to
inline code and ``data:`` images (plus the tile host, when there are tiles), so even
a bug elsewhere cannot make the page fetch or send anything.

:func:`embed_page` is the one-call version for the HTTP API and the app:
outlets (and optional coverage/search layers) in, an HTML string out.
:func:`iframe_snippet` gives the markup a web site pastes to embed it::

    <iframe src="https://example.org/outlets-map.html" title="Service outlet map"
            width="100%" height="480" style="border:0" loading="lazy"
            sandbox="allow-scripts" allow="geolocation"></iframe>

``sandbox="allow-scripts"`` runs the map in an opaque origin: it cannot read the host
page's cookies or DOM. Links in popups open only if the host adds
``allow-popups allow-popups-to-escape-sandbox`` to ``sandbox``.
"""

from __future__ import annotations

import base64
import functools
import html as html_lib
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
import pandas as pd

from . import maps
from .errors import ConfigurationError

__all__ = [
    "EXTERNAL_ASSET_RE",
    "asset_text",
    "content_security_policy",
    "embed_page",
    "iframe_snippet",
    "inline_assets",
    "render_html",
    "tile_source",
    "tile_sources",
]


# --------------------------------------------------------------------------- assets


def _dirs() -> dict[str, Path]:
    import xstatic.pkg.jquery as xjq
    import xstatic.pkg.leaflet as xl
    import xstatic.pkg.leaflet_markercluster as xmc

    return {
        "leaflet": Path(xl.BASE_DIR),
        "jquery": Path(xjq.BASE_DIR),
        "markercluster": Path(xmc.BASE_DIR),
    }


# Asset name -> (package, file, "js"|"css"). The names are folium's own link names.
_ASSETS: dict[str, tuple[str, str, str]] = {
    "leaflet": ("leaflet", "leaflet.js", "js"),
    "leaflet_css": ("leaflet", "leaflet.css", "css"),
    "jquery": ("jquery", "jquery.min.js", "js"),
    "markerclusterjs": ("markercluster", "leaflet.markercluster.js", "js"),
    "markerclustercss": ("markercluster", "MarkerCluster.css", "css"),
    "markerclusterdefaultcss": ("markercluster", "MarkerCluster.Default.css", "css"),
}


def _url_to_asset() -> dict[str, str]:
    """Every CDN URL our maps can reference -> the asset name that replaces it."""
    from folium.plugins import MarkerCluster

    out: dict[str, str] = {}
    for name, url in [
        maps.LEAFLET_JS,
        maps.JQUERY_JS,
        maps.LEAFLET_CSS,
        *folium.Map.default_js,
        *folium.Map.default_css,
        *MarkerCluster.default_js,
        *MarkerCluster.default_css,
    ]:
        if name in _ASSETS:
            out[url] = name
    return out


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def asset_text(name: str) -> str:
    """The text of one bundled asset, ready to inline (cached).

    JS has its source-map comment dropped and any ``</script`` / ``<!--`` neutralized
    (it has none today; this keeps a future version from ending the tag early).
    Leaflet's CSS gets its images as ``data:`` URIs.
    """
    if name not in _ASSETS:
        raise ConfigurationError(f"no bundled asset named {name!r}")
    pkg, filename, kind = _ASSETS[name]
    base = _dirs()[pkg]
    text = (base / filename).read_text(encoding="utf-8")
    if kind == "js":
        text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.M)
        text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.I).replace("<!--", "<\\!--")
    else:
        text = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", text)

        def repl(m: re.Match[str]) -> str:
            img = base / m.group(1)
            return f"url({_data_uri(img)})" if img.is_file() else m.group(0)

        text = re.sub(r"url\((images/[\w.-]+\.png)\)", repl, text)
        text = re.sub(r"</(style)", r"<\\/\1", text, flags=re.I)
    return text


@functools.cache
def _icon_default_fix() -> str:
    """Make ``L.Icon.Default`` (the stock blue pin) use data: URIs, no path sniffing."""
    img = _dirs()["leaflet"] / "images"
    return (
        "L.Icon.Default.mergeOptions({"
        f'iconUrl:"{_data_uri(img / "marker-icon.png")}",'
        f'iconRetinaUrl:"{_data_uri(img / "marker-icon-2x.png")}",'
        f'shadowUrl:"{_data_uri(img / "marker-shadow.png")}"'
        "});"
        "L.Icon.Default.include({_getIconUrl:function(n){"
        "return L.Icon.prototype._getIconUrl.call(this,n);}});"
    )


_SCRIPT_RE = re.compile(r'<script src="([^"]+)"></script>')
_LINK_RE = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')
#: Anything left after inlining that would make the browser fetch something.
EXTERNAL_ASSET_RE = re.compile(r"<script[^>]*\ssrc\s*=|<link[^>]*\shref\s*=", re.I)
#: Inside <style> blocks: an import or a url() that is not data: or a #fragment.
_CSS_FETCH_RE = re.compile(r"@import|url\(\s*['\"]?(?!data:|#)", re.I)


class _StyleText(HTMLParser):
    """Collect the text of real <style> elements (not look-alikes inside scripts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in = tag == "style"
        if self._in:
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.blocks[-1] += data


def _style_blocks(html: str) -> list[str]:
    parser = _StyleText()
    parser.feed(html)
    parser.close()
    return parser.blocks


def inline_assets(html: str) -> str:
    """Replace the known CDN ``<script>``/``<link>`` tags in ``html`` by inline copies.

    Raises :class:`~locator.errors.ConfigurationError` if any external script,
    stylesheet or CSS ``url()`` remains (an asset we have no local copy of).
    """
    known = _url_to_asset()
    unknown: list[str] = []

    def script(m: re.Match[str]) -> str:
        name = known.get(m.group(1))
        if name is None or _ASSETS[name][2] != "js":
            unknown.append(m.group(1))
            return m.group(0)
        extra = f"\n{_icon_default_fix()}" if name == "leaflet" else ""
        return f"<script>/* {name} (inlined) */\n{asset_text(name)}{extra}\n</script>"

    def link(m: re.Match[str]) -> str:
        name = known.get(m.group(1))
        if name is None or _ASSETS[name][2] != "css":
            unknown.append(m.group(1))
            return m.group(0)
        return f"<style>/* {name} (inlined) */\n{asset_text(name)}\n</style>"

    out = _SCRIPT_RE.sub(script, html)
    out = _LINK_RE.sub(link, out)
    if unknown:
        raise ConfigurationError(
            "cannot inline external asset(s): " + ", ".join(sorted(set(unknown)))
        )
    # Data text cannot form these: escape_text turns every '<' into '&lt;'.
    left = EXTERNAL_ASSET_RE.search(out)
    if left:
        snippet = out[max(0, left.start() - 40) : left.end() + 60]
        raise ConfigurationError(f"an external reference is left in the page: {snippet!r}")
    for block in _style_blocks(out):
        css = _CSS_FETCH_RE.search(block)
        if css:
            snippet = block[max(0, css.start() - 40) : css.end() + 60]
            raise ConfigurationError(f"a stylesheet still fetches something: {snippet!r}")
    return out


# --------------------------------------------------------------------------- pages


def tile_source(url: str) -> str | None:
    """The CSP source that allows the images of one tile URL template: its
    ``scheme://host``, a templated label (``webrd0{s}``) and the labels before it
    becoming ``*`` (``https://*.is.autonavi.com``); ``None`` for a non-http(s) URL."""
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    labels = parts.hostname.split(".")
    templated = [i for i, x in enumerate(labels) if "{" in x]
    if templated:  # webrd0{s}.is.autonavi.com -> *.is.autonavi.com
        labels = ["*", *labels[templated[-1] + 1 :]]
    return f"{parts.scheme}://{'.'.join(labels)}"


def tile_sources(tiles: str | None) -> list[str]:
    """The CSP image sources of a basemap named as :func:`locator.maps.build_map`
    takes it (``"osm"``, ``"amap"``, ``None``): what a page with that basemap loads."""
    key = maps.normalize_tiles(tiles)
    if key is None:
        return []
    src = tile_source(maps.TILES[key].url)
    return [src] if src else []


def _tile_sources(m: folium.Map) -> list[str]:
    """CSP sources for every tile layer in ``m`` (see :func:`tile_source`)."""
    out: list[str] = []
    stack: list[Any] = [m]
    while stack:
        el = stack.pop()
        stack.extend(el._children.values())
        if isinstance(el, folium.TileLayer):
            src = tile_source(str(el.tiles))
            if src is not None and src not in out:
                out.append(src)
    return out


def content_security_policy(
    img_sources: Sequence[str] = (),
    frame_ancestors: Sequence[str] | None = None,
    *,
    connect_self: bool = False,
) -> str:
    """The Content-Security-Policy of a map page: inline code and styles only, images
    from ``data:`` and ``img_sources`` (the tile hosts, see :func:`tile_sources`), no
    connections, forms or base URL. The one policy of both the ``<meta>`` that
    :func:`render_html` writes and the header ``/embed/map`` sends, which adds
    ``frame_ancestors`` (already checked sources: a ``<meta>`` policy cannot say who
    may frame the page, only a header can). ``connect_self``: the page may fetch from
    its own origin (the search box of a page served by ``locator serve`` asks
    ``/v1/nearest``); otherwise no connection at all."""
    img = " ".join(["data:", *img_sources])
    connect = "'self'" if connect_self else "'none'"
    policy = (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        f"img-src {img}; font-src data:; connect-src {connect}; base-uri 'none'; "
        "form-action 'none'"
    )
    if frame_ancestors is not None:
        policy += f"; frame-ancestors {' '.join(frame_ancestors)}"
    return policy


def _insert_head(html: str, fragment: str) -> str:
    i = html.find("<head>")
    if i < 0:
        return fragment + html
    i += len("<head>")
    return html[:i] + "\n" + fragment + html[i:]


def _note_html(note: str) -> str:
    return (
        '<div class="locator-note" style="position:absolute;z-index:1000;left:50%;top:8px;'
        "transform:translateX(-50%);background:rgba(255,248,225,.95);border:1px solid #f9a825;"
        "border-radius:4px;padding:3px 10px;font:12px/1.4 system-ui,sans-serif;"
        f'pointer-events:none">{maps.escape_text(note)}</div>'
    )


def render_html(
    m: folium.Map,
    *,
    self_contained: bool = True,
    title: str | None = None,
    note: str | None = None,
    csp: bool = True,
    connect_self: bool = False,
) -> str:
    """Render ``m`` to a complete HTML document (a string).

    ``self_contained`` inlines Leaflet, jQuery and MarkerCluster (see module doc).
    ``title`` becomes ``<title>``; ``note`` a small banner over the map (e.g. "sample
    data"); both are escaped. ``csp`` adds a restrictive Content-Security-Policy
    (only with ``self_contained``, since CDN scripts would be blocked by it).
    ``connect_self``: the policy lets the page fetch from its own origin (see
    :func:`content_security_policy`). Only folium's own render bookkeeping touches
    ``m``: it can be rendered again.
    """
    html = m.get_root().render()
    head = ['<meta charset="utf-8">']
    if self_contained:
        html = inline_assets(html)
        if csp:
            policy = content_security_policy(_tile_sources(m), connect_self=connect_self)
            head.append(f'<meta http-equiv="Content-Security-Policy" content="{policy}">')
    if title:
        head.append(f"<title>{maps.escape_text(title)}</title>")
    html = _insert_head(html, "\n".join(head))
    if note:
        html = html.replace("<body>", "<body>\n" + _note_html(note), 1)
    return html


def embed_page(
    outlets: pd.DataFrame | None = None,
    *,
    tiles: str | None = None,
    service_areas: Mapping[str, Any] | maps.SupportsGeoJSON | None = None,
    gaps: pd.DataFrame | None = None,
    cities: pd.DataFrame | None = None,
    origin: tuple[float, float] | None = None,
    results: pd.DataFrame | None = None,
    origin_label: str = "",
    cluster: bool = True,
    locate: bool = True,
    title: str = "Service outlets 服务网点",
    note: str | None = None,
    self_contained: bool = True,
    search: pd.DataFrame | None = None,
    search_api: bool = False,
    k: int = 5,
) -> str:
    """The embeddable page in one call: data in, a complete HTML document out.

    Arguments are those of :func:`locator.maps.build_map` plus ``title``/``note``
    (see :func:`render_html`). The default ``tiles=None`` gives a page that makes no
    network request at all; pass ``"osm"`` or ``"amap"`` for a basemap. ``locate``
    adds the "nearest to me" button (browser geolocation, computed in the page).

    ``search``: the outlets a search box beside the map finds (its authorized ones,
    :func:`locator.maps.search.search_panel`): a city or district name typed in
    Chinese, pinyin or English is found offline in the baked-in name index
    (:func:`locator.name_index.name_index`) and the ``k`` nearest outlets are listed.
    ``search_api``: when the page is served over http(s), names the index does not
    know are asked of the same server's ``/v1/nearest?q=`` (the page's policy then
    allows connections to its own origin); from ``file://`` it never connects.
    """
    m = maps.build_map(
        outlets,
        tiles=tiles,
        service_areas=service_areas,
        gaps=gaps,
        cities=cities,
        origin=origin,
        results=results,
        origin_label=origin_label,
        cluster=cluster,
        locate=locate,
    )
    if search is not None:
        from .maps.search import search_panel
        from .name_index import name_index

        key = maps.normalize_tiles(tiles)
        search_panel(search, name_index(), tiles=key, k=k, api=search_api).add_to(m)
    return render_html(
        m,
        self_contained=self_contained,
        title=title,
        note=note,
        connect_self=search is not None and search_api,
    )


def iframe_snippet(
    src: str | None = None,
    *,
    html: str | None = None,
    width: str | int = "100%",
    height: str | int = 480,
    title: str = "Service outlet map",
    sandbox: str = "allow-scripts",
    allow: str = "geolocation",
) -> str:
    """The ``<iframe>`` markup that embeds a map page in another site.

    Give either ``src`` (the URL where the self-contained HTML is hosted) or ``html``
    (the page itself, put in ``srcdoc``). Every attribute value is escaped. The
    default ``sandbox="allow-scripts"`` (no ``allow-same-origin``) isolates the map
    from the host page; add ``allow-popups allow-popups-to-escape-sandbox`` if the
    popups' directions links should open.
    """
    if (src is None) == (html is None):
        raise ConfigurationError("give exactly one of src= or html=")
    esc = maps.escape_text
    if src is not None:
        where = f'src="{esc(src)}"'
    else:  # a whole page: keep its newlines (JS needs them), escape for the attribute
        where = f'srcdoc="{html_lib.escape(str(html), quote=True)}"'
    return (
        f'<iframe {where} title="{esc(title)}" width="{esc(width)}" height="{esc(height)}" '
        f'style="border:0" loading="lazy" sandbox="{esc(sandbox)}" allow="{esc(allow)}">'
        "</iframe>"
    )
