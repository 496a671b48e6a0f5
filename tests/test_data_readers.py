"""How a user's input file is read: field counts, GeoJSON structure, workbooks and
sheets, encodings, column-name aliases (locator.data.read_table / load_outlets)."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from locator import DataError, load_outlets
from locator.data import COLUMN_ALIASES, OUTLET_COLUMNS, DataWarning, detect_encoding, read_table


def write(tmp_path: Path, text: str, name: str = "o.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def geojson(tmp_path: Path, features: object, name: str = "o.geojson") -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    return write(tmp_path, json.dumps(doc, ensure_ascii=False), name)


def point(oid: str, lon: object = 116.4, lat: object = 39.9, **props: object) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"outlet_id": oid, "name": f"N{oid}", **props},
    }


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An openpyxl-written workbook (what Excel-like tools produce), one list of rows per sheet."""
    wb = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title
        first = False
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


OUTLETS = [["outlet_id", "name", "lat", "lon", "phone"], ["0042", "A", 31.2, 121.5, "021-1"]]


class TestFieldCounts:
    def test_unquoted_decimal_comma_is_an_error_not_a_column_shift(self, tmp_path: Path) -> None:
        """A row with one field more than the header (31,23 written with a decimal comma)
        is refused, naming the row and both counts; it never loads with ids as the index."""
        text = "outlet_id,name,lat,lon\n1,A,31,23,121.5\n2,B,30.1,120.2\n"
        with pytest.raises(DataError, match=r"row 2: 5 fields, but the header has 4") as info:
            load_outlets(write(tmp_path, text))
        assert [p.row for p in info.value.errors] == [2]

    def test_every_row_with_extra_fields_is_listed(self, tmp_path: Path) -> None:
        """Extra fields in the middle and at the end of the file are all reported."""
        text = "outlet_id,name,lat,lon\n1,A,31.2,121.5\n2,B,30,1,120\n3,C,30.2,120.3\n4,D,1,2,3,4\n"
        with pytest.raises(DataError) as info:
            load_outlets(write(tmp_path, text))
        assert [(p.row, p.reason.split(",")[0]) for p in info.value.errors] == [
            (3, "5 fields"),
            (5, "6 fields"),
        ]
        assert "decimal comma" in str(info.value)

    def test_trailing_comma_is_named_as_such(self, tmp_path: Path) -> None:
        """A row ending in a comma (an empty extra field) is refused too, since a decimal
        comma before an empty last value looks the same, with a reason saying so."""
        text = "outlet_id,name,lat,lon\n1,A,31,121.5,\n"
        with pytest.raises(DataError, match=r"row 2: 5 fields, .* extra ones empty: a comma at"):
            load_outlets(write(tmp_path, text))

    def test_quoted_comma_is_one_field(self, tmp_path: Path) -> None:
        """A quoted value containing a comma (an address) is one field, not an extra one."""
        text = 'outlet_id,name,address,lat,lon\n1,A,"1 Road, Pudong",31.2,121.5\n'
        df = load_outlets(write(tmp_path, text))
        assert (df["outlet_id"].iat[0], df["address"].iat[0]) == ("1", "1 Road, Pudong")

    def test_short_row_missing_a_required_value_says_so(self, tmp_path: Path) -> None:
        """A row cut short so that lon is absent names the row and the field counts."""
        text = "outlet_id,name,lat,lon\n1,A,31.2,121.5\n2,B,30.1\n"
        with pytest.raises(
            DataError, match=r"row 3, column 'lon': missing .*3 fields.*header has 4"
        ):
            load_outlets(write(tmp_path, text))

    def test_short_row_missing_only_optional_values_loads(self, tmp_path: Path) -> None:
        """Trailing optional fields left off (some exporters trim them) are empty, not errors."""
        text = "outlet_id,name,lat,lon,phone,hours\n1,A,31.2,121.5\n"
        df = load_outlets(write(tmp_path, text))
        assert (df["phone"].iat[0], df["hours"].iat[0]) == ("", "")

    def test_geocode_input_with_extra_fields_is_refused(self, tmp_path: Path) -> None:
        """The generic reader (used by geocode-csv) refuses extra fields too."""
        p = write(tmp_path, "id,address\n1,上海,浦东\n")
        with pytest.raises(DataError, match="row 2: 3 fields, but the header has 2"):
            read_table(p)

    @pytest.mark.parametrize(("sep", "label"), [(";", "semicolons"), ("\t", "tabs")])
    def test_other_separator_gets_a_hint(self, tmp_path: Path, sep: str, label: str) -> None:
        """A semicolon- or tab-separated file (one column to a CSV reader) says so."""
        text = sep.join(["outlet_id", "name", "lat", "lon"]) + "\n" + sep.join("1A34") + "\n"
        with pytest.raises(DataError, match=f"header is split by {label}"):
            load_outlets(write(tmp_path, text))
        decimal_commas = sep.join(["outlet_id", "name", "lat", "lon"]) + "\n1;A;31,2;121,4\n"
        with pytest.raises(DataError, match="one column only; the header is split by"):
            load_outlets(write(tmp_path, decimal_commas.replace(";", sep)))


class TestGeoJSONStructure:
    @pytest.mark.parametrize(
        ("features", "match"),
        [
            ([1], r"row 1: features\[0\] is a number, not a Feature object"),
            ([{"type": "Feature", "properties": [1, 2], "geometry": None}],
             r"row 1, column 'properties': features\[0\]\.properties is a list"),
            ([{"type": "Feature", "properties": "abc",
               "geometry": {"type": "Point", "coordinates": [1, 2]}}],
             r"features\[0\]\.properties is a string"),
            ([{"type": "Feature", "properties": {"outlet_id": "1", "name": "A"},
               "geometry": "point"}], r"features\[0\]\.geometry is a string"),
            ([{"type": "Feature", "properties": {"outlet_id": "1", "name": "A"},
               "geometry": None}], r"features\[0\] has no geometry"),
            ([point("1", "abc", 39.9)], r"features\[0\]\.geometry\.coordinates must be"),
            ([point("1", True, 39.9)], r"coordinates must be"),
            ([{"type": "Feature", "properties": {"outlet_id": "1", "name": "A"},
               "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}],
             r"geometry type is 'LineString'"),
        ],
    )  # fmt: skip
    def test_malformed_feature_is_a_data_error(
        self, tmp_path: Path, features: list, match: str
    ) -> None:
        """Each kind of malformed feature is a DataError naming the feature, not a traceback."""
        with pytest.raises(DataError, match=match):
            load_outlets(geojson(tmp_path, features))

    def test_every_bad_feature_is_listed(self, tmp_path: Path) -> None:
        """All malformed features are reported together, by feature number."""
        feats = [point("1"), 1, {"type": "Feature", "properties": [1], "geometry": None},
                 point("4", None, None)]  # fmt: skip
        with pytest.raises(DataError) as info:
            load_outlets(geojson(tmp_path, feats))
        assert {p.row for p in info.value.errors} == {2, 3, 4}

    def test_property_aliases_do_not_clash_with_the_geometry(self, tmp_path: Path) -> None:
        """A feature whose properties carry 'longitude'/'latitude' loads (the properties
        win, as with lat/lon), not as a duplicate column."""
        feat = point("1", 116.4, 39.9, longitude=121.5, latitude=31.2)
        df = load_outlets(geojson(tmp_path, [feat]))
        assert (df["lat"].iat[0], df["lon"].iat[0]) == (31.2, 121.5)

    def test_null_geometry_with_lat_lon_properties_loads(self, tmp_path: Path) -> None:
        """A feature with no geometry but lat/lon properties (some exports) loads."""
        props = {"outlet_id": "1", "name": "A", "纬度": 31.2, "经度": 121.5}
        feat = {"type": "Feature", "geometry": None, "properties": props}
        df = load_outlets(geojson(tmp_path, [feat]))
        assert (df["lat"].iat[0], df["lon"].iat[0]) == (31.2, 121.5)


class TestWorkbooks:
    def test_empty_cells_read_as_empty_text_never_none(self, tmp_path: Path) -> None:
        """Empty cells in an openpyxl-written workbook come back as "" (never "None" or
        "nan"), and numbers as their text."""
        rows = [["outlet_id", "name", "lat", "lon", "phone", "address"],
                ["0042", "A", 31.2, 121.5, None, None], [7, "B", 30, 120, "", "x"]]  # fmt: skip
        p = workbook(tmp_path / "o.xlsx", {"Sheet1": rows})
        frame, *_ = read_table(p)
        assert frame["phone"].tolist() == ["", ""] and frame["address"].tolist() == ["", "x"]
        df = load_outlets(p)
        assert df["outlet_id"].tolist() == ["0042", "7"]
        assert "None" not in df.astype(str).to_numpy().ravel().tolist()

    @pytest.mark.parametrize(
        ("content", "match"),
        [
            (bytes(range(256)) * 4, r"o\.xlsx is not a readable Excel workbook"),
            (b"outlet_id,name,lat,lon\n1,A,30,120\n", r"looks like text.*renamed"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, r"old binary \.xls"),
            (b"<html><table><tr><td>outlet_id</td></tr></table></html>", r"an HTML or XML page"),
        ],
    )
    def test_corrupt_workbook_is_a_clear_error(
        self, tmp_path: Path, content: bytes, match: str
    ) -> None:
        """Random bytes, a CSV renamed .xlsx or an old .xls: a DataError saying the file
        is not a readable workbook, never pandas' "specify an engine manually"."""
        p = tmp_path / "o.xlsx"
        p.write_bytes(content)
        with pytest.raises(DataError, match=match) as info:
            load_outlets(p)
        assert "engine" not in str(info.value)

    def test_truncated_workbook_is_a_clear_error(self, tmp_path: Path) -> None:
        """A workbook cut off mid-download is refused as not readable."""
        good = workbook(tmp_path / "g.xlsx", {"S": OUTLETS}).read_bytes()
        p = tmp_path / "o.xlsx"
        p.write_bytes(good[: len(good) // 2])
        with pytest.raises(DataError, match=r"o\.xlsx is not a readable Excel workbook \(.+\)"):
            load_outlets(p)

    def test_zip_that_is_not_a_workbook(self, tmp_path: Path) -> None:
        """A zip archive without a workbook inside is refused as not a workbook."""
        p = tmp_path / "o.xlsx"
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("readme.txt", "hello")
        with pytest.raises(DataError, match="not a readable Excel workbook"):
            load_outlets(p)


class TestSheets:
    def test_first_sheet_is_read_and_the_others_are_named(self, tmp_path: Path) -> None:
        """With several sheets, the first is read and a warning names it and the others."""
        p = workbook(tmp_path / "o.xlsx", {"网点": OUTLETS, "说明": [["x"]], "Old": [["y"]]})
        with pytest.warns(DataWarning, match="read sheet '网点'"):
            df = load_outlets(p)
        assert df["outlet_id"].tolist() == ["0042"]
        assert any(
            "read sheet '网点'" in w and "'说明', 'Old'" in w and "sheet=" in w
            for w in df.attrs["warnings"]
        )

    def test_single_sheet_has_no_warning(self, tmp_path: Path) -> None:
        """A one-sheet workbook loads without a sheet warning."""
        rows = [[*OUTLETS[0], "authorized"], [*OUTLETS[1], "yes"]]  # no assumption to note
        p = workbook(tmp_path / "o.xlsx", {"S": rows})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert load_outlets(p).attrs["warnings"] == []

    def test_sheet_chooses_the_sheet(self, tmp_path: Path) -> None:
        """sheet= reads the named sheet, with no warning about the others."""
        second = [[*OUTLETS[0], "authorized"], ["9", "Z", 30.0, 120.0, "", "yes"]]
        p = workbook(tmp_path / "o.xlsx", {"Notes": [["x"]], "Outlets": second})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = load_outlets(p, sheet="Outlets")
        assert df["outlet_id"].tolist() == ["9"]

    def test_unknown_sheet_lists_the_sheets(self, tmp_path: Path) -> None:
        """An unknown sheet name is a DataError listing the workbook's sheets."""
        p = workbook(tmp_path / "o.xlsx", {"Notes": [["x"]], "Outlets": OUTLETS})
        with pytest.raises(DataError, match=r"no sheet 'Outlet'.*'Notes', 'Outlets'"):
            load_outlets(p, sheet="Outlet")

    def test_sheet_on_a_csv_is_refused(self, tmp_path: Path) -> None:
        """sheet= on a CSV is a DataError, not silently ignored."""
        p = write(tmp_path, "outlet_id,name,lat,lon\n1,A,30,120\n")
        with pytest.raises(DataError, match=r"sheet.*only.*Excel"):
            load_outlets(p, sheet="Sheet1")


class TestDetectEncoding:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (b"a,b\n1,2\n", "utf-8"),
            ("名称\n上海\n".encode(), "utf-8"),
            ("\ufeff名称\n上海\n".encode(), "utf-8-sig"),
            ("名称\n上海\n".encode("gb18030"), "gb18030"),
            ("名称\n上海\n".encode("utf-16"), "utf-16"),
        ],
    )
    def test_bytes(self, data: bytes, expected: str) -> None:
        """UTF-8, UTF-8 with BOM, GB18030 and UTF-16 (BOM) are told apart."""
        assert detect_encoding(data) == expected

    def test_non_ascii_after_a_long_ascii_prefix(self, tmp_path: Path) -> None:
        """GB18030 text first appearing after megabytes of ASCII rows is still found,
        even when a character straddles the sniffing window."""
        p = tmp_path / "big.csv"
        ascii_part = b"id,lat,lon\n" + b"1,31.2,121.4\n" * 200_000  # ~2.6 MB
        pad = (1 << 20) - len(ascii_part) % (1 << 20) - 1  # a GB char across a window edge
        p.write_bytes(ascii_part + b"x" * pad + "上海,31.2,121.4\n".encode("gb18030"))
        assert detect_encoding(p) == "gb18030"

    def test_neither(self) -> None:
        """Bytes that are neither UTF-8 nor GB18030 are a DataError."""
        with pytest.raises(DataError, match="neither UTF-8 nor GB18030"):
            detect_encoding(bytes([0x81, 0x20, 0xFF, 0xFE, 0x00, 0x81]) * 10, name="x.csv")

    def test_mixed_encodings_name_the_line(self, tmp_path: Path) -> None:
        """A UTF-8 file with a GB18030 line further down is refused naming that line."""
        head = "outlet_id,name,lat,lon\n1,上海浦东服务中心,31.2,121.5\n".encode()
        text = head + "2,北京朝阳服务中心,39.9,116.4\n".encode("gb18030")
        with pytest.raises(DataError, match=r"line 3.*not valid utf-8"):
            load_outlets(write_bytes(tmp_path / "o.csv", text))


def write_bytes(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


class TestColumnAliases:
    @pytest.mark.parametrize(
        "header",
        [
            "网点编号,网点名称,网点类型,省份,城市,区县,详细地址,纬度,经度,联系电话,营业时间,服务品类,是否授权",
            "编号,名称,类型,省,市,区,地址,纬度,经度,电话,营业时间,品类,授权",
            "ID,Outlet name,Type,Province,City,District,Address,Lat,Lng,Tel,Opening hours,"
            "Categories,Authorized",
            "id,Name,kind,province,city,district,address,Latitude,Longitude,Phone,Hours,"
            "categories,authorised",
        ],
    )
    def test_headers_people_use(self, tmp_path: Path, header: str) -> None:
        """Chinese and English headers in common use map to the canonical columns."""
        row = "007,朝阳服务中心,维修点,北京,北京,朝阳区,朝阳路1号,39.92,116.44,010-1,9-18,冰箱,否"
        df = load_outlets(write(tmp_path, header + "\n" + row + "\n"))
        got = df.iloc[0]
        assert (got["outlet_id"], got["name"], got["kind"], got["district"]) == (
            "007", "朝阳服务中心", "repair_point", "朝阳区",
        )  # fmt: skip
        assert (got["address"], got["phone"], got["hours"]) == ("朝阳路1号", "010-1", "9-18")
        assert (got["lat"], got["lon"], bool(got["authorized"])) == (39.92, 116.44, False)
        assert got["categories"] == "refrigerator"

    def test_aliases_are_reported(self, tmp_path: Path) -> None:
        """The result says which header was read as which column (aliases only)."""
        df = load_outlets(write(tmp_path, "outlet_id,网点名称,Lat,经度\n1,A,30,120\n"))
        assert df.attrs["column_aliases"] == {"网点名称": "name", "Lat": "lat", "经度": "lon"}

    def test_two_headers_for_one_column_name_both(self, tmp_path: Path) -> None:
        """Two headers that mean the same column are a DataError naming both."""
        p = write(tmp_path, "outlet_id,名称,网点名称,lat,lon\n1,A,B,30,120\n")
        with pytest.raises(DataError, match=r"headers '名称' and '网点名称' both mean 'name'"):
            load_outlets(p)

    def test_repeated_identical_header_is_an_error(self, tmp_path: Path) -> None:
        """The same header twice is refused (pandas would silently rename the second)."""
        p = write(tmp_path, "outlet_id,name,lat,lon,name\n1,A,30,120,B\n")
        with pytest.raises(DataError, match=r"headers 'name' and 'name' both mean 'name'"):
            load_outlets(p)

    def test_alias_table_targets_are_outlet_columns(self) -> None:
        """Every alias maps to one of the documented outlet columns, and no alias is
        listed for two columns."""
        assert set(COLUMN_ALIASES) <= set(OUTLET_COLUMNS)
        seen: dict[str, str] = {}
        for col, names in COLUMN_ALIASES.items():
            for n in names:
                assert seen.setdefault(n, col) == col, n


class TestUploads:
    def test_file_object_with_bad_geojson(self) -> None:
        """The app's upload path (a file object) gets the same DataError for a bad feature."""
        buf = io.BytesIO(json.dumps({"type": "FeatureCollection", "features": [1]}).encode())
        with pytest.raises(DataError, match=r"features\[0\]"):
            load_outlets(buf, name="up.geojson")

    def test_file_object_xlsx_sheet(self, tmp_path: Path) -> None:
        """An uploaded workbook (bytes) takes sheet= too."""
        data = workbook(tmp_path / "o.xlsx", {"A": [["x"]], "B": OUTLETS}).read_bytes()
        df = load_outlets(io.BytesIO(data), name="up.xlsx", sheet="B")
        assert df["outlet_id"].tolist() == ["0042"]


class TestFormatDocs:
    DOC = Path(__file__).resolve().parent.parent / "docs" / "outlet-format.md"

    def test_alias_table_matches_the_code(self) -> None:
        """docs/outlet-format.md lists every column and exactly the aliases the loader reads."""
        rows = {
            line.split("|")[1].strip().strip("`"): line
            for line in self.DOC.read_text("utf-8").splitlines()
            if line.startswith("| `")
        }
        assert set(rows) == set(OUTLET_COLUMNS)
        for col, line in rows.items():
            documented = line.rstrip(" |").rsplit("|", 1)[1]
            names = [n.strip().strip("`") for n in documented.split(",") if n.strip()]
            assert names == list(COLUMN_ALIASES.get(col, ())), col

    def test_examples_load(self, tmp_path: Path) -> None:
        """Each example CSV in the format documentation loads, with every row."""
        blocks = self.DOC.read_text("utf-8").split("```csv\n")[1:]
        assert len(blocks) == 2
        for n, block in enumerate(blocks):
            text = block.split("```", 1)[0]
            df = load_outlets(write(tmp_path, text, f"example{n}.csv"))
            assert len(df) == text.count("\n") - 1
            assert df["authorized"].all()
