"""Batch assignment: ``locator assign`` on the pandas engine vs ``--engine dask`` on a
LocalCluster of this machine, the same CSV, the same bundled outlets (k=1).

Both runs are the CLI in a fresh process (wall time includes start-up and writing the
CSV). The Dask run uses a LocalCluster this script starts first (``--workers``
single-threaded worker processes; its start-up is timed apart) through
``--scheduler``, so that each worker's peak memory (VmHWM) can be read after the run.
The input is generated reproducibly (fixed seed, written in chunks of 1M rows): orders
clustered around 400 synthetic "cities" inside China's extent, 0.01 % missing lat.

    .venv/bin/python benchmarks/bench_assign.py              # 10M rows (several minutes)
    .venv/bin/python benchmarks/bench_assign.py --rows 200000  # a quick run

Results go in BENCHMARKS.md (ratio first, then the figures, then the machine's load).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
_GEN_CHUNK = 1_000_000

# The CLI in a child process that prints its own peak RSS (VmHWM) on exit.
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


def _worker_peak_mb() -> float:
    """A worker's peak RSS (VmHWM), in MB (run on each worker by client.run)."""
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return kb / 1024


def write_orders(path: Path, n: int) -> None:
    """``n`` synthetic orders (fixed seed), written chunk by chunk (bounded memory)."""
    rng = np.random.default_rng(16)
    centres = np.column_stack([rng.uniform(22, 42, 400), rng.uniform(102, 122, 400)])
    with path.open("w", encoding="utf-8", newline="") as fh:
        for start in range(0, n, _GEN_CHUNK):
            m = min(_GEN_CHUNK, n - start)
            c = centres[rng.integers(0, len(centres), m)]
            lat = np.round(c[:, 0] + rng.normal(0, 0.5, m), 6)
            lon = np.round(c[:, 1] + rng.normal(0, 0.5, m), 6)
            frame = pd.DataFrame(
                {"order_id": [f"O{i:09d}" for i in range(start, start + m)], "lat": lat,
                 "lon": lon, "note": np.where(rng.random(m) < 0.01, "=x", "fix fridge")}
            )  # fmt: skip
            frame.loc[rng.random(m) < 1e-4, "lat"] = np.nan
            frame.to_csv(fh, index=False, header=start == 0, lineterminator="\n")


def _run_cli(argv: list[str]) -> tuple[float, float, str]:
    """Run ``locator`` with ``argv``; (wall s, peak RSS MB of the CLI process, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True,
                          text=True, cwd=ROOT, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"assign failed: {proc.stderr}")
    peak = int(proc.stderr.rsplit("PEAK_RSS_KB=", 1)[1].split()[0]) / 1024
    return wall, peak, proc.stderr


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def bench(rows: int, workers: int, blocksize: str) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    out: dict[str, Any] = {"rows": rows, "workers": workers, "blocksize": blocksize}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "orders.csv"
        t0 = time.perf_counter()
        write_orders(src, rows)
        out["generate_s"] = time.perf_counter() - t0
        out["input_mb"] = src.stat().st_size / 1e6
        print(f"input: {rows:,} rows, {out['input_mb']:.0f} MB", flush=True)
        base = ["assign", str(src), "--no-progress"]

        out["load_before"] = _loadavg()
        wall, peak, _ = _run_cli([*base, "-o", str(Path(tmp) / "pandas.csv")])
        out["pandas"] = {"wall_s": wall, "peak_rss_mb": peak, "load_after": _loadavg()}
        print(f"pandas engine: {wall:.1f} s, peak RSS {peak:.0f} MB", flush=True)

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)  # fmt: skip
        start_s = time.perf_counter() - t0
        try:
            with Client(cluster) as client:
                where = ["--scheduler", cluster.scheduler_address, "--blocksize", blocksize]
                argv = [*base, "-o", str(Path(tmp) / "dask.csv"), "--engine", "dask", *where]
                wall, peak, _ = _run_cli(argv)
                peaks = sorted(client.run(_worker_peak_mb).values())
        finally:
            cluster.close()
        out["dask"] = {"wall_s": wall, "driver_peak_rss_mb": peak, "cluster_start_s": start_s,
                       "worker_peak_rss_mb": peaks, "load_after": _loadavg()}  # fmt: skip
        print(f"dask engine: {wall:.1f} s (+ {start_s:.1f} s cluster start), driver peak "
              f"{peak:.0f} MB, workers' peak {', '.join(f'{p:.0f}' for p in peaks)} MB",
              flush=True)  # fmt: skip
        same = (Path(tmp) / "pandas.csv").read_bytes() == (Path(tmp) / "dask.csv").read_bytes()
        out["identical_output"] = same
    out["ratio_dask_over_pandas"] = out["dask"]["wall_s"] / out["pandas"]["wall_s"]
    print(f"ratio dask/pandas wall: {out['ratio_dask_over_pandas']:.2f}x; "
          f"outputs identical: {same}", flush=True)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of input (10M)")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--blocksize", default="64MB", help="CSV bytes per Dask partition")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    results = {"nproc": len(os.sched_getaffinity(0)), **bench(args.rows, args.workers,
                                                                args.blocksize)}  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
