"""Offline geocoding throughput: ``OfflineGeocoder`` vs ``cpca.transform`` on one list.

Reproduce: ``.venv/bin/python benchmarks/bench_geocode.py [--n 10000] [--repeat 3]``.

The address list is generated from the division table and GeoNames places with a fixed
seed: full Chinese addresses, addresses missing the province or the city, bare district
names (some ambiguous: 朝阳区, 鼓楼区), city and town names, English/pinyin names, and
junk. Both geocoders get the same list in the same process; the best of ``--repeat``
runs is reported, the runs interleaved so both see the same load (the machine is
shared). Times exclude one-off start-up (index build, cpca's import), which is
reported separately.

Also reported: how often the two agree on the adcode for the Chinese addresses, and how
many answers each flagged as ambiguous (cpca never does).

Then the regression set (``tests/data/geocode_regression.csv``, graded by
``tests/geocode_regression.py``): right / less specific / ambiguous / wrong for each
geocoder on the same cases, overall and by failure class, with the time each took on
the set (ratio first).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the set's grader

ROADS = ("人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "胜利路",
         "长江路", "科技园", "望京街", "工业大道", "滨江路", "光明街", "友谊路")  # fmt: skip


def make_addresses(n: int, seed: int = 20261125) -> list[str]:
    """``n`` varied addresses (deterministic for a seed)."""
    from locator.data import load_places
    from locator.reference import load_divisions, short_name

    rng = random.Random(seed)
    div = load_divisions()
    dist = div[div["level"] == "district"].to_dict("records")
    places = load_places().to_dict("records")
    towns = [p for p in places if p["name_zh"]]
    out: list[str] = []
    for _ in range(n):
        r = rng.random()
        d = rng.choice(dist)
        road = f"{rng.choice(ROADS)}{rng.randint(1, 500)}号"
        prov, city, name = d["province"], d["city"], d["name"]
        if r < 0.35:
            head = prov if prov == city else prov + city
            out.append(f"{head}{name}{road}")
        elif r < 0.55:
            out.append(f"{short_name(city)}{name}{road}")
        elif r < 0.62:
            out.append(f"{short_name(prov)}{short_name(city)}{name}")
        elif r < 0.70:
            out.append(f"{name}{road}")
        elif r < 0.74:
            out.append(rng.choice(["朝阳区", "鼓楼区", "朝阳区望京街10号", "鼓楼区中山路1号"]))
        elif r < 0.80:
            out.append(f"{short_name(city)}市{rng.choice(ROADS)}")
        elif r < 0.87:
            p = rng.choice(places)
            out.append(rng.choice([p["name"], p["name"].upper(), p["name"].lower()]))
        elif r < 0.93:
            out.append(rng.choice(towns)["name_zh"])
        elif r < 0.97:
            out.append(f"{rng.choice(ROADS)}{rng.randint(1, 99)}号 {rng.randint(100, 999)}室")
        else:
            out.append("".join(rng.choice("abcdefghxyz") for _ in range(8)))
    return out


def _best(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best time of each function, runs interleaved so that all see the same load."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def _cold_start(code: str, runs: int = 3) -> float:
    """Best wall time of ``python -c code`` in a fresh interpreter."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from locator.geocode import OfflineGeocoder, geocode_batch

    geo = OfflineGeocoder()
    geo.gazetteer  # noqa: B018 - build the index now
    build_s = time.perf_counter() - t0
    import cpca

    cold_ours = _cold_start(
        "from locator.geocode import OfflineGeocoder; OfflineGeocoder().geocode('北京市朝阳区')"
    )
    cold_cpca = _cold_start("import cpca; cpca.transform(['北京市朝阳区'])")

    addrs = make_addresses(args.n)
    n = len(addrs)
    n_unique = len(set(addrs))

    def ours() -> list:
        geo.gazetteer.resolutions.clear()  # no help from a previous run: cold every time
        return geocode_batch(addrs, geo)

    def theirs():  # -> pd.DataFrame
        return cpca.transform(addrs)

    def ours_loop() -> list:
        geo.gazetteer.resolutions.clear()
        out = []
        for a in addrs:
            try:
                out.append(geo.geocode(a))
            except ValueError:
                out.append(None)
        return out

    zh = [a for a in addrs if any("\u4e00" <= c <= "\u9fff" for c in a)]

    def ours_zh() -> list:
        geo.gazetteer.resolutions.clear()
        return geocode_batch(zh, geo)

    def theirs_zh():  # -> pd.DataFrame
        return cpca.transform(zh)

    ours_s, cpca_s, loop_s, ours_zh_s, cpca_zh_s = _best(
        [ours, theirs, ours_loop, ours_zh, theirs_zh], args.repeat
    )

    res = ours()
    df = theirs()
    locs = ours_loop()
    amb = sum(r.status == "ambiguous" for r in res)
    found = sum(r.status in ("ok", "ambiguous") for r in res)
    cpca_found = int(df["adcode"].notna().sum())
    cjk = [i for i, a in enumerate(addrs) if any("\u4e00" <= c <= "\u9fff" for c in a)]
    both = agree = 0
    for i in cjk:
        ours_code = locs[i].raw["adcode"] if locs[i] is not None else None
        theirs_code = df["adcode"].iat[i]
        if ours_code and isinstance(theirs_code, str):
            both += 1
            agree += ours_code == theirs_code[:6] or (
                locs[i].raw["level"] == "city" and theirs_code[:4] == ours_code[:4]
            )

    load = os.getloadavg()
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print(f"# bench_geocode ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    print(f"addresses: {n} ({n_unique} unique), {len(cjk)} with Chinese text")
    print(f"one-off: OfflineGeocoder index build in this process {build_s:.2f} s (with imports)")
    print(
        f"cold start, first answer in a fresh process (best of 3): OfflineGeocoder "
        f"{cold_ours:.2f} s, cpca {cold_cpca:.2f} s"
    )
    print(f"OfflineGeocoder via geocode_batch: {ours_s:.3f} s = {n / ours_s:,.0f} addresses/s")
    print(f"OfflineGeocoder.geocode loop:      {loop_s:.3f} s = {n / loop_s:,.0f} addresses/s")
    print(f"cpca.transform:                    {cpca_s:.3f} s = {n / cpca_s:,.0f} addresses/s")
    print(f"ratio cpca time / geocode_batch time: {cpca_s / ours_s:.2f}x "
          f"(> 1 means OfflineGeocoder is faster)")  # fmt: skip
    print(f"ratio cpca time / geocode loop time:  {cpca_s / loop_s:.2f}x")
    print(f"Chinese-text subset ({len(zh)}): geocode_batch {ours_zh_s:.3f} s, cpca "
          f"{cpca_zh_s:.3f} s, ratio {cpca_zh_s / ours_zh_s:.2f}x")  # fmt: skip
    print(f"found: OfflineGeocoder {found} ({amb} flagged ambiguous); cpca {cpca_found} "
          f"(0 flagged: it has no such output)")  # fmt: skip
    print(f"agreement on adcode where both answered (Chinese text): {agree}/{both}")
    print(f"machine: {platform.machine()} {cpu}; {os.cpu_count()} logical cores; "
          f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; "
          f"Python {platform.python_version()}")  # fmt: skip
    regression_report(geo, args.repeat)


def regression_report(geo: object, repeat: int) -> None:
    """Grades and timing of both geocoders on the regression set: all cases, and the
    cases that do not need the current division table (#11 s1) apart."""
    import cpca
    from geocode_regression import GRADES, cpca_answers, grade, load_cases, offline_answer, tally

    from locator.geocode import geocode_batch

    cases = load_cases()
    addrs = [c.address for c in cases]

    def ours() -> list:
        geo.gazetteer.resolutions.clear()  # type: ignore[attr-defined]
        return [geo.geocode(a) for a in addrs]  # type: ignore[attr-defined]

    def ours_batch() -> list:
        geo.gazetteer.resolutions.clear()  # type: ignore[attr-defined]
        return geocode_batch(addrs, geo)

    def theirs():  # -> pd.DataFrame
        return cpca.transform(addrs)

    ours_s, batch_s, cpca_s = _best([ours, ours_batch, theirs], repeat)
    mine = [grade(c.expected, offline_answer(loc)) for c, loc in zip(cases, ours(), strict=True)]
    peer = [grade(c.expected, a) for c, a in zip(cases, cpca_answers(theirs()), strict=True)]
    later = [i for i, c in enumerate(cases) if c.needs]
    now = [i for i, c in enumerate(cases) if not c.needs]
    print(f"\n## regression set: {len(cases)} cases ({len(later)} need the current division table)")
    print(f"time on the set (best of {repeat}): ratio cpca / geocode_batch "
          f"{cpca_s / batch_s:.2f}x, cpca / geocode loop {cpca_s / ours_s:.2f}x "
          f"(geocode_batch {batch_s * 1e3:.1f} ms, loop {ours_s * 1e3:.1f} ms, "
          f"cpca.transform {cpca_s * 1e3:.1f} ms)")  # fmt: skip
    print("| geocoder | cases | " + " | ".join(GRADES) + " |")
    print("|---|---|" + "---:|" * len(GRADES))
    for name, grades in (("OfflineGeocoder", mine), ("cpca.transform", peer)):
        for label, idx in (
            ("all", range(len(cases))),
            ("without `needs`", now),
            ("`needs: divisions`", later),
        ):
            t = tally(grades[i] for i in idx)
            print(
                f"| {name} | {label} ({len(idx)}) | " + " | ".join(str(t[g]) for g in GRADES) + " |"
            )
    print("\nby failure class: right, wrong (OfflineGeocoder / cpca)")
    for fc in sorted({c.failure_class for c in cases}):
        idx = [i for i, c in enumerate(cases) if c.failure_class == fc]
        tm = tally(mine[i] for i in idx)
        tp = tally(peer[i] for i in idx)
        print(f"  {fc} ({len(idx)}): right {tm['right']}/{tp['right']}, "
              f"wrong {tm['wrong']}/{tp['wrong']}")  # fmt: skip
    for c, g in zip(cases, mine, strict=True):
        if g == "wrong":
            print(f"  wrong (ours{', needs ' + c.needs if c.needs else ''}): {c.address} "
                  f"expected {c.expected}")  # fmt: skip


if __name__ == "__main__":
    main()
