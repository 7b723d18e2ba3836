"""SMS the way operators carry it: the outbox of mobile-terminated messages (parts, states), their
submitted parts (the SMSC's ids that receipts name), and each short number's block list.

Revision ID: 0015_smpp
Revises: 0013_caller_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_smpp"
down_revision = "0013_caller_identity"
branch_labels = None
depends_on = None


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("route", sa.String(8), nullable=False),
        sa.Column("link", sa.String(64), nullable=True),
        sa.Column("encoding", sa.String(8), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("next_attempt_at", utc(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", utc(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
    )
    op.create_index(op.f("ix_sms_outbox_recipient"), "sms_outbox", ["recipient"])
    op.create_index(op.f("ix_sms_outbox_session_id"), "sms_outbox", ["session_id"])
    op.create_index(op.f("ix_sms_outbox_state_next_attempt_at"), "sms_outbox", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_sms_outbox_campaign_id_created_at"), "sms_outbox", ["campaign_id", "created_at"])
    op.create_table(
        "sms_parts",
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("smsc_id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_at", utc(), nullable=False),
        sa.Column("done_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["sms_outbox.id"], name=op.f("fk_sms_parts_message_id_sms_outbox"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "seq", name=op.f("pk_sms_parts")),
    )
    op.create_index(op.f("ix_sms_parts_link_smsc_id"), "sms_parts", ["link", "smsc_id"])
    op.create_table(
        "sms_optouts",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("word", sa.String(32), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("number", "caller", name=op.f("pk_sms_optouts")),
    )


def downgrade() -> None:
    for table in ("sms_optouts", "sms_parts", "sms_outbox"):
        op.drop_table(table)
