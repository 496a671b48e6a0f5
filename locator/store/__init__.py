"""The network of record: outlets in a database (SQLite by default, PostgreSQL +
PostGIS in production), with full history, authorizations, tokens and a revision
counter for live refresh.

>>> from locator.store import open_store                     # doctest: +SKIP
>>> store = open_store()          # $LOCATOR_DATABASE_URL or the default SQLite file
>>> network = store.network()     # open outlets, authorized as of today

See :class:`Store` for the operations. The in-memory
:class:`~locator.index.OutletIndex` stays the query engine (:class:`LiveNetwork` keeps
one up to date); the database is the source of truth.
"""

from __future__ import annotations

from ._types import (
    ROLES,
    ImportDiff,
    NotFound,
    PermissionDenied,
    StaleVersion,
    StoreError,
    Token,
    Version,
    role_allows,
)
from .core import Conflict, Store
from .live import LiveNetwork
from .open import default_url, open_store
from .scenarios import SavedScenario

__all__ = [
    "ROLES",
    "Conflict",
    "ImportDiff",
    "LiveNetwork",
    "NotFound",
    "PermissionDenied",
    "SavedScenario",
    "StaleVersion",
    "Store",
    "StoreError",
    "Token",
    "Version",
    "default_url",
    "open_store",
    "role_allows",
]
