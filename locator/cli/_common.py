"""Helpers shared by the CLI modules: clean failures, JSON output, output paths,
loading the network."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from ..outputs import jsonable
from ._terminal import echo


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line (or a short block) to stderr and exit; never a traceback."""
    echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def to_json(obj: Any) -> str:
    """Strict JSON (no bare NaN), UTF-8 text kept readable."""
    return json.dumps(jsonable(obj), ensure_ascii=False, indent=2, allow_nan=False)


def echo_json(obj: Any) -> None:
    sys.stdout.write(to_json(obj) + "\n")


SheetOpt = Annotated[
    str | None,
    typer.Option(
        "--sheet",
        metavar="NAME",
        help="Sheet of an .xlsx outlets file to read (default: the first; a warning "
        "names the others).",
    ),
]


OutEncodingOpt = Annotated[
    str,
    typer.Option(
        "--out-encoding",
        metavar="ENCODING",
        help="Encoding of the CSV written: utf-8-sig (UTF-8 with BOM, default: Excel on "
        "Chinese Windows reads it right), utf-8 or gb18030.",
    ),
]


def check_output_or_fail(
    path: str | os.PathLike[str],
    *inputs: str | os.PathLike[str] | None,
    encoding: str | None = None,
) -> Path:
    """Check an output path (and its encoding) before any work; a clean exit 2 if it
    is a directory, in a missing folder, or one of ``inputs`` or of the bundled data
    files (read by default when no file is given). See
    :func:`locator.outputs.check_output`."""
    from ..data import DATA_DIR
    from ..errors import ConfigurationError
    from ..outputs import check_output, csv_encoding

    if encoding is not None:
        try:
            csv_encoding(encoding)
        except ConfigurationError as err:
            fail(f"--out-encoding: {err}")
    try:
        bundled = [
            DATA_DIR / name
            for name in (
                "outlets.csv",
                "places.csv",
                "cities.csv",
                "sample-orders.csv",
                "sample-capacity.csv",
            )
        ]
        return check_output(path, inputs=[*inputs, *bundled])
    except ConfigurationError as err:
        fail(str(err))


#: ``--database URL`` on the commands that read the network (nearest, assign, coverage,
#: gaps, suggest, map, audit): which store to read instead of the default one.
ReadDatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Read the network from this store: sqlite:///PATH or "
        "postgresql+psycopg://USER@HOST/DB. Default: $LOCATOR_DATABASE_URL, else the "
        "SQLite store in the user data dir (seeded with the sample). Not with --outlets.",
    ),
]


def open_default_store(database: str | None = None):  # -> locator.store.Store
    """The network store at ``database`` (default ``$LOCATOR_DATABASE_URL``, else the
    SQLite store in the user data dir, created and seeded with the bundled sample on
    first use); a clean exit 2 if it cannot be opened."""
    from ..errors import LocatorError
    from ..store import open_store

    try:
        return open_store(database)
    except LocatorError as err:
        fail(str(err))


def load_network(
    path: str | None, sheet: str | None = None, database: str | None = None
):  # -> pd.DataFrame
    """Load the outlets file, or with no file the store's network (open outlets,
    authorized as of today) at ``database`` (see :func:`open_default_store`), turning
    DataError into a clean exit.

    Warnings (outlets abroad, the workbook sheets not read) are printed as plain
    ``warning:`` lines on stderr.
    """
    import warnings

    from ..data import DataWarning, load_outlets
    from ..errors import DataError, LocatorError

    if path is not None and database is not None:
        fail("give --outlets (a file) or --database (the store), not both")
    if sheet is not None and path is None:
        fail("--sheet needs an outlets file (--outlets); the bundled sample is a CSV")
    if path is None:
        store = open_default_store(database)
        try:
            return store.network().frame
        except LocatorError as err:
            fail(str(err))
        finally:
            store.dispose()
    try:
        with warnings.catch_warnings():
            # Shown once below as plain lines, not as a Python warning with a file path.
            warnings.simplefilter("ignore", DataWarning)
            outlets = load_outlets(path, sheet=sheet)
        for line in outlets.attrs.get("warnings", []):
            echo(f"warning: {line}", err=True)
        return outlets
    except DataError as err:
        fail(str(err))
    except FileNotFoundError as err:
        fail(f"no such file: {err.filename or path}")
    except IsADirectoryError:
        fail(f"{path} is a directory, not an outlets file")
    except OSError as err:
        fail(f"cannot read {path}: {err.strerror or err}")
