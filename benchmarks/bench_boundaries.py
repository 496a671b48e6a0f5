"""Reverse geocoding and "inside China" by district polygons vs the nearest-centre way.

Run: ``.venv/bin/python benchmarks/bench_boundaries.py [--n 20000]``. Prints one table
(results are in BENCHMARKS.md). Three measurements, in one run, on the same points:

1. **Reverse geocoding, one point at a time** (what the app's map click and
   ``OfflineGeocoder.reverse`` do): the polygon way (``boundaries.districts_near``:
   STRtree + prepared polygons) against the nearest-centre way it replaces (a brute-force
   dot product over the ~2,900 district centres, as ``reverse`` did before), both
   after warm-up, plus the one-off cost of loading the polygons.
2. **Vectorised point-in-polygon** (``boundaries.locate`` over an array) against a
   scipy ``cKDTree`` nearest-centre query over the same array.
3. **crs.in_china over an array**: the boundary test against the old rectangles (kept
   here, copied from the previous ``locator/crs.py``, for the comparison only).

Also printed: how often the two reverse answers disagree on the district for the
uniform points that fall in one (like map clicks: the centre-nearest answer is wrong
there, the polygon decides).
Points: uniform over China's bounding box (many at sea or abroad) and, separately,
the bundled places (all on land).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from locator import boundaries, crs
from locator.data import load_places
from locator.geocoders._gazetteer import gazetteer

_REGIONS = np.array(
    [
        (79.4462, 42.8899, 96.3300, 49.2204),
        (109.6872, 39.3742, 135.0002, 54.1415),
        (73.1246, 29.5297, 124.143255, 42.8899),
        (82.9684, 26.7186, 97.0352, 29.5297),
        (97.0253, 20.414096, 124.367395, 29.5297),
        (107.975793, 17.871542, 111.744104, 20.414096),
    ]
)
_EXCLUDES = np.array(
    [
        (119.921265, 21.785006, 122.497559, 25.398623),
        (101.8652, 20.0988, 106.6650, 22.2840),
        (106.4525, 20.4878, 108.0510, 21.5422),
        (109.0323, 50.3257, 119.1270, 55.8175),
        (127.4568, 49.5574, 137.0227, 55.8175),
        (131.2662, 42.5692, 137.0227, 44.8922),
    ]
)


def _boxes(lon: np.ndarray, lat: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo, la = lon[..., None], lat[..., None]
    hit = (lo >= boxes[:, 0]) & (la >= boxes[:, 1]) & (lo <= boxes[:, 2]) & (la <= boxes[:, 3])
    return hit.any(axis=-1)


def old_in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return _boxes(lon, lat, _REGIONS) & ~_boxes(lon, lat, _EXCLUDES)


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000, help="points for the array tests")
    ap.add_argument("--single", type=int, default=2_000, help="points for one-at-a-time")
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    lon = rng.uniform(73.0, 135.0, args.n)
    lat = rng.uniform(18.0, 54.0, args.n)
    places = load_places(include_nested=True)
    plon, plat = places["lon"].to_numpy(float), places["lat"].to_numpy(float)

    t = time.perf_counter()
    boundaries.read_districts()
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    boundaries.districts_near(116.4, 39.9)
    load_s = time.perf_counter() - t
    g = gazetteer()
    units = np.asarray(g.units)

    def centre_one(la: float, lo: float) -> int:
        r1, r2 = np.radians(la), np.radians(lo)
        v = np.array([np.cos(r1) * np.cos(r2), np.cos(r1) * np.sin(r2), np.sin(r1)])
        return int(np.argmax(units @ v))

    idx = rng.integers(0, len(plon), args.single)
    one_poly = _best(lambda: [boundaries.districts_near(plon[i], plat[i]) for i in idx])
    one_centre = _best(lambda: [centre_one(plat[i], plon[i]) for i in idx])
    from locator.geocoders.offline import OfflineGeocoder

    geo = OfflineGeocoder()
    one_full = _best(lambda: [geo.reverse((plat[i], plon[i])) for i in idx])

    from scipy.spatial import cKDTree

    tree = cKDTree(units)
    vec = crs.unit_vectors(plat, plon)
    arr_poly = _best(lambda: boundaries.locate(plon, plat))
    arr_centre = _best(lambda: tree.query(vec))

    t = time.perf_counter()
    boundaries._read_offset_area()
    region_s = time.perf_counter() - t
    new_box = _best(lambda: crs.in_china(lon, lat))
    old_box = _best(lambda: old_in_china(lon, lat))
    new_pl = _best(lambda: crs.in_china(plon, plat))
    old_pl = _best(lambda: old_in_china(plon, plat))
    differ = int((crs.in_china(lon, lat) != old_in_china(lon, lat)).sum())

    # disagreement on the district, for the uniform points that are in one (map clicks)
    rows = boundaries.locate(lon, lat)
    d = boundaries.districts()
    _, near = tree.query(crs.unit_vectors(lat, lon))
    ent = [g.entries[g.lowest[int(j)]] for j in near]
    codes = d["adcode"].to_numpy()
    known = {e.adcode for e in g.entries}
    # only districts both tables know under the same code (renamed ones would count)
    ok = np.array([r >= 0 and codes[r] in known for r in rows])
    centre = np.array([e.adcode for e in ent])
    poly = np.where(rows >= 0, codes[np.maximum(rows, 0)], "")
    disagree = int((centre[ok] != poly[ok]).sum())

    us = 1e6
    print(f"polygons: {len(d)} districts; read {read_s:.2f} s; first use (read + STRtree): "
          f"{load_s:.2f} s")  # fmt: skip
    print(f"reverse, one point at a time ({args.single} places):")
    print(f"  polygon  {one_poly / args.single * us:8.1f} us/point")
    print(f"  centre   {one_centre / args.single * us:8.1f} us/point")
    print(f"  OfflineGeocoder.reverse (polygon, with the Location) "
          f"{one_full / args.single * us:.1f} us/point")  # fmt: skip
    print(f"array of {len(plon)} places:")
    print(f"  locate   {arr_poly * 1e3:8.1f} ms  ({arr_poly / len(plon) * us:.2f} us/point)")
    print(f"  cKDTree  {arr_centre * 1e3:8.1f} ms  ({arr_centre / len(plon) * us:.2f} us/point)")
    print(f"in_china: first use (read the offset area): {region_s * 1e3:.0f} ms")
    print(f"in_china on {args.n} uniform points over China's bounding box:")
    print(f"  boundary {new_box * 1e3:8.1f} ms   rectangles {old_box * 1e3:8.1f} ms")
    print(f"  answers differ for {differ} ({differ / args.n:.1%})")
    print(f"in_china on the {len(plon)} places: boundary {new_pl * 1e3:.1f} ms, "
          f"rectangles {old_pl * 1e3:.1f} ms")  # fmt: skip
    share = disagree / max(int(ok.sum()), 1)
    print(f"uniform points in a district whose nearest district centre is another "
          f"district's: {disagree} of {int(ok.sum())} ({share:.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
