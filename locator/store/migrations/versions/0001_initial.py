"""The network store: outlets, their versions, authorizations, tokens, flags, revision.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The outlet contract's text columns as of this migration (a later change of the
# contract gets its own migration).
_TEXT = ("name", "kind", "province", "city", "district", "address",
         "phone", "hours", "categories", "coord_sys")  # fmt: skip


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def upgrade() -> None:
    postgis = op.get_bind().dialect.name == "postgresql"
    if postgis:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "outlets",
        sa.Column("outlet_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        *[_text(c) for c in _TEXT],
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
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_outlets_status"),
    )
    if postgis:
        from geoalchemy2 import Geography

        # Derived from lat/lon by the database itself, so it can never disagree with
        # them, whoever writes (this package, QGIS, SQL).
        op.add_column(
            "outlets",
            sa.Column(
                "geog",
                Geography("POINT", srid=4326, spatial_index=False),
                sa.Computed("ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography", persisted=True),
            ),
        )
        op.create_index("ix_outlets_geog", "outlets", ["geog"], postgresql_using="gist")
    op.create_table(
        "outlet_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outlet_id", sa.Text, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.UniqueConstraint("outlet_id", "version", name="uq_outlet_versions_outlet_version"),
    )
    op.create_table(
        "authorizations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outlet_id", sa.Text, nullable=False, index=True),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("valid_until", sa.Date, nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "listing_flags",
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
    meta = op.create_table(
        "store_meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "revision", "value": 0}])


def downgrade() -> None:
    for table in ("store_meta", "listing_flags", "api_tokens", "authorizations",
                  "outlet_versions", "outlets"):  # fmt: skip
        op.drop_table(table)
