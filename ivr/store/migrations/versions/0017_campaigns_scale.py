"""Campaigns at scale: lifecycle columns, code pools with their imports and codes, winner draws.

Revision ID: 0017_campaigns_scale
Revises: 0015_smpp
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_campaigns_scale"
down_revision = "0015_smpp"
branch_labels = None
depends_on = None

LIFECYCLE = ("live_at", "paused_at", "ends_at", "archived_at")


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    for column in LIFECYCLE:
        op.add_column("campaigns", sa.Column(column, utc(), nullable=True))
    # campaigns in service before this revision went live at their creation, as far as anyone can tell
    op.execute("UPDATE campaigns SET live_at = created_at WHERE active_version IS NOT NULL")
    op.create_table(
        "code_pools",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_code_pools_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_pools")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_code_pools_tenant_id_name")),
    )
    op.create_table(
        "code_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("bytes_total", sa.Integer(), nullable=False),
        sa.Column("bytes_read", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("heartbeat_at", utc(), nullable=False),
        sa.Column("finished_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["pool_id"], ["code_pools.id"], name=op.f("fk_code_imports_pool_id_code_pools"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_imports")),
    )
    op.create_index(op.f("ix_code_imports_pool_id"), "code_imports", ["pool_id"])
    op.create_table(
        "pool_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("redeemed_by", sa.String(64), nullable=True),
        sa.Column("redeemed_at", utc(), nullable=True),
        sa.Column("call_id", sa.String(255), nullable=True),
        sa.Column("issued_to", sa.String(64), nullable=True),
        sa.Column("issued_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_codes")),
        sa.UniqueConstraint("pool_id", "code", name=op.f("uq_pool_codes_pool_id_code")),
        sa.UniqueConstraint("pool_id", "issued_to", name=op.f("uq_pool_codes_pool_id_issued_to")),
    )
    op.create_index("ix_pool_codes_redeemed", "pool_codes", ["pool_id"], sqlite_where=sa.text("redeemed_at IS NOT NULL"),
                    postgresql_where=sa.text("redeemed_at IS NOT NULL"))
    op.create_table(
        "draws",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("callers", sa.Integer(), nullable=False),
        sa.Column("entries_sha256", sa.String(64), nullable=False),
        sa.Column("frozen_at", utc(), nullable=False),
        sa.Column("winners_wanted", sa.Integer(), nullable=True),
        sa.Column("seed", sa.Text(), nullable=True),
        sa.Column("drawn_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_draws_campaign_id_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draws")),
    )
    op.create_index(op.f("ix_draws_campaign_id"), "draws", ["campaign_id"])
    op.create_table(
        "draw_entries",
        sa.Column("draw_id", sa.String(32), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.Column("outcome_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name=op.f("fk_draw_entries_draw_id_draws"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("draw_id", "entry", name=op.f("pk_draw_entries")),
    )
    op.create_table(
        "draw_winners",
        sa.Column("draw_id", sa.String(32), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("entry", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name=op.f("fk_draw_winners_draw_id_draws"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("draw_id", "place", name=op.f("pk_draw_winners")),
    )


def downgrade() -> None:
    for table in ("draw_winners", "draw_entries", "draws", "pool_codes", "code_imports", "code_pools"):
        op.drop_table(table)
    with op.batch_alter_table("campaigns") as batch:
        for column in LIFECYCLE:
            batch.drop_column(column)
