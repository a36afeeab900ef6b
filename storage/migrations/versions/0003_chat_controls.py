"""What chats steer from Telegram: paused chats, muted watches, and daily digests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "mutes",
        sa.Column("chat", sa.Text(), primary_key=True),
        sa.Column("watch", sa.Text(), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat", sa.Text(), nullable=False),
        sa.Column("local_date", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("message_ids", sa.Text()),
        sa.UniqueConstraint("chat", "local_date", name="uq_digests_chat_day"),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_table("mutes")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("paused")
