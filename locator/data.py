"""Load and validate the network's data: cities, demand places and outlets.

Every loader refuses bad rows loudly: all problems are collected and raised together
as one :class:`~locator.errors.DataError` whose ``errors`` list names the row (as a
spreadsheet shows it: header = row 1), the column, the value and the reason. Nothing
is dropped silently. Everything handed out is WGS-84.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import DataError, LocatorError, Problem

# The outlet contract lives in locator.network; these names stay importable from here.
from .network import (  # noqa: F401
    CATEGORIES,
    CHINA_EXTENT,
    COLUMN_ALIASES,
    KINDS,
    OUTLET_COLUMNS,
    REQUIRED_OUTLET_COLUMNS,
    DataWarning,
    Network,
    normalize_category,
    normalize_kind,
    validate_outlets,
)
from .network.files import _separator_hint
from .network.rules import _MARK, _norm_col
from .reference import DATA_DIR  # the bundled files (package data: locator/_data)

# --------------------------------------------------------------------------- reading
_SNIFF_CHUNK = 1 << 20
#: How far :func:`detect_encoding` looks for the first non-ASCII byte in a file before
#: settling on UTF-8 (which pure ASCII is): a bounded read, so multi-GB files stream.
SNIFF_LIMIT = 64 << 20
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Non-ASCII characters that must decode before a failure for a file to count as that
# encoding (mixed) rather than another: a GB18030 character is valid UTF-8 by chance
# about one time in seven, so eight in a row is a one-in-millions accident.
_EVIDENCE = 8
_NEITHER = "file is neither UTF-8 nor GB18030/GBK text"


def _chunks(
    source: str | os.PathLike[str] | bytes, limit: int | None
) -> Iterator[tuple[bytes, bool]]:
    """``(chunk, is_last)`` pairs of at most ``limit`` bytes of ``source``."""
    if isinstance(source, bytes):
        end = len(source) if limit is None else min(len(source), limit)
        for i in range(0, end, _SNIFF_CHUNK):
            yield source[i : i + _SNIFF_CHUNK], i + _SNIFF_CHUNK >= len(source)
        return
    read = 0
    with open(source, "rb") as fh:
        while limit is None or read < limit:
            chunk = fh.read(_SNIFF_CHUNK)
            if not chunk:
                return
            read += len(chunk)
            yield chunk, len(chunk) < _SNIFF_CHUNK


def detect_encoding(
    source: str | os.PathLike[str] | bytes, *, name: str | None = None, limit: int | None = None
) -> str:
    """The text encoding of a user's file: ``utf-8-sig`` (UTF-8 with a byte-order mark),
    ``utf-16`` (with a BOM), ``utf-8`` or ``gb18030`` (GBK/GB2312 exports from Excel in
    China are GB18030 subsets).

    The one encoding detector of every reader (outlet files, ``locator assign``,
    ``locator geocode-csv``). Only a bounded part is read: the BOM, then 1 MiB windows up
    to the first one holding a non-ASCII byte, which is decoded as UTF-8 or else
    GB18030; a file still pure ASCII after ``limit`` bytes (default
    :data:`SNIFF_LIMIT` for a path, all of it for bytes) is UTF-8. A file mixing
    encodings further down is caught when it is decoded. Raises :class:`DataError` when
    the first non-ASCII text is neither.
    """
    if not isinstance(source, bytes) and limit is None:
        limit = SNIFF_LIMIT
    label = name or ("input" if isinstance(source, bytes) else str(source))
    chunks = _chunks(source, limit)
    first = True
    for chunk, is_last in chunks:
        if first:
            if chunk.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if chunk.startswith(_UTF16_BOMS):
                return "utf-16"
            first = False
        if chunk.isascii():
            continue
        # The window starts on a character boundary (all before it was ASCII); the next
        # window is added so a character split across the edge is decoded whole.
        nxt = next(chunks, None)
        if nxt is not None:
            chunk, is_last = chunk + nxt[0], nxt[1]
        for enc in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(enc)().decode(chunk, final=is_last)
            except UnicodeDecodeError as err:
                # Text that starts out plainly in this encoding and breaks further down
                # mixes encodings: name this one and let the decode say where it breaks
                # (GB18030 would decode UTF-8 bytes, silently, as other characters).
                done = chunk[: err.start].decode(enc, errors="replace")
                if sum(not c.isascii() for c in done) >= _EVIDENCE:
                    return enc
                continue
            return enc
        raise DataError([Problem(None, None, None, _NEITHER)], source=label)
    return "utf-8"


def _decode(raw: bytes, source: str) -> str:
    enc = detect_encoding(raw, name=source)
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        reason = (
            f"line {line} is not valid {enc} text ({err.reason}) although the text before "
            "it is: the file mixes encodings; save it again in one (UTF-8)"
        )
        raise DataError([Problem(None, None, None, reason)], source=source) from err


# --------------------------------------------------------------------------- CSV rows
def field_count_problem(row: int, fields: int, header: int, extra_empty: bool = False) -> Problem:
    """The problem of a CSV row with more fields than its header (no column can be
    trusted). ``extra_empty``: the fields past the header's are all empty."""
    if extra_empty:
        reason = (
            f"{fields} fields, but the header has {header}, the extra ones empty: a comma "
            "at the end of the line, or a decimal comma (31,23) before an empty last value? "
            "remove the trailing comma, or give that column a header"
        )
    else:
        reason = (
            f"{fields} fields, but the header has {header}: every value after the extra one "
            "would land in the wrong column (an unquoted comma in a value, e.g. a decimal "
            "comma as in 31,23? use a decimal point, or quote the value)"
        )
    return Problem(row, None, None, reason)


def _extra_empty(record: list[str], header: int) -> bool:
    return not any(f.strip() for f in record[header:])


def _is_blank(record: list[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def _csv_field_counts(text: str, source: str) -> tuple[dict[int, int], int]:
    """Check every CSV record's field count against the header's.

    Raises :class:`DataError` listing every row with *more* fields (pandas would shift
    the columns or drop the extra values). Returns ``({data position: field count}, header
    count)`` for rows with *fewer* fields (kept: their trailing cells are empty), so the
    validator can say why a required value is missing. Row numbers count records as a
    spreadsheet shows them (header = row 1, blank lines included); positions skip blank
    lines, as pandas does.
    """
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    header: int | None = None
    first: list[str] = []
    short: dict[int, int] = {}
    extra: list[Problem] = []
    pos = 0
    try:
        for row, record in enumerate(reader, start=1):
            if _is_blank(record):
                continue
            if header is None:
                header = len(record)
                first = record
                continue
            if len(record) > header:
                extra.append(
                    field_count_problem(row, len(record), header, _extra_empty(record, header))
                )
            elif len(record) < header:
                short[pos] = len(record)
            pos += 1
    except csv.Error as err:
        raise DataError(
            [Problem(reader.line_num, None, None, f"not a readable CSV table: {err}")],
            source=source,
        ) from err
    if extra:
        hint = _separator_hint(first)
        if hint:  # a ';'-separated file with decimal commas: the separator is the news
            extra = [Problem(None, None, None, f"one column only{hint}")]
        raise DataError(extra, source=source)
    return short, header or 0


def first_row_field_problem(path: str | os.PathLike[str], encoding: str) -> Problem | None:
    """The :func:`field_count_problem` of a CSV's first data row, if it has more fields
    than the header, else ``None`` (a streaming reader's check: pandas takes such a
    row's first value as an index, or with ``index_col=False`` drops the last one;
    later rows with extra fields are pandas ``ParserError``-s, see
    :func:`parser_error_problem`)."""
    records: list[tuple[int, list[str]]] = []
    try:
        with open(path, encoding=encoding, newline="") as fh:
            for row, record in enumerate(csv.reader(fh, skipinitialspace=True), start=1):
                if not _is_blank(record):
                    records.append((row, record))
                    if len(records) == 2:
                        break
    except (UnicodeDecodeError, csv.Error):
        return None  # the reader itself reports these
    if len(records) == 2 and len(records[1][1]) > len(records[0][1]):
        (row, record), n = records[1], len(records[0][1])
        return field_count_problem(row, len(record), n, _extra_empty(record, n))
    return None


_PANDAS_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def parser_error_problem(err: Exception) -> Problem | None:
    """The :func:`field_count_problem` behind a pandas C-parser "Expected N fields in
    line L, saw M" error (L counts records as :func:`read_table` rows do), else None."""
    m = _PANDAS_FIELDS.search(str(err))
    if m is None:
        return None
    return field_count_problem(int(m.group(2)), int(m.group(3)), int(m.group(1)))


# --------------------------------------------------------------------------- GeoJSON
def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _feature_row(i: int, feat: Any, problems: list[Problem]) -> dict[str, str]:
    """Feature number ``i`` (1-based): its properties as text cells, plus lon/lat from
    its Point; a problem is appended for each structural fault. Properties naming both
    lat and lon (under any alias) win over the geometry, which then is not checked."""
    where = f"features[{i - 1}]"
    if not isinstance(feat, dict):
        problems.append(
            Problem(
                i, None, _cell(feat)[:60], f"{where} is {_json_kind(feat)}, not a Feature object"
            )
        )
        return {}
    props = feat.get("properties")
    if props is None:
        props = {}
    elif not isinstance(props, dict):
        problems.append(
            Problem(
                i, "properties", _cell(props)[:60],
                f"{where}.properties is {_json_kind(props)}; expected an object of columns",
            )
        )  # fmt: skip
        props = {}
    row = {str(k): _cell(v) for k, v in props.items()}
    for key, value in list(row.items()):
        # JSON can spell a lone surrogate ("\ud800"), which is not text: no UTF-8
        # output (nor a pandas string column) can hold it. Refuse it by name.
        if _SURROGATE.search(key + value):
            problems.append(
                Problem(
                    i, _SURROGATE.sub("?", key), ascii(value)[:60],
                    f"{where}.properties has a lone surrogate escape (\\ud800-\\udfff), "
                    "which is not a character",
                )
            )  # fmt: skip
            del row[key]
    named = {_norm_col(k) for k in row}
    geom = feat.get("geometry")
    coords: Any = None
    if {"lat", "lon"} <= named:
        pass
    elif geom is None:
        problems.append(
            Problem(i, "geometry", None, f"{where} has no geometry (null); expected a Point")
        )
    elif not isinstance(geom, dict):
        problems.append(
            Problem(
                i, "geometry", _cell(geom)[:60],
                f"{where}.geometry is {_json_kind(geom)}; expected a Point object",
            )
        )  # fmt: skip
    elif geom.get("type") != "Point":
        problems.append(
            Problem(
                i, "geometry", None,
                f"{where} geometry type is {geom.get('type')!r}; expected 'Point'",
            )
        )  # fmt: skip
    else:
        coords = geom.get("coordinates")
        if not (isinstance(coords, list) and len(coords) >= 2 and all(map(_is_number, coords[:2]))):
            problems.append(
                Problem(
                    i, "geometry", _cell(coords)[:60],
                    f"{where}.geometry.coordinates must be two numbers [lon, lat]",
                )
            )  # fmt: skip
            coords = None
    if "lon" not in named:
        row["lon"] = "" if coords is None else str(coords[0])
    if "lat" not in named:
        row["lat"] = "" if coords is None else str(coords[1])
    return row


def _read_geojson(text: str, source: str) -> tuple[pd.DataFrame, list[Problem]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            [Problem(err.lineno, None, None, f"invalid JSON: {err.msg}")], source=source
        ) from err
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise DataError(
            [Problem(None, None, None, "GeoJSON must be a FeatureCollection with 'features'")],
            source=source,
        )
    problems: list[Problem] = []
    rows = [_feature_row(i, feat, problems) for i, feat in enumerate(feats, start=1)]
    return pd.DataFrame(rows, dtype=object).fillna(""), problems


# --------------------------------------------------------------------------- workbooks
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _text_or_none(head: bytes) -> str | None:
    """``head`` (the start of a file) as text if it reads as UTF-8 or GB18030 with no NUL."""
    if b"\0" in head:
        return None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


def _not_a_workbook(label: str, why: str) -> DataError:
    name = Path(label).name
    return DataError(
        [Problem(None, None, None, f"{name} is not a readable Excel workbook ({why})")],
        source=label,
    )


def _read_workbook(
    raw: bytes, label: str, sheet: str | int | None
) -> tuple[pd.DataFrame, list[str]]:
    """The chosen sheet (default: the first) as text cells, and a warning naming the
    other sheets when there are any."""
    if raw.startswith(_OLE2_MAGIC):
        raise _not_a_workbook(
            label, "it is an old binary .xls (Excel 97-2003) file: save it as .xlsx or CSV"
        )
    if not raw.startswith(_ZIP_MAGIC):
        suffix = Path(label).suffix.lower() or ".xlsx"
        head = raw[:4096]
        text = _text_or_none(head)
        if text is not None and text.lstrip().startswith("<"):
            why = (
                f"it is an HTML or XML page named {suffix}, as some systems export tables: "
                "open it in Excel and save it as .xlsx, or export CSV"
            )
        elif text is not None and text.strip():
            why = f"it looks like text, e.g. a CSV renamed {suffix}: give it a .csv name"
        else:
            why = "it is not a zip archive, as .xlsx files are: damaged or another format?"
        raise _not_a_workbook(label, why)
    try:
        with pd.ExcelFile(io.BytesIO(raw), engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            if not names:
                raise _not_a_workbook(label, "it has no sheets")
            notes: list[str] = []
            if sheet is None:
                chosen = names[0]
                if len(names) > 1:
                    others = ", ".join(map(repr, names[1:]))
                    notes.append(
                        f"read sheet {chosen!r} of {Path(label).name}; not read: {others} "
                        "(choose a sheet with sheet= or --sheet)"
                    )
            elif isinstance(sheet, int) and not isinstance(sheet, bool):
                if not 0 <= sheet < len(names):
                    raise DataError(
                        [Problem(None, None, None, f"no sheet number {sheet} (0-based); "
                                 f"the sheets are: {', '.join(map(repr, names))}")],
                        source=label,
                    )  # fmt: skip
                chosen = names[sheet]
            elif str(sheet) in names:
                chosen = str(sheet)
            else:
                raise DataError(
                    [Problem(None, None, None, f"no sheet {sheet!r}; "
                             f"the sheets are: {', '.join(map(repr, names))}")],
                    source=label,
                )  # fmt: skip
            with warnings.catch_warnings():
                # openpyxl's notes about styles and data validation are not the user's concern.
                warnings.simplefilter("ignore", UserWarning)
                frame = pd.read_excel(book, sheet_name=chosen, dtype=str, keep_default_na=False)
    except LocatorError:
        raise
    except Exception as err:  # zipfile, XML and openpyxl errors of damaged files
        text = str(err) or type(err).__name__
        raise _not_a_workbook(label, text[:200]) from err
    return frame.fillna(""), notes


def read_table(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    name: str | None = None,
    sheet: str | int | None = None,
) -> tuple[pd.DataFrame, list[Problem], str, bool]:
    """Read a CSV (UTF-8, UTF-8 BOM, UTF-16 BOM, GB18030), XLSX or GeoJSON file as text
    columns: the one reader of users' tables (outlets, geocode-csv input).

    Returns ``(frame, problems, label, geojson)``: every cell is a string ("" when
    empty), so ids and phone numbers keep their leading zeros. ``problems`` are
    per-feature GeoJSON faults for the validator to report with its own.
    ``frame.attrs["warnings"]`` holds notes for the user (which workbook sheet was
    read); ``frame.attrs["short_rows"]`` the CSV rows with fewer fields than the header.

    A workbook's first sheet is read unless ``sheet`` names another (or gives its
    0-based number). A CSV row with more fields than the header, a damaged workbook,
    an unknown sheet or malformed JSON raises :class:`DataError`.
    """
    if hasattr(source, "read"):
        label = name or getattr(source, "name", None) or "<upload>"
        raw = source.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    else:
        label = name or str(source)
        raw = Path(source).read_bytes()
    suffix = Path(str(label)).suffix.lower()
    problems: list[Problem] = []
    if suffix in _WORKBOOK_SUFFIXES or raw.startswith((_ZIP_MAGIC, _OLE2_MAGIC)):
        frame, notes = _read_workbook(raw, label, sheet)
        frame.attrs["warnings"] = notes
        return frame, problems, label, False
    if sheet is not None:
        raise DataError(
            [Problem(None, None, None, f"sheet={sheet!r} given, but sheets exist only in "
                     "Excel workbooks (.xlsx) and this file is text")],
            source=label,
        )  # fmt: skip
    text = _decode(raw, label)
    if suffix in (".geojson", ".json") or text.lstrip().startswith("{"):
        frame, problems = _read_geojson(text, label)
        frame.attrs["warnings"] = []
        return frame, problems, label, True
    if not text.strip():
        raise DataError([Problem(None, None, None, "file is empty")], source=label)
    short, n_header = _csv_field_counts(text, label)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            index_col=False,  # never take the first column as an index (see above)
        )
    except pd.errors.ParserError as err:
        problem = parser_error_problem(err)
        reason = f"not a readable CSV table: {err}"
        raise DataError([problem or Problem(None, None, None, reason)], source=label) from err
    frame.attrs["warnings"] = []
    frame.attrs["short_rows"] = short
    frame.attrs["header_fields"] = n_header
    return frame, problems, label, False


def load_outlets(
    path: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Load an outlets table (CSV in UTF-8/UTF-8-BOM/GB18030, XLSX, or GeoJSON).

    ``path`` may be a path, a binary file object (give ``name`` so the format can be
    told from its extension), or ``None`` for the bundled *synthetic* sample network.
    Required columns: ``outlet_id, name, lat, lon``; others default (kind
    ``service_center``, coord_sys ``wgs84``). A file with no ``authorized`` column counts
    every outlet as authorized and says so in a warning; in a file that has one, every
    cell must say yes or no (an empty cell is an error: a blank never grants
    authorization; see :mod:`locator.network`). Headers in common use
    are read as these columns (网点名称, 纬度, Lng ...: see :data:`COLUMN_ALIASES` and
    docs/outlet-format.md); ``df.attrs["column_aliases"]`` says which header was read
    as which column. A workbook's first sheet is read unless ``sheet`` names another;
    when it has others, a warning names them. Rows in GCJ-02 or BD-09 are converted to
    WGS-84. Raises :class:`DataError` listing every bad row; points outside China only
    warn (:class:`DataWarning`, also in ``df.attrs["warnings"]``).

    The frame is marked as validated (``attrs``), so handing it to a consumer
    (:class:`~locator.index.OutletIndex`, the audit, coverage ...) checks nothing again;
    :func:`load_network` returns the same as a :class:`~locator.network.Network`.
    """
    return load_network(path, name=name, sheet=sheet).frame


def load_network(
    path: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
) -> Network:
    """:func:`load_outlets` as a :class:`~locator.network.Network` (the validated frame,
    its source and a version checksum of its content)."""
    src = DATA_DIR / "outlets.csv" if path is None else path
    frame, problems, label, geojson = read_table(src, name=name, sheet=sheet)
    frame = validate_outlets(frame, source=label, problems=problems, row_offset=1 if geojson else 2)
    return Network(frame, label, frame.attrs[_MARK])  # validated just now: no check again


def _load_bundled(path: Path, int_cols: Iterable[str], float_cols: Iterable[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    errors: list[Problem] = []
    for col in [*int_cols, *float_cols]:
        if col not in frame.columns:
            errors.append(Problem(None, col, None, "required column is missing"))
            continue
        num = pd.to_numeric(frame[col], errors="coerce")
        for i in np.flatnonzero(num.isna().to_numpy()):
            errors.append(Problem(int(i) + 2, col, frame[col].iat[int(i)], "not a number"))
        frame[col] = num
    if errors:
        raise DataError(errors, source=str(path))
    for col in int_cols:
        frame[col] = frame[col].astype("int64")
    for col in float_cols:
        frame[col] = frame[col].astype("float64")
    return frame


def load_cities(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The listed cities: city, name_en, province, adcode, lat, lon, population, geonameid."""
    return _load_bundled(Path(path or DATA_DIR / "cities.csv"), ["population"], ["lat", "lon"])


def load_places(
    path: str | os.PathLike[str] | None = None, *, include_nested: bool = False
) -> pd.DataFrame:
    """GeoNames populated places in mainland China with population >= 1,000: the demand
    layer for coverage.

    Columns: place_id, name, name_zh, province, city, city_adcode, lat, lon, population,
    nested_in. By default places *inside* a more populous place's urban area (浦东 inside
    上海, whose figure already counts them; see ``nested_in`` and data/README.md) are left
    out, so populations can be summed; ``include_nested=True`` returns every place (for
    name look-ups).
    """
    frame = _load_bundled(Path(path or DATA_DIR / "places.csv"), ["population"], ["lat", "lon"])
    if "nested_in" in frame.columns and not include_nested:
        frame = frame[frame["nested_in"] == ""].reset_index(drop=True)
    return frame
