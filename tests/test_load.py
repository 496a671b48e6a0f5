"""Tests for locator.load: outlet load from orders, figures checked by hand on tiny frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from locator.drive import DriveTimeModel
from locator.errors import ConfigurationError, DataError
from locator.load import outlet_load, read_capacity, read_orders


def _outlets(**extra: list) -> pd.DataFrame:
    """Two authorized outlets: A in Shanghai, B in Beijing."""
    base = {
        "outlet_id": ["A", "B"],
        "name": ["上海店", "北京店"],
        "city": ["上海市", "北京市"],
        "lat": [31.2, 39.9],
        "lon": [121.5, 116.4],
        "authorized": [True, True],
    }
    base.update(extra)
    return pd.DataFrame(base)


def _assigned() -> pd.DataFrame:
    """Four orders of A over one week (3 on Monday, 1 on Sunday), one of B."""
    return pd.DataFrame(
        {
            "outlet_id": ["A", "A", "A", "B", "A"],
            "distance_km": ["1", "2", "200", "5", "3"],
            "date": [
                "2024-03-04",
                "2024-03-04 09:15",
                "2024-03-04T23:30:00",
                "2024年3月6日",
                "2024/3/10",
            ],
        }
    )


def _row(report, outlet_id: str) -> pd.Series:
    frame = report.frame()
    return frame[frame["outlet_id"] == outlet_id].iloc[0]


class TestFigures:
    def test_per_day_and_week_by_hand(self):
        """Counts, mean, p95 (linear), peak day and week over the whole period, zero
        days included: A has [3,0,0,0,0,0,1] over 2024-03-04..10."""
        report = outlet_load(_assigned(), _outlets())
        a = _row(report, "A")
        assert report.days == 7
        assert report.start == pd.Timestamp("2024-03-04")
        assert report.end == pd.Timestamp("2024-03-10")
        assert a["orders_total"] == 4
        assert a["orders_per_day_mean"] == pytest.approx(4 / 7, abs=1e-3)
        # sorted [0,0,0,0,0,1,3]: position 0.95 * 6 = 5.7 -> 1 + 0.7 * 2
        assert a["orders_per_day_p95"] == pytest.approx(2.4)
        assert a["peak_day_orders"] == 3
        assert a["peak_day"] == "2024-03-04"
        assert a["orders_per_week_mean"] == pytest.approx(4.0)
        assert a["peak_week"] == "2024-03-04"  # a Monday
        b = _row(report, "B")
        assert b["orders_total"] == 1 and b["peak_day"] == "2024-03-06"

    def test_distances_and_promise(self):
        """p50/p90/max of A's distances [1, 2, 3, 200] km; 200 km is beyond the 2-hour
        estimate (reach ~91 km), so 1 of A's 4 orders and 1 of all 5 are beyond it."""
        report = outlet_load(_assigned(), _outlets())
        a = _row(report, "A")
        assert a["distance_p50_km"] == pytest.approx(2.5)
        assert a["distance_p90_km"] == pytest.approx(3 + 0.7 * 197)
        assert a["distance_max_km"] == 200
        assert a["share_beyond_promise"] == pytest.approx(0.25)
        assert report.share_beyond_promise == pytest.approx(0.2)
        assert report.reach_km == pytest.approx(DriveTimeModel().reach_km(), abs=1e-3)

    def test_drive_model_changes_the_promise(self):
        """A 5-hour promise reaches beyond 200 km (~250 km): no order is beyond it."""
        report = outlet_load(
            _assigned(), _outlets(), drive_model=DriveTimeModel(promise_minutes=300)
        )
        assert _row(report, "A")["share_beyond_promise"] == 0
        assert report.promise_minutes == 300

    def test_outlet_without_orders_is_listed(self):
        """An outlet that served nothing is a row with 0 orders, not missing."""
        orders = _assigned()
        orders = orders[orders["outlet_id"] == "A"]
        b = _row(outlet_load(orders, _outlets()), "B")
        assert b["orders_total"] == 0 and pd.isna(b["peak_day"])
        assert math.isnan(b["distance_p50_km"])

    def test_daily_and_weekly_tables(self):
        """daily(): every outlet x every day with zeros; freq='W': Monday weeks."""
        daily = outlet_load(_assigned(), _outlets()).daily()
        assert len(daily) == 2 * 7
        a = daily[daily["outlet_id"] == "A"]["orders"].tolist()
        assert a == [3, 0, 0, 0, 0, 0, 1]
        weekly = outlet_load(_assigned(), _outlets(), freq="week").daily()
        assert weekly["orders"].tolist() == [4, 1]
        assert str(weekly["week"].iloc[0]) == "2024-03-04"

    def test_assign_output_columns(self):
        """The output of ``locator assign`` (nearest1_*) is read as assigned orders;
        rows assign could not place (empty outlet) are counted, not used."""
        orders = pd.DataFrame(
            {
                "order_date": ["2024-01-01", "2024-01-02", "2024-01-02"],
                "assign_status": ["ok", "bad_coordinates", "ok"],
                "nearest1_outlet_id": ["A", "", "B"],
                "nearest1_distance_km": ["10", "", "150"],
            }
        )
        report = outlet_load(orders, _outlets())
        assert report.orders_unassigned == 1 and report.orders_used == 2
        assert report.date_col == "order_date"
        assert _row(report, "B")["share_beyond_promise"] == 1.0

    def test_raw_orders_are_assigned_exactly(self):
        """Raw lat/lon orders go to their nearest authorized outlet with the geodesic km."""
        orders = pd.DataFrame(
            {"lat": ["31.3", "39.95"], "lon": ["121.5", "116.4"], "日期": ["2024-05-01"] * 2}
        )
        report = outlet_load(orders, _outlets())
        assert report.assigned_here
        a, b = _row(report, "A"), _row(report, "B")
        assert a["orders_total"] == 1 and b["orders_total"] == 1
        # 0.1 degree of latitude at 31 deg N is ~11.09 km on WGS-84
        assert a["distance_max_km"] == pytest.approx(11.09, abs=0.02)

    def test_distance_from_coordinates_when_not_given(self):
        """Assigned orders without a distance column but with lat/lon: km measured."""
        orders = pd.DataFrame(
            {"outlet_id": ["B"], "lat": [31.2], "lon": [121.5], "date": ["2024-01-01"]}
        )
        b = _row(outlet_load(orders, _outlets()), "B")
        assert b["distance_max_km"] == pytest.approx(1067, abs=5)  # Shanghai-Beijing

    def test_timezone_is_shanghai(self):
        """2024-03-04T20:00Z is already 03-05 in Asia/Shanghai."""
        orders = pd.DataFrame(
            {"outlet_id": ["A", "A"], "date": ["2024-03-04T20:00:00Z", "2024-03-04"]}
        )
        daily = outlet_load(orders, _outlets()).daily()
        assert daily[daily["outlet_id"] == "A"]["orders"].tolist() == [1, 1]

    def test_datetime_column(self):
        """A real datetime column (Parquet) is used as it is."""
        orders = pd.DataFrame(
            {
                "outlet_id": ["A", "A"],
                "created_at": pd.to_datetime(["2024-03-04 08:00", "2024-03-06 00:00"]),
            }
        )
        assert outlet_load(orders, _outlets()).days == 3


class TestCapacity:
    def test_capacity_column_on_outlets(self):
        """capacity_per_day 2 for A: one day of 3 is over; p95 2.4 / 2 = 1.2 > 1 so A
        is overloaded and sorted first; B has no capacity (blank): no verdict."""
        report = outlet_load(_assigned(), _outlets(capacity_per_day=["2", ""]))
        frame = report.frame()
        assert frame["outlet_id"].tolist() == ["A", "B"]
        a = frame.iloc[0]
        assert a["overloaded_days"] == 1
        assert a["utilisation_p95"] == pytest.approx(1.2)
        assert bool(a["overloaded"]) is True
        assert pd.isna(frame.iloc[1]["overloaded"])
        assert report.outlets_overloaded == 1
        daily = report.daily()
        assert daily[daily["outlet_id"] == "A"]["over_capacity"].tolist()[:2] == [True, False]

    def test_one_busy_day_is_not_overloaded(self):
        """Capacity 3: no day over it, p95 2.4 / 3 = 0.8: not overloaded."""
        a = _row(outlet_load(_assigned(), _outlets(), capacity={"A": 3}), "A")
        assert a["overloaded_days"] == 0 and bool(a["overloaded"]) is False
        # B moves to the end of a frame sorted overloaded/utilisation first
        assert a["utilisation_p95"] == pytest.approx(0.8)

    def test_capacity_file(self, tmp_path: Path):
        path = tmp_path / "cap.csv"
        path.write_text("outlet_id,capacity_per_day\nA,10\nB,\n", encoding="utf-8")
        cap = read_capacity(path)
        assert cap["A"] == 10 and math.isnan(cap["B"])

    @pytest.mark.parametrize("bad", ["0", "-1", "many", "inf"])
    def test_bad_capacity_names_the_row(self, bad: str):
        with pytest.raises(DataError, match=r"row 3, column 'capacity_per_day'.*" + bad):
            read_capacity(pd.DataFrame({"outlet_id": ["A", "B"], "capacity_per_day": ["1", bad]}))

    def test_unknown_outlet_in_capacity(self):
        with pytest.raises(DataError, match=r"row 2, column 'outlet_id'.*'Z'"):
            outlet_load(_assigned(), _outlets(), capacity={"Z": 3})

    def test_outlet_twice_in_capacity(self):
        with pytest.raises(DataError, match=r"row 3.*listed twice"):
            read_capacity(pd.DataFrame({"outlet_id": ["A", "A"], "capacity_per_day": [1, 2]}))


class TestBadInput:
    def test_unparseable_date_names_row_and_value(self):
        orders = _assigned()
        orders.loc[3, "date"] = "next tuesday"
        orders.loc[4, "date"] = "2024-02-30"
        orders.loc[0, "date"] = "2024-03-04 25:99"
        with pytest.raises(DataError) as err:
            outlet_load(orders, _outlets())
        text = str(err.value)
        assert "row 2, column 'date'" in text and "'2024-03-04 25:99'" in text
        assert "row 5, column 'date'" in text and "'next tuesday'" in text
        assert "row 6, column 'date'" in text and "'2024-02-30'" in text
        assert len(err.value.errors) == 3

    def test_empty_date_is_an_error_or_counted(self):
        orders = _assigned()
        orders.loc[1, "date"] = ""
        with pytest.raises(DataError, match="row 3, column 'date': no date"):
            outlet_load(orders, _outlets())
        report = outlet_load(orders, _outlets(), undated="skip")
        assert report.orders_undated == 1 and report.orders_used == 4
        assert _row(report, "A")["orders_total"] == 3

    def test_unknown_outlet_id_names_rows(self):
        orders = _assigned()
        orders.loc[[0, 2], "outlet_id"] = ["X1", "X2"]
        with pytest.raises(DataError) as err:
            outlet_load(orders, _outlets())
        rows = [(p.row, p.value) for p in err.value.errors]
        assert rows == [(2, "X1"), (4, "X2")]

    def test_bad_distance(self):
        orders = _assigned()
        orders.loc[0, "distance_km"] = "far"
        with pytest.raises(DataError, match="row 2, column 'distance_km'"):
            outlet_load(orders, _outlets())

    def test_bad_coordinates_of_raw_orders(self):
        orders = pd.DataFrame(
            {"lat": ["31.2", "95", ""], "lon": ["121.5", "1", "2"], "date": ["2024-01-01"] * 3}
        )
        with pytest.raises(DataError) as err:
            outlet_load(orders, _outlets())
        assert sorted({p.row for p in err.value.errors}) == [3, 4]

    def test_no_date_column(self):
        with pytest.raises(ConfigurationError, match=r"no date column.*--date-col"):
            outlet_load(_assigned().rename(columns={"date": "when"}), _outlets())
        report = outlet_load(
            _assigned().rename(columns={"date": "when"}), _outlets(), date_col="when"
        )
        assert report.orders_used == 5

    def test_two_date_columns_must_be_chosen(self):
        orders = _assigned().assign(created_at="2024-01-01")
        with pytest.raises(ConfigurationError, match="several date columns"):
            outlet_load(orders, _outlets())
        assert outlet_load(orders, _outlets(), date_col="created_at").days == 1

    def test_named_columns_must_exist(self):
        with pytest.raises(ConfigurationError, match="'when' not in orders"):
            outlet_load(_assigned(), _outlets(), date_col="when")
        with pytest.raises(ConfigurationError, match="'shop' not in orders"):
            outlet_load(_assigned(), _outlets(), outlet_col="shop")

    def test_neither_outlet_nor_coordinates(self):
        with pytest.raises(ConfigurationError, match="no outlet column"):
            outlet_load(pd.DataFrame({"date": ["2024-01-01"]}), _outlets())

    def test_bad_arguments(self):
        with pytest.raises(ConfigurationError, match="freq"):
            outlet_load(_assigned(), _outlets(), freq="M")
        with pytest.raises(ConfigurationError, match="undated"):
            outlet_load(_assigned(), _outlets(), undated="drop")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="DataFrame"):
            outlet_load([1, 2], _outlets())  # type: ignore[arg-type]


class TestOutputs:
    def test_to_dict_is_strict_json(self):
        import json

        data = outlet_load(_assigned(), _outlets(capacity_per_day=[2, None])).to_dict()
        text = json.dumps(data, allow_nan=False, ensure_ascii=False)
        assert data["outlets"][0]["outlet_id"] == "A"
        assert data["outlets"][1]["overloaded"] is None
        assert '"start": "2024-03-04"' in text

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_write_round_trips(self, tmp_path: Path, suffix: str):
        path = tmp_path / f"load{suffix}"
        outlet_load(_assigned(), _outlets()).write(path)
        back = pd.read_excel(path) if suffix == ".xlsx" else pd.read_csv(path, encoding="utf-8-sig")
        assert back["outlet_id"].tolist() == ["A", "B"]
        assert back["name"].tolist()[0] == "上海店"
        assert np.isclose(back["orders_per_day_p95"].iloc[0], 2.4)

    def test_read_orders_keeps_text(self, tmp_path: Path):
        path = tmp_path / "orders.csv"
        path.write_text("outlet_id,date\n007,2024-01-01\n", encoding="gb18030")
        frame = read_orders(path)
        assert frame["outlet_id"].tolist() == ["007"]


class TestSampleOrders:
    """The bundled synthetic orders (``locator.datasets.build_orders``)."""

    def test_rebuilt_from_the_shipped_network(self):
        """build_orders on the shipped outlets and places gives the shipped files byte
        for byte (the full build, tests/test_datasets.py, checks them too)."""
        from locator import datasets, reference

        outlets = pd.read_csv(reference.data_path("outlets.csv"), dtype=str, keep_default_na=False)
        places = pd.read_csv(reference.data_path("places.csv"), dtype=str, keep_default_na=False)
        orders, capacity = datasets.build_orders(outlets, places)
        for name, frame in (("sample-orders.csv", orders), ("sample-capacity.csv", capacity)):
            shipped = reference.data_path(name).read_bytes()
            assert datasets._to_csv_text(frame).encode("utf-8") == shipped, name
        assert reference.data_path("sample-orders.csv").stat().st_size <= 1_000_000

    def test_sample_load_figures(self):
        """20,000 orders over 8 weeks; some outlets overloaded, a few % beyond 2 h, and
        the data README says it is synthetic."""
        from locator import reference
        from locator.data import load_outlets

        orders = read_orders(reference.data_path("sample-orders.csv"))
        report = outlet_load(
            orders, load_outlets(), capacity=reference.data_path("sample-capacity.csv")
        )
        assert report.orders_used == 20_000 and report.days == 56
        assert 0 < report.outlets_overloaded < 50
        assert 0.01 < (report.share_beyond_promise or 0) < 0.1
        readme = (Path(__file__).resolve().parent.parent / "data" / "README.md").read_text()
        assert "sample-orders.csv" in readme and "synthetic" in readme.lower()


class TestCoordSys:
    """Orders exported from AMap (GCJ-02) or Baidu (BD-09) systems: converted before any
    distance, so an order at the outlet's door is 0 km away, not the ~0.5 km offset."""

    @pytest.mark.parametrize("system", ["gcj02", "bd09", "AMap", "Baidu"])
    def test_shifted_orders_are_converted(self, system: str):
        from locator import crs

        lon, lat = crs.from_wgs84(121.5, 31.2, system)  # outlet A's door, shifted
        orders = pd.DataFrame({"lat": [float(lat)], "lon": [float(lon)], "date": ["2024-01-01"]})
        as_wgs = _row(outlet_load(orders, _outlets()), "A")["distance_p50_km"]
        fixed = _row(outlet_load(orders, _outlets(), coord_sys=system), "A")["distance_p50_km"]
        assert as_wgs > 0.3  # read as WGS-84, the shift is hundreds of metres
        assert fixed < 0.005
        assert orders.loc[0, "lat"] == float(lat)  # the caller's frame is not changed

    def test_bad_values_are_still_named_as_written(self):
        orders = pd.DataFrame(
            {"lat": ["31.2", "north", ""], "lon": ["121.5", "1", "2"], "date": ["2024-01-01"] * 3}
        )
        with pytest.raises(DataError) as err:
            outlet_load(orders, _outlets(), coord_sys="gcj02")
        assert sorted({p.row for p in err.value.errors}) == [3, 4]
        assert "north" in str(err.value)

    def test_unknown_system(self):
        with pytest.raises(ConfigurationError, match=r"unknown coordinate system 'utm'"):
            outlet_load(_assigned(), _outlets(), coord_sys="utm")
