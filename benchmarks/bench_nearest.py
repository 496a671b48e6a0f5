"""Benchmark the nearest-outlet engine: ``.venv/bin/python benchmarks/bench_nearest.py``.

What it measures (one run, fixed seeds):

1. **Batch k-nearest**, 100k synthetic outlets x 1M queries at k=1 and k=5:
   :meth:`locator.OutletIndex.nearest_many` (exact WGS-84 geodesic; all cores and one
   thread) vs scikit-learn ``BallTree(metric="haversine")`` (spherical; its query is
   single-threaded), best of 2 runs each, wall and CPU time, plus how often the
   spherical answer differs from the exact one.
2. **geopy loop**: a per-query Python loop of ``geopy.distance.geodesic`` over every
   outlet, on a small sample (it is ~10^5 times slower), extrapolated.
3. **Exactness spot check**: the engine against a brute-force pyproj scan.
4. **Latency** of a single :meth:`~locator.OutletIndex.nearest` (k=3) on the bundled
   network: p50/p99/max over many random points in China.
5. **``locator assign``** end to end (a subprocess) over a 1M-row CSV against the
   bundled network, with the child's peak RSS (and a 100k-row run to show that memory
   does not grow with the file).

``--quick`` shrinks everything (10k outlets x 100k queries, 100k-row assign) to run in
well under a minute. The synthetic network is clustered around 400 random "cities"
inside China's extent (80 %) plus a uniform background (20 %); queries likewise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from locator.index import OutletIndex  # noqa: E402

EXTENT = (73.5, 18.2, 134.8, 53.5)  # lon_min, lat_min, lon_max, lat_max
EARTH_MEAN_RADIUS_KM = 6371.0088


def clustered_points(n: int, rng: np.random.Generator, spread_deg: float) -> tuple:
    """(lat, lon): 80 % around 400 random centres, 20 % uniform, inside China's extent."""
    lon0, lat0, lon1, lat1 = EXTENT
    centres = np.column_stack([rng.uniform(lat0, lat1, 400), rng.uniform(lon0, lon1, 400)])
    n_c = int(n * 0.8)
    pick = centres[rng.integers(0, 400, n_c)]
    lat = np.r_[pick[:, 0] + rng.normal(0, spread_deg, n_c), rng.uniform(lat0, lat1, n - n_c)]
    lon = np.r_[pick[:, 1] + rng.normal(0, spread_deg, n_c), rng.uniform(lon0, lon1, n - n_c)]
    return np.clip(lat, -90, 90), lon


def synthetic_network(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat, lon = clustered_points(n, rng, 0.3)
    return pd.DataFrame(
        {
            "outlet_id": [f"S{i:06d}" for i in range(n)],
            "name": "synthetic",
            "kind": np.where(rng.random(n) < 0.3, "service_center", "repair_point"),
            "categories": "tv;washer",
            "authorized": True,
            "lat": lat,
            "lon": lon,
        }
    )


def timed(fn, *args, **kw) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t0, out


def timed_cpu(fn, *args, repeat: int = 2, **kw) -> tuple[float, float, Any]:
    """Best of ``repeat`` runs: (wall s, process CPU s summed over threads, result).

    On a shared machine the CPU time is the stabler figure (it does not count time
    spent descheduled); best-of-n drops first-touch page faults and noisy neighbours.
    """
    best_wall = best_cpu = float("inf")
    out: Any = None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def machine() -> dict[str, Any]:
    import pyproj
    import scipy
    import sklearn

    facts: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pyproj": pyproj.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
    }
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                facts["cpu"] = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return facts


def bench_batch(n_out: int, n_q: int, results: dict[str, Any]) -> None:
    from pyproj import Geod
    from sklearn.neighbors import BallTree

    frame = synthetic_network(n_out)
    rng = np.random.default_rng(2)
    qlat, qlon = clustered_points(n_q, rng, 0.5)
    print(f"== batch: {n_out:,} outlets x {n_q:,} queries", flush=True)

    t_build, index = timed(OutletIndex, frame)
    results["engine_build_s"] = t_build
    index.count(authorized_only=False)  # warm the (unfiltered) subset cache
    bt_build, tree = timed(
        BallTree, np.radians(frame[["lat", "lon"]].to_numpy()), metric="haversine"
    )
    results["balltree_build_s"] = bt_build
    print(f"build: engine {t_build:.3f} s, BallTree {bt_build:.3f} s", flush=True)
    q_rad = np.radians(np.column_stack([qlat, qlon]))
    geod = Geod(ellps="WGS84")
    for k in (1, 5):
        t_eng, c_eng, (pos, km) = timed_cpu(
            index.nearest_many, qlat, qlon, k=k, authorized_only=False
        )
        index.workers = 1
        t_eng1, c_eng1, _ = timed_cpu(index.nearest_many, qlat, qlon, k=k, authorized_only=False)
        index.workers = -1
        t_bt, c_bt, (bt_d, bt_i) = timed_cpu(tree.query, q_rad, k=k)
        # How often does the spherical ranking differ from the exact geodesic one?
        differs = int((bt_i[:, 0] != pos[:, 0]).sum())
        differs_k = int((bt_i != pos).any(axis=1).sum())
        _, _, m = geod.inv(
            qlon, qlat, frame["lon"].to_numpy()[bt_i[:, 0]], frame["lat"].to_numpy()[bt_i[:, 0]]
        )
        excess_m = np.asarray(m) - km[:, 0] * 1000
        hav_err_km = np.abs(bt_d[:, 0] * EARTH_MEAN_RADIUS_KM - km[:, 0])
        row = {
            "engine_s": t_eng,
            "engine_1core_s": t_eng1,
            "balltree_s": t_bt,
            "engine_qps": n_q / t_eng,
            "balltree_qps": n_q / t_bt,
            "speedup": t_bt / t_eng,
            "speedup_1core": t_bt / t_eng1,
            "engine_cpu_s": c_eng,
            "engine_1core_cpu_s": c_eng1,
            "balltree_cpu_s": c_bt,
            "speedup_cpu_1core": c_bt / c_eng1,
            "balltree_wrong_nearest": differs,
            "balltree_wrong_ranking_k": differs_k,
            "balltree_wrong_nearest_max_excess_m": float(excess_m.max()),
            "haversine_distance_error_max_km": float(hav_err_km.max()),
            "haversine_distance_error_max_rel": float(
                (hav_err_km / np.maximum(km[:, 0], 1e-9)).max()
            ),
        }
        results[f"k{k}"] = row
        print(
            f"k={k}: wall: engine {t_eng:.2f} s ({n_q / t_eng:,.0f} q/s; 1 thread "
            f"{t_eng1:.2f} s), BallTree {t_bt:.2f} s ({n_q / t_bt:,.0f} q/s) -> "
            f"x{t_bt / t_eng:.1f} (1 thread x{t_bt / t_eng1:.1f}); CPU: engine {c_eng:.2f} s "
            f"(1 thread {c_eng1:.2f} s), BallTree {c_bt:.2f} s -> x{c_bt / c_eng1:.1f} "
            f"per CPU-second;\n      "
            f"BallTree's nearest is not the geodesic nearest for {differs:,} queries "
            f"(worst: {excess_m.max():.1f} m farther), its k-list differs for "
            f"{differs_k:,}; haversine distance error up to "
            f"{hav_err_km.max():.2f} km",
            flush=True,
        )

    # Exactness spot check against brute force (pyproj over all outlets).
    n_check = 40 if n_out > 20_000 else 200
    lon_all, lat_all = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    mism = 0
    for i in range(n_check):
        _, _, m = geod.inv(np.full(n_out, qlon[i]), np.full(n_out, qlat[i]), lon_all, lat_all)
        order = np.lexsort((np.arange(n_out), m))[:5]
        mism += int(not np.array_equal(order, pos[i]))
    results["oracle_checked"] = n_check
    results["oracle_mismatches"] = mism
    print(f"exactness: {n_check} queries vs brute-force pyproj scan, {mism} mismatches", flush=True)

    # A per-query geopy loop over every outlet, on a tiny sample.
    from geopy.distance import geodesic

    n_geopy = 2
    t0 = time.perf_counter()
    agree = 0
    for i in range(n_geopy):
        best = min(
            range(n_out),
            key=lambda j, i=i: geodesic((qlat[i], qlon[i]), (lat_all[j], lon_all[j])).km,
        )
        agree += int(best == pos[i, 0])
    per_query = (time.perf_counter() - t0) / n_geopy
    results["geopy_s_per_query"] = per_query
    results["geopy_agree"] = f"{agree}/{n_geopy}"
    print(
        f"geopy loop: {per_query:.1f} s per query over {n_out:,} outlets "
        f"(-> {per_query * n_q / 86400:,.1f} days for {n_q:,}); "
        f"agrees with engine {agree}/{n_geopy}",
        flush=True,
    )


def bench_latency(n_calls: int, results: dict[str, Any]) -> None:
    from locator.data import load_outlets

    frame = load_outlets()
    index = OutletIndex(frame)
    rng = np.random.default_rng(3)
    lat, lon = clustered_points(n_calls, rng, 0.5)
    for i in range(200):  # warm-up (imports, caches)
        index.nearest(lat[i], lon[i], k=3)
    wall = np.empty(n_calls)
    cpu = np.empty(n_calls)
    for i in range(n_calls):
        c0 = time.thread_time()
        t0 = time.perf_counter()
        index.nearest(lat[i], lon[i], k=3)
        wall[i] = time.perf_counter() - t0
        cpu[i] = time.thread_time() - c0
    # Wall time includes being descheduled on a busy machine; thread CPU time does not.
    out: dict[str, Any] = {"outlets": len(frame), "calls": n_calls, "loadavg": os.getloadavg()}
    for label, arr in (("wall", wall * 1000), ("cpu", cpu * 1000)):
        out[label] = {
            "p50_ms": float(np.percentile(arr, 50)),
            "p99_ms": float(np.percentile(arr, 99)),
            "max_ms": float(arr.max()),
        }
    results["latency"] = out
    print(
        f"== single nearest(k=3) on the bundled {len(frame)} outlets, {n_calls:,} calls "
        f"(load average {out['loadavg'][0]:.1f}):",
        flush=True,
    )
    for label in ("wall", "cpu"):
        d = out[label]
        print(
            f"   {label:4s}: p50 {d['p50_ms']:.3f} ms, p99 {d['p99_ms']:.3f} ms, "
            f"max {d['max_ms']:.2f} ms",
            flush=True,
        )


# Runs the CLI in a child that reports its own peak RSS from /proc (VmHWM belongs to
# the new process image; getrusage's ru_maxrss would carry over the parent's pages
# that fork shared before exec).
_CHILD = """
import sys
from locator.cli import main
try:
    main()
finally:
    with open("/proc/self/status") as fh:
        hwm = [line.split()[1] for line in fh if line.startswith("VmHWM:")][0]
    print(f"PEAK_RSS_KB={hwm}", file=sys.stderr)
"""


def write_orders(path: Path, n: int) -> None:
    rng = np.random.default_rng(4)
    lat, lon = clustered_points(n, rng, 0.5)
    frame = pd.DataFrame(
        {
            "order_id": [f"O{i:08d}" for i in range(n)],
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "note": np.where(rng.random(n) < 0.01, "=not-a-formula", "fix fridge"),
        }
    )
    frame.loc[rng.choice(n, size=max(1, n // 10_000), replace=False), "lat"] = np.nan
    frame.to_csv(path, index=False)


def bench_assign(sizes: list[int], results: dict[str, Any]) -> None:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            src = Path(tmp) / f"orders_{n}.csv"
            write_orders(src, n)
            dst = Path(tmp) / f"assigned_{n}.csv"
            argv = ["assign", str(src), "-o", str(dst), "--no-progress"]
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, *argv],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=False,
            )
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                raise SystemExit(f"assign failed: {proc.stderr}")
            peak_mb = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0]) / 1024
            out[str(n)] = {
                "wall_s": wall,
                "rows_per_s": n / wall,
                "input_mb": src.stat().st_size / 1e6,
                "peak_rss_mb": peak_mb,
            }
            print(
                f"== assign {n:,} rows ({src.stat().st_size / 1e6:.0f} MB, bundled outlets, "
                f"k=1, chunks of 100k): {wall:.1f} s wall incl. startup "
                f"({n / wall:,.0f} rows/s), peak RSS {peak_mb:.0f} MB",
                flush=True,
            )
    results["assign"] = out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, well under a minute")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    n_out, n_q = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    assign_sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    print(json.dumps(results["machine"], indent=1), flush=True)
    t0 = time.perf_counter()
    bench_batch(n_out, n_q, results)
    bench_latency(2_000 if args.quick else 10_000, results)
    bench_assign(assign_sizes, results)
    results["total_s"] = time.perf_counter() - t0
    print(f"total {results['total_s']:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
