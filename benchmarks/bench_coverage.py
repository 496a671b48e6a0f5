"""Benchmark: coverage for a new radius (precomputed model) vs recomputing from scratch.

Run from the repo root::

    .venv/bin/python benchmarks/bench_coverage.py            # everything (~1-2 min)
    .venv/bin/python benchmarks/bench_coverage.py --quick    # fewer repeats, no CBC

Prints a Markdown report (machine facts + tables) on stdout. Timings are wall-clock
medians with ``time.perf_counter``; the machine is shared, so the p90 and the load
average are printed too.

What is measured
================
* **Synthetic 5k x 1k** (the issue's target): 5,000 places and 1,000 authorized outlets,
  clustered around 60 centres in China's extent, fixed seed.
  - ``CoverageModel(...)`` build: the radius-independent precomputation;
  - a radius change: ``model.report(r)`` (national + every city/province + the full
    gap list), and ``model.population_covered(r)`` alone;
  - naive recompute per radius: (a) rebuild the model (k-nearest search again),
    (b) brute force over all 5M place x outlet pairs with ``pyproj.Geod`` (measured
    once: it takes seconds).
* **Bundled data** (the demand layer of ``load_places()`` x the authorized sample
  outlets): build, report, service
  areas, ``suggest_sites`` and, unless ``--quick``, greedy vs an exact MCLP with CBC.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locator.coverage import (
    CoverageModel,
    coverage_matrix,
    greedy_max_coverage,
    service_areas,
    suggest_sites,
)
from locator.data import load_cities, load_outlets, load_places

RADII = (10.0, 30.0, 50.0, 100.0, 200.0)


def timeit(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median / p90 / min wall time in ms over ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[min(len(times) - 1, int(0.9 * len(times)))],
        "min": times[0],
        "n": repeat,
    }


def synthetic(n_places: int = 5000, n_outlets: int = 1000, seed: int = 1):
    """Places and outlets clustered around 60 centres inside China's bounding box."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(22, 45, 60), rng.uniform(100, 122, 60)])
    pc = rng.integers(0, 60, n_places)
    oc = rng.integers(0, 60, n_outlets)
    places = pd.DataFrame(
        {
            "place_id": [str(i) for i in range(n_places)],
            "name": [f"P{i}" for i in range(n_places)],
            "province": [f"省{c % 30}" for c in pc],
            "city_adcode": [f"{100000 + c}" for c in pc],
            "lat": centres[pc, 0] + rng.normal(0, 1.0, n_places),
            "lon": centres[pc, 1] + rng.normal(0, 1.0, n_places),
            "population": rng.lognormal(9.5, 1.3, n_places).astype(np.int64) + 1000,
        }
    )
    outlets = pd.DataFrame(
        {
            "outlet_id": [f"{i:05d}" for i in range(n_outlets)],
            "name": [f"O{i}" for i in range(n_outlets)],
            "city": [f"C{c}" for c in oc],
            "province": [f"省{c % 30}" for c in oc],
            "lat": centres[oc, 0] + rng.normal(0, 0.5, n_outlets),
            "lon": centres[oc, 1] + rng.normal(0, 0.5, n_outlets),
            "authorized": True,
        }
    )
    cities = pd.DataFrame(
        {
            "city": [f"C{c}" for c in range(60)],
            "province": [f"省{c % 30}" for c in range(60)],
            "adcode": [f"{100000 + c}" for c in range(60)],
            "lat": centres[:, 0],
            "lon": centres[:, 1],
            "population": 1_000_000,
        }
    )
    return outlets, places, cities


def brute_force_nearest_km(outlets: pd.DataFrame, places: pd.DataFrame) -> np.ndarray:
    """Nearest-outlet km per place over every pair (the naive way), in row chunks."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    olat = outlets["lat"].to_numpy()
    olon = outlets["lon"].to_numpy()
    out = np.empty(len(places))
    plat = places["lat"].to_numpy()
    plon = places["lon"].to_numpy()
    step = 500
    for s in range(0, len(places), step):
        la = np.repeat(plat[s : s + step], olat.size)
        lo = np.repeat(plon[s : s + step], olat.size)
        _, _, d = geod.inv(
            lo, la, np.tile(olon, la.size // olat.size), np.tile(olat, la.size // olat.size)
        )
        out[s : s + step] = (np.asarray(d) / 1000).reshape(-1, olat.size).min(axis=1)
    return out


def row(name: str, t: dict[str, float]) -> str:
    def ms(x: float) -> str:
        return f"{x:.2f}" if x >= 0.1 else f"{x:.4f}"

    return f"| {name} | {ms(t['median'])} | {ms(t['p90'])} | {ms(t['min'])} | {t['n']} |"


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pyproj
    import scipy
    import shapely

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return [
        f"- CPU: {cpu}; logical cores: {os.cpu_count()}; load average at start: "
        + ", ".join(f"{x:.2f}" for x in load),
        f"- Python {platform.python_version()} on {platform.platform()}",
        f"- numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
        f"pyproj {pyproj.__version__} (PROJ {pyproj.proj_version_str}), "
        f"shapely {shapely.__version__}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip the CBC solve")
    args = ap.parse_args()
    rep = 5 if args.quick else 30

    print("# Coverage benchmark\n")
    print(f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n")
    print("\n".join(machine()))

    # ---------------------------------------------------------------- synthetic 5k x 1k
    outlets, places, cities = synthetic()
    print("\n## Synthetic: 5,000 places x 1,000 authorized outlets\n")
    print("| step | median ms | p90 ms | min ms | runs |")
    print("| --- | ---: | ---: | ---: | ---: |")
    build = timeit(lambda: CoverageModel(outlets, places, cities), max(3, rep // 6))
    print(row("build `CoverageModel` (precompute: 2 nearest per place, groups)", build))
    model = CoverageModel(outlets, places, cities)
    cycle = iter(RADII * 1000)
    print(row("radius change: `model.report(r)` (all tables + full gap list)",
              timeit(lambda: model.report(next(cycle)), rep)))  # fmt: skip
    print(row("radius change: `model.report(r, gap_limit=100)`",
              timeit(lambda: model.report(next(cycle), gap_limit=100), rep)))  # fmt: skip
    print(row("radius change: `model.population_covered(r)` only",
              timeit(lambda: model.population_covered(next(cycle)), rep * 10)))  # fmt: skip
    print(row("naive (a): rebuild the model and report, per radius",
              timeit(lambda: CoverageModel(outlets, places, cities).report(50.0),
                     max(3, rep // 6))))  # fmt: skip
    t0 = time.perf_counter()
    naive = brute_force_nearest_km(outlets, places)
    t_brute = (time.perf_counter() - t0) * 1000
    print(f"| naive (b): all 5M place x outlet geodesics (pyproj), per radius | {t_brute:.0f} "
          "| - | - | 1 |")  # fmt: skip
    assert np.allclose(naive, model.d1), "brute force and model disagree"
    r = model.report(50.0)
    print(f"\nAt 50 km: {r.share_covered:.1%} covered, {len(r.gaps)} gaps; the brute-force "
          "nearest distances equal the model's (checked).")  # fmt: skip

    # ---------------------------------------------------------------- bundled data
    b_out, b_pl, b_ci = load_outlets(), load_places(), load_cities()
    n_auth = int(b_out["authorized"].sum())
    print(
        f"\n## Bundled data: {len(b_pl):,} places x {n_auth:,} authorized outlets "
        f"({len(b_out):,} listed)\n"
    )
    print("| step | median ms | p90 ms | min ms | runs |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(row("build `CoverageModel`", timeit(lambda: CoverageModel(b_out, b_pl, b_ci),
                                                max(3, rep // 3))))  # fmt: skip
    bm = CoverageModel(b_out, b_pl, b_ci)
    print(row("radius change: `model.report(r)`", timeit(lambda: bm.report(next(cycle)), rep)))
    for by in ("city", "province", "nation"):
        t = timeit(lambda by=by: service_areas(b_out, 50.0, by=by), max(3, rep // 6))
        print(row(f"`service_areas(r=50, by={by!r})` (64-vertex geodesic circles + union)", t))
    print(row("`suggest_sites(p=5, r=50)` (candidates = all places)",
              timeit(lambda: suggest_sites(b_out, b_pl, 5, 50.0), max(3, rep // 6))))  # fmt: skip

    print("\nCoverage of the bundled data:\n")
    print("| radius km | covered | share | backup (>= 2 outlets) | uncovered places |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for radius in (30.0, 50.0, 100.0):
        x = bm.report(radius)
        cells = (
            f"{radius:g}",
            f"{x.population_covered:,}",
            f"{x.share_covered:.1%}",
            f"{x.population_backup:,}",
            f"{x.places_uncovered:,} / {x.places_total:,}",
        )
        print("| " + " | ".join(cells) + " |")

    if args.quick:
        return
    # ---------------------------------------------------------------- greedy vs exact
    import pulp

    print("\n## Greedy vs exact MCLP (CBC) on the bundled data\n")
    print("| p | radius km | greedy gain | exact gain | greedy / exact | CBC s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    lat, lon = b_pl["lat"].to_numpy(), b_pl["lon"].to_numpy()
    pop = b_pl["population"].to_numpy()
    for radius, p in ((50.0, 5), (100.0, 5), (50.0, 10)):
        covered = bm.d1 <= radius
        unc = np.flatnonzero(~covered)
        cover = coverage_matrix(lat, lon, lat[unc], lon[unc], radius).tocsc()
        _, gains = greedy_max_coverage(cover.tocsr(), pop[unc], p)
        prob = pulp.LpProblem("mclp", pulp.LpMaximize)
        x = [prob.add_variable(f"x{i}", cat="Binary") for i in range(cover.shape[0])]
        y = [prob.add_variable(f"y{j}", lowBound=0, upBound=1) for j in range(unc.size)]
        prob += pulp.lpSum(float(pop[unc[j]]) * y[j] for j in range(unc.size))
        for j in range(unc.size):
            rows = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
            prob += y[j] <= pulp.lpSum(x[i] for i in rows)
        prob += pulp.lpSum(x) <= p
        t0 = time.perf_counter()
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120))
        t_cbc = time.perf_counter() - t0
        exact = float(pulp.value(prob.objective))
        status = pulp.LpStatus[prob.status]
        print(f"| {p} | {radius:g} | {sum(gains):,.0f} | {exact:,.0f} ({status}) | "
              f"{sum(gains) / exact:.4f} | {t_cbc:.1f} |")  # fmt: skip


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    main()
