"""Engines, URLs and migrations: where the store lives and bringing its schema up to date.

The default store is a SQLite file, ``network.db`` in the user data dir (platformdirs;
``$LOCATOR_DATA_DIR`` overrides the dir), so every command works with no set-up.
Migrations are Alembic scripts shipped in the package (``locator/store/migrations``),
run with a programmatic config: an installed wheel migrates with no ``alembic.ini``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import ConfigurationError
from ._types import StoreError

#: The newest migration; a test keeps it equal to Alembic's head.
HEAD = "0002"
ENV_URL = "LOCATOR_DATABASE_URL"
ENV_DIR = "LOCATOR_DATA_DIR"
MIGRATIONS = Path(__file__).with_name("migrations")


def data_dir() -> Path:
    """Where the default store lives: ``$LOCATOR_DATA_DIR`` or the user data dir."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("locator", appauthor=False))


def default_url() -> str:
    """The default store's URL (the SQLite file in :func:`data_dir`)."""
    return f"sqlite:///{data_dir() / 'network.db'}"


def resolve_url(url: str | None) -> tuple[str, bool]:
    """The URL to use (``url``, ``$LOCATOR_DATABASE_URL`` or the default) and whether it
    is the default store."""
    if url:
        return url, False
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL], False
    return default_url(), True


def display_url(url: str | sa.URL) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid database URL>"


def _sqlite_hooks(engine: Engine) -> None:
    """WAL (readers never wait for a writer), a busy timeout, and explicit transactions:
    writes take the lock up front (``BEGIN IMMEDIATE``) so two writers queue instead of
    failing with "database is locked" half-way."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("locator_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite: the file's folder is created)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as err:
        raise ConfigurationError(f"not a database URL: {display_url(url)}") from err
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://..."
        )
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 60})
        _sqlite_hooks(engine)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except ImportError as err:  # pragma: no cover - psycopg is a declared dependency
        raise StoreError(f"no driver for {display_url(parsed)}: {err}") from err


@contextmanager
def write_conn(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (committed on success, rolled back on any
    error, Ctrl-C included)."""
    with engine.connect().execution_options(locator_write=True) as conn, conn.begin():
        yield conn


def schema_version(conn: Connection) -> str | None:
    """The Alembic revision the database is at (``None``: no schema yet)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(conn: Connection, target: str = "head") -> None:
    """Run the migrations up to ``target`` on ``conn`` (inside its transaction)."""
    from alembic import command

    migration_lock(conn)
    command.upgrade(_alembic_config(conn), target)


def migration_lock(conn: Connection) -> None:
    """One migrator at a time (two replicas starting together): on PostgreSQL a
    transaction-scoped advisory lock; SQLite's write transaction (``BEGIN IMMEDIATE``)
    already is one."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7425001)"))


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of the shipped migration scripts (a database migrated
    by a newer locator is at a revision this one does not know)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except CommandError:
        return False


def alembic_head() -> str | None:
    """Alembic's head revision of the shipped scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
