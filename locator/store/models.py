"""The store's tables (SQLAlchemy Core): one model for both backends.

``outlets`` holds the outlet contract's columns (:data:`locator.network.OUTLET_COLUMNS`,
``authorized`` aside: authorization is its own record) plus its state: ``status``
(open/closed, never deleted), ``version`` (bumped by every change, for optimistic
concurrency) and the current authorization (denormalized from ``authorizations`` so a
network loads in one query). On PostgreSQL the migration adds a generated
``geog geography(Point, 4326)`` column with a GiST index (GeoAlchemy2) for other tools
(QGIS, SQL); SQLite has the plain ``lat``/``lon`` columns only, and no query here reads
``geog``.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..network import OUTLET_COLUMNS

metadata = sa.MetaData()

#: Outlet columns stored as text ("" for empty), in the contract's order.
TEXT_COLUMNS = tuple(c for c in OUTLET_COLUMNS if c not in ("lat", "lon", "authorized"))
#: The contract's columns an edit may change (``authorized`` goes through
#: :meth:`locator.store.Store.set_authorization`, with a reason).
EDITABLE = tuple(c for c in OUTLET_COLUMNS if c not in ("outlet_id", "authorized"))


def _text(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="", **kw)  # type: ignore[arg-type]


outlets = sa.Table(
    "outlets",
    metadata,
    sa.Column("outlet_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),  # order of arrival (a file's row order)
    *[_text(c) for c in TEXT_COLUMNS if c != "outlet_id"],
    sa.Column("lat", sa.Double, nullable=False),
    sa.Column("lon", sa.Double, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("close_reason", sa.Text, nullable=True),
    sa.Column("auth_granted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("auth_valid_until", sa.Date, nullable=True),
    sa.Column("auth_evidence", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

#: One row per change of an outlet: nothing is ever lost.
versions = sa.Table(
    "outlet_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("outlet_id", sa.Text, nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("state", sa.JSON, nullable=False),  # the full outlet after this version
    sa.UniqueConstraint("outlet_id", "version", name="uq_outlet_versions_outlet_version"),
)

#: Authorization grants and revokes, oldest first (the current one is also on ``outlets``).
authorizations = sa.Table(
    "authorizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("outlet_id", sa.Text, nullable=False, index=True),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=True),
    sa.Column("valid_until", sa.Date, nullable=True),
)

tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

#: Findings about listings (audit, verify): a shared hotline, a far-from-city claim.
flags = sa.Table(
    "listing_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("phone", sa.Text, nullable=True, index=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("address", sa.Text, nullable=True),
    sa.Column("city", sa.Text, nullable=True),
    sa.Column("outlet_id", sa.Text, nullable=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

#: ``revision``: the global change counter other processes poll.
meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

#: Saved what-if scenarios (:mod:`locator.scenario`): candidates to add and outlet ids
#: to switch off, as JSON. A scenario never changes ``outlets`` (nor the revision).
scenarios = sa.Table(
    "scenarios",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("add", sa.JSON, nullable=False),
    sa.Column("remove", sa.JSON, nullable=False),
    sa.Column("radius_km", sa.Double, nullable=True),
    sa.Column("drive_minutes", sa.Double, nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)
