"""Loopback load test of the HTTP API: ``.venv/bin/python benchmarks/load_api.py``.

What it does (bounded, stops by itself):

1. Starts ``locator serve --host 127.0.0.1 --port <free> --workers N --no-access-log``
   (the deployment command) in a subprocess, on **127.0.0.1** only, with the bundled
   sample network, and waits for ``/healthz`` (the app warms its geocoder and coverage
   model before it answers, as in production).
2. Sends ``--warmup`` requests, then exactly ``--requests`` requests to
   ``/v1/nearest?lat=..&lon=..&k=..`` with random coordinates inside China's extent
   (fixed seed), from ``--concurrency`` concurrent clients. Each client keeps one
   HTTP/1.1 keep-alive connection.
3. Prints requests/s, latency p50/p90/p99/max (ms, request written -> whole body read),
   the error count (non-200, malformed or non-strict JSON, connection errors) and the
   machine facts, then stops the server.

Two client implementations:

* ``--client raw`` (default): a minimal asyncio HTTP/1.1 client (a few dozen lines).
  On a 2-core machine the load generator shares the CPU with the server, so a light
  client measures the *server* better.
* ``--client httpx``: ``httpx.AsyncClient``, a real-world client (heavier on CPU).
* ``--client wrk``: Debian's native ``wrk`` (``apt-get install -y wrk``) for
  ``--duration`` seconds on 2 threads, cycling through the same paths (a Lua script);
  its percentiles and errors (socket errors, non-2xx) are reported.

``--cold``: no warm-up requests; the load starts as soon as ``/healthz`` says ready.

Every 50th response body is parsed as strict JSON and checked for ``results``; the
others are checked for status 200 and a complete body.

``--mixed``: for ``--duration`` seconds (default 10), ``--concurrency`` clients send
``/v1/nearest`` (measured) while ``--heavy`` more clients request uncached
``/v1/coverage`` answers and ``/embed/map`` pages (random radius, city and layers).
Their answers (200, or 503 "busy" past the server's limit of concurrent heavy
computations) are counted, not timed: the figure is the nearest p99 under that load,
which shows whether CPU work blocks the event loop. ``--src DIR`` runs the server from
another checkout (e.g. ``git worktree add /tmp/old <commit>``) for before/after runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, by design
EXTENT = (73.5, 18.2, 134.8, 53.5)  # China: lon_min, lat_min, lon_max, lat_max


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def machine_facts() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import fastapi
    import starlette
    import uvicorn

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "loadavg_before": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fastapi": fastapi.__version__,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
        "uvloop": _has("uvloop"),
        "httptools": _has("httptools"),
    }


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def start_server(port: int, workers: int, src: Path = ROOT) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "locator",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {**os.environ, "PYTHONPATH": str(src)}
    for name in ("LOCATOR_OUTLETS", "LOCATOR_CORS_ORIGINS", "LOCATOR_FRAME_ANCESTORS"):
        env.pop(name, None)
    return subprocess.Popen(cmd, cwd=src, env=env)


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes (Linux /proc),
    the figure that does not depend on what else the machine runs."""
    tick = os.sysconf("SC_CLK_TCK")
    pids, total = [pid], 0.0
    while pids:
        p = pids.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pids.extend(int(c) for c in children)
    return total


def cpu_steal() -> tuple[int, int]:
    """(steal, total) jiffies of the whole machine: the hypervisor's share is time the
    VM's cores were taken away, which no change to the server can win back."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return values[7] if len(values) > 7 else 0, sum(values[:8])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{port}/healthz"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not become ready in time")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # SIGTERM: uvicorn's supervisor stops its workers too
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def make_paths(n: int, k: int, seed: int, query: bool = False) -> list[str]:
    """``n`` request paths: random points in China's extent, or (``query``) the listed
    cities' Chinese and English names as ``q`` (geocoded by the server)."""
    rng = random.Random(seed)
    if query:
        import csv
        from urllib.parse import quote

        with open(ROOT / "data" / "cities.csv", encoding="utf-8") as f:
            names = [n for row in csv.DictReader(f) for n in (row["city"], row["name_en"])]
        return [f"/v1/nearest?q={quote(rng.choice(names))}&k={k}" for _ in range(n)]
    lon0, lat0, lon1, lat1 = EXTENT
    return [
        f"/v1/nearest?lat={rng.uniform(lat0, lat1):.5f}&lon={rng.uniform(lon0, lon1):.5f}&k={k}"
        for _ in range(n)
    ]


def check_body(body: bytes) -> bool:
    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        doc = json.loads(body, parse_constant=refuse)
    except ValueError:
        return False
    return isinstance(doc, dict) and bool(doc.get("results"))


# --------------------------------------------------------------------------- clients


class RawConnection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for this server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode("ascii")
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length is None:
            raise ValueError("response without Content-Length")
        body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_load(
    port: int, paths: list[str], concurrency: int, client: str
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    it = iter(enumerate(paths))

    async def worker(get: Any) -> None:
        nonlocal errors
        for i, path in it:
            t0 = time.perf_counter()
            try:
                status, body = await get(path)
            except (OSError, ValueError, asyncio.IncompleteReadError) as err:
                errors += 1
                print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200 or not body or (i % 50 == 0 and not check_body(body)):
                errors += 1

    start = time.perf_counter()
    if client == "raw":
        conns = [RawConnection(port) for _ in range(concurrency)]
        await asyncio.gather(*(worker(c.get) for c in conns))
        for c in conns:
            await c.close()
    else:
        import httpx

        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=f"http://{HOST}:{port}", limits=limits, timeout=30.0
        ) as session:

            async def get(path: str) -> tuple[int, bytes]:
                r = await session.get(path)
                return r.status_code, r.content

            await asyncio.gather(*(worker(get) for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return latencies, errors, elapsed


def heavy_paths(n: int, seed: int) -> list[str]:
    """``n`` uncached heavy requests: coverage at random radii, map pages of random
    cities, layers and radii (every one a cache miss, so each costs real CPU)."""
    from urllib.parse import quote

    rng = random.Random(seed)
    cities = ["北京", "上海", "苏州", "杭州", "成都", "武汉", "西安", "广州", "深圳", "重庆"]
    out = []
    for i in range(n):
        radius = round(rng.uniform(5, 300), 3)
        if i % 2:
            out.append(f"/v1/coverage?radius_km={radius}&level=city&gaps=20")
        else:
            layers = rng.choice(["outlets,coverage", "outlets,gaps", "outlets,coverage,cities"])
            city = quote(rng.choice(cities))
            out.append(f"/embed/map?city={city}&layers={layers}&tiles=none&radius_km={radius}")
    return out


async def run_mixed(
    port: int, nearest: list[str], heavy: list[str], concurrency: int, n_heavy: int,
    duration: float,
) -> dict[str, Any]:  # fmt: skip
    """Nearest (timed) and heavy (counted) clients for ``duration`` seconds."""
    latencies: list[float] = []
    counts = {"nearest_errors": 0, "heavy_200": 0, "heavy_503": 0, "heavy_other": 0}
    deadline = time.perf_counter() + duration
    near_it, heavy_it = iter(nearest), iter(heavy)

    async def nearest_client(conn: RawConnection) -> None:
        for path in near_it:
            if time.perf_counter() >= deadline:
                return
            t0 = time.perf_counter()
            try:
                status, body = await conn.get(path)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                counts["nearest_errors"] += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200 or not body:
                counts["nearest_errors"] += 1

    async def heavy_client(conn: RawConnection) -> None:
        for path in heavy_it:
            if time.perf_counter() >= deadline:
                return
            try:
                status, _ = await conn.get(path)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                counts["heavy_other"] += 1
                continue
            key = {200: "heavy_200", 503: "heavy_503"}.get(status, "heavy_other")
            counts[key] += 1
            if status == 503:
                await asyncio.sleep(0.05)  # a polite client backs off a little

    conns = [RawConnection(port) for _ in range(concurrency + n_heavy)]
    start = time.perf_counter()
    await asyncio.gather(
        *(nearest_client(c) for c in conns[:concurrency]),
        *(heavy_client(c) for c in conns[concurrency:]),
    )
    elapsed = time.perf_counter() - start
    for c in conns:
        await c.close()
    lat = sorted(latencies)
    return {
        "nearest_requests": len(lat),
        "seconds": round(elapsed, 3),
        "nearest_req_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(percentile(lat, 0.50) * 1000, 2),
        "p90_ms": round(percentile(lat, 0.90) * 1000, 2),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        **counts,
    }


def main_mixed(args: argparse.Namespace) -> None:
    facts = machine_facts()
    port = free_port()
    proc = start_server(port, args.workers, Path(args.src))
    try:
        wait_ready(port, proc)
        warm = make_paths(args.warmup, args.k, args.seed + 1)
        asyncio.run(run_load(port, warm, args.concurrency, "raw"))
        result = asyncio.run(
            run_mixed(
                port,
                make_paths(1_000_000, args.k, args.seed),
                heavy_paths(100_000, args.seed),
                args.concurrency,
                args.heavy,
                args.duration,
            )
        )
    finally:
        stop_server(proc)
    result = {
        "case": f"/v1/nearest (lat/lon, k={args.k}) while {args.heavy} clients request "
        "uncached /v1/coverage and /embed/map",
        "src": str(args.src),
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        **result,
        "loadavg_after": os.getloadavg(),
        **facts,
    }
    print(
        f"{result['case']}: {result['nearest_requests']} nearest in {result['seconds']} s "
        f"({result['nearest_req_per_s']} req/s), p50 {result['p50_ms']} ms, p90 "
        f"{result['p90_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms, "
        f"nearest errors {result['nearest_errors']}; heavy: {result['heavy_200']} x 200, "
        f"{result['heavy_503']} x 503 busy, {result['heavy_other']} other"
    )
    if args.json:
        print(json.dumps(result, indent=2))
    if result["nearest_errors"]:
        sys.exit(1)


def _ms(text: str) -> float:
    """wrk's latency figure (``850.00us``, ``12.3ms``, ``1.2s``) in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(f"unexpected wrk latency {text!r}")


def run_wrk(port: int, paths: list[str], concurrency: int, duration: float) -> dict[str, Any]:
    """``wrk`` (Debian's package: ``apt-get install -y wrk``) for ``duration`` seconds,
    ``concurrency`` keep-alive connections on 2 threads, cycling through ``paths``
    (a Lua script); its requests/s, latency percentiles and errors (non-2xx, socket)."""
    import re
    import shutil
    import tempfile

    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit("--client wrk needs wrk: apt-get install -y wrk")
    table = ",\n".join(json.dumps(p) for p in paths)  # JSON strings are Lua strings here
    script = (
        f"local paths = {{\n{table}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\nend\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        cmd = [exe, "-t2", f"-c{concurrency}", f"-d{duration:g}s", "--timeout", "5s"]
        cmd += ["--latency", "-s", f.name, f"http://{HOST}:{port}/"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        os.unlink(f.name)
    pct = dict(re.findall(r"^\s+(50|75|90|99)(?:\.000)?%\s+(\S+)[ \t]*$", out, re.M))
    if not {"50", "90", "99"} <= set(pct):
        raise SystemExit(f"cannot read wrk's latency percentiles:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {
        "requests": total,
        "errors": errors,
        "seconds": duration,
        "req_per_s": float(re.search(r"Requests/sec:\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(pct["50"]),
        "p90_ms": _ms(pct["90"]),
        "p99_ms": _ms(pct["99"]),
        "max_ms": _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "wrk_output": out,
    }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def _timed(port: int, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The Python clients' figures for exactly ``len(paths)`` requests."""
    latencies, errors, elapsed = asyncio.run(run_load(port, paths, args.concurrency, args.client))
    lat = sorted(latencies)
    return {
        "requests": len(paths),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "req_per_s": round(len(paths) / elapsed, 1),
        "p50_ms": round(percentile(lat, 0.50) * 1000, 2),
        "p90_ms": round(percentile(lat, 0.90) * 1000, 2),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--client", choices=["raw", "httpx", "wrk"], default="raw")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up requests: load starts as soon as /healthz says ready",
    )
    parser.add_argument(
        "--q", action="store_true", help="query by city name (q=) instead of coordinates"
    )
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    parser.add_argument(
        "--mixed", action="store_true", help="nearest under coverage/embed load (see above)"
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="--mixed and --client wrk: seconds"
    )
    parser.add_argument("--heavy", type=int, default=2, help="--mixed: heavy clients")
    parser.add_argument("--src", default=str(ROOT), help="checkout the server runs from")
    args = parser.parse_args()
    if args.mixed:
        if not (0 < args.duration <= 120 and 0 <= args.heavy <= 64):
            raise SystemExit("--duration must be in (0, 120] s and --heavy 0..64")
        main_mixed(args)
        return
    if not (0 < args.requests <= 1_000_000 and 0 < args.concurrency <= 1024):
        raise SystemExit("--requests must be 1..1e6 and --concurrency 1..1024")

    facts = machine_facts()
    port = free_port()
    proc = start_server(port, args.workers, Path(args.src))
    try:
        started = time.monotonic()
        wait_ready(port, proc)
        ready_s = time.monotonic() - started
        if not args.cold:
            warm = make_paths(args.warmup, args.k, args.seed + 1, args.q)
            asyncio.run(run_load(port, warm, args.concurrency, "raw"))
        paths = make_paths(args.requests, args.k, args.seed, args.q)
        cpu0, steal0 = server_cpu_seconds(proc.pid), cpu_steal()
        if args.client == "wrk":
            figures = run_wrk(port, paths, args.concurrency, args.duration)
        else:
            figures = _timed(port, paths, args)
        cpu1, steal1 = server_cpu_seconds(proc.pid), cpu_steal()
    finally:
        stop_server(proc)
    served = max(int(figures["requests"]), 1)
    figures["server_cpu_ms_per_request"] = round((cpu1 - cpu0) / served * 1e3, 3)
    ticks = max(steal1[1] - steal0[1], 1)
    figures["cpu_steal_percent"] = round(100 * (steal1[0] - steal0[0]) / ticks, 1)
    errors = figures["errors"]
    result = {
        "endpoint": f"/v1/nearest ({'q=city name' if args.q else 'lat/lon'}, k={args.k})",
        "client": args.client,
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "cold": args.cold,
        "seconds_to_ready": round(ready_s, 1),
        **{k: v for k, v in figures.items() if k != "wrk_output"},
        "loadavg_after": os.getloadavg(),
        **facts,
    }
    print(
        f"{result['endpoint']}: "
        f"{result['requests']} requests, {args.concurrency} clients ({args.client}"
        f"{', cold' if args.cold else ''}, ready after {result['seconds_to_ready']} s), "
        f"{args.workers} server worker(s): {result['req_per_s']} req/s, "
        f"p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
        f"max {result['max_ms']} ms, errors {errors}; server CPU "
        f"{result['server_cpu_ms_per_request']} ms per request, CPU steal "
        f"{result['cpu_steal_percent']} % during the run"
    )
    print(
        f"machine: {facts['cpus']} CPUs ({facts['cpu_model']}), Python {facts['python']}, "
        f"uvicorn {facts['uvicorn']} (uvloop {facts['uvloop']}, httptools "
        f"{facts['httptools']}), load average before {facts['loadavg_before']}"
    )
    if args.json:
        print(json.dumps(result, indent=2))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
