"""Benchmark the network store (#13): ``.venv/bin/python benchmarks/bench_store.py``.

What it measures (one run):

1. **Import of 100k outlets** (``Store.import_frame``: every row validated by the
   contract, one transaction, a version row and an authorization record per outlet)
   into SQLite and into PostgreSQL + PostGIS (a throwaway cluster, as the tests start
   it), against what a user would do instead: ``pandas.DataFrame.to_sql`` of the same
   table (no validation, no history). Also a dry run (the diff only) of the same file
   against the filled store.
2. **Write to visibility in another process**: a child process holds a
   :class:`~locator.store.LiveNetwork` (the API's refresh, polling every 1 s); the
   parent revokes an authorization and measures until the child has swapped in the
   new network. Median and max of several writes.
3. **``/v1/nearest`` throughput** with the store behind the API vs a file (the same
   in-memory index either way), in-process through Starlette's TestClient, and the
   extra cost of a cold ``locator nearest`` reading the default store vs ``--outlets``
   the bundled CSV (subprocesses, median of 5).

``--quick`` uses 10k outlets. ``--no-postgis`` skips the PostgreSQL half.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
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
sys.path.insert(0, str(ROOT / "tests"))

from locator.data import load_outlets  # noqa: E402
from locator.store import open_store  # noqa: E402


def synthetic(n: int) -> pd.DataFrame:
    """``n`` outlets: the bundled sample's rows repeated with new ids and jittered points."""
    base = load_outlets()
    reps = -(-n // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    rng = np.random.default_rng(7)
    frame["outlet_id"] = [f"B{i:07d}" for i in range(n)]
    frame["lat"] = (frame["lat"] + rng.normal(0, 0.05, n)).round(6)
    frame["lon"] = (frame["lon"] + rng.normal(0, 0.05, n)).round(6)
    return frame


def bench_import(url: str, csv_path: Path, frame: pd.DataFrame, label: str) -> dict[str, Any]:
    import sqlalchemy as sa

    store = open_store(url)
    t0 = time.perf_counter()
    diff = store.import_frame(str(csv_path), actor="bench", reason="bench")
    t_import = time.perf_counter() - t0
    assert len(diff.added) == len(frame)
    t0 = time.perf_counter()
    dry = store.import_frame(str(csv_path), actor="bench", dry_run=True)
    t_dry = time.perf_counter() - t0
    assert dry.empty
    store.dispose()
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
    t0 = time.perf_counter()
    pd.read_csv(csv_path, dtype=str, keep_default_na=False).to_sql(
        "plain_outlets", engine, index=False, chunksize=5000
    )
    t_plain = time.perf_counter() - t0
    engine.dispose()
    return {"backend": label, "import_s": t_import, "dry_run_s": t_dry, "to_sql_s": t_plain}


_CHILD = """
import sys, time
from locator.store import open_store, LiveNetwork
store = open_store(sys.argv[1])
live = LiveNetwork(store, lambda net: int(net.authorized.sum()), interval=1.0).start()
print("ready", live.current, flush=True)
last = live.current
while True:
    if live.current != last:
        last = live.current
        print("seen", time.time(), last, flush=True)
    time.sleep(0.005)
"""


def bench_visibility(url: str, writes: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline().startswith("ready")
    store = open_store(url)
    ids = store.network().frame["outlet_id"].tolist()
    delays = []
    try:
        for i in range(writes):
            time.sleep(0.37)  # land at different points of the child's poll interval
            store.set_authorization(ids[i], granted=False, actor="bench", reason="bench")
            written = time.time()
            line = child.stdout.readline().split()
            delays.append(float(line[1]) - written)
    finally:
        child.kill()
        store.dispose()
    return {"writes": writes, "median_s": statistics.median(delays), "max_s": max(delays)}


def bench_nearest_api(url: str, n_requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from locator.api import create_app

    out: dict[str, Any] = {}
    csv_path = ROOT / "locator" / "_data" / "outlets.csv"
    for label, source in (("file", str(csv_path)), ("store", open_store(url))):
        app = create_app(source)
        with TestClient(app) as client:
            rng = np.random.default_rng(3)
            pts = np.column_stack(
                [rng.uniform(22, 40, n_requests), rng.uniform(104, 121, n_requests)]
            )
            for lat, lon in pts[:50]:  # warm
                client.get("/v1/nearest", params={"lat": lat, "lon": lon})
            t0 = time.perf_counter()
            for lat, lon in pts:
                r = client.get("/v1/nearest", params={"lat": float(lat), "lon": float(lon), "k": 3})
                assert r.status_code == 200
            out[label] = n_requests / (time.perf_counter() - t0)
    return out


def bench_cold_cli(data_dir: Path, runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOCATOR_DATA_DIR": str(data_dir)}
    env.pop("LOCATOR_DATABASE_URL", None)
    csv_path = ROOT / "locator" / "_data" / "outlets.csv"
    cmds = {
        "file": [sys.executable, "-m", "locator", "nearest", "杭州", "--outlets", str(csv_path)],
        "store": [sys.executable, "-m", "locator", "nearest", "杭州"],
    }
    subprocess.run(cmds["store"], env=env, capture_output=True, check=True)  # creates it
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for key, cmd in cmds.items():  # interleaved: the same load for both
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True)
            times[key].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[key].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    out = {k: statistics.median(v) for k, v in times.items()}
    out |= {f"{k}_cpu": statistics.median(v) for k, v in cpu.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--only-cold", action="store_true", help="only the cold CLI start-up")
    args = ap.parse_args()
    if args.only_cold:
        c = bench_cold_cli(Path(tempfile.mkdtemp(prefix="bench-store-")) / "data", 5)
        print({k: round(v, 3) for k, v in c.items()})
        return
    n = 10_000 if args.quick else 100_000
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    frame = synthetic(n)
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    csv_path = tmp / "outlets.csv"
    frame.to_csv(csv_path, index=False)
    urls = {"sqlite": f"sqlite:///{tmp / 'bench.db'}"}
    cluster = None
    if not args.no_postgis:
        from _postgis import Cluster, find_postgres

        found = find_postgres()
        if isinstance(found, str):
            print(f"PostGIS skipped: {found}")
        else:
            cluster = Cluster(found[0])
            cluster.start()
            cluster.execute("CREATE DATABASE bench")
            urls["postgis"] = cluster.url("bench")
    try:
        print(f"\n1. import of {n:,} outlets (validated, one transaction, with history)")
        for label, url in urls.items():
            r = bench_import(url, csv_path, frame, label)
            print(
                f"   {label:8s} import {r['import_s']:6.1f} s ({n / r['import_s']:,.0f} rows/s); "
                f"dry run against the filled store {r['dry_run_s']:5.1f} s; "
                f"pandas to_sql of the raw table {r['to_sql_s']:5.1f} s "
                f"(import / to_sql = {r['import_s'] / r['to_sql_s']:.1f}x)"
            )
        print("\n2. write -> visible in another process (LiveNetwork polling every 1 s)")
        for label in urls:
            small = f"sqlite:///{tmp / 'live.db'}" if label == "sqlite" else None
            if label == "postgis" and cluster is not None:
                cluster.execute("CREATE DATABASE live")
                small = cluster.url("live")
            assert small is not None
            open_store(small, seed=True).dispose()
            r = bench_visibility(small, 8)
            print(
                f"   {label:8s} {r['writes']} writes: median {r['median_s']:.2f} s, "
                f"max {r['max_s']:.2f} s"
            )
        print("\n3. /v1/nearest throughput, in-process (TestClient), 2,000 requests")
        r = bench_nearest_api(f"sqlite:///{tmp / 'live.db'}", 2000)
        print(
            f"   file {r['file']:,.0f} req/s, store {r['store']:,.0f} req/s "
            f"(store / file = {r['store'] / r['file']:.2f})"
        )
        c = bench_cold_cli(tmp / "data", 5)
        print(
            f"   cold `locator nearest 杭州`, median of 5: --outlets CSV {c['file']:.2f} s wall"
            f" / {c['file_cpu']:.2f} s CPU; default store {c['store']:.2f} s / "
            f"{c['store_cpu']:.2f} s CPU (extra {c['store_cpu'] - c['file_cpu']:+.2f} s CPU)"
        )
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
