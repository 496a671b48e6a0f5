"""``verify``: how fast a phone check is, and how many spellings it recognizes, against
what a user would write instead (a digits-only string compare in pandas).

Reproduce: ``.venv/bin/python benchmarks/bench_verify.py [--n 100000] [--queries 500]``.

A synthetic network of ``--n`` outlets (the bundled sample repeated, every outlet given
its own valid-format landline ``0XXX-5xxxxxx``, fictional numbers) and ``--queries``
numbers of listed outlets, each written the way people write them (with +86 or 0086,
the trunk 0 left off, brackets, spaces, an extension ``转12`` or ``-8``), fixed seed.

Reported: the one-off :class:`~locator.verify.ListingIndex` build, then per query the
median and p99 wall time of ``verify(..., listings=...)`` and of the naive compare
(``df.phone.str.replace(r"\\D", "") == digits``, digits precomputed), and how many of the
queries each matches to the listed outlet (authorized or not).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from datetime import UTC, datetime


def network(n: int):  # -> (Network, list[str] area codes)
    import pandas as pd

    from locator.data import load_outlets
    from locator.network import Network

    base = load_outlets()
    rep = pd.concat([base] * (n // len(base) + 1)).iloc[:n].reset_index(drop=True)
    rep["outlet_id"] = [f"X{i:06d}" for i in range(n)]
    # area code -> local number length (big cities have 8 digits, Guilin/Urumqi 7)
    areas = {"773": 7, "571": 8, "755": 8, "28": 8, "10": 8, "21": 8, "371": 8, "991": 7}
    codes = list(areas)
    rep["phone"] = [
        f"0{a}-5{i:0{areas[a] - 1}d}" for i, a in ((i, codes[i % len(codes)]) for i in range(n))
    ]
    return Network.coerce(rep)


def spell(phone: str, rng: random.Random) -> str:
    """One listed number as a listing would print it."""
    area, local = phone[1:].split("-")
    forms = [
        f"+86 {area} {local[:3]} {local[3:]}",
        f"0086-{area}-{local}",
        f"({'0' + area}) {local}",
        f"{area}{local}",
        f"0{area} {local}转12",
        f"0{area}-{local}-8",
        f"+86(0){area}{local}",
    ]
    return rng.choice(forms)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args()

    from locator.index import OutletIndex
    from locator.verify import ListingIndex, normalize_phone, verify

    rng = random.Random(20261202)
    net = network(args.n)
    idx = OutletIndex(net, workers=1)
    picks = [rng.randrange(args.n) for _ in range(args.queries)]
    listed = net.frame["phone"].tolist()
    invalid = [p for p in (listed[i] for i in picks) if normalize_phone(p).kind == "other"]
    assert not invalid, f"not valid-format numbers: {invalid[:3]}"
    ids = net.frame["outlet_id"].tolist()
    queries = [spell(listed[i], rng) for i in picks]

    t, c = time.perf_counter(), time.process_time()
    li = ListingIndex(net)
    build, build_cpu = time.perf_counter() - t, time.process_time() - c

    verify(net, phone=queries[0], index=idx, listings=li)  # one-off: the audit's tables
    times, hits = [], 0
    c = time.process_time()
    for q, i in zip(queries, picks, strict=True):
        t = time.perf_counter()
        r = verify(net, phone=q, index=idx, listings=li)
        times.append(time.perf_counter() - t)
        hits += bool(r.matches) and r.matches[0].outlet_id == ids[i]

    verify_cpu = (time.process_time() - c) / len(queries)
    digits = net.frame["phone"].str.replace(r"\D", "", regex=True)
    naive_t, naive_hits = [], 0
    for q, i in zip(queries, picks, strict=True):
        want = "".join(c for c in q if c.isdigit())
        t = time.perf_counter()
        found = digits.index[digits == want]
        naive_t.append(time.perf_counter() - t)
        naive_hits += len(found) == 1 and found[0] == i

    def ms(xs: list[float], q: float) -> float:
        return 1000 * statistics.quantiles(xs, n=100)[int(q) - 1] if q < 100 else max(xs)

    print(f"# bench_verify {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"outlets: {args.n:,}; queries: {args.queries} (varied spellings)")
    print(f"ListingIndex build (once per network): {build:.1f} s wall, {build_cpu:.1f} s CPU")
    print(f"verify: {1000 * verify_cpu:.1f} ms CPU per query (mean)")
    print("| method | median ms | p99 ms | recognized |")
    print("|---|---|---|---|")
    print(f"| verify (ListingIndex) | {ms(times, 50):.1f} | {ms(times, 99):.1f} | "
          f"{hits}/{args.queries} |")  # fmt: skip
    print(f"| pandas digits compare | {ms(naive_t, 50):.1f} | {ms(naive_t, 99):.1f} | "
          f"{naive_hits}/{args.queries} |")  # fmt: skip


if __name__ == "__main__":
    main()
