"""Caller identity and campaign listings: the raw caller id the network sent beside the normalised one (calls,
SMS messages), and each dialplan version's name and short numbers, so listings never parse sources.

Revision ID: 0013_caller_identity
Revises: 0021_diagram
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_caller_identity"
down_revision = "0021_diagram"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("caller_raw", sa.String(128), nullable=True))
    with op.batch_alter_table("sms_messages") as batch:
        batch.add_column(sa.Column("caller_raw", sa.String(128), nullable=True))
    with op.batch_alter_table("dialplan_versions") as batch:
        batch.add_column(sa.Column("name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("voice_numbers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sms_numbers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialplan_versions") as batch:
        batch.drop_column("sms_numbers")
        batch.drop_column("voice_numbers")
        batch.drop_column("name")
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_column("caller_raw")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("caller_raw")
