"""The :class:`Store`: the network of record, its history, authorizations and tokens.

Every change runs in one write transaction that also appends a version row
(who, when, what changed old -> new, why) and bumps the global ``revision`` other
processes poll. Nothing is deleted: outlets are closed and reopened. Fields are
checked by the outlet contract (:func:`locator.network.validate_outlets`), never here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import DataError, Problem
from ..network import OUTLET_COLUMNS, DataWarning, Network, validate_outlets
from . import _engine
from ._types import ImportDiff, NotFound, StaleVersion, StoreError, Version
from .models import EDITABLE, TEXT_COLUMNS, authorizations, flags, meta, outlets, versions
from .scenarios import SavedScenario

#: Fields compared by an import and kept in a version's ``state``.
_FIELDS = tuple(c for c in OUTLET_COLUMNS if c not in ("outlet_id", "authorized"))
_STATE = (
    *_FIELDS,
    "status",
    "closed_on",
    "close_reason",
    "auth_granted",
    "auth_valid_until",
    "auth_evidence",
)
_DATES = ("closed_on", "auth_valid_until")
#: The names a version's ``changes`` use for the authorization columns.
SHOWN = {
    "auth_granted": "authorized",
    "auth_valid_until": "authorization_valid_until",
    "auth_evidence": "authorization_evidence",
}


class Conflict(StoreError):
    """The outlet is not in a state that allows this (closing a closed outlet, creating
    an id that exists): HTTP 409."""


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _required_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise DataError(
            [Problem(None, "reason", None, f"a reason is required to {what}")], source="change"
        )
    return text


def _cell(value: Any) -> str:
    """A field value as the text a file would hold (floats exactly, ``None`` empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, list | tuple):
        return ";".join(map(str, value))
    return str(value)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> str | None:
    """Why a text value cannot be stored (a NUL, a lone surrogate), or ``None``."""
    if not isinstance(value, str):
        return None
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group(0) == "\x00":
        return "contains a NUL character, which cannot be stored"
    return "contains a lone surrogate (not valid Unicode text), which cannot be stored"


def checked_text(**values: Any) -> None:
    """Refuse free text (reason, actor, evidence, notes) that cannot be stored, naming
    the parameter: DataError."""
    problems = [
        Problem(None, name, None, why)
        for name, value in values.items()
        if (why := _unstorable(value)) is not None
    ]
    if problems:
        raise DataError(problems, source="change")


def storable_problems(frame: pd.DataFrame, row_offset: int | None = 2) -> list[Problem]:
    """Text the database cannot keep as it is: a NUL character (PostgreSQL refuses it;
    SQLite would keep it, so both refuse it alike). One problem per cell."""
    out = []
    for col in TEXT_COLUMNS:
        values = frame[col].tolist()
        if not _UNSTORABLE.search("".join(v for v in values if isinstance(v, str))):
            continue  # the common case: one search per column
        for i, value in enumerate(values):
            why = _unstorable(value)
            if why is not None:
                row = None if row_offset is None else i + row_offset
                out.append(Problem(row, col, None, why))
    return sorted(out, key=lambda p: -1 if p.row is None else p.row)


def validated_fields(fields: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """One outlet's fields checked and normalized by the outlet contract (the same steps
    as a file row), as stored values; :class:`DataError` names the field and why."""
    unknown = [k for k in fields if k not in OUTLET_COLUMNS]
    if unknown:
        expected = ", ".join(c for c in OUTLET_COLUMNS if c != "authorized")
        raise DataError(
            [Problem(None, k, None, f"unknown field; expected one of {expected}") for k in unknown],
            source=source,
        )
    bad = [Problem(None, k, None, why) for k, v in fields.items() if (why := _unstorable(v))]
    if bad:
        raise DataError(bad, source=source)
    cells = {k: _cell(v) for k, v in fields.items()}
    # Authorization is its own record: a placeholder flag keeps the contract from
    # assuming "no column: authorized" (and from warning about it).
    cells.setdefault("authorized", "no")
    raw = pd.DataFrame([cells], dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # an outlet abroad: allowed here
            frame = validate_outlets(raw, source=source)
    except DataError as err:
        raise DataError([replace(p, row=None) for p in err.errors], source=source) from None
    problems = storable_problems(frame, row_offset=None)
    if problems:
        raise DataError(problems, source=source)
    row = frame.iloc[0]
    return {c: (float(row[c]) if c in ("lat", "lon") else str(row[c])) for c in _FIELDS} | {
        "outlet_id": str(row["outlet_id"]),
        "authorized": bool(row["authorized"]),
    }


class Store:
    """The network of record (see the module docstring). Made by :func:`open_store`."""

    def __init__(self, engine: Engine, *, url: str) -> None:
        self.engine = engine
        self._url = url
        self._cache: tuple[tuple[int, date], Network] | None = None
        self._closed_cache: tuple[int, pd.DataFrame] | None = None
        self._listeners: list[Callable[[], None]] = []
        from .tokens import Tokens

        self.tokens = Tokens(self)

    # ------------------------------------------------------------ plumbing
    @property
    def url_for_display(self) -> str:
        """The database URL with any password redacted."""
        return _engine.display_url(self._url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.url_for_display!r})"

    def dispose(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change committed through this store
        (:class:`~locator.store.live.LiveNetwork` uses it)."""
        self._listeners.append(callback)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with _engine.write_conn(self.engine) as conn:
            yield conn
            conn.execute(
                meta.update().where(meta.c.key == "revision").values(value=meta.c.value + 1)
            )
        for callback in list(self._listeners):
            callback()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def revision(self) -> int:
        """The global change counter: bumps on every committed change (cheap to poll)."""
        with self._read() as conn:
            return int(
                conn.execute(sa.select(meta.c.value).where(meta.c.key == "revision")).scalar_one()
            )

    # ------------------------------------------------------------ reading
    def network(self, *, on: date | None = None) -> Network:
        """The open outlets as a :class:`~locator.network.Network`, ``authorized``
        computed for the day ``on`` (default today): granted and not past its
        valid-until date. Cached per revision and day."""
        day = on or date.today()
        rev = self.revision()
        cached = self._cache
        if cached is not None and cached[0] == (rev, day):
            return cached[1]
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    *[outlets.c[c] for c in TEXT_COLUMNS],
                    outlets.c.lat,
                    outlets.c.lon,
                    outlets.c.auth_granted,
                    outlets.c.auth_valid_until,
                )
                .where(outlets.c.status == "open")
                .order_by(outlets.c.seq)
            ).all()
        # object columns holding str, as the contract's (pandas would infer "str")
        frame = pd.DataFrame(
            rows, columns=[*TEXT_COLUMNS, "lat", "lon", "auth", "until"], dtype=object
        )
        frame["authorized"] = authorized_on(frame["auth"], frame["until"], day)
        frame = frame[list(OUTLET_COLUMNS)].astype({"lat": "float64", "lon": "float64"})
        with warnings.catch_warnings():
            # Notes (unreadable hours ...) were shown when the rows came in; they stay
            # in net.warnings rather than being warned again on every rebuild.
            warnings.simplefilter("ignore", DataWarning)
            net = Network.coerce(frame, source=self.url_for_display)
        self._cache = ((rev, day), net)
        return net

    def closed_outlets(self) -> pd.DataFrame:
        """The closed outlets (contract columns, never authorized, with ``closed_on``
        and ``close_reason``), in arrival order: what :func:`locator.verify.verify`
        needs to answer "that listing is closed" rather than "not listed". Cached per
        revision."""
        rev = self.revision()
        cached = self._closed_cache
        if cached is not None and cached[0] == rev:
            return cached[1].copy()
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    *[outlets.c[c] for c in TEXT_COLUMNS],
                    outlets.c.lat,
                    outlets.c.lon,
                    outlets.c.closed_on,
                    outlets.c.close_reason,
                )
                .where(outlets.c.status == "closed")
                .order_by(outlets.c.seq)
            ).all()
        frame = pd.DataFrame(
            rows, columns=[*TEXT_COLUMNS, "lat", "lon", "closed_on", "close_reason"], dtype=object
        )
        frame["authorized"] = False  # a closed outlet is no one's authorized outlet
        frame = frame.astype({"lat": "float64", "lon": "float64"})
        self._closed_cache = (rev, frame)
        return frame.copy()

    def _row(self, conn: Connection, outlet_id: str) -> sa.Row[Any]:
        row = conn.execute(sa.select(outlets).where(outlets.c.outlet_id == str(outlet_id))).first()
        if row is None:
            raise NotFound(f"no outlet {outlet_id!r} in the store")
        return row

    def get(self, outlet_id: str) -> dict[str, Any]:
        """The outlet's fields, ``authorized`` (today), ``version``, ``status``
        ("open"/"closed"), ``closed_on``/``close_reason`` and ``authorization``
        (granted, valid_until, evidence). :class:`NotFound` if there is none."""
        with self._read() as conn:
            return _public(self._row(conn, outlet_id))

    def history(self, outlet_id: str) -> list[Version]:
        """Every version of the outlet, oldest first."""
        with self._read() as conn:
            self._row(conn, outlet_id)
            rows = conn.execute(
                sa.select(versions)
                .where(versions.c.outlet_id == str(outlet_id))
                .order_by(versions.c.version)
            ).all()
        return [
            Version(
                r.outlet_id,
                r.version,
                _utc(r.at),
                r.actor,
                r.action,
                r.reason,
                dict(r.changes),
                dict(r.state),
            )
            for r in rows
        ]

    # ------------------------------------------------------------ writing
    def _append(
        self,
        conn: Connection,
        outlet_id: str,
        version: int,
        *,
        actor: str,
        action: str,
        reason: str | None,
        changes: Mapping[str, list[Any]],
        state: Mapping[str, Any],
    ) -> None:
        conn.execute(
            versions.insert().values(
                outlet_id=outlet_id,
                version=version,
                at=_now(),
                actor=actor,
                action=action,
                reason=reason,
                changes={
                    SHOWN.get(k, k): [_jsonable(a), _jsonable(b)] for k, (a, b) in changes.items()
                },
                state={k: _jsonable(v) for k, v in state.items()},
            )
        )

    def _change(
        self,
        conn: Connection,
        row: sa.Row[Any],
        new: Mapping[str, Any],
        *,
        expected_version: int | None,
        actor: str,
        action: str,
        reason: str | None,
    ) -> dict[str, list[Any]]:
        """Apply ``new`` (stored columns) to ``row`` with a conditional UPDATE (only if
        the version is still the expected one) and append the version row."""
        expected = row.version if expected_version is None else int(expected_version)
        if expected != row.version:
            raise StaleVersion(row.outlet_id, expected, row.version)
        old = _state(row)
        changes = {k: [old[k], v] for k, v in new.items() if old[k] != v}
        done = conn.execute(
            outlets.update()
            .where(outlets.c.outlet_id == row.outlet_id, outlets.c.version == expected)
            .values(**new, version=expected + 1, updated_at=_now())
        )
        if done.rowcount != 1:  # a concurrent writer got there first
            current = self._row(conn, row.outlet_id).version
            raise StaleVersion(row.outlet_id, expected, current)
        self._append(
            conn,
            row.outlet_id,
            expected + 1,
            actor=actor,
            action=action,
            reason=reason,
            changes=changes,
            state={**old, **new},
        )
        return changes

    def create(self, fields: Mapping[str, Any], *, actor: str, reason: str | None = None) -> dict:
        """A new outlet (version 1, open, **not** authorized: granting authorization is
        :meth:`set_authorization`). :class:`DataError` for bad fields,
        :class:`Conflict` if the id exists."""
        checked_text(actor=actor, reason=reason)
        if "authorized" in fields:
            raise DataError(
                [
                    Problem(
                        None,
                        "authorized",
                        None,
                        "grant authorization with set_authorization (a reason is "
                        "required), not when creating",
                    )
                ],
                source="new outlet",
            )
        values = validated_fields(fields, source="new outlet")
        oid = values.pop("outlet_id")
        values.pop("authorized")
        with self._write() as conn:
            if conn.execute(
                sa.select(outlets.c.outlet_id).where(outlets.c.outlet_id == oid)
            ).first():
                raise Conflict(f"outlet {oid!r} exists already (closed ones are reopened)")
            seq = conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(outlets.c.seq), 0))
            ).scalar_one()
            conn.execute(
                outlets.insert().values(
                    outlet_id=oid, seq=seq + 1, version=1, updated_at=_now(), **values
                )
            )
            state = _state(self._row(conn, oid))
            self._append(
                conn,
                oid,
                1,
                actor=actor,
                action="create",
                reason=reason,
                changes={k: [None, v] for k, v in values.items()},
                state=state,
            )
            return _public(self._row(conn, oid))

    def update(
        self,
        outlet_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int,
        actor: str,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Change fields of an outlet, only if it is still at ``expected_version``
        (:class:`StaleVersion` otherwise: nothing written). The merged outlet is checked
        by the contract (:class:`DataError` naming the field). ``authorized`` is changed
        by :meth:`set_authorization`, ``outlet_id`` never."""
        checked_text(actor=actor, reason=reason)
        bad = [k for k in changes if k in ("authorized", "outlet_id")]
        if bad:
            why = {
                "authorized": "change authorization with set_authorization (needs a reason)",
                "outlet_id": "an outlet's id never changes (close it and create another)",
            }
            raise DataError(
                [Problem(None, k, None, why[k]) for k in bad], source=f"outlet {outlet_id!r}"
            )
        with self._write() as conn:
            row = self._row(conn, outlet_id)
            merged = {c: getattr(row, c) for c in (*_FIELDS, "outlet_id")} | dict(changes)
            values = validated_fields(merged, source=f"outlet {outlet_id!r}")
            new = {c: values[c] for c in EDITABLE}
            self._change(
                conn,
                row,
                new,
                expected_version=expected_version,
                actor=actor,
                action="update",
                reason=reason,
            )
            return _public(self._row(conn, outlet_id))

    def close(
        self,
        outlet_id: str,
        *,
        reason: str,
        actor: str,
        on: date | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Close an outlet on ``on`` (default today) for ``reason`` (required); it leaves
        the network but nothing is deleted (:meth:`reopen`)."""
        checked_text(actor=actor, reason=reason)
        why = _required_reason(reason, "close an outlet")
        with self._write() as conn:
            row = self._row(conn, outlet_id)
            if row.status == "closed":
                raise Conflict(f"outlet {outlet_id!r} is closed already (since {row.closed_on})")
            new = {"status": "closed", "closed_on": on or date.today(), "close_reason": why}
            self._change(
                conn,
                row,
                new,
                expected_version=expected_version,
                actor=actor,
                action="close",
                reason=why,
            )
            return _public(self._row(conn, outlet_id))

    def reopen(
        self, outlet_id: str, *, reason: str, actor: str, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Reopen a closed outlet (``reason`` required)."""
        checked_text(actor=actor, reason=reason)
        why = _required_reason(reason, "reopen an outlet")
        with self._write() as conn:
            row = self._row(conn, outlet_id)
            if row.status == "open":
                raise Conflict(f"outlet {outlet_id!r} is open")
            new = {"status": "open", "closed_on": None, "close_reason": None}
            self._change(
                conn,
                row,
                new,
                expected_version=expected_version,
                actor=actor,
                action="reopen",
                reason=why,
            )
            return _public(self._row(conn, outlet_id))

    def set_authorization(
        self,
        outlet_id: str,
        *,
        granted: bool,
        actor: str,
        reason: str,
        evidence: str | None = None,
        valid_until: date | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Grant or revoke the outlet's authorization (``reason`` required; ``evidence``
        e.g. a contract number; past ``valid_until`` it no longer counts as authorized).
        Appends an authorization record and a version."""
        checked_text(actor=actor, reason=reason, evidence=evidence)
        why = _required_reason(reason, "change an authorization")
        if not isinstance(granted, bool):
            raise DataError(
                [Problem(None, "granted", granted, "must be true or false")], source="authorization"
            )
        if valid_until is not None and not isinstance(valid_until, date):
            raise DataError(
                [Problem(None, "valid_until", valid_until, "must be a date")],
                source="authorization",
            )
        with self._write() as conn:
            row = self._row(conn, outlet_id)
            self._authorize(
                conn,
                row,
                granted=granted,
                actor=actor,
                reason=why,
                evidence=evidence,
                valid_until=valid_until,
                expected_version=expected_version,
            )
            return _public(self._row(conn, outlet_id))

    def _authorize(
        self,
        conn: Connection,
        row: sa.Row[Any],
        *,
        granted: bool,
        actor: str,
        reason: str,
        evidence: str | None,
        valid_until: date | None,
        expected_version: int | None,
        action: str | None = None,
    ) -> None:
        conn.execute(
            authorizations.insert().values(
                outlet_id=row.outlet_id,
                granted=granted,
                at=_now(),
                actor=actor,
                reason=reason,
                evidence=evidence,
                valid_until=valid_until,
            )
        )
        new = {
            "auth_granted": granted,
            "auth_valid_until": valid_until if granted else None,
            "auth_evidence": evidence,
        }
        self._change(
            conn,
            row,
            new,
            expected_version=expected_version,
            actor=actor,
            action=action or ("authorize" if granted else "revoke"),
            reason=reason,
        )

    def authorizations(self, *, expiring_within_days: int | None = None) -> list[dict[str, Any]]:
        """The open outlets' current grants (outlet_id, name, city, valid_until,
        evidence, days_left); with ``expiring_within_days``, only those whose
        valid-until date is at most that many days away (expired ones included,
        ``days_left`` < 0), soonest first."""
        today = date.today()
        q = sa.select(
            outlets.c.outlet_id,
            outlets.c.name,
            outlets.c.city,
            outlets.c.auth_valid_until,
            outlets.c.auth_evidence,
        ).where(outlets.c.status == "open", outlets.c.auth_granted.is_(True))
        if expiring_within_days is not None:
            limit = today + timedelta(days=int(expiring_within_days))
            q = q.where(
                outlets.c.auth_valid_until.is_not(None), outlets.c.auth_valid_until <= limit
            )
        with self._read() as conn:
            rows = conn.execute(q.order_by(outlets.c.auth_valid_until, outlets.c.seq)).all()
        return [
            {
                "outlet_id": r.outlet_id,
                "name": r.name,
                "city": r.city,
                "valid_until": r.auth_valid_until,
                "evidence": r.auth_evidence,
                "days_left": None
                if r.auth_valid_until is None
                else (r.auth_valid_until - today).days,
            }
            for r in rows
        ]

    def authorization_records(self, outlet_id: str) -> list[dict[str, Any]]:
        """Every grant and revoke of the outlet, oldest first."""
        with self._read() as conn:
            self._row(conn, outlet_id)
            rows = conn.execute(
                sa.select(authorizations)
                .where(authorizations.c.outlet_id == str(outlet_id))
                .order_by(authorizations.c.id)
            ).all()
        return [dict(r._mapping, at=_utc(r.at)) for r in rows]

    def revert(self, outlet_id: str, *, to_version: int, actor: str, reason: str) -> dict:
        """Restore the outlet as it was at ``to_version``, as a **new** version (history
        is kept). ``reason`` required."""
        checked_text(actor=actor, reason=reason)
        why = _required_reason(reason, "revert an outlet")
        with self._write() as conn:
            row = self._row(conn, outlet_id)
            old = conn.execute(
                sa.select(versions.c.state).where(
                    versions.c.outlet_id == row.outlet_id, versions.c.version == int(to_version)
                )
            ).scalar()
            if old is None:
                raise NotFound(f"outlet {outlet_id!r} has no version {to_version}")
            target = _from_json(old)
            current = _state(row)
            if (target["auth_granted"], target["auth_valid_until"]) != (
                current["auth_granted"],
                current["auth_valid_until"],
            ):
                conn.execute(
                    authorizations.insert().values(
                        outlet_id=row.outlet_id,
                        granted=target["auth_granted"],
                        at=_now(),
                        actor=actor,
                        reason=f"revert to version {to_version}: {why}",
                        evidence=target["auth_evidence"],
                        valid_until=target["auth_valid_until"],
                    )
                )
            self._change(
                conn,
                row,
                target,
                expected_version=None,
                actor=actor,
                action=f"revert to {int(to_version)}",
                reason=why,
            )
            return _public(self._row(conn, outlet_id))

    # ------------------------------------------------------------ bulk
    def import_frame(
        self,
        frame_or_path: pd.DataFrame | Network | str | Any,
        *,
        actor: str,
        reason: str | None = None,
        dry_run: bool = False,
        allow_authorization: bool = True,
        sheet: str | None = None,
        on_write: Callable[[ImportDiff], None] | None = None,
    ) -> ImportDiff:
        """Make the store match an outlets table (a path, a frame or a Network): every
        row validated first by the contract (:class:`DataError` listing every bad row,
        nothing written), then one transaction adds, changes and closes (open outlets
        missing from the table; never deleted). ``dry_run`` computes the diff only.
        ``allow_authorization=False`` refuses (:class:`PermissionDenied`, role admin)
        a table that would grant or revoke an authorization. ``on_write(diff)`` is called
        once the diff is known, just before the rows are written (a progress line)."""
        checked_text(actor=actor, reason=reason)
        from ._import import run_import

        return run_import(
            self,
            frame_or_path,
            actor=actor,
            reason=reason,
            dry_run=dry_run,
            allow_authorization=allow_authorization,
            sheet=sheet,
            on_write=on_write,
        )

    def export(self, path: Any, *, fmt: str | None = None) -> None:
        """Write the open outlets (``authorized`` as of today) to ``path`` as CSV, XLSX
        or GeoJSON (from ``fmt`` or the extension), atomically and formula-safe."""
        from ._import import export

        export(self, path, fmt=fmt)

    # ------------------------------------------------------------ flags
    def add_flag(
        self,
        *,
        kind: str,
        note: str = "",
        actor: str,
        phone: str | None = None,
        name: str | None = None,
        address: str | None = None,
        city: str | None = None,
        outlet_id: str | None = None,
    ) -> dict[str, Any]:
        """Record a finding about a listing (a shared hotline, a far-from-city claim)."""
        checked_text(
            kind=kind,
            note=note,
            actor=actor,
            phone=phone,
            name=name,
            address=address,
            city=city,
            outlet_id=outlet_id,
        )
        if not str(kind or "").strip():
            raise DataError([Problem(None, "kind", None, "a flag needs a kind")], source="flag")
        values = {
            "kind": str(kind).strip(),
            "note": str(note or ""),
            "phone": phone,
            "name": name,
            "address": address,
            "city": city,
            "outlet_id": outlet_id,
            "actor": actor,
            "at": _now(),
        }
        with self._write() as conn:
            key = conn.execute(flags.insert().values(**values)).inserted_primary_key
        assert key is not None
        return {"id": int(key[0]), **values}

    def flags(
        self,
        *,
        phone: str | None = None,
        kind: str | None = None,
        outlet_id: str | None = None,
        city: str | None = None,
    ) -> list[dict[str, Any]]:
        """Recorded flags, oldest first, filtered by any of the given fields."""
        q = sa.select(flags)
        for col, value in (
            ("phone", phone),
            ("kind", kind),
            ("outlet_id", outlet_id),
            ("city", city),
        ):
            if value is not None:
                q = q.where(flags.c[col] == value)
        with self._read() as conn:
            rows = conn.execute(q.order_by(flags.c.id)).all()
        return [dict(r._mapping, at=_utc(r.at)) for r in rows]

    # ------------------------------------------------------------ scenarios
    def save_scenario(self, scenario: Any, *, actor: str, overwrite: bool = False) -> SavedScenario:
        """Save a :class:`~locator.scenario.Scenario` (or its ``to_dict()``) by its
        name. A name already saved is a :class:`Conflict` unless ``overwrite`` (then
        ``version`` goes up, the creator stays). Writes the scenario only: outlets and
        :meth:`revision` are unchanged."""
        from . import scenarios as _sc

        return _sc.save(self, scenario, actor=actor, overwrite=overwrite)

    def scenario(self, name: str) -> SavedScenario:
        """The saved scenario ``name`` (:class:`NotFound` if there is none); its
        ``build(store.network())`` is the :class:`~locator.scenario.Scenario`."""
        from . import scenarios as _sc

        return _sc.get(self, name)

    def scenarios(self) -> list[SavedScenario]:
        """Every saved scenario, by name."""
        from . import scenarios as _sc

        return _sc.listing(self)

    def delete_scenario(self, name: str) -> None:
        """Delete the saved scenario ``name`` (:class:`NotFound` if there is none)."""
        from . import scenarios as _sc

        _sc.delete(self, name)


# --------------------------------------------------------------------------- rows
def authorized_on(granted: Iterable[Any], until: Iterable[Any], day: date) -> np.ndarray:
    """Per outlet: granted and ``day`` not past its valid-until date (the one place
    this is decided)."""
    g = np.asarray(list(granted), dtype=bool)
    u = list(until)
    ok = np.array(
        [x is None or (isinstance(x, float) and np.isnan(x)) or _as_date(x) >= day for x in u],
        dtype=bool,
    )
    return g & ok if len(g) else np.zeros(0, dtype=bool)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    return date.fromisoformat(str(value))


def _state(row: sa.Row[Any]) -> dict[str, Any]:
    m = row._mapping
    return {k: m[k] for k in _STATE}


def _from_json(state: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: state.get(k) for k in _STATE}
    for k in _DATES:
        if out[k] is not None:
            out[k] = date.fromisoformat(str(out[k]))
    return out


def _public(row: sa.Row[Any]) -> dict[str, Any]:
    m = row._mapping
    out: dict[str, Any] = {c: m[c] for c in OUTLET_COLUMNS if c != "authorized"}
    out["authorized"] = bool(
        authorized_on([m["auth_granted"]], [m["auth_valid_until"]], date.today())[0]
    )
    out["version"] = int(m["version"])
    out["status"] = m["status"]
    out["closed_on"] = m["closed_on"]
    out["close_reason"] = m["close_reason"]
    out["authorization"] = {
        "granted": bool(m["auth_granted"]),
        "valid_until": m["auth_valid_until"],
        "evidence": m["auth_evidence"],
    }
    out["updated_at"] = _utc(m["updated_at"])
    return out
