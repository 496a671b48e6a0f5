"""Opening hours: OpenStreetMap ``opening_hours`` text, Chinese holidays, "open now".

Hours are stored as OSM ``opening_hours`` text (``Mo-Fr 09:00-18:00; PH off``) and
evaluated by `opening-hours-py <https://pypi.org/project/opening-hours-py/>`_, never
by hand. This module adds three things around that library:

* :func:`to_osm` converts the common Chinese forms on load (``周一至周日 09:00-18:00``,
  ``周一至周五 09:00-12:00,13:30-18:00``, ``全天24小时``/``24小时营业`` -> ``24/7``,
  ``法定节假日休息`` -> ``PH off``, several joined by ``；``/``;``) into that syntax and
  checks the result with the library; what neither reads is ``None`` (the loader keeps
  the text as it is and reports row and value; such an outlet shows "hours unknown").
* The calendar. Time is Asia/Shanghai. Public holidays and make-up workdays (调休)
  come from `chinese-calendar <https://pypi.org/project/chinese-calendar/>`_:

  - a day of an official holiday break (国庆 2026-10-01..07, 春节 ...) is ``PH``;
  - a make-up workday (a Saturday or Sunday declared a working day, 2026-10-10) is a
    working day: the outlet keeps its own rule for that weekday if that rule opens it,
    otherwise it follows its **weekday rule**, taken as the first of Monday..Friday of
    the same week on which its rule opens (chinese-calendar does not say which weekday
    a make-up day replaces, so Monday's rule is used whenever Monday opens);
  - any other day is evaluated as itself, never as ``PH``.

  The library's own country calendars are not used for that decision (its ``CN``
  calendar knows only the first day of each break). A holiday or make-up day is
  evaluated by the library on a *stand-in* day of the same weekday: a 1 January
  (which its calendar knows as ``PH``) for a holiday, the chosen weekday of the same
  week for a make-up day. Rules tied to a date (``Oct 01-07 off``) therefore apply to
  ordinary days only. A year outside chinese-calendar's data (it has 2004-2026 in
  version 1.11) is evaluated without holiday knowledge and flagged
  (``holidays_known=False``), never an error.
* :func:`hours_status`: ``open_now``, the next change (``opens_at`` when closed,
  ``closes_at`` when open, aware datetimes in +08:00) and a short bilingual label.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from opening_hours import OpeningHours, State, validate

__all__ = [
    "TZ",
    "UNKNOWN_LABEL",
    "HoursStatus",
    "as_local",
    "day_type",
    "hours_status",
    "open_state",
    "parse_hours",
    "to_osm",
]

TZ = ZoneInfo("Asia/Shanghai")
UNKNOWN_LABEL = "营业时间未知 / hours unknown"
_HORIZON_DAYS = 31  # how far ahead the next change is looked for

# --------------------------------------------------------------------------- converter
_DAY = {"一": "Mo", "二": "Tu", "三": "We", "四": "Th", "五": "Fr", "六": "Sa", "日": "Su",
        "天": "Su", "七": "Su"}  # fmt: skip
_ORDER = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_WHOLE = {"全天24小时", "24小时营业", "全天营业", "24小时", "全天", "24小时全天营业", "7x24小时"}
_OFF = r"(?:休息|不营业|闭店|停业|关闭|休)"
_HOLIDAY = r"(?:法定节假日|法定假日|节假日|公休日)"
_WEEKDAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_DAYSPEC = re.compile(
    rf"^(?P<days>(?:{_WEEKDAY}(?:\s*[-~至到]\s*{_WEEKDAY})?[、,/\s]*)+|每天|每日|天天|工作日|周末|{_HOLIDAY})"
    r"\s*(?P<rest>.*)$"
)
_RANGE = re.compile(rf"{_WEEKDAY}(?:\s*[-~至到]\s*{_WEEKDAY})?")
_TIME = re.compile(r"(\d{1,2})[:：点](\d{2})?")
_SPAN = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


def _days(spec: str) -> str | None:
    if spec in ("每天", "每日", "天天"):
        return "Mo-Su"
    if spec == "工作日":
        return "Mo-Fr"
    if spec == "周末":
        return "Sa,Su"
    if re.fullmatch(_HOLIDAY, spec):
        return "PH"
    parts = []
    for m in _RANGE.finditer(spec):
        a, b = _DAY[m.group(1)], _DAY[m.group(2)] if m.group(2) else None
        parts.append(a if b is None or b == a else f"{a}-{b}")
    return ",".join(parts) or None


def _times(rest: str) -> str | None:
    """``09:00-12:00,13:30-18:00`` (any of -~至到 between, 9点 for 09:00) as OSM times."""
    rest = re.sub(r"\s*[~至到—–]\s*|\s*-\s*", "-", rest)
    spans = []
    for chunk in re.split(r"[,、/\s]+", rest.strip()):
        if not chunk:
            continue
        chunk = _TIME.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2) or '00'}", chunk)
        if not _SPAN.match(chunk):
            return None
        spans.append(chunk)
    return ",".join(spans) or None


def _segment(seg: str) -> str | None:
    """One ``;``-separated part in OSM syntax, or ``None``."""
    compact = re.sub(r"\s+", "", seg)
    if compact.lower() in {w.lower() for w in _WHOLE}:
        return "24/7"
    m = _DAYSPEC.match(seg)
    if m is None:
        return seg if _valid(seg) else None
    days = _days(re.sub(r"[、,/\s]+$", "", m.group("days")))
    rest = m.group("rest").strip()
    if days is None:
        return None
    if re.fullmatch(_OFF, rest):
        return f"{days} off"
    if re.sub(r"\s+", "", rest) in _WHOLE or rest in ("营业", "正常营业", "照常营业"):
        return f"{days} 00:00-24:00" if days != "PH" else "PH 00:00-24:00"
    times = _times(rest)
    return f"{days} {times}" if times else None


@functools.lru_cache(maxsize=4096)
def _valid(text: str) -> bool:
    try:
        return bool(validate(text))
    except UnicodeEncodeError:  # a lone surrogate: not text the library can read
        return False


@functools.lru_cache(maxsize=4096)
def to_osm(text: str) -> str | None:
    """``text`` in OSM ``opening_hours`` syntax, or ``None`` if it cannot be read.

    Text the library already reads is returned as it is (stripped); otherwise the
    common Chinese forms are converted part by part (parts joined by ``；`` or ``;``).
    Every result has been parsed by the library.
    """
    if not isinstance(text, str):
        return None
    raw = text.strip()
    if not raw:
        return None
    if _valid(raw):
        return raw
    norm = unicodedata.normalize("NFKC", raw)
    parts = [p.strip() for p in re.split(r"[;\n]+", norm) if p.strip()]
    out = []
    for part in parts:
        seg = _segment(part)
        if seg is None:
            return None
        out.append(seg)
    # A holiday rule must come last to override the weekday rules (OSM: later wins).
    out.sort(key=lambda s: s.startswith("PH"))
    joined = "; ".join(out)
    return joined if out and _valid(joined) else None


@dataclass(frozen=True)
class _Parsed:
    plain: OpeningHours  # no country: ``PH`` never matches (ordinary days)
    holiday: OpeningHours  # country CN: the stand-in 1 January is ``PH``


@functools.lru_cache(maxsize=4096)
def parse_hours(text: str) -> _Parsed | None:
    """The library's parsed hours for stored ``text`` (OSM or a Chinese form), or
    ``None`` when unreadable."""
    osm = to_osm(text) if isinstance(text, str) else None
    if osm is None:
        return None
    return _Parsed(OpeningHours(osm), OpeningHours(osm, country="CN"))


# --------------------------------------------------------------------------- calendar
#: A 1 January of each weekday (Monday = 0) that the library's CN calendar calls PH.
_PH_STAND_IN = {dt.date(y, 1, 1).weekday(): dt.date(y, 1, 1) for y in range(2023, 2031)}


@functools.lru_cache(maxsize=1024)
def day_type(day: dt.date) -> tuple[str, str | None]:
    """``("holiday" | "makeup" | "ordinary" | "no_data", holiday name or None)`` for
    ``day`` from chinese-calendar (``no_data``: a year it does not cover)."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return "no_data", None
    if on_holiday and name:
        return "holiday", str(name)
    if not on_holiday and name and day.weekday() >= 5:
        return "makeup", str(name)
    return "ordinary", None


Interval = tuple[int, int]  # minutes since midnight, [start, end)


def _intervals(oh: OpeningHours, day: dt.date) -> tuple[tuple[Interval, ...], bool]:
    """Open intervals of ``day`` as the library evaluates it, and whether any part of
    the day is in the ``unknown`` state."""
    start = dt.datetime.combine(day, dt.time())
    out: list[Interval] = []
    unknown = False
    for a, b, state, _ in oh.intervals(start, start + dt.timedelta(days=1)):
        lo = max(0, int((a - start).total_seconds() // 60))
        hi = 1440 if b is None else min(1440, int((b - start).total_seconds() // 60))
        if state == State.OPEN and hi > lo:
            out.append((lo, hi))
        elif state == State.UNKNOWN:
            unknown = True
    return tuple(out), unknown


@functools.lru_cache(maxsize=65536)
def _day_intervals(text: str, day: dt.date) -> tuple[tuple[Interval, ...], bool, bool]:
    """``(open intervals, unknown, holidays_known)`` of ``day`` for readable ``text``."""
    parsed = parse_hours(text)
    assert parsed is not None
    kind, _ = day_type(day)
    if kind == "holiday":
        got, unknown = _intervals(parsed.holiday, _PH_STAND_IN[day.weekday()])
        return got, unknown, True
    own, unknown = _intervals(parsed.plain, day)
    if kind == "makeup" and not own:
        monday = day - dt.timedelta(days=day.weekday())
        for i in range(5):
            got, unk = _intervals(parsed.plain, monday + dt.timedelta(days=i))
            if got:
                return got, unk, True
    return own, unknown, kind != "no_data"


# --------------------------------------------------------------------------- status
def as_local(at: dt.datetime | None = None) -> dt.datetime:
    """``at`` in Asia/Shanghai (now if ``None``; a naive time is read as Shanghai's)."""
    if at is None:
        return dt.datetime.now(TZ)
    if not isinstance(at, dt.datetime):
        raise TypeError(f"at must be a datetime, got {at!r}")
    return at.replace(tzinfo=TZ) if at.tzinfo is None else at.astimezone(TZ)


@dataclass(frozen=True)
class HoursStatus:
    """Whether an outlet is open at a moment, and the next change.

    ``open_now`` is ``None`` when the hours are unknown (unreadable text, no hours, or
    an ``unknown`` rule). ``closes_at`` (when open) / ``opens_at`` (when closed) is the
    next change within 31 days, else ``None``. ``holidays_known`` is ``False`` when the
    day falls in a year chinese-calendar has no data for (evaluated as ordinary days).
    """

    open_now: bool | None
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    label: str
    holidays_known: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (times as ISO 8601 with +08:00)."""
        return {
            "open_now": self.open_now,
            "opens_at": None if self.opens_at is None else self.opens_at.isoformat(),
            "closes_at": None if self.closes_at is None else self.closes_at.isoformat(),
            "hours_label": self.label,
            "holidays_known": self.holidays_known,
        }


_UNKNOWN = HoursStatus(None, None, None, UNKNOWN_LABEL)


def _when(moment: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """(Chinese, English) for a time: ``18:00`` today, ``明天 09:00`` / ``tomorrow 09:00``,
    else ``10-08 09:00``."""
    hm = moment.strftime("%H:%M")
    days = (moment.date() - now.date()).days
    if days == 0:
        return hm, hm
    if days == 1:
        return f"明天 {hm}", f"tomorrow {hm}"
    md = moment.strftime("%m-%d")
    return f"{md} {hm}", f"{md} {hm}"


def _label(now: dt.datetime, open_now: bool, change: dt.datetime | None, open_today: bool) -> str:
    if open_now:
        if change is None:
            return "24小时营业 / open 24 hours"
        zh, en = _when(change, now)
        return f"营业中 · {zh} 打烊 / open until {en}"
    if change is None:
        return "暂停营业 / closed"
    zh, en = _when(change, now)
    if change.date() == now.date():
        return f"休息中 · {zh} 开门 / closed, opens {en}"
    if open_today:
        return f"已打烊 · {zh} 开门 / closed, opens {en}"
    return f"今日休息 · {zh} 开门 / closed today, opens {en}"


def open_state(text: Any, at: dt.datetime | None = None) -> bool | None:
    """:attr:`HoursStatus.open_now` of ``text`` at ``at`` without looking for the next
    change (one day evaluated instead of 32: what a filter over many outlets needs)."""
    if not isinstance(text, str) or parse_hours(text) is None:
        return None
    now = as_local(at)
    minute = now.hour * 60 + now.minute
    got, unknown, _ = _day_intervals(text, now.date())
    if any(a <= minute < b for a, b in got):
        return True
    return None if unknown else False


def hours_status(text: Any, at: dt.datetime | None = None) -> HoursStatus:
    """The :class:`HoursStatus` of stored hours ``text`` at ``at`` (default now),
    evaluated in Asia/Shanghai with Chinese holidays (see the module docstring)."""
    if not isinstance(text, str) or parse_hours(text) is None:
        known = day_type(as_local(at).date())[0] != "no_data"
        return _UNKNOWN if known else replace(_UNKNOWN, holidays_known=False)
    # Nothing depends on the seconds: one evaluation per text and minute.
    return _status(text, as_local(at).replace(second=0, microsecond=0))


@functools.lru_cache(maxsize=8192)
def _status(text: str, now: dt.datetime) -> HoursStatus:
    naive = now.replace(tzinfo=None)
    minute = naive.hour * 60 + naive.minute
    today = naive.date()
    # Open spans as absolute minutes from today's midnight, touching ones merged.
    spans: list[list[int]] = []
    holidays_known = True
    unknown_now = False
    for d in range(_HORIZON_DAYS + 1):
        got, unknown, known = _day_intervals(text, today + dt.timedelta(days=d))
        if d == 0:
            holidays_known, unknown_now = known, unknown
        for a, b in got:
            a, b = a + 1440 * d, b + 1440 * d
            if spans and spans[-1][1] >= a:
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
    if unknown_now and not any(a <= minute < b for a, b in spans):
        return HoursStatus(None, None, None, UNKNOWN_LABEL, holidays_known)
    end_of_horizon = 1440 * (_HORIZON_DAYS + 1)
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=TZ)

    def at_minute(m: int) -> dt.datetime:
        return midnight + dt.timedelta(minutes=m)

    for a, b in spans:
        if a <= minute < b:
            change = None if b >= end_of_horizon else at_minute(b)
            return HoursStatus(True, None, change, _label(now, True, change, True), holidays_known)
    after = [a for a, _ in spans if a > minute]
    change = at_minute(after[0]) if after else None
    open_today = any(a < 1440 for a, _ in spans)
    return HoursStatus(False, change, None, _label(now, False, change, open_today), holidays_known)
