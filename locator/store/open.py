"""Opening a store: :func:`open_store` (migrate and seed on first use)."""

from __future__ import annotations

import sqlalchemy as sa

from . import _engine
from ._engine import default_url
from ._types import StoreError
from .core import Store

__all__ = ["default_url", "open_store"]


def open_store(
    url: str | None = None, *, seed: bool | None = None, upgrade: bool | None = None
) -> Store:
    """The store at ``url`` (or ``$LOCATOR_DATABASE_URL``, or the default SQLite file in
    the user data dir; ``$LOCATOR_DATA_DIR`` overrides the dir).

    A database with no schema yet is migrated, and seeded with the bundled *synthetic*
    sample when ``seed`` (default: only for the default file, so that every command
    works with no set-up; a production database starts empty and is filled with
    ``locator db import``). An existing database behind the code is upgraded when
    ``upgrade`` (default: only the default file); otherwise :class:`StoreError` says to
    run ``locator db upgrade``.
    """
    resolved, is_default = _engine.resolve_url(url)
    engine = _engine.make_engine(resolved)
    store = Store(engine, url=resolved)
    shown = store.url_for_display
    try:
        with engine.connect() as conn:
            current = _engine.schema_version(conn)
        if current != _engine.HEAD:
            _migrate(store, current, seed=is_default if seed is None else seed,
                     upgrade=is_default if upgrade is None else upgrade)  # fmt: skip
    except sa.exc.OperationalError as err:
        engine.dispose()
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        raise StoreError(f"cannot open the database {shown}: {reason}") from None
    return store


def _migrate(store: Store, current: str | None, *, seed: bool, upgrade: bool) -> None:
    if current is not None and not upgrade:
        raise StoreError(
            f"the database {store.url_for_display} is at schema {current}, this locator "
            f"needs {_engine.HEAD}: run `locator db upgrade`"
        )
    with _engine.write_conn(store.engine) as conn:
        _engine.migration_lock(conn)
        current = _engine.schema_version(conn)  # again, under the lock: one migrator
        if current == _engine.HEAD:
            return
        fresh = current is None
        _engine.upgrade(conn)
        if fresh and seed:
            from ..data import load_network
            from ._import import run_import

            run_import(store, load_network(), actor="seed", reason="bundled synthetic sample",
                       dry_run=False, allow_authorization=True, conn=conn)  # fmt: skip


def upgrade_store(url: str | None = None) -> tuple[str | None, str]:
    """Bring the database at ``url`` to the newest schema: ``(before, after)``."""
    resolved, _ = _engine.resolve_url(url)
    engine = _engine.make_engine(resolved)
    try:
        with _engine.write_conn(engine) as conn:
            _engine.migration_lock(conn)
            before = _engine.schema_version(conn)
            if before != _engine.HEAD:
                _engine.upgrade(conn)
        return before, _engine.HEAD
    finally:
        engine.dispose()
