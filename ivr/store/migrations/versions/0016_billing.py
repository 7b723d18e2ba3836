"""Short numbers, tariffs and money: the number inventory, leases, tariffs and charges.

Numbers a tenant already held (short_numbers) enter the inventory as regular numbers on both channels
without a fee, leased to that tenant from the day they were assigned, so what answered before the
upgrade still answers after it.

Revision ID: 0016_billing
Revises: 0017_campaigns_scale
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0016_billing"
down_revision = "0017_campaigns_scale"
branch_labels = None
depends_on = None

KYIV = ZoneInfo("Europe/Kyiv")


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    numbers = op.create_table(
        "numbers",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("class", sa.String(8), nullable=False),
        sa.Column("channels", sa.String(8), nullable=False),
        sa.Column("monthly_fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("added_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_numbers")),
    )
    leases = op.create_table(
        "number_leases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("channels", sa.String(8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(["number"], ["numbers.number"], name=op.f("fk_number_leases_number_numbers")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_number_leases_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_leases")),
    )
    op.create_index(op.f("ix_number_leases_tenant_id"), "number_leases", ["tenant_id"])
    op.create_index(op.f("ix_number_leases_number_starts_on"), "number_leases", ["number", "starts_on"])
    op.create_table(
        "tariffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("outbound_cost", sa.BigInteger(), nullable=False),
        sa.Column("increment", sa.Integer(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("valid_from", utc(), nullable=False),
        sa.Column("valid_until", utc(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tariffs_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
    )
    op.create_index(op.f("ix_tariffs_tenant_id_number_channel"), "tariffs", ["tenant_id", "number", "channel"])
    op.create_index(op.f("ix_tariffs_campaign_id_channel"), "tariffs", ["campaign_id", "channel"])
    op.create_table(
        "charges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(300), nullable=False),
        sa.Column("item", sa.String(24), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("share", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("event_key", name=op.f("uq_charges_event_key")),
    )
    op.create_index(op.f("ix_charges_tenant_id_at"), "charges", ["tenant_id", "at"])
    op.create_index(op.f("ix_charges_campaign_id_at"), "charges", ["campaign_id", "at"])

    held = op.get_bind().execute(sa.text("SELECT number, tenant_id, assigned_at FROM short_numbers")).all()
    now = datetime.now(timezone.utc)
    if held:
        op.bulk_insert(numbers, [{"number": n, "class": "regular", "channels": "both", "monthly_fee": 0,
                                  "currency": "UAH", "added_at": now} for n, _, _ in held])
        op.bulk_insert(leases, [{"number": n, "tenant_id": t, "channels": "both", "starts_on": _day(at),
                                 "ends_on": None, "created_at": now} for n, t, at in held])


def _day(at: object):
    """The Kyiv day of a stored time (SQLite hands back naive UTC text)."""
    value = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(KYIV).date()


def downgrade() -> None:
    for table in ("charges", "tariffs", "number_leases", "numbers"):
        op.drop_table(table)
