"""Initial schema: feeds, items, matches and the alerts outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False, unique=True),
        sa.Column("name", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("fetch_url", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("last_polled_at", UTCDateTime()),
        sa.Column("last_status", sa.Text()),
        sa.Column("last_error", sa.Text()),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("first_success_at", UTCDateTime()),
        sa.Column("next_poll_at", UTCDateTime()),
        sa.Column("lease_until", UTCDateTime()),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "feed_id", sa.Integer(), sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("canonical_url", sa.Text()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published_at", UTCDateTime()),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("feed_id", "key", name="uq_items_feed_key"),
    )
    op.create_index("ix_items_fetched_at", "items", ["fetched_at"])
    op.create_index("ix_items_canonical_url", "items", ["canonical_url"])
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("watch", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("matched_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("item_id", "watch", name="uq_matches_item_watch"),
    )
    op.create_index("ix_matches_watch_matched_at", "matches", ["watch", "matched_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("chat", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("message_id", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("chat", "item_id", name="uq_alerts_chat_item"),
    )
    op.create_index("ix_alerts_status_id", "alerts", ["status", "id"])
    op.create_index("ix_alerts_sent_at", "alerts", ["sent_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("matches")
    op.drop_table("items")
    op.drop_table("feeds")
