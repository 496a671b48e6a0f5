"""API tokens: a random secret shown once, only its SHA-256 stored.

A token is ``loc_`` + :func:`secrets.token_urlsafe` (32 bytes, 256 bits): far too much
entropy to guess, so a plain (unsalted) SHA-256 is enough to make a stolen table
useless, and looking the hash up is constant-time in the secret's content.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import DataError, Problem
from ._types import ROLES, NotFound, Token
from .models import tokens

if TYPE_CHECKING:
    from .core import Store

PREFIX = "loc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token(row: Any) -> Token:
    def utc(v: datetime | None) -> datetime | None:
        return None if v is None else (v.replace(tzinfo=UTC) if v.tzinfo is None else v)

    created = utc(row.created_at)
    assert created is not None
    return Token(row.name, row.role, created, utc(row.revoked_at))


class Tokens:
    """``store.tokens``: create, list, revoke, authenticate."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, name: str, role: str) -> tuple[str, Token]:
        """A new token: ``(secret, Token)``. The secret is not stored: show it once."""
        from .core import Conflict

        problems = []
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                Problem(
                    None,
                    "name",
                    None,
                    "1-64 letters, digits, . _ @ - (starting with a letter or digit)",
                )
            )
        if role not in ROLES:
            problems.append(Problem(None, "role", role, f"expected one of {', '.join(ROLES)}"))
        if problems:
            raise DataError(problems, source="token")
        secret = PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._store._write() as conn:
            if conn.execute(sa.select(tokens.c.name).where(tokens.c.name == name)).first():
                raise Conflict(f"a token named {name!r} exists already (names are never reused)")
            conn.execute(
                tokens.insert().values(
                    name=name, role=role, secret_hash=hash_secret(secret), created_at=now
                )
            )
        return secret, Token(name, role, now, None)

    def list(self) -> list[Token]:
        """Every token, revoked ones included, oldest first (no secrets)."""
        with self._store._read() as conn:
            rows = conn.execute(sa.select(tokens).order_by(tokens.c.created_at)).all()
        return [_token(r) for r in rows]

    def revoke(self, name: str) -> None:
        """Revoke the token ``name`` (kept in the list, never valid again)."""
        with self._store._write() as conn:
            done = conn.execute(
                tokens.update()
                .where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                exists = conn.execute(sa.select(tokens.c.name).where(tokens.c.name == name)).first()
                raise NotFound(
                    f"no active token named {name!r}" + (" (revoked already)" if exists else "")
                )

    def authenticate(self, secret: Any) -> Token | None:
        """The active token whose secret this is, or ``None`` (never raises for bad
        input)."""
        if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        with self._store._read() as conn:
            row = conn.execute(sa.select(tokens).where(tokens.c.secret_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.secret_hash, digest):
            return None
        token = _token(row)
        return token if token.active else None
