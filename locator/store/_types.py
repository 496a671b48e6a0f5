"""The store's errors and value objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import LocatorError

#: Roles, least to most: each allows what the ones before it do.
ROLES = ("viewer", "editor", "admin")


class StoreError(LocatorError, RuntimeError):
    """The store cannot do what was asked (unreachable database, schema too old ...)."""


class NotFound(StoreError, LookupError):
    """No outlet (or token) by that name."""


class StaleVersion(StoreError):
    """The outlet changed since the version the caller read (HTTP 412): nothing written.

    ``current`` is the version now in the store, ``expected`` the one given."""

    def __init__(self, outlet_id: str, expected: int, current: int) -> None:
        self.outlet_id, self.expected, self.current = outlet_id, expected, current
        super().__init__(
            f"outlet {outlet_id!r} is at version {current}, not {expected}: "
            "someone changed it since you read it; reload and try again"
        )


class PermissionDenied(StoreError, PermissionError):
    """A token's role does not allow the action; ``required`` is the role needed."""

    def __init__(self, required: str, message: str | None = None) -> None:
        self.required = required
        super().__init__(message or f"this needs the {required!r} role")


def role_allows(role: str, required: str) -> bool:
    """Whether ``role`` may do what ``required`` may (viewer < editor < admin)."""
    return ROLES.index(role) >= ROLES.index(required)


@dataclass(frozen=True)
class Token:
    """An API token as listed (never the secret)."""

    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, required: str) -> bool:
        """Whether this token's role may do what ``required`` may."""
        return self.active and role_allows(self.role, required)

    def require(self, required: str) -> None:
        """Raise :class:`PermissionDenied` unless :meth:`allows`."""
        if not self.allows(required):
            raise PermissionDenied(required)


@dataclass(frozen=True)
class Version:
    """One change of an outlet: ``changes`` is ``{field: [old, new]}``."""

    outlet_id: str
    version: int
    at: datetime
    actor: str
    action: str
    reason: str | None
    changes: dict[str, list[Any]]
    state: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class ImportDiff:
    """What an import changes (or, for a dry run, would change).

    ``added``: new outlet ids; ``changed``: ``{outlet_id: {field: [old, new]}}``;
    ``closed``: open outlets in the store missing from the file (closed, not deleted);
    ``unchanged``: how many rows match the store. ``applied`` is False for a dry run."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    unchanged: int = 0
    applied: bool = False
    #: Notes for the user: the contract's warnings, columns the store does not keep.
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.closed)

    def lines(self, limit: int | None = None) -> list[str]:
        """The diff as text lines (added, changed field by field ``old -> new``, closed)."""
        out = [
            f"{len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.closed)} closed, {self.unchanged} unchanged"
        ]
        out += [f"+ {oid}" for oid in self.added[:limit]]
        for oid, fields in list(self.changed.items())[:limit]:
            out.append(f"~ {oid}")
            out += [f"    {f}: {old!r} -> {new!r}" for f, (old, new) in fields.items()]
        out += [f"- {oid} (closed)" for oid in self.closed[:limit]]
        return out
