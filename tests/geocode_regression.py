"""The geocoding regression set (``tests/data/geocode_regression.csv``) and how an answer
is graded against it; shared by ``tests/test_geocode_regression.py`` and
``benchmarks/bench_geocode.py``.

Columns: ``address``; ``expected``: ``province|city|district`` (city or district empty
above that level), ``none`` (no place should be answered) or ``ambiguous:`` followed by
the ``;``-separated candidates a careful reader must offer (a real duplicate name);
``failure_class``; ``source`` (``owner/repo@commit:path`` of the peer's test suite the
address comes from, or the issue, or ``own``); ``note`` (where and why the expected
answer differs from the peer's: divisions are the current ones); ``needs``
(``divisions``: the answer needs the current division table with its history).

Grades, for one answer (best guess, ambiguous flag, candidates):

* ``right``: the expected place, unflagged (for ``ambiguous:``, flagged, with every
  expected candidate offered; for ``none``, no answer);
* ``less specific``: no answer, or a confident answer that contains the expected
  place (its province or city);
* ``ambiguous``: a flagged answer whose candidates include the expected place;
* ``wrong``: anything else: another place, a stale division, a real duplicate
  resolved silently, a place answered for ``none``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

CSV_PATH = Path(__file__).with_name("data") / "geocode_regression.csv"
GRADES = ("right", "less specific", "ambiguous", "wrong")
Place = tuple[str, str, str]  # province, city, district ("" when above that level)


class Case(NamedTuple):
    address: str
    expected: str
    failure_class: str
    source: str
    note: str
    needs: str


class Answer(NamedTuple):
    best: Place | None
    ambiguous: bool = False
    candidates: tuple[Place, ...] = ()


def load_cases(path: Path = CSV_PATH) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [Case(**row) for row in csv.DictReader(fh)]


def parse_place(text: str) -> Place:
    province, city, district = [*text.split("|"), "", ""][:3]
    return province, city, district


def _fits(answer: Place, expected: Place) -> bool:
    """``answer`` is ``expected`` or contains it (less specific, same branch)."""
    return all(a in ("", e) for a, e in zip(answer, expected, strict=True))


def grade(expected: str, answer: Answer) -> str:
    """One of :data:`GRADES` (see the module docs)."""
    if expected == "none":
        if answer.best is None:
            return "right"
        return "ambiguous" if answer.ambiguous else "wrong"
    if answer.best is None:
        return "less specific"
    if expected.startswith("ambiguous:"):
        wanted = [parse_place(p) for p in expected.removeprefix("ambiguous:").split(";")]
        if not answer.ambiguous:
            return "less specific" if all(_fits(answer.best, w) for w in wanted) else "wrong"
        # a candidate offers a wanted place when it is that place or lies inside it
        # (江北新区: any district of 南京 offers 南京)
        offered = [[_fits(w, c) for c in answer.candidates] for w in wanted]
        if all(any(row) for row in offered):
            return "right"
        return "ambiguous" if any(any(row) for row in offered) else "wrong"
    place = parse_place(expected)
    if not answer.ambiguous:
        if answer.best == place:
            return "right"
        return "less specific" if _fits(answer.best, place) else "wrong"
    return "ambiguous" if any(_fits(c, place) for c in answer.candidates) else "wrong"


def _place(d: dict[str, Any]) -> Place:
    level = d.get("level")
    district = d.get("district") if level == "district" else None
    city = d.get("city") if level in ("city", "district", "place") else None
    return str(d.get("province") or ""), str(city or ""), str(district or "")


def offline_answer(loc: Any) -> Answer:
    """An :class:`Answer` from ``OfflineGeocoder.geocode``'s result."""
    if loc is None:
        return Answer(None)
    raw = loc.raw
    return Answer(_place(raw), bool(raw["ambiguous"]), tuple(_place(c) for c in raw["candidates"]))


def cpca_answers(frame: Any) -> list[Answer]:
    """:class:`Answer`s from ``cpca.transform``'s DataFrame (省, 市, 区; never flagged)."""
    out = []
    for p, c, d in zip(frame["省"], frame["市"], frame["区"], strict=True):
        vals = ["" if not isinstance(x, str) else x for x in (p, c, d)]
        if vals[1] == "市辖区":  # cpca's city of a municipality
            vals[1] = vals[0]
        if vals[0] in ("北京市", "上海市", "天津市", "重庆市") and not vals[1]:
            vals[1] = vals[0]
        out.append(Answer((vals[0], vals[1], vals[2]) if vals[0] else None))
    return out


def tally(grades: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(GRADES, 0)
    for g in grades:
        counts[g] += 1
    return counts


def needs_met(needs: str) -> bool:
    """Whether what a case ``needs`` has landed: ``divisions`` = the current division
    table (深圳's 龙华区 and 长治's 潞州区 are in it)."""
    if not needs:
        return True
    from locator.reference import load_divisions

    div = load_divisions()
    names: Sequence[str] = list(div["name"])
    return "潞州区" in names and "鄠邑区" in names
