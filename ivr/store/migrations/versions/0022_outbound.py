"""Outbound campaigns: voice and SMS from a short number to an audience, and the queue of their attempts.

Revision ID: 0022_outbound
Revises: 0016_billing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_outbound"
down_revision = "0016_billing"
branch_labels = None
depends_on = None


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbound_campaigns",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("concurrent", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("hours_start", sa.Integer(), nullable=False),
        sa.Column("hours_end", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_seconds", sa.Integer(), nullable=False),
        sa.Column("next_slot_at", utc(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("started_at", utc(), nullable=True),
        sa.Column("finished_at", utc(), nullable=True),
        sa.Column("updated_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_outbound_campaigns_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_campaigns")),
    )
    op.create_index(op.f("ix_outbound_campaigns_tenant_id"), "outbound_campaigns", ["tenant_id"])
    op.create_table(
        "outbound_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("outbound_id", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", utc(), nullable=True),
        sa.Column("call_id", sa.String(255), nullable=True),
        sa.Column("updated_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["outbound_id"], ["outbound_campaigns.id"],
                                name=op.f("fk_outbound_contacts_outbound_id_outbound_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_contacts")),
        sa.UniqueConstraint("outbound_id", "recipient", name=op.f("uq_outbound_contacts_outbound_id_recipient")),
    )
    op.create_index(op.f("ix_outbound_contacts_outbound_id_state_next_attempt_at"), "outbound_contacts",
                    ["outbound_id", "state", "next_attempt_at"])
    op.add_column("calls", sa.Column("direction", sa.String(8), nullable=False, server_default="inbound"))


def downgrade() -> None:
    op.drop_column("calls", "direction")
    op.drop_index(op.f("ix_outbound_contacts_outbound_id_state_next_attempt_at"), table_name="outbound_contacts")
    op.drop_table("outbound_contacts")
    op.drop_index(op.f("ix_outbound_campaigns_tenant_id"), table_name="outbound_campaigns")
    op.drop_table("outbound_campaigns")
