"""Bulk import (diff, then one transaction) and export of the store."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import ConfigurationError, DataError, Problem
from ..network import OUTLET_COLUMNS, DataWarning, Network, validate_outlets
from ..network.rules import _MARK, _validated
from ._types import ImportDiff, PermissionDenied, StaleVersion
from .core import _FIELDS, _STATE, Conflict, _cell, _now, storable_problems
from .models import authorizations, outlets, versions

if TYPE_CHECKING:
    from .core import Store

_CHUNK = 5000


def _network(src: Any, sheet: str | None) -> Network:
    """The table to import, validated by the contract (every bad row reported, with
    the rows numbered as in a file: the header is row 1)."""
    if isinstance(src, Network | pd.DataFrame):
        frame = src.frame if isinstance(src, Network) else src
        if _validated(frame):
            net = Network.coerce(frame, source="import")
        else:  # built in code: the file rules, on its cells as text
            text = pd.DataFrame({c: [_cell(v) for v in frame[c].tolist()] for c in frame.columns})
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)  # kept in network.warnings
                checked = validate_outlets(text, source="import")
            net = Network(checked, "import", checked.attrs[_MARK])
    else:
        from ..data import load_network

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # kept in network.warnings
            net = load_network(src, sheet=sheet)
    missing = [c for c in OUTLET_COLUMNS if c not in net.frame.columns]
    if missing:  # a validated frame made in code may lack optional columns
        raise DataError(
            [Problem(None, c, None, "missing column") for c in missing], source=net.source
        )
    problems = storable_problems(net.frame)
    if problems:
        raise DataError(problems, source=net.source)
    return net


def _current(conn: Connection) -> pd.DataFrame:
    cols = ["outlet_id", *_FIELDS, "status", "auth_granted", "version"]
    rows = conn.execute(sa.select(*[outlets.c[c] for c in cols])).all()
    return pd.DataFrame(rows, columns=cols).set_index("outlet_id", drop=False)


def diff(current: pd.DataFrame, new: pd.DataFrame) -> ImportDiff:
    """What making ``current`` (the store) match ``new`` (a validated table) changes."""
    ids = new["outlet_id"].astype(str)
    known = ids.isin(current.index).to_numpy()
    out = ImportDiff(added=ids[~known].tolist())
    common = ids[known].to_numpy()
    a = current.loc[list(common)]
    b = new.loc[known].set_index("outlet_id", drop=False)
    pairs = {c: (a[c].to_numpy(dtype=object), b[c].to_numpy(dtype=object)) for c in _FIELDS}
    pairs["authorized"] = (
        a["auth_granted"].to_numpy(dtype=bool),
        b["authorized"].to_numpy(dtype=bool),
    )
    pairs["status"] = (
        a["status"].to_numpy(dtype=object),
        np.full(len(common), "open", dtype=object),
    )
    masks = {c: np.asarray(x != y, dtype=bool) for c, (x, y) in pairs.items()}
    anyc = np.zeros(len(common), dtype=bool)
    for m in masks.values():
        anyc |= m
    for i in np.flatnonzero(anyc).tolist():
        fields = {c: [_py(pairs[c][0][i]), _py(pairs[c][1][i])] for c in pairs if masks[c][i]}
        out.changed[str(common[i])] = fields
    out.unchanged = int(len(common) - anyc.sum())
    in_file = set(ids)
    open_ = current[current["status"] == "open"]["outlet_id"]
    out.closed = [oid for oid in open_.tolist() if oid not in in_file]
    return out


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def run_import(
    store: Store,
    src: Any,
    *,
    actor: str,
    reason: str | None,
    dry_run: bool,
    allow_authorization: bool,
    sheet: str | None = None,
    conn: Connection | None = None,
    on_write: Callable[[ImportDiff], None] | None = None,
) -> ImportDiff:
    """See :meth:`locator.store.Store.import_frame`."""
    net = _network(src, sheet)
    if dry_run:
        with store._read() as rconn:
            result = diff(_current(rconn), net.frame)
        result.warnings = _notes(net)
        _check_authorization(result, net, allow_authorization)
        return result
    if conn is not None:
        return _apply(conn, net, actor=actor, reason=reason, allow=allow_authorization)
    with store._write() as wconn:
        return _apply(
            wconn, net, actor=actor, reason=reason, allow=allow_authorization, on_write=on_write
        )


def _notes(net: Network) -> list[str]:
    extra = [str(c) for c in net.frame.columns if c not in OUTLET_COLUMNS]
    notes = list(net.warnings)
    if extra:
        notes.append(f"columns not stored (not part of the outlet format): {', '.join(extra)}")
    return notes


def _check_authorization(result: ImportDiff, net: Network, allow: bool) -> None:
    if allow:
        return
    granting = bool(result.added) and bool(net.frame["authorized"].any())
    if granting or any("authorized" in f for f in result.changed.values()):
        raise PermissionDenied(
            "admin", "this import grants or revokes authorizations: that needs the 'admin' role"
        )


def _apply(
    conn: Connection,
    net: Network,
    *,
    actor: str,
    reason: str | None,
    allow: bool,
    on_write: Callable[[ImportDiff], None] | None = None,
) -> ImportDiff:
    current = _current(conn)
    result = diff(current, net.frame)
    result.warnings = _notes(net)
    _check_authorization(result, net, allow)
    label = reason or f"import of {net.source}"
    now, today = _now(), date.today()
    if on_write is not None:
        on_write(result)
    new = net.frame.set_index("outlet_id", drop=False)
    known = {str(k): int(v) for k, v in zip(current["outlet_id"], current["version"], strict=True)}
    _insert(conn, new.loc[result.added], actor=actor, reason=reason, label=label)
    for oid, fields in result.changed.items():
        values = {c: _py(new.at[oid, c]) for c in _FIELDS}
        values |= {"status": "open", "closed_on": None, "close_reason": None}
        if "authorized" in fields:
            granted = bool(fields["authorized"][1])
            values |= {"auth_granted": granted, "auth_valid_until": None, "auth_evidence": None}
            conn.execute(
                authorizations.insert().values(
                    outlet_id=oid, granted=granted, at=now, actor=actor, reason=label
                )
            )
        _update(
            conn,
            oid,
            known[oid],
            values,
            fields,
            actor=actor,
            action="import",
            reason=reason,
        )
    for oid in result.closed:
        values = {
            "status": "closed",
            "closed_on": today,
            "close_reason": reason or f"missing from {net.source}",
        }
        fields = {"status": ["open", "closed"]}
        _update(
            conn,
            oid,
            known[oid],
            values,
            fields,
            actor=actor,
            action="close",
            reason=values["close_reason"],
        )
    result.applied = True
    return result


def _update(
    conn: Connection,
    oid: str,
    version: int,
    values: dict,
    fields: dict,
    *,
    actor: str,
    action: str,
    reason: str | None,
) -> None:
    done = conn.execute(
        outlets.update()
        .where(outlets.c.outlet_id == oid, outlets.c.version == version)
        .values(**values, version=version + 1, updated_at=_now())
    )
    if done.rowcount != 1:
        raise StaleVersion(oid, version, version + 1)
    row = conn.execute(sa.select(outlets).where(outlets.c.outlet_id == oid)).one()
    state = {k: _json(row._mapping[k]) for k in _STATE}
    conn.execute(
        versions.insert().values(
            outlet_id=oid,
            version=version + 1,
            at=_now(),
            actor=actor,
            action=action,
            reason=reason,
            changes={k: [_json(a), _json(b)] for k, (a, b) in fields.items()},
            state=state,
        )
    )


def _json(value: Any) -> Any:
    value = _py(value)
    return value.isoformat() if isinstance(value, date) else value


def _insert(
    conn: Connection, frame: pd.DataFrame, *, actor: str, reason: str | None, label: str
) -> None:
    if frame.empty:
        return
    now = _now()
    seq0 = conn.execute(sa.select(sa.func.coalesce(sa.func.max(outlets.c.seq), 0))).scalar_one()
    cols = {c: frame[c].tolist() for c in ("outlet_id", *_FIELDS)}
    granted = frame["authorized"].to_numpy(dtype=bool).tolist()
    rows, vers, auths = [], [], []
    for i in range(len(frame)):
        values = {c: cols[c][i] for c in _FIELDS}
        oid = cols["outlet_id"][i]
        rows.append(
            {
                "outlet_id": oid,
                "seq": seq0 + i + 1,
                **values,
                "auth_granted": granted[i],
                "version": 1,
                "updated_at": now,
                "status": "open",
            }
        )
        state = {k: None for k in _STATE} | values | {"status": "open", "auth_granted": granted[i]}
        changes = {k: [None, v] for k, v in values.items()} | {"authorized": [None, granted[i]]}
        vers.append(
            {
                "outlet_id": oid,
                "version": 1,
                "at": now,
                "actor": actor,
                "action": "create",
                "reason": reason,
                "changes": changes,
                "state": state,
            }
        )
        if granted[i]:
            auths.append(
                {
                    "outlet_id": oid,
                    "granted": True,
                    "at": now,
                    "actor": actor,
                    "reason": label,
                    "evidence": None,
                    "valid_until": None,
                }
            )
    for table, data in ((outlets, rows), (versions, vers), (authorizations, auths)):
        for start in range(0, len(data), _CHUNK):
            try:
                conn.execute(table.insert(), data[start : start + _CHUNK])
            except sa.exc.IntegrityError as err:
                raise Conflict("an outlet id of the import was added meanwhile; retry") from err


# --------------------------------------------------------------------------- export
_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson"}


def export(store: Store, path: Any, *, fmt: str | None = None) -> None:
    """See :meth:`locator.store.Store.export`."""
    from ..outputs import write_csv, write_text, write_xlsx

    kind = fmt or _FORMATS.get(Path(os.fspath(path)).suffix.lower())
    if kind not in ("csv", "xlsx", "geojson"):
        raise ConfigurationError(
            f"cannot tell the export format of {os.fspath(path)!r}: use .csv, .xlsx or "
            ".geojson (or give fmt)"
        )
    frame = store.network().frame
    if kind == "csv":
        write_csv(frame, path)
    elif kind == "xlsx":
        write_xlsx(frame, path)
    else:
        write_text(path, json.dumps(feature_collection(frame), ensure_ascii=False, indent=1))


def feature_collection(frame: pd.DataFrame) -> dict[str, Any]:
    """Outlets as an RFC 7946 FeatureCollection (every column a property, but lat/lon)."""
    props = [c for c in frame.columns if c not in ("lat", "lon")]
    features = []
    for rec in frame.to_dict("records"):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(rec["lon"]), float(rec["lat"])],
                },
                "properties": {c: _py(rec[c]) for c in props},
            }
        )
    return {"type": "FeatureCollection", "features": features}
