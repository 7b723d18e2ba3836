"""The audit log (who changed what), and the indexes the operator's node page reads by: recent events of
one kind (failed webhooks) and SMS per minute.

Revision ID: 0021_diagram
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_diagram"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.String(16), nullable=True),
        sa.Column("actor_tenant_id", sa.String(32), nullable=True),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_name", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=True),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_tenant_id"), "audit_log", ["tenant_id"])
    op.create_index(op.f("ix_call_events_kind_at"), "call_events", ["kind", "at"])
    op.create_index(op.f("ix_sms_messages_at"), "sms_messages", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sms_messages_at"), "sms_messages")
    op.drop_index(op.f("ix_call_events_kind_at"), "call_events")
    op.drop_table("audit_log")
