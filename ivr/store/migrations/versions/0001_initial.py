"""The initial schema: tenants, keys, campaigns, dialplan versions, numbers, calls and their outcomes.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("revoked_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_index(op.f("ix_api_keys_tenant_id"), "api_keys", ["tenant_id"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_campaigns_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_tenant_id"), "campaigns", ["tenant_id"])
    op.create_table(
        "dialplan_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_dialplan_versions_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialplan_versions")),
        sa.UniqueConstraint("campaign_id", "version", name=op.f("uq_dialplan_versions_campaign_id_version")),
    )
    op.create_table(
        "short_numbers",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("assigned_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_short_numbers_campaign_id_campaigns"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_short_numbers_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_short_numbers")),
    )
    op.create_index(op.f("ix_short_numbers_tenant_id"), "short_numbers", ["tenant_id"])
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("answered_at", utc(), nullable=True),
        sa.Column("ended_at", utc(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("disposition", sa.String(32), nullable=True),
        sa.Column("cause", sa.String(64), nullable=True),
        sa.Column("path", sa.JSON(), nullable=True),
        sa.Column("last_node", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_caller"), "calls", ["caller"])
    op.create_index(op.f("ix_calls_campaign_id_started_at"), "calls", ["campaign_id", "started_at"])
    op.create_index(op.f("ix_calls_number"), "calls", ["number"])
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])
    op.create_table(
        "call_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
    )
    op.create_index(op.f("ix_call_events_call_id_at_seq"), "call_events", ["call_id", "at", "seq"])
    op.create_index(op.f("ix_call_events_kind_call_id"), "call_events", ["kind", "call_id"])
    op.create_table(
        "outcomes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    op.create_index(op.f("ix_outcomes_call_id"), "outcomes", ["call_id"])
    op.create_index(op.f("ix_outcomes_campaign_id_kind_name"), "outcomes", ["campaign_id", "kind", "name"])
    op.create_table(
        "votes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("window_key", sa.String(32), nullable=False),
        sa.Column("choice", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint("campaign_id", "name", "caller", "window_key",
                            name=op.f("uq_votes_campaign_id_name_caller_window_key")),
    )
    op.create_table(
        "promo_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("pool", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("redeemed_by", sa.String(64), nullable=True),
        sa.Column("redeemed_at", utc(), nullable=True),
        sa.Column("call_id", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        sa.UniqueConstraint("campaign_id", "pool", "code", name=op.f("uq_promo_codes_campaign_id_pool_code")),
    )
    op.create_table(
        "sms_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.Column("due_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_sessions")),
        sa.UniqueConstraint("number", "caller", name=op.f("uq_sms_sessions_number_caller")),
    )
    op.create_index(op.f("ix_sms_sessions_due_at"), "sms_sessions", ["due_at"])
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sms_messages_message_id")),
    )
    op.create_index(op.f("ix_sms_messages_session_id"), "sms_messages", ["session_id"])


def downgrade() -> None:
    for table in ("sms_messages", "sms_sessions", "promo_codes", "votes", "outcomes", "call_events", "calls",
                  "short_numbers", "dialplan_versions", "campaigns", "api_keys", "tenants"):
        op.drop_table(table)
