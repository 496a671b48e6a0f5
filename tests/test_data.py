"""Loading and validating cities, places and outlets."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from locator import DataError, LocatorError, crs, load_cities, load_outlets, load_places
from locator.data import DataWarning

HEADER = "outlet_id,name,kind,city,lat,lon,phone,authorized,coord_sys,categories\n"


def write(tmp_path: Path, text: str, name: str = "o.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


class TestBundledData:
    def test_cities_are_the_76_listed(self) -> None:
        """cities.csv has exactly the cities of listed-cities.txt, in order, with text adcodes."""
        cities = load_cities()
        listed = Path("data/listed-cities.txt").read_text("utf-8").split()
        assert cities["city"].tolist() == listed
        assert cities["adcode"].str.fullmatch(r"\d{6}").all()
        assert cities["population"].gt(0).all()

    def test_nested_places_are_left_out_of_demand(self) -> None:
        """浦东 is inside 上海's urban area, whose figure already counts it: the demand layer
        leaves it out (so Shanghai is not counted twice), the full list keeps it."""
        demand = load_places()
        full = load_places(include_nested=True)
        shanghai = full[full["name"] == "Shanghai"]["place_id"].iat[0]
        pudong = full[full["name"] == "Pudong"]
        assert pudong["nested_in"].iat[0] == shanghai
        assert "Pudong" not in set(demand["name"]) and "Shanghai" in set(demand["name"])
        sh = demand[demand["city_adcode"] == "310000"]["population"].sum()
        assert 20e6 < sh < 35e6  # ~24.9 M people; the overlapping sum was 59.7 M
        assert len(full) - len(demand) == (full["nested_in"] != "").sum()

    def test_places_are_mainland_with_population(self) -> None:
        """places.csv: GeoNames places, population >= 1000, inside China's extent
        (the South China Sea islands reach down to ~16 N)."""
        places = load_places(include_nested=True)
        assert len(places) > 3000
        assert places["population"].min() >= 1000
        assert places["lon"].between(73, 135.1).all() and places["lat"].between(15, 53.6).all()
        assert places["place_id"].is_unique

    def test_sample_outlets_cover_every_listed_city(self) -> None:
        """Every listed city has an authorized service center in the sample network."""
        outlets = load_outlets()
        sc = outlets[(outlets["kind"] == "service_center") & outlets["authorized"]]
        assert set(load_cities()["city"]) <= set(sc["city"])
        assert 200 <= len(outlets) <= 1000
        assert (~outlets["authorized"]).sum() >= 3

    def test_ids_and_phones_stay_text(self) -> None:
        """Leading zeros survive: ids like 00001 are not turned into 1."""
        outlets = load_outlets()
        assert outlets["outlet_id"].iat[0] == "00001"
        assert outlets["phone"].str.startswith("000-555-").all()


class TestLoadOutletsFormats:
    def test_gb18030_file_with_chinese_names_loads_intact(self, tmp_path: Path) -> None:
        """A GB18030 (Excel-in-China) CSV loads with Chinese text unchanged."""
        text = HEADER + "007,北京朝阳服务中心,维修中心,北京,39.92,116.44,010-0000,是,,冰箱、空调\n"
        df = load_outlets(write(tmp_path, text, encoding="gb18030"))
        assert df["name"].iat[0] == "北京朝阳服务中心"
        assert df["kind"].iat[0] == "service_center"
        assert df["categories"].iat[0] == "refrigerator;air_conditioner"
        assert df["outlet_id"].iat[0] == "007"

    def test_utf8_bom(self, tmp_path: Path) -> None:
        """A UTF-8 file with a byte-order mark loads; the BOM does not end up in a column name."""
        df = load_outlets(write(tmp_path, "\ufeff" + HEADER + "1,A,,,30,120,,yes,,\n"))
        assert list(df.columns[:2]) == ["outlet_id", "name"]

    def test_xlsx(self, tmp_path: Path) -> None:
        """An Excel workbook loads; text ids keep leading zeros."""
        p = tmp_path / "o.xlsx"
        pd.DataFrame(
            {"outlet_id": ["0042"], "name": ["X"], "lat": [31.2], "lon": [121.5]}
        ).to_excel(p, index=False)
        df = load_outlets(p)
        assert df["outlet_id"].iat[0] == "0042"
        assert df["lat"].iat[0] == pytest.approx(31.2)

    def test_geojson(self, tmp_path: Path) -> None:
        """A GeoJSON FeatureCollection of points loads with lon/lat from the geometry."""
        doc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [113.3, 23.1]},
                    "properties": {"outlet_id": "g1", "name": "广州"},
                }
            ],
        }
        df = load_outlets(write(tmp_path, json.dumps(doc), "o.geojson"))
        assert (df["lat"].iat[0], df["lon"].iat[0]) == (23.1, 113.3)

    def test_file_object_upload(self) -> None:
        """A binary file object (an app upload) loads when given a name."""
        buf = io.BytesIO((HEADER + "1,A,,,30,120,,yes,,\n").encode())
        assert len(load_outlets(buf, name="upload.csv")) == 1

    def test_defaults(self, tmp_path: Path) -> None:
        """Only the required columns: kind, authorized and coord_sys get their defaults."""
        df = load_outlets(write(tmp_path, "outlet_id,name,lat,lon\n1,A,30,120\n"))
        row = df.iloc[0]
        assert (row["kind"], bool(row["authorized"]), row["coord_sys"]) == (
            "service_center",
            True,
            "wgs84",
        )

    def test_gcj02_rows_are_converted(self, tmp_path: Path) -> None:
        """coord_sys=gcj02 rows come out in WGS-84 (the inverse of the forward offset)."""
        wlon, wlat = 116.40, 39.90
        glon, glat = crs.wgs84_to_gcj02(wlon, wlat)
        text = HEADER + f"1,A,,,{glat},{glon},,yes,gcj02,\n2,B,,,{wlat},{wlon},,yes,,\n"
        df = load_outlets(write(tmp_path, text))
        assert df["lon"].iat[0] == pytest.approx(wlon, abs=1e-7)
        assert df["lat"].iat[0] == pytest.approx(wlat, abs=1e-7)
        assert set(df["coord_sys"]) == {"wgs84"}


class TestLoadOutletsErrors:
    def test_every_bad_row_is_listed_in_one_error(self, tmp_path: Path) -> None:
        """A file with several bad rows raises one DataError listing each one."""
        text = (
            HEADER
            + "1,ok,,,39.9,116.4,,,,\n"
            + "1,dup,,,39.9,116.4,,,,\n"  # row 3 duplicate id
            + "3,swapped,,,116.4,39.9,,,,\n"  # row 4 swapped
            + "4,,,,abc,116.4,,,,\n"  # row 5 missing name, bad lat
            + "5,nan,,,nan,inf,,,,\n"  # row 6 non-finite
            + "6,kind,kiosk,,30,120,,,,\n"  # row 7 unknown kind
            + "7,sys,,,30,120,,,utm,\n"  # row 8 unknown coord_sys
            + "8,auth,,,30,120,,maybe,,\n"  # row 9 bad authorized
            + "9,range,,,-95,500,,,,\n"  # row 10 out of range
        )
        with pytest.raises(DataError) as info:
            load_outlets(write(tmp_path, text))
        err = info.value
        assert isinstance(err, LocatorError) and isinstance(err, ValueError)
        got = {(p.row, p.column) for p in err.errors}
        expected = {
            (3, "outlet_id"), (4, "lat"), (5, "name"), (5, "lat"), (6, "lat"), (6, "lon"),
            (7, "kind"), (8, "coord_sys"), (9, "authorized"), (10, "lat"), (10, "lon"),
        }  # fmt: skip
        assert expected <= got
        msg = str(err)
        assert "row 4" in msg and "swapped" in msg and "row 7" in msg and "'kiosk'" in msg

    def test_swapped_inside_valid_ranges(self, tmp_path: Path) -> None:
        """lat=80, lon=40 is valid globally but is China's (40, 80) swapped: an error."""
        with pytest.raises(DataError, match="look swapped"):
            load_outlets(write(tmp_path, "outlet_id,name,lat,lon\n1,A,80.1,40.2\n"))

    def test_missing_required_column_names_what_was_found(self, tmp_path: Path) -> None:
        """A missing column is named, with the columns the file does have."""
        with pytest.raises(
            DataError, match=r"'lon'.*required column is missing.*found: id, name, lat"
        ):
            load_outlets(write(tmp_path, "id,name,lat\n1,A,30\n"))

    def test_not_text(self, tmp_path: Path) -> None:
        """Binary junk is refused with a clear reason, not a UnicodeDecodeError."""
        p = tmp_path / "x.csv"
        p.write_bytes(bytes([0x81, 0x20, 0xFF, 0xFE, 0x00, 0x81]) * 10)
        with pytest.raises(DataError, match="neither UTF-8 nor GB18030"):
            load_outlets(p)

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file is refused by name."""
        with pytest.raises(DataError, match="empty"):
            load_outlets(write(tmp_path, ""))

    def test_outside_china_is_a_warning_not_an_error(self, tmp_path: Path) -> None:
        """An outlet in Singapore loads, with a DataWarning naming its row."""
        with pytest.warns(DataWarning, match="row 3"):
            df = load_outlets(
                write(tmp_path, "outlet_id,name,lat,lon\n1,A,30,120\n2,SG,1.29,103.85\n")
            )
        assert len(df) == 2
        assert "row 3" in df.attrs["warnings"][0]

    def test_no_rows_are_dropped(self, tmp_path: Path) -> None:
        """Valid files come back with exactly as many rows as they have."""
        rows = "".join(f"{i},N{i},,,{30 + i / 100},{120 + i / 100},,yes,,\n" for i in range(250))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(load_outlets(write(tmp_path, HEADER + rows))) == 250
        assert np.isfinite(load_outlets(write(tmp_path, HEADER + rows))[["lat", "lon"]]).all().all()
