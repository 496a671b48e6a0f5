"""Saved what-if scenarios: the ``scenarios`` table behind :meth:`Store.save_scenario`.

A scenario is a plan, not a change: saving one writes only its own row. The outlets,
their versions and the global ``revision`` (which makes every process reload the
network) are never touched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..errors import DataError, Problem
from . import _engine
from ._types import NotFound, StoreError
from .models import scenarios

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..network import Network
    from ..scenario import Scenario
    from .core import Store


@dataclass(frozen=True)
class SavedScenario:
    """A scenario as saved: what it adds and removes, its reach, who saved it, when,
    and ``version`` (1, then +1 per overwrite). :meth:`build` makes it a
    :class:`~locator.scenario.Scenario` on a network (default: the store's)."""

    name: str
    note: str
    add: list[dict[str, Any]] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    radius_km: float | None = None
    drive_minutes: float | None = None
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "note": self.note,
            "add": [dict(c) for c in self.add],
            "remove": list(self.remove),
            "radius_km": self.radius_km,
            "drive_minutes": self.drive_minutes,
            "created_by": self.created_by,
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "version": self.version,
        }

    def build(self, network: Network | pd.DataFrame) -> Scenario:
        """The scenario on ``network`` (an outlet it removes that is no longer open
        is a DataError naming it)."""
        from ..scenario import Scenario

        return Scenario(
            network,
            add=self.add,
            remove=self.remove,
            name=self.name,
            note=self.note,
            radius_km=self.radius_km,
            drive_minutes=self.drive_minutes,
        )


def _texts(data: Mapping[str, Any], actor: str) -> None:
    from .core import checked_text

    values: dict[str, Any] = {"actor": actor, "name": data["name"], "note": data["note"]}
    for i, cand in enumerate(data["add"], start=1):
        for k, v in cand.items():
            if isinstance(v, str):
                values[f"add[{i}].{k}"] = v
    for i, oid in enumerate(data["remove"], start=1):
        values[f"remove[{i}]"] = oid
    checked_text(**values)
    if not str(actor).strip():
        raise DataError([Problem(None, "actor", None, "who saves the scenario is required")])


def _reach(value: Any, name: str) -> float | None:
    if value is None:
        return None
    out = float(value)
    if not math.isfinite(out) or out <= 0:
        raise DataError([Problem(None, name, value, "must be a positive number")])
    return out


def _row(r: sa.Row[Any]) -> SavedScenario:
    from .core import _utc

    return SavedScenario(
        name=r.name,
        note=r.note,
        add=[dict(c) for c in r.add],
        remove=[str(x) for x in r.remove],
        radius_km=r.radius_km,
        drive_minutes=r.drive_minutes,
        created_by=r.created_by,
        created_at=_utc(r.created_at),
        updated_at=_utc(r.updated_at),
        version=int(r.version),
    )


def save(
    store: Store, scenario: Scenario | Mapping[str, Any], *, actor: str, overwrite: bool
) -> SavedScenario:
    from ..scenario import check_name
    from .core import Conflict, _now

    data = dict(scenario.to_dict() if hasattr(scenario, "to_dict") else scenario)
    data.setdefault("note", "")
    data.setdefault("add", [])
    data.setdefault("remove", [])
    check_name(data.get("name"), "scenario name")
    _texts(data, actor)
    radius = _reach(data.get("radius_km"), "radius_km")
    minutes = _reach(data.get("drive_minutes"), "drive_minutes")
    values = {
        "note": str(data["note"] or ""),
        "add": [dict(c) for c in data["add"]],
        "remove": [str(x) for x in data["remove"]],
        "radius_km": radius,
        "drive_minutes": minutes,
    }
    now = _now()
    name = str(data["name"])
    try:
        # Its own transaction, not Store._write: no revision bump, no listener call.
        with _engine.write_conn(store.engine) as conn:
            old = conn.execute(
                sa.select(scenarios.c.version).where(scenarios.c.name == name)
            ).scalar()
            if old is not None and not overwrite:
                raise Conflict(f"a scenario named {name!r} exists; overwrite it or choose another")
            if old is None:
                conn.execute(
                    scenarios.insert().values(
                        name=name, created_by=actor, created_at=now, updated_at=now, version=1,
                        **values,
                    )
                )  # fmt: skip
            else:
                conn.execute(
                    scenarios.update()
                    .where(scenarios.c.name == name)
                    .values(updated_at=now, version=scenarios.c.version + 1, **values)
                )
    except IntegrityError as err:  # another writer created it meanwhile
        raise Conflict(f"a scenario named {name!r} exists; overwrite it or choose another") from err
    return get(store, name)


def get(store: Store, name: str) -> SavedScenario:
    with store._read() as conn:
        r = conn.execute(sa.select(scenarios).where(scenarios.c.name == str(name))).first()
    if r is None:
        raise NotFound(f"no scenario named {name!r} in the store")
    return _row(r)


def listing(store: Store) -> list[SavedScenario]:
    try:
        with store._read() as conn:
            rows = conn.execute(sa.select(scenarios).order_by(scenarios.c.name)).all()
    except sa.exc.OperationalError as err:  # pragma: no cover - schema checked at open
        raise StoreError(f"cannot read scenarios: {err}") from err
    return [_row(r) for r in rows]


def delete(store: Store, name: str) -> None:
    with _engine.write_conn(store.engine) as conn:
        done = conn.execute(scenarios.delete().where(scenarios.c.name == str(name))).rowcount
    if not done:
        raise NotFound(f"no scenario named {name!r} in the store")
