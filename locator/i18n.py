"""Numbers, units and tables for people, in Chinese or English (one place for the app).

The words come from :mod:`locator.labels`; this module only formats: ``12.3 km``,
``59.2 %``, ``约 25 分钟`` / ``about 25 min``, drives of an hour or more in hours and
minutes (``约 1 小时 35 分钟`` / ``about 1 h 35 min``), one language of a bilingual
hours label, and :func:`human_table`, which turns a library frame (raw column names,
booleans, kind keys, minutes) into the table a person reads. Imports pandas and
:mod:`locator.labels` only, no Streamlit: the app renders what this returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .labels import DEFAULT_LANGUAGE, LANGUAGES, MESSAGES, column, message

if TYPE_CHECKING:  # imported where used: the app's first paint does not wait for it
    import pandas as pd

__all__ = [
    "HumanTable",
    "count",
    "drive_note",
    "duration",
    "human_table",
    "km",
    "language",
    "one_language",
    "percent",
]

#: Columns in km, shares (0..1), counts and minutes: how :func:`human_table` shows them.
KM_COLUMNS = frozenset(
    {"distance_km", "distance_p90_km", "nearest_km", "distance_p50_km", "distance_max_km"}
)
SHARE_COLUMNS = frozenset({"share_covered", "share_beyond_promise", "utilisation_p95"})
COUNT_COLUMNS = frozenset(
    {
        "outlets",
        "population",
        "population_total",
        "population_covered",
        "population_backup",
        "population_gained",
        "population_covered_after",
        "places_total",
        "places_uncovered",
        "places_gained",
        "orders_total",
        "peak_day_orders",
        "peak_week_orders",
        "orders",
    }
)
MINUTE_COLUMNS = frozenset({"drive_minutes"})


def language(value: object) -> str:
    """``value`` if it is a catalogue language (``zh``, ``en``), else the default."""
    text = str(value or "").strip().lower()
    return text if text in LANGUAGES else DEFAULT_LANGUAGE


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def km(value: object, lang: str = DEFAULT_LANGUAGE, *, digits: int = 1) -> str:
    """A distance: ``12.3 km`` (``-`` when missing)."""
    v = _finite(value)
    return "-" if v is None else message("unit.km", lang, v=f"{v:,.{digits}f}")


def percent(share: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """A share of 0..1 as ``59.2 %`` (``-`` when missing)."""
    v = _finite(share)
    return "-" if v is None else message("unit.percent", lang, v=f"{v * 100:.1f}")


def count(value: object) -> str:
    """A whole number with thousands separators: ``1,234,567``."""
    v = _finite(value)
    return "-" if v is None else f"{round(v):,}"


def duration(minutes: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """An estimated drive: ``约 25 分钟`` / ``about 25 min``; from 60 minutes on, hours
    and minutes (``约 1 小时 35 分钟`` / ``about 1 h 35 min``, ``约 2 小时``)."""
    v = _finite(minutes)
    if v is None:
        return "-"
    total = max(0, round(v))
    if total < 60:
        return message("unit.minutes", lang, m=total)
    h, m = divmod(total, 60)
    if m == 0:
        return message("unit.hours", lang, h=h)
    return message("unit.hours_minutes", lang, h=h, m=m)


def one_language(label: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """One side of a bilingual ``中文 / English`` label (hours labels are written so);
    a label without the separator is returned as it is."""
    text = "" if label is None else str(label)
    zh, sep, en = text.partition(" / ")
    if not sep:
        return text
    return zh if lang == "zh" else en


def drive_note(model: Any, lang: str = DEFAULT_LANGUAGE) -> str:
    """How drive times are estimated, from a :class:`~locator.drive.DriveTimeModel`."""
    over = (
        message("app.drive_overhead", lang, m=f"{model.overhead_minutes:g}")
        if model.overhead_minutes
        else ""
    )
    return message(
        "app.drive_note",
        lang,
        circuity=f"{model.circuity:g}",
        urban_km=f"{model.urban_km:g}",
        urban_kmh=f"{model.urban_kmh:g}",
        highway_kmh=f"{model.highway_kmh:g}",
        over=over,
        promise=f"{model.promise_minutes:g}",
    )


@dataclass
class HumanTable:
    """A table ready to show: human headers, and for numeric columns the display format
    (``"%.1f km"``, ``"%.1f %%"``, ``"localized"``) by header, so they still sort as
    numbers."""

    frame: pd.DataFrame
    number_formats: dict[str, str] = field(default_factory=dict)


def _kinds(values: pd.Series, lang: str) -> pd.Series:
    def one(k: object) -> str:
        key = f"kind.{k}"
        return message(key, lang) if key in MESSAGES else str(k)

    return values.map(one)


def _categories(values: pd.Series, lang: str) -> pd.Series:
    sep = "、" if lang == "zh" else ", "

    def one(v: object) -> str:
        parts = [p.strip() for p in str(v or "").split(";") if p.strip()]
        return sep.join(
            message(f"category.{p}", lang) if f"category.{p}" in MESSAGES else p for p in parts
        )

    return values.map(one)


def _yes_no(values: pd.Series, lang: str) -> pd.Series:
    import pandas as pd

    yes, no = message("yes", lang), message("no", lang)
    # A flag that does not apply (an outlet with no capacity: overloaded is NA) is blank.
    return values.map(lambda b: "" if b is None or b is pd.NA else (yes if bool(b) else no))


def human_table(
    frame: pd.DataFrame, lang: str = DEFAULT_LANGUAGE, columns: Sequence[str] | None = None
) -> HumanTable:
    """``frame``'s ``columns`` (default all) with human headers and units.

    Kinds and categories become their labels, booleans 是/否 (yes/NO), drive minutes
    :func:`duration` text, hours labels :func:`one_language`; km, shares and counts stay
    numbers, with a display format in :attr:`HumanTable.number_formats`. Other columns
    are shown as they are (text from the data stays text: the renderer escapes it)."""
    import pandas as pd

    chosen = list(columns) if columns is not None else list(frame.columns)
    out: dict[str, pd.Series] = {}
    formats: dict[str, str] = {}
    for name in chosen:
        values = frame[name]
        header = column(name, lang)
        if name in KM_COLUMNS:
            values, formats[header] = values.astype(float).round(1), "%.1f km"
        elif name in SHARE_COLUMNS:
            values, formats[header] = (values.astype(float) * 100).round(1), "%.1f %%"
        elif name in COUNT_COLUMNS:
            formats[header] = "localized"
        elif name in MINUTE_COLUMNS:
            values = values.map(lambda m: duration(m, lang))
        elif name == "kind":
            values = _kinds(values, lang)
        elif name == "categories":
            values = _categories(values, lang)
        elif name in ("authorized", "meets_promise", "overloaded", "over_capacity"):
            values = _yes_no(values, lang)
        elif name == "hours_label":
            values = values.map(lambda s: one_language(s, lang))
        out[header] = values.reset_index(drop=True)
    return HumanTable(pd.DataFrame(out), formats)
