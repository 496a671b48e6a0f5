"""The app's Network data editing, without Streamlit: sign in, the editable table,
saving edits (with optimistic concurrency), history and authorizations.

``app.py`` shows these; every decision is made here or in the store:

* :func:`sign_in` checks a token with the store (a hash compared in constant time).
  The app calls it on every run, so a revoked token stops working at once, and it
  never keeps the secret anywhere but in the password box (never in ``st.cache``).
* :func:`snapshot` is the table an editor edits: every open outlet with the
  ``version`` it was read at.
* :func:`save_edits` compares the edited table with that snapshot and writes each
  changed row with ``expected_version`` = the version read: a row someone else changed
  since is **not** overwritten, it is reported as stale (:class:`SaveResult`).
* :func:`history_frame` is an outlet's history as a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import DataError
from .network import OUTLET_COLUMNS

__all__ = [
    "EDITABLE_COLUMNS",
    "LOCKED_COLUMNS",
    "SaveResult",
    "Session",
    "history_frame",
    "row_changes",
    "save_edits",
    "sign_in",
    "snapshot",
]

#: Columns of the table an editor may change (authorization is an admin's record).
EDITABLE_COLUMNS = tuple(c for c in OUTLET_COLUMNS if c not in ("outlet_id", "authorized"))
#: Columns shown but locked in the table.
LOCKED_COLUMNS = ("outlet_id", "version", "authorized")


@dataclass(frozen=True)
class Session:
    """Who is signed in: the token's name (recorded in the history) and role."""

    name: str
    role: str

    def may(self, required: str) -> bool:
        from .store import role_allows

        return role_allows(self.role, required)


def sign_in(store: Any, secret: str | None) -> Session | None:
    """The session of the token ``secret``, or ``None`` (blank, unknown or revoked)."""
    text = (secret or "").strip()
    if not text:
        return None
    token = store.tokens.authenticate(text)
    if token is None:
        return None
    return Session(str(token.name), str(token.role))


def snapshot(store: Any) -> pd.DataFrame:
    """Every open outlet with the ``version`` read, in the store's order: the table an
    editor edits (its versions are what a save is checked against)."""
    ids = [str(x) for x in store.network().frame["outlet_id"]]
    rows = []
    for oid in ids:
        rec = store.get(oid)
        rows.append({c: rec.get(c) for c in ("outlet_id", "version", *EDITABLE_COLUMNS)})
        rows[-1]["authorized"] = bool(rec.get("authorized"))
    columns = ["outlet_id", "version", "authorized", *EDITABLE_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"version": "int64"})


def _same(a: Any, b: Any) -> bool:
    def blank(v: Any) -> bool:
        return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v == ""

    if blank(a) and blank(b):
        return True
    if blank(a) or blank(b):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b)


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def row_changes(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{outlet_id: {column: new value}}`` for the editable cells that differ (rows
    matched by ``outlet_id``; locked columns are ignored)."""
    old = before.set_index("outlet_id", drop=False)
    out: dict[str, dict[str, Any]] = {}
    for rec in after.to_dict("records"):
        oid = str(rec.get("outlet_id"))
        if oid not in old.index:
            continue
        prev = old.loc[oid]
        changed = {
            c: _value(rec.get(c)) for c in EDITABLE_COLUMNS if not _same(prev[c], rec.get(c))
        }
        if changed:
            out[oid] = changed
    return out


@dataclass
class SaveResult:
    """What a save did: ``saved`` outlet ids, ``stale`` ones (changed by someone else
    since the table was read: ``{outlet_id: version now}``, not written) and
    ``invalid`` ones (``{outlet_id: [problems]}``, not written)."""

    saved: list[str] = field(default_factory=list)
    stale: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, list[str]] = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        """One plain sentence per stale or invalid outlet."""
        out = [
            f"Outlet {oid} was changed by someone else since you loaded the table (it is "
            f"now at version {now}): your change was NOT saved. Reload the table and "
            "make it again."
            for oid, now in self.stale.items()
        ]
        out += [
            f"Outlet {oid} was not saved: {'; '.join(problems)}"
            for oid, problems in self.invalid.items()
        ]
        return out


def save_edits(
    store: Any,
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    session: Session,
    reason: str,
) -> SaveResult:
    """Write every edited row of ``after`` (vs the snapshot ``before``), each checked
    against the version it was read at. ``reason`` is required (recorded in each
    version). Rows are written one by one: a stale or invalid row does not stop the
    others. :class:`PermissionError` unless ``session`` may edit."""
    from .store import StaleVersion

    if not session.may("editor"):
        raise PermissionError("editing needs the editor role")
    why = (reason or "").strip()
    if not why:
        raise ValueError("a reason is required to save changes")
    versions = dict(
        zip(before["outlet_id"].astype(str), before["version"].astype(int), strict=True)
    )
    result = SaveResult()
    for oid, changes in row_changes(before, after).items():
        try:
            store.update(
                oid, changes, expected_version=versions[oid], actor=session.name, reason=why
            )
        except StaleVersion as err:
            result.stale[oid] = int(err.current)
        except DataError as err:
            result.invalid[oid] = [
                f"{p.column}: {p.reason}" if p.column else str(p.reason) for p in err.errors
            ]
        else:
            result.saved.append(oid)
    return result


def history_frame(store: Any, outlet_id: str) -> pd.DataFrame:
    """An outlet's versions, newest first: version, when (UTC), who, action, why and
    what changed (``field: old -> new``)."""
    rows = []
    for v in reversed(store.history(outlet_id)):
        changes = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in v.changes.items())
        rows.append(
            {
                "version": v.version,
                "at (UTC)": v.at.strftime("%Y-%m-%d %H:%M:%S"),
                "by": v.actor,
                "action": v.action,
                "reason": v.reason or "",
                "changes": changes,
            }
        )
    return pd.DataFrame(rows, columns=["version", "at (UTC)", "by", "action", "reason", "changes"])
