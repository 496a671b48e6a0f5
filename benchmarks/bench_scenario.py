"""Benchmark: one what-if change (a scenario built and evaluated) on the bundled data.

Run from the repo root::

    .venv/bin/python benchmarks/bench_scenario.py           # ~10 s
    .venv/bin/python benchmarks/bench_scenario.py --repeat 3

The app's goal is <= 0.5 s per change (issue #15 §4). A scenario is a full
``CoverageModel`` rebuild; this prints, ratios first, how a change compares with the
goal and with the parts of the rebuild (the nearest-outlet search alone, which is
all an incremental path could save), so the decision not to add one can be checked.
Timings are wall-clock medians (``time.perf_counter``) after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from locator.coverage import CoverageModel
from locator.data import load_cities, load_network, load_places
from locator.index import OutletIndex
from locator.scenario import Scenario, compare

GOAL_S = 0.5


def timeit(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time in seconds over ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    net, places, cities = load_network(), load_places(), load_cities()
    gap = Scenario(net).evaluate(places, cities, 50).gaps[0]
    drop = [str(net.frame["outlet_id"].iloc[0])]

    def change() -> object:
        s = Scenario(net, add=[{"lat": gap.lat, "lon": gap.lon}], remove=drop)
        return s.evaluate(places, cities, 50)

    def rebuild() -> object:
        return CoverageModel(net.frame, places, cities)

    auth = net.frame[net.frame["authorized"]]

    def nearest() -> object:
        return OutletIndex(auth).nearest_many(
            places["lat"].to_numpy(float), places["lon"].to_numpy(float), k=2
        )

    s = Scenario(net, add=[{"lat": gap.lat, "lon": gap.lon}], remove=drop)
    s.evaluate(places, cities, 50)

    def new_radius() -> object:
        return s.evaluate(places, cities, 80)

    def cmp() -> object:
        return compare(net, s, places, cities, radius_km=50)

    t_change = timeit(change, args.repeat)
    t_rebuild = timeit(rebuild, args.repeat)
    t_nearest = timeit(nearest, args.repeat)
    t_radius = timeit(new_radius, args.repeat)
    t_cmp = timeit(cmp, max(1, args.repeat // 2))
    print(f"# Scenario benchmark ({len(net)} outlets x {len(places)} places, "
          f"{os.cpu_count()} CPU, load {os.getloadavg()[0]:.2f})\n")  # fmt: skip
    print("| ratio | value |\n|---|---|")
    print(f"| one change / goal ({GOAL_S} s) | {t_change / GOAL_S:.2f} |")
    print(f"| nearest search / full model rebuild | {t_nearest / t_rebuild:.2f} |")
    print(f"| new radius on a built scenario / one change | {t_radius / t_change:.3f} |")
    print("\n| step | median ms |\n|---|---|")
    for name, t in (
        ("one change: Scenario(...) + evaluate()", t_change),
        ("CoverageModel rebuild", t_rebuild),
        ("nearest 2 outlets of every place (OutletIndex)", t_nearest),
        ("same scenario, new radius", t_radius),
        ("compare(live, scenario)", t_cmp),
    ):
        print(f"| {name} | {t * 1000:.1f} |")


if __name__ == "__main__":
    main()
