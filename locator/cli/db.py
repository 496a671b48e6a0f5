"""CLI: the network store (#13): ``locator db init|upgrade|import|export|revert|
authorize``, ``locator history OUTLET_ID`` and ``locator token create|list|revoke``.

Every command takes ``--database URL`` (default ``$LOCATOR_DATABASE_URL``, else the
SQLite file in the user data dir). Changes made here are recorded as ``cli:<user>``.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import app
from ._common import SheetOpt, check_output_or_fail, echo_json, fail
from ._terminal import echo

if TYPE_CHECKING:
    from ..store import Store

db_app = typer.Typer(
    name="db",
    help="The network store: create, migrate, import, export, revert, authorize.",
    no_args_is_help=True,
)
token_app = typer.Typer(
    name="token",
    help="API tokens (viewer, editor, admin): create, list, revoke.",
    no_args_is_help=True,
)
app.add_typer(db_app)
app.add_typer(token_app)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Database URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB. Default: "
        "$LOCATOR_DATABASE_URL, else a SQLite file in the user data dir "
        "($LOCATOR_DATA_DIR overrides the dir).",
    ),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (kept in the history).")]


def actor() -> str:
    """Who a CLI change is recorded as: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (a container)
        return "cli:unknown"


@contextmanager
def _errors() -> Iterator[None]:
    """Library errors as one clean line (exit 2), never a traceback."""
    from ..errors import LocatorError

    try:
        yield
    except LocatorError as err:
        fail(str(err))


@contextmanager
def opened(database: str | None, **kw: Any) -> Iterator[Store]:
    """The store (see :func:`locator.store.open_store`), closed afterwards."""
    from ..store import open_store

    with _errors():
        store = open_store(database, **kw)
        try:
            yield store
        finally:
            store.dispose()


# --------------------------------------------------------------------------- db
@db_app.command("init")
def db_init(
    database: DatabaseOpt = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--empty",
            help="Fill a new store with the bundled synthetic sample (default: only "
            "the default SQLite store; a production database starts empty).",
        ),
    ] = False,
) -> None:
    """Create the store (its schema) if it does not exist, and bring it up to date."""
    with opened(database, seed=sample or None, upgrade=True) as store:
        n = len(store.network())
        echo(f"store ready: {store.url_for_display} ({n} open outlets)")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Run the schema migrations (Alembic) up to the newest; safe to run again."""
    from ..store._engine import display_url, resolve_url
    from ..store.open import upgrade_store

    with _errors():
        before, after = upgrade_store(database)
    shown = display_url(resolve_url(database)[0])
    if before == after:
        echo(f"{shown}: already at schema {after}")
    else:
        echo(f"{shown}: schema {before or '(none)'} -> {after}")


@db_app.command("import")
def db_import(
    path: Annotated[Path, typer.Argument(help="Outlets file (CSV/XLSX/GeoJSON).")],
    database: DatabaseOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the changes; write nothing.")
    ] = False,
    reason: ReasonOpt = None,
    sheet: SheetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Make the store match an outlets file, in one transaction: new outlets added,
    changed ones updated (field by field in the history), open outlets missing from
    the file closed (never deleted). Every row is validated first; a bad file, Ctrl-C
    or a killed process changes nothing.

    Example: ``locator db import outlets.csv --dry-run``."""
    if not path.is_file():
        fail(f"no such file: {path}")

    def writing(diff: Any) -> None:
        echo(f"validated: {diff.lines()[0]}; writing (one transaction) ...", err=True)

    with opened(database) as store, _errors():
        try:
            diff = store.import_frame(
                str(path),
                actor=actor(),
                reason=reason,
                dry_run=dry_run,
                sheet=sheet,
                on_write=writing,
            )
        except KeyboardInterrupt:
            fail("interrupted: nothing was imported", 130)
    for note in diff.warnings:
        echo(f"warning: {note}", err=True)
    if as_json:
        echo_json(
            {
                "dry_run": dry_run,
                "added": diff.added,
                "changed": diff.changed,
                "closed": diff.closed,
                "unchanged": diff.unchanged,
            }
        )
        return
    for line in diff.lines():
        echo(line)
    echo("dry run: nothing was changed" if dry_run else "imported")


@db_app.command("export")
def db_export(
    path: Annotated[Path, typer.Argument(help="File to write: .csv, .xlsx or .geojson.")],
    database: DatabaseOpt = None,
) -> None:
    """Write the open outlets (authorized as of today) to a file, atomically."""
    check_output_or_fail(path)
    with opened(database) as store, _errors():
        store.export(path)
        echo(f"wrote {len(store.network())} outlets to {path}")


@db_app.command("revert")
def db_revert(
    outlet_id: Annotated[str, typer.Argument(help="The outlet.")],
    to: Annotated[int, typer.Option("--to", min=1, help="The version to restore.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    database: DatabaseOpt = None,
) -> None:
    """Restore an outlet as it was at an earlier version (a new version: see
    ``locator history``)."""
    with opened(database) as store, _errors():
        out = store.revert(outlet_id, to_version=to, actor=actor(), reason=reason)
    echo(f"{outlet_id}: version {out['version']} restores version {to}")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}")


@db_app.command("authorize")
def db_authorize(
    outlet_id: Annotated[str, typer.Argument(help="The outlet.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    grant: Annotated[
        bool, typer.Option("--grant/--revoke", help="Grant (default) or revoke.")
    ] = True,
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="Contract number or other evidence.")
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option("--valid-until", metavar="YYYY-MM-DD", help="Last day it counts."),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Grant or revoke an outlet's authorization (recorded with who, why, evidence)."""
    until = _date(valid_until, "--valid-until")
    with opened(database) as store, _errors():
        out = store.set_authorization(
            outlet_id,
            granted=grant,
            actor=actor(),
            reason=reason,
            evidence=evidence,
            valid_until=until,
        )
    state = "authorized" if out["authorized"] else "not authorized"
    echo(f"{outlet_id}: {state} (version {out['version']})")


# --------------------------------------------------------------------------- history
@app.command("history")
def history(
    outlet_id: Annotated[str, typer.Argument(help="The outlet.")],
    database: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Every version of an outlet: who, when (UTC), what changed (old -> new), why."""
    with opened(database) as store, _errors():
        versions = store.history(outlet_id)
    if as_json:
        echo_json(
            [
                {
                    "version": v.version,
                    "at": v.at.isoformat(),
                    "actor": v.actor,
                    "action": v.action,
                    "reason": v.reason,
                    "changes": v.changes,
                }
                for v in versions
            ]
        )
        return
    for v in versions:
        why = f" ({v.reason})" if v.reason else ""
        echo(f"v{v.version}  {v.at:%Y-%m-%d %H:%M:%S} UTC  {v.actor}  {v.action}{why}")
        for field, (old, new) in v.changes.items():
            echo(f"    {field}: {old!r} -> {new!r}" if old is not None else f"    {field}: {new!r}")


# --------------------------------------------------------------------------- tokens
@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="Who the token is for (unique).")],
    role: Annotated[
        str, typer.Option("--role", metavar="[viewer|editor|admin]", help="What it may do.")
    ] = "viewer",
    database: DatabaseOpt = None,
) -> None:
    """Create an API token and print it once (only a hash is stored)."""
    with opened(database) as store, _errors():
        secret, token = store.tokens.create(name, role)
    echo(secret)
    echo(f"token {token.name!r} ({token.role}): copy it now, it is not shown again", err=True)


@token_app.command("list")
def token_list(database: DatabaseOpt = None) -> None:
    """The tokens (names, roles, dates; never the secrets)."""
    with opened(database) as store, _errors():
        tokens = store.tokens.list()
    if not tokens:
        echo("no tokens (locator token create --name NAME --role editor)")
        return
    for t in tokens:
        state = "active" if t.active else f"revoked {t.revoked_at:%Y-%m-%d %H:%M}"
        echo(f"{t.name}\t{t.role}\tcreated {t.created_at:%Y-%m-%d %H:%M}\t{state}")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a token: it stops working at once (kept in the list)."""
    with opened(database) as store, _errors():
        store.tokens.revoke(name)
    echo(f"token {name!r} revoked")
