"""CLI: ``locator audit`` (network audit) and ``locator validate`` (load and report)."""

from __future__ import annotations

import typer
from rich.table import Table

from . import app
from ._common import SheetOpt, echo_json, fail, load_network
from ._terminal import console as terminal_console
from ._terminal import echo, text


@app.command("audit")
def audit(
    path: str = typer.Argument(
        None, help="Outlets file (CSV/XLSX/GeoJSON); default: the network store."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print findings as JSON."),
    far_km: float = typer.Option(
        50.0, "--far-km", min=0.1, help="Flag outlets farther than this from their city."
    ),
    sheet: SheetOpt = None,
    record: bool = typer.Option(
        False,
        "--record",
        help="Audit the network store (not a file) and record the findings as flags on "
        "the listings involved, which `locator verify` then shows for their phones.",
    ),
    database: str = typer.Option(
        None,
        "--database",
        metavar="URL",
        help="Audit this store (database URL; default: $LOCATOR_DATABASE_URL, else the "
        "default SQLite store). Not with a file.",
    ),
    fail_on: str = typer.Option(
        "none",
        "--fail-on",
        metavar="[none|low|medium|high]",
        help="Exit 1 when any finding is at or above this severity (low = info); "
        "none (default) always exits 0.",
    ),
) -> None:
    """Audit a network: shared hotlines across cities, outlets far from their city,
    duplicates, unauthorized listings; for the store (no file given), also the
    authorizations that end within 30 days.

    Exit status: 0, or 1 with --fail-on when a finding is at or above that severity
    (for CI and scheduled checks); 2 on bad input."""
    from ..audit import audit_outlets, findings_at_or_above
    from ..errors import ConfigurationError

    level = fail_on.strip().lower()
    if level != "none":
        try:
            findings_at_or_above([], level)
        except ConfigurationError as err:
            fail(f"--fail-on: {err}; or none")
    if record and path is not None:
        fail("--record audits the network store; give --database, not a file")
    outlets = _store_network(database) if record else load_network(path, sheet, database)
    findings = audit_outlets(outlets, far_km=far_km)
    if record:
        _record(database, findings)
    failing = [] if level == "none" else findings_at_or_above(findings, level)
    expiring: list[dict] = _expiring_authorizations(database) if path is None else []
    if as_json:
        body = {"outlets": len(outlets), "findings": [f.to_dict() for f in findings]}
        if path is None:
            body["expiring_authorizations"] = expiring
        echo_json(body)
        _exit_if_failing(failing, level)
        return
    console = terminal_console()
    _print_expiring(expiring)
    if not findings:
        console.print(f"No findings for {len(outlets)} outlets.")
        return
    table = Table(title=f"Audit: {len(findings)} finding(s) in {len(outlets)} outlets")
    # Never cut a value: long words (CJK names have no spaces) fold onto the next
    # line instead of ending in "…", so "388 km" is never shown as "38… km".
    table.add_column("severity", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=3)
    table.add_column("outlets", overflow="fold", ratio=1)
    for f in findings:
        ids = ", ".join(f.outlet_ids[:6]) + (" ..." if len(f.outlet_ids) > 6 else "")
        table.add_row(text(f.severity), text(f.kind), text(f.message), text(ids))
    console.print(table)
    _exit_if_failing(failing, level)


EXPIRY_DAYS = 30


def _expiring_authorizations(database: str | None) -> list[dict]:
    """The store's authorizations that end within :data:`EXPIRY_DAYS` days (or ended)."""
    from ._common import open_default_store

    store = open_default_store(database)
    try:
        return store.authorizations(expiring_within_days=EXPIRY_DAYS)
    finally:
        store.dispose()


def _print_expiring(expiring: list[dict]) -> None:
    if not expiring:
        return
    table = Table(title=f"Authorizations ending within {EXPIRY_DAYS} days")
    for col in ("outlet", "name", "city", "valid until", "days left", "evidence"):
        table.add_column(col, overflow="fold")
    for a in expiring:
        left = a["days_left"]
        table.add_row(
            text(a["outlet_id"]),
            text(a["name"]),
            text(a["city"]),
            text(a["valid_until"]),
            text("expired" if left < 0 else left),
            text(a["evidence"] or ""),
        )
    terminal_console().print(table)


def _store_network(database: str | None):  # -> Network
    from .db import opened

    with opened(database) as store:
        return store.network()


def _record(database: str | None, findings: list) -> None:
    """Record the findings as flags in the store; one line on stderr says how many."""
    from ..verify import record_findings
    from .db import actor, opened

    with opened(database) as store:
        added, known = record_findings(store, findings, actor=actor())
        where = store.url_for_display
    echo(f"recorded {added} new flag(s) in {where} ({known} already recorded)", err=True)


def _exit_if_failing(failing: list, level: str) -> None:
    """Exit 1 (after the report is printed) when --fail-on found anything."""
    if failing:
        echo(f"audit: {len(failing)} finding(s) at or above {level} (--fail-on {level})", err=True)
        raise typer.Exit(1)


@app.command("validate")
def validate(
    path: str = typer.Argument(..., help="Outlets file to check (CSV/XLSX/GeoJSON)."),
    sheet: SheetOpt = None,
) -> None:
    """Load an outlets file and report every bad row (exit 2 if any).

    Also lists each header read as a column under another name (网点名称 as name,
    Lng as lon ...); docs/outlet-format.md lists the names understood.
    """
    outlets = load_network(path, sheet)  # prints any warnings
    echo(f"ok: {len(outlets)} outlets, {int(outlets['authorized'].sum())} authorized")
    for header, column in outlets.attrs.get("column_aliases", {}).items():
        echo(f"  header {header!r} read as {column!r}")
