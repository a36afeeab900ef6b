"""Chat state: whether a Telegram chat can be reached, and why not.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("chat", sa.Text(), primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chats")
