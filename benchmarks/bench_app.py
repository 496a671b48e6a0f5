"""The Streamlit app's speed as a person sees it, in headless Chromium (#14 §4).

Reproduce: ``.venv/bin/python benchmarks/bench_app.py [--visits 3] [--changes 6]``
(needs Playwright and a Chromium: Debian's ``/usr/bin/chromium`` or ``--chromium PATH``).

The script starts ``streamlit run app.py`` itself (headless, a free port, no file
watcher, a fresh seeded network store in a temp ``$LOCATOR_DATA_DIR``), waits for
``/_stcore/health`` ("the app is up"), then:

- **first meaningful paint of the Find view**, for ``--visits`` fresh browser contexts
  one after the other (the first is the cold start of the server's caches, the others
  are what every later first-time visitor gets), then ``--returning`` visits in one
  context (a returning visitor: Streamlit's scripts in the browser cache): seconds
  from ``page.goto`` until the search box is visible (the view can be used), and until
  the Find map shows its outlet markers;
- **radius change**: on the Coverage view, ``--changes`` presses of the radius slider's
  arrow key (each one a new radius, 5 km apart, never seen before, so nothing is served
  from a cache of that radius), seconds from the key press until the first metric
  (population covered) shows a new value.

With each figure, the **server CPU** it cost (user + system time of the streamlit
process, from ``/proc``): wall times on a loaded machine grow with the load, CPU
seconds much less. The viewport is 1400 x 1000 (``--width`` for a phone). Every request
outside the app is aborted (basemap tiles too), as in the browser tests. The load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(app: Path, port: int, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """``streamlit run`` with its own network store (seeded here, before the clock
    starts, as a deployed app's store would be): never the user's data dir."""
    from locator.store import open_store

    data_dir = log.parent / "locator-data"
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env["LOCATOR_DATA_DIR"] = str(data_dir)
    env.pop("LOCATOR_DATABASE_URL", None)
    data_dir.mkdir()
    open_store(f"sqlite:///{data_dir / 'network.db'}", seed=True).dispose()
    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none"],
        cwd=app.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return proc, time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    sys.exit("streamlit did not start:\n" + log.read_text(errors="replace"))


_SERVER_PID: list[int] = []


def server_cpu() -> float:
    """CPU seconds (user + system) the streamlit server process has used so far: what
    the app costs, much less sensitive than wall time to other work on the machine."""
    fields = Path(f"/proc/{_SERVER_PID[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _offline(context: object, url: str) -> None:
    def route(r: object) -> None:
        u = r.request.url  # type: ignore[attr-defined]
        ok = u.startswith((url, "data:", "blob:", "about:"))
        r.continue_() if ok else r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)  # type: ignore[attr-defined]


def visit(browser: object, url: str, width: int, context: object | None = None) -> dict[str, float]:
    """One visitor: seconds to the search box, and to the Find map's markers. A fresh
    browser context (nothing cached) unless ``context`` is given (a returning visitor:
    the browser has Streamlit's scripts in its HTTP cache)."""
    own = context is None
    if context is None:
        context = browser.new_context(viewport={"width": width, "height": 1000})  # type: ignore[attr-defined]
        _offline(context, url)
    page = context.new_page()  # type: ignore[attr-defined]
    cpu0 = server_cpu()
    t0 = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stTextInput"] input').first.wait_for(timeout=120_000)
    box = time.perf_counter() - t0
    frame = page.frame_locator('iframe[title*="st_folium"]').first
    frame.locator(".marker-cluster, .leaflet-marker-icon").first.wait_for(timeout=120_000)
    drawn = time.perf_counter() - t0
    page.wait_for_timeout(1000)  # the run may still be finishing after the map is drawn
    cpu = server_cpu() - cpu0
    page.close()
    if own:
        context.close()  # type: ignore[attr-defined]
    return {"search box": box, "map with markers": drawn, "server cpu": cpu}


def radius_changes(browser: object, url: str, n: int) -> list[float]:
    """Seconds from a radius key press to a new "population covered" figure."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    _offline(context, url)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("tab").nth(1).click()  # Coverage (in either language)
    metric = page.get_by_test_id("stMetricValue").first
    metric.wait_for(timeout=120_000)
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    slider.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(2000)  # let the first run finish
    times, cpus = [], []
    for _ in range(n):
        before = metric.inner_text()
        slider.focus()
        cpu0 = server_cpu()
        t0 = time.perf_counter()
        slider.press("ArrowRight")
        deadline = time.monotonic() + 60
        while metric.inner_text() == before and time.monotonic() < deadline:
            page.wait_for_timeout(10)
        times.append(time.perf_counter() - t0)
        page.wait_for_timeout(2500)  # the map below may still be drawing
        cpus.append(server_cpu() - cpu0)
        print(f"radius change: {times[-1]:.2f} s, server CPU {cpus[-1]:.2f} s", flush=True)
    context.close()
    return times, cpus


def _row(label: str, v: dict[str, float]) -> str:
    return (
        f"| {label} | {v['search box']:.2f} | {v['map with markers']:.2f} | {v['server cpu']:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, default=ROOT / "app.py")
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--returning", type=int, default=3)
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    load0 = os.getloadavg()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc, up = _start(args.app.resolve(), port, Path(tmp) / "streamlit.log")
        _SERVER_PID.append(proc.pid)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=args.chromium, headless=True, args=ARGS
                )
                visits = []
                for _ in range(args.visits):
                    visits.append(visit(browser, url, args.width))
                    print("visit:", visits[-1], flush=True)
                returning = browser.new_context(viewport={"width": args.width, "height": 1000})
                _offline(returning, url)
                again = [visit(browser, url, args.width, returning) for _ in range(args.returning)]
                print("returning:", again, flush=True)
                returning.close()
                changes, change_cpu = radius_changes(browser, url, args.changes)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    load1 = os.getloadavg()
    print(f"## app speed ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.app.name})")
    print(f"server up (health ok) after {up:.1f} s")
    print("| visit | search box (s) | Find map with markers (s) | server CPU (s) |")
    print("|---|---:|---:|---:|")
    for i, v in enumerate(visits, 1):
        label = "1 (cold caches)" if i == 1 else str(i)
        print(_row(label, v))
    for i, v in enumerate(again, 1):
        print(_row(f"returning {i} (browser cache warm)", v))
    print(
        f"radius change -> new figure: median {statistics.median(changes):.2f} s, "
        f"max {max(changes):.2f} s ({len(changes)} changes: "
        + ", ".join(f"{c:.2f}" for c in changes)
        + ")"
    )
    print(
        f"radius change, server CPU (figures and map): median "
        f"{statistics.median(change_cpu):.2f} s (" + ", ".join(f"{c:.2f}" for c in change_cpu) + ")"
    )
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} "
        f"logical cores, Python {platform.python_version()}; load average "
        f"{load0[0]:.1f} before, {load1[0]:.1f} after"
    )


if __name__ == "__main__":
    main()
