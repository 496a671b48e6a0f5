"""Opening hours: the Chinese-form converter, Chinese holidays and make-up workdays,
open-now answers and labels, the outlet contract's ``hours`` column, and the
``open_at`` filter of the nearest query.

Dates are real: the State Council's 2026 schedule as chinese-calendar lists it
(国庆 2026-10-01..07 off, Sunday 2026-09-20 and Saturday 2026-10-10 worked; 春节
2026-02-15..23 off, Saturday 2026-02-14 and 2026-02-28 worked). chinese-calendar 1.11
(the newest release) has no 2027 data: 2027 is tested as "no holiday knowledge".
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

import opening_hours
import pandas as pd
import pytest

from locator.data import load_outlets
from locator.errors import ConfigurationError
from locator.hours import UNKNOWN_LABEL, day_type, hours_status, open_state, to_osm
from locator.index import OutletIndex
from locator.network import DataWarning, outlets_frame

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS_ONLY = "Mo-Fr 09:00-18:00; Sa,Su off; PH off"


def at(text: str) -> dt.datetime:
    """A Shanghai wall time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


class TestConverter:
    @pytest.mark.parametrize(
        ("text", "osm"),
        [
            ("周一至周日 09:00-18:00", "Mo-Su 09:00-18:00"),
            ("周二至周日 10:00-19:00", "Tu-Su 10:00-19:00"),
            ("周一至周五 09:00-12:00,13:30-18:00", "Mo-Fr 09:00-12:00,13:30-18:00"),
            ("全天24小时", "24/7"),
            ("24小时营业", "24/7"),
            ("法定节假日休息", "PH off"),
            ("周一至周五 9:00-18:00；法定节假日休息", "Mo-Fr 09:00-18:00; PH off"),
            ("法定节假日休息;周一至周六 08:30-17:30", "Mo-Sa 08:30-17:30; PH off"),
            ("周一至周五 09:00～18:00；周六 10:00-16:00；周日休息",
             "Mo-Fr 09:00-18:00; Sa 10:00-16:00; Su off"),
            ("星期一、星期三 9:00-17:00", "Mo,We 09:00-17:00"),
            ("24小时营业；法定节假日休息", "24/7; PH off"),
        ],
    )  # fmt: skip
    def test_chinese_forms_become_osm(self, text: str, osm: str) -> None:
        """The common Chinese listings convert to OSM syntax the library reads."""
        assert to_osm(text) == osm
        assert opening_hours.validate(osm)

    def test_osm_text_is_kept(self) -> None:
        """Text already in OSM syntax comes back as it is (stripped)."""
        assert to_osm("  Mo-Fr 08:00-12:00; PH off ") == "Mo-Fr 08:00-12:00; PH off"

    @pytest.mark.parametrize(
        "text", ["看心情", "", "   ", "周八 09:00-18:00", "周一至周五 25:00-26:00", "9-5"]
    )
    def test_unreadable_is_none(self, text: str) -> None:
        """What neither the converter nor the library reads is None (never a guess)."""
        assert to_osm(text) is None


class TestCalendar:
    def test_national_day_and_its_make_up_days(self) -> None:
        """国庆 2026: Oct 1-7 are holidays, Sun Sep 20 and Sat Oct 10 are workdays."""
        for d in range(1, 8):
            assert day_type(dt.date(2026, 10, d))[0] == "holiday"
        assert day_type(dt.date(2026, 9, 20))[0] == "makeup"
        assert day_type(dt.date(2026, 10, 10))[0] == "makeup"
        assert day_type(dt.date(2026, 10, 17))[0] == "ordinary"  # a plain Saturday

    def test_year_without_data(self) -> None:
        """A year chinese-calendar does not cover is reported, not an error."""
        assert day_type(dt.date(2027, 10, 1)) == ("no_data", None)


class TestOpenNow:
    def test_open_with_closing_label(self) -> None:
        """Open: closes_at is today's closing time in +08:00, the label says so."""
        st = hours_status("Mo-Su 09:00-18:00", at("2026-12-02T10:00"))
        assert st.open_now is True
        assert st.closes_at is not None
        assert st.closes_at.isoformat() == "2026-12-02T18:00:00+08:00"
        assert st.label == "营业中 · 18:00 打烊 / open until 18:00"
        assert st.opens_at is None

    @pytest.mark.parametrize("day", range(1, 8))
    def test_closed_through_national_day(self, day: int) -> None:
        """PH off: closed on every day of the 2026 National Day break; it opens again on
        Thursday Oct 8, the first workday."""
        st = hours_status(WEEKDAYS_ONLY, at(f"2026-10-{day:02d}T10:00"))
        assert st.open_now is False
        assert st.opens_at is not None
        assert st.opens_at.isoformat() == "2026-10-08T09:00:00+08:00"

    def test_closed_today_label(self) -> None:
        """A day with no opening at all is "closed today"."""
        st = hours_status(WEEKDAYS_ONLY, at("2026-10-01T10:00"))
        assert st.label.startswith("今日休息") and "closed today" in st.label

    @pytest.mark.parametrize("day", ["2026-10-10", "2026-09-20", "2026-02-14", "2026-02-28"])
    def test_make_up_workday_follows_weekday_rule(self, day: str) -> None:
        """On a Saturday or Sunday declared a workday, a Monday-Friday outlet is open
        with its weekday hours, even though its rule says Sa,Su off."""
        st = hours_status(WEEKDAYS_ONLY, at(f"{day}T10:00"))
        assert st.open_now is True
        assert st.closes_at is not None and st.closes_at.strftime("%H:%M") == "18:00"
        assert hours_status(WEEKDAYS_ONLY, at(f"{day}T08:00")).open_now is False

    def test_ordinary_saturday_stays_closed(self) -> None:
        """The Saturday after (2026-10-17) is an ordinary weekend: closed."""
        st = hours_status(WEEKDAYS_ONLY, at("2026-10-17T10:00"))
        assert st.open_now is False
        assert st.opens_at is not None and st.opens_at.date() == dt.date(2026, 10, 19)

    def test_make_up_day_keeps_own_opening_rule(self) -> None:
        """An outlet open on Saturdays anyway keeps its Saturday hours on a make-up
        Saturday (its own rule opens it)."""
        st = hours_status("Mo-Fr 09:00-18:00; Sa 10:00-14:00", at("2026-10-10T15:00"))
        assert st.open_now is False

    def test_lunch_break(self) -> None:
        """Closed over lunch, opening again at 13:30; open before it, closing at 12:00."""
        hours = "Mo-Fr 09:00-12:00,13:30-18:00"
        lunch = hours_status(hours, at("2026-12-02T12:30"))
        assert lunch.open_now is False
        assert lunch.opens_at == at("2026-12-02T13:30")
        assert lunch.label == "休息中 · 13:30 开门 / closed, opens 13:30"
        morning = hours_status(hours, at("2026-12-02T11:00"))
        assert morning.open_now is True and morning.closes_at == at("2026-12-02T12:00")

    def test_holiday_hours(self) -> None:
        """PH 10:00-16:00: shorter hours on a holiday, the normal ones the day before."""
        hours = "Mo-Su 08:30-20:00; PH 10:00-16:00"
        assert hours_status(hours, at("2026-10-03T17:00")).open_now is False
        st = hours_status(hours, at("2026-10-03T10:30"))
        assert st.open_now is True and st.closes_at == at("2026-10-03T16:00")
        assert hours_status(hours, at("2026-09-30T17:00")).open_now is True

    def test_always_open(self) -> None:
        """24/7: open, no closing time, labelled 24 hours."""
        st = hours_status("24/7", at("2026-10-01T03:00"))
        assert st.open_now is True and st.closes_at is None
        assert st.label == "24小时营业 / open 24 hours"

    def test_always_open_except_holidays(self) -> None:
        """24/7; PH off closes at the midnight the National Day break starts."""
        st = hours_status("24/7; PH off", at("2026-09-30T23:00"))
        assert st.open_now is True
        assert st.closes_at == at("2026-10-01T00:00")

    def test_chinese_text_is_evaluated(self) -> None:
        """A stored Chinese form is read through the converter (the same answer)."""
        st = hours_status("周一至周五 09:00-18:00；法定节假日休息", at("2026-10-02T10:00"))
        assert st.open_now is False

    def test_time_zone(self) -> None:
        """A UTC moment is read in Asia/Shanghai (02:00Z is 10:00 there); a naive one is
        Shanghai wall time."""
        utc = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
        st = hours_status("Mo-Fr 09:00-18:00", utc)
        assert st.open_now is True
        assert st.closes_at is not None and st.closes_at.isoformat().endswith("+08:00")
        assert hours_status("Mo-Fr 09:00-18:00", dt.datetime(2026, 12, 2, 8, 0)).open_now is False

    def test_year_without_holiday_data(self) -> None:
        """2027 is not in chinese-calendar 1.11: 2027-10-01 (a Friday) is evaluated as an
        ordinary day, flagged, and nothing crashes."""
        st = hours_status(WEEKDAYS_ONLY, at("2027-10-01T10:00"))
        assert st.open_now is True
        assert st.holidays_known is False
        assert hours_status(WEEKDAYS_ONLY, at("2026-10-01T10:00")).holidays_known is True

    @pytest.mark.parametrize("text", ["看心情", "", None, float("nan"), 42])
    def test_unknown_hours(self, text: object) -> None:
        """Unreadable or missing hours: open_now None, labelled hours unknown."""
        st = hours_status(text, at("2026-12-02T10:00"))
        assert st.open_now is None and st.opens_at is None and st.closes_at is None
        assert st.label == UNKNOWN_LABEL == "营业时间未知 / hours unknown"

    def test_as_dict_is_json_ready(self) -> None:
        """The JSON fields: ISO times with +08:00."""
        d = hours_status("Mo-Su 09:00-18:00", at("2026-12-02T20:00")).as_dict()
        assert d["open_now"] is False
        assert d["opens_at"] == "2026-12-03T09:00:00+08:00"
        assert d["closes_at"] is None and "tomorrow 09:00" in d["hours_label"]


class TestContract:
    def write(self, tmp_path: Path, hours: list[str]) -> Path:
        lines = ["outlet_id,name,lat,lon,hours,authorized"]
        lines += [f"O{i},Outlet {i},31.2,121.4{i},{h},yes" for i, h in enumerate(hours)]
        path = tmp_path / "outlets.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_file_hours_converted_and_unreadable_kept(self, tmp_path: Path) -> None:
        """A file's Chinese hours are stored in OSM syntax; an unreadable value is kept as
        it was, reported as a warning naming its row and value, and the row stays."""
        path = self.write(tmp_path, ["周一至周日 09:00-18:00", "看心情", "24/7", ""])
        with pytest.warns(DataWarning, match=r"row 3, column 'hours'.*看心情"):
            df = load_outlets(path)
        assert list(df["hours"]) == ["Mo-Su 09:00-18:00", "看心情", "24/7", ""]
        assert any("看心情" in w and "row 3" in w for w in df.attrs["warnings"])

    def test_readable_hours_give_no_warning(self, tmp_path: Path) -> None:
        """Readable hours (and empty ones) are no warning."""
        path = self.write(tmp_path, ["Mo-Fr 09:00-18:00; PH off", "全天24小时", ""])
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            df = load_outlets(path)
        assert list(df["hours"]) == ["Mo-Fr 09:00-18:00; PH off", "24/7", ""]

    def test_frame_path_converts_too(self) -> None:
        """A frame built in code goes through the same conversion and warning."""
        frame = pd.DataFrame(
            {"lat": [31.2, 31.3], "lon": [121.4, 121.5], "hours": ["周二至周日 10:00-19:00", "?"],
             "authorized": [True, True]}
        )  # fmt: skip
        with pytest.warns(DataWarning, match="row 3, column 'hours'"):
            df = outlets_frame(frame)
        assert list(df["hours"]) == ["Tu-Su 10:00-19:00", "?"]

    def test_sample_hours_are_all_readable(self) -> None:
        """The bundled sample's hours are OSM syntax the library reads, with some 24/7,
        some closed on holidays and some with a lunch break."""
        hours = load_outlets()["hours"]
        assert all(to_osm(h) == h for h in hours)
        assert (hours == "24/7").any()
        assert hours.str.contains("PH off").any()
        assert hours.str.contains(r"12:00,13:30").any()


def network() -> pd.DataFrame:
    """Five outlets east of a point, nearest first: A weekdays/PH off, B 24/7,
    C unknown hours, D every day, E unknown hours (farthest)."""
    rows = [
        ("A", 0.01, WEEKDAYS_ONLY),
        ("B", 0.02, "24/7"),
        ("C", 0.03, "看心情"),
        ("D", 0.04, "Mo-Su 09:00-18:00"),
        ("E", 0.05, ""),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return outlets_frame(
            pd.DataFrame(
                {
                    "outlet_id": [r[0] for r in rows],
                    "name": [r[0] for r in rows],
                    "lat": [30.0] * len(rows),
                    "lon": [120.0 + r[1] for r in rows],
                    "hours": [r[2] for r in rows],
                    "authorized": [True] * len(rows),
                }
            )
        )


class TestOpenAtFilter:
    @pytest.fixture
    def index(self) -> OutletIndex:
        return OutletIndex(network())

    def test_no_filter_lists_every_outlet_with_hours(self, index: OutletIndex) -> None:
        """Without the filter the nearest come as usual, each with its hours columns."""
        res = index.nearest(30.0, 120.0, 3, at=at("2026-10-01T10:00"))
        assert list(res["outlet_id"]) == ["A", "B", "C"]
        assert list(res["open_now"].astype(object).where(res["open_now"].notna(), None)) == [
            False,
            True,
            None,
        ]
        assert res["hours_label"].iloc[2] == UNKNOWN_LABEL
        assert str(res["opens_at"].iloc[0]) == "2026-10-08 09:00:00+08:00"

    def test_holiday_filter(self, index: OutletIndex) -> None:
        """On National Day A is closed: of the 3 nearest others (B, C, D) the open ones
        (B, D) come first, then C (unknown hours)."""
        res = index.nearest(30.0, 120.0, 3, open_at=at("2026-10-01T10:00"))
        assert list(res["outlet_id"]) == ["B", "D", "C"]
        assert list(res["open_now"].iloc[:2]) == [True, True]
        assert pd.isna(res["open_now"].iloc[2])

    def test_make_up_saturday_filter(self, index: OutletIndex) -> None:
        """On the make-up Saturday 2026-10-10 A is open again (weekday rule)."""
        res = index.nearest(30.0, 120.0, 2, open_at=at("2026-10-10T10:00"))
        assert list(res["outlet_id"]) == ["A", "B"]

    def test_night_keeps_unknown_outlets(self, index: OutletIndex) -> None:
        """At 03:00 only B (24/7) is open; C and E (unknown hours) are still listed
        after it, never hidden; A and D (closed) are."""
        res = index.nearest(30.0, 120.0, 5, open_at=at("2026-12-02T03:00"))
        assert list(res["outlet_id"]) == ["B", "C", "E"]

    @pytest.mark.filterwarnings("ignore::locator.network.DataWarning")
    def test_nothing_open_lists_unknown_ones(self) -> None:
        """With none open, the outlets of unknown hours are still listed (up to k)."""
        df = network()
        df = df[df["outlet_id"].isin(["A", "C", "E"])].reset_index(drop=True)
        res = OutletIndex(df).nearest(30.0, 120.0, 5, open_at=at("2026-10-01T10:00"))
        assert list(res["outlet_id"]) == ["C", "E"]

    def test_within_max_with_filter(self, index: OutletIndex) -> None:
        """max_km applies to the filtered answer (B is 1.9 km away, C 2.9 km, D 3.9 km)."""
        res = index.nearest(30.0, 120.0, 5, max_km=3.0, open_at=at("2026-10-01T10:00"))
        assert list(res["outlet_id"]) == ["B", "C"]

    def test_bad_open_at(self, index: OutletIndex) -> None:
        """open_at must be a datetime: the error names it."""
        with pytest.raises(ConfigurationError, match="open_at must be a datetime"):
            index.nearest(30.0, 120.0, 1, open_at="tomorrow")  # type: ignore[arg-type]

    def test_within_has_hours(self, index: OutletIndex) -> None:
        """within() rows carry the hours columns too."""
        res = index.within(30.0, 120.0, 10.0, at=at("2026-12-02T20:00"))
        assert set(res["outlet_id"]) == {"A", "B", "C", "D", "E"}
        assert res.set_index("outlet_id")["open_now"]["D"] == False  # noqa: E712


def test_lone_surrogate_is_unreadable_not_a_crash() -> None:
    """Text UTF-8 cannot hold (a lone surrogate, e.g. from a GeoJSON file) is unreadable
    hours, never an exception."""
    assert to_osm("周一 \ud800") is None
    assert hours_status("Mo-Fr \ud800").label == UNKNOWN_LABEL


def test_open_state_agrees_with_hours_status() -> None:
    """The filter's one-day answer equals hours_status().open_now, every half hour of a
    week holding a holiday, a make-up Saturday and ordinary days, for varied hours."""
    texts = [WEEKDAYS_ONLY, "24/7; PH off", "Mo-Su 08:30-20:00; PH 10:00-16:00",
             "Mo-Fr 09:00-12:00,13:30-18:00", "Mo-Su 22:00-02:00", "Mo-Fr 09:00-18:00 unknown",
             "看心情"]  # fmt: skip
    start = at("2026-10-05T00:00")
    for step in range(0, 7 * 48):
        moment = start + dt.timedelta(minutes=30 * step)
        for text in texts:
            assert open_state(text, moment) == hours_status(text, moment).open_now, (text, moment)
