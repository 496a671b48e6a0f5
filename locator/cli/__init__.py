"""The ``locator`` console script (typer). One sub-module per feature registers its commands."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="locator",
    help="Find the nearest authorized after-sales outlet; measure and map network coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module adds its commands to ``app`` on import.
from . import coverage as _coverage  # noqa: E402,F401
from . import data as _data  # noqa: E402,F401
from . import db as _db  # noqa: E402,F401
from . import geocode as _geocode  # noqa: E402,F401
from . import load as _load  # noqa: E402,F401
from . import maps as _maps  # noqa: E402,F401
from . import nearest as _nearest  # noqa: E402,F401
from . import scenario as _scenario  # noqa: E402,F401
from . import serve as _serve  # noqa: E402,F401
from . import verify as _verify  # noqa: E402,F401


def main() -> None:
    """Entry point: run the app; user errors end in one line on stderr, never a traceback."""
    from ..errors import LocatorError
    from ._terminal import echo

    try:
        app()
    except LocatorError as err:
        echo(f"error: {err}", err=True)
        sys.exit(2)
    except OSError as err:  # a path the user gave: unreadable, unwritable, missing
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        echo(f"error: {where}{err.strerror or err}", err=True)
        sys.exit(2)
