"""Benchmark: the offline outline layer (size, cost per map) and the district choropleth.

Run from the repo root::

    .venv/bin/python benchmarks/bench_planner.py      # about 1-2 min

Prints a Markdown report on stdout. Wall-clock medians (``time.perf_counter``); the
machine is shared, so the load average is printed too.

What is measured
================
* The bundled ``outlines.geojson.gz``: bytes gzipped and as text, vertices; what it adds
  to a rendered empty map; ``base_map(...).render()`` with and without it.
* Coverage by district on the bundled data: the first ``report(by="district")`` (loads
  the polygons, locates every place) and a new radius after that, against the report by
  city/province alone.
* The choropleth of all 2,891 districts (``build_map(districts=report)`` rendered to
  HTML), against what a user would write by hand: ``folium.Choropleth`` over the
  unsimplified district polygons (``report.districts_geojson()``), which embeds 3x the
  vertices.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import folium

from locator import boundaries, maps
from locator.coverage import CoverageModel
from locator.data import load_cities, load_outlets, load_places
from locator.reference import data_path


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    out: object = None
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    print("# bench_planner")
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, folium {folium.__version__}; load average "
        f"{os.getloadavg()[0]:.1f} at start.\n"
    )
    raw = data_path(boundaries.OUTLINES_FILE).read_bytes()
    fc = json.loads(gzip.decompress(raw))
    n_vertices = sum(len(line) for f in fc["features"] for line in f["geometry"]["coordinates"])
    bare, html_bare = timed(lambda: maps.base_map(tiles=None, outlines=False).get_root().render())
    with_o, html_o = timed(lambda: maps.base_map(tiles=None).get_root().render())
    amap, _ = timed(lambda: maps.base_map(tiles="amap").get_root().render())
    text_kb = len(gzip.decompress(raw)) / 1024
    added_kb = (len(str(html_o)) - len(str(html_bare))) / 1024
    rows = [
        ("`outlines.geojson.gz`", f"{len(raw) / 1024:.0f} KB gzipped, {text_kb:.0f} KB as text"),
        ("vertices (province + prefecture lines)", f"{n_vertices:,}"),
        ("added to a rendered map page", f"{added_kb:.0f} KB"),
        (
            "`base_map().render()` without / with outlines (WGS-84)",
            f"{bare * 1e3:.0f} ms / {with_o * 1e3:.0f} ms",
        ),
        ("the same on AMap (GCJ-02, converted once per process)", f"{amap * 1e3:.0f} ms"),
    ]
    print("| outline layer | value |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")

    outlets, places, cities = load_outlets(), load_places(), load_cities()
    model = CoverageModel(outlets, places, cities)
    t = time.perf_counter()
    model.report(50, by="district")
    first = time.perf_counter() - t
    by_city, _ = timed(lambda: model.report(60))
    by_dist, report = timed(lambda: model.report(drive_minutes=120, by="district"))
    print("\n| coverage by district (bundled data) | time |\n|---|---|")
    print(f"| first `report(by='district')` (polygons loaded, places located) | {first:.2f} s |")
    print(f"| a new radius, by city + province | {by_city * 1e3:.0f} ms |")
    print(f"| a new radius (2 h), by district too | {by_dist * 1e3:.0f} ms |")

    def ours() -> str:
        return str(maps.build_map(None, tiles=None, districts=report).get_root().render())

    t = time.perf_counter()
    ours()
    ours_first = time.perf_counter() - t
    ours_warm, page = timed(ours)

    def by_hand() -> str:
        gj = report.districts_geojson()  # type: ignore[attr-defined]
        props = [f["properties"] for f in gj["features"]]
        m = folium.Map(tiles=None)
        folium.Choropleth(
            gj,
            data={p["adcode"]: p["share_covered"] or 0 for p in props},
            key_on="feature.properties.adcode",
            fill_color="RdYlGn",
        ).add_to(m)
        return str(m.get_root().render())

    hand, hand_page = timed(by_hand, repeat=1)
    mb, hand_mb = len(str(page)) / 1e6, len(str(hand_page)) / 1e6
    print("\n| district choropleth, 2,891 districts | render | page |\n|---|---|---|")
    first_label = "`build_map(districts=report)`, first (simplifies the polygons once)"
    print(f"| {first_label} | {ours_first:.1f} s | {mb:.1f} MB |")
    print(f"| the same, warm | {ours_warm:.1f} s | {mb:.1f} MB |")
    hand_label = "by hand: `folium.Choropleth` on the full polygons"
    print(f"| {hand_label} | {hand:.1f} s | {hand_mb:.1f} MB |")
    ratio = hand / ours_warm
    print(f"\nRatio (by hand / ours warm): {ratio:.1f}x the time, {hand_mb / mb:.1f}x the bytes.")
    print(f"Load average at the end: {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
