"""Saved what-if scenarios (issue #15 §4).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
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


def downgrade() -> None:
    op.drop_table("scenarios")
