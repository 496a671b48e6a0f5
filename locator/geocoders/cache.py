"""A persistent geocoding cache: SQLite, keyed on the service and the normalized query.

One row per (service, key) holding the JSON list of results already converted to
WGS-84; an empty list records "not found" (so a miss is not asked again). Failures are
never cached. The file is created owner-only (0600; its directory 0700 when the cache
creates it), and holds queries and answers only, never an API key. It lives in the
user's cache directory (``platformdirs.user_cache_dir("locator")/geocode.sqlite``)
unless ``path`` or the ``LOCATOR_GEOCODE_CACHE`` environment variable says otherwise.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

__all__ = ["ENV_CACHE", "GeocodeCache", "default_cache_path", "normalize_key"]

ENV_CACHE = "LOCATOR_GEOCODE_CACHE"


def default_cache_path() -> Path:
    """``$LOCATOR_GEOCODE_CACHE``, else ``<user cache dir>/locator/geocode.sqlite``."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("locator", appauthor=False)) / "geocode.sqlite"


def normalize_key(query: str, **params: Any) -> str:
    """The cache key: NFKC, whitespace collapsed, case-folded query + sorted parameters.

    ``"  北京市　朝阳区 "`` and ``"北京市 朝阳区"`` share a key; ``"Xi'an"`` and ``"XI'AN"`` too.
    """
    text = " ".join(unicodedata.normalize("NFKC", query).split()).casefold()
    extra = {k: v for k, v in sorted(params.items()) if v is not None}
    if not extra:
        return text
    return text + "\x1f" + json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str)


def _create_private(path: Path) -> None:
    """Create the cache file owner-only (0600) before SQLite opens it, and its
    directory 0700 if it does not exist: the file holds every address looked up.
    SQLite gives its ``-wal``/``-shm`` files the database file's permissions."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


class GeocodeCache:
    """SQLite-backed cache of geocoding results (safe to share between threads)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path) if path is not None else str(default_cache_path())
        if self.path != ":memory:":
            _create_private(Path(self.path))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        with self._lock, self._db:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS results (service TEXT NOT NULL, key TEXT NOT NULL,"
                " value TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (service, key))"
            )

    def get(self, service: str, key: str) -> list[dict[str, Any]] | None:
        """Cached results (``[]`` = cached "not found"), or ``None`` when not cached."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM results WHERE service = ? AND key = ?", (service, key)
            ).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None

    def put(self, service: str, key: str, value: list[dict[str, Any]]) -> None:
        """Store results for (service, key), replacing what was there."""
        text = json.dumps(value, ensure_ascii=False, default=str)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO results (service, key, value, created) VALUES (?,?,?,?)",
                (service, key, text, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def clear(self, service: str | None = None) -> None:
        """Forget everything (or one service's results)."""
        with self._lock, self._db:
            if service is None:
                self._db.execute("DELETE FROM results")
            else:
                self._db.execute("DELETE FROM results WHERE service = ?", (service,))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> GeocodeCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
