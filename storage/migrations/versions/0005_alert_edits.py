"""Alerts that grow: when another outlet joins a story a chat was alerted about,
the alert is edited in place ("also reported by").

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("grown_at", UTCDateTime()))  # the story last gained an item
        batch.add_column(sa.Column("edited_at", UTCDateTime()))  # the message last edited


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("grown_at")
