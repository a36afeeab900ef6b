"""Stories: every item belongs to one, and a chat gets one alert per story.

A story's id is the id of its first item. Until now a story was all items with
the same canonical URL (alerts carried ``url:<canonical>`` or ``item:<id>``);
the upgrade gives each such group the id of its oldest item, and each alert the
story id of its item, so the one-alert-per-story rule holds across the change
and nothing already sent is alerted again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer()))
    op.execute(
        "UPDATE items SET story_id = (SELECT min(other.id) FROM items AS other"
        " WHERE other.canonical_url = items.canonical_url) WHERE canonical_url IS NOT NULL"
    )
    op.execute("UPDATE items SET story_id = id WHERE story_id IS NULL")
    op.create_index("ix_items_story_id", "items", ["story_id"])
    op.drop_index("uq_alerts_chat_story", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("story_id", sa.Integer()))
        batch.drop_column("story")
    op.execute(
        "UPDATE alerts SET story_id = (SELECT items.story_id FROM items"
        " WHERE items.id = alerts.item_id)"
    )
    op.create_index("uq_alerts_chat_story", "alerts", ["chat", "story_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_alerts_chat_story", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("story", sa.Text()))
        batch.drop_column("story_id")
    op.execute("UPDATE alerts SET story = 'item:' || item_id")
    op.create_index("uq_alerts_chat_story", "alerts", ["chat", "story"], unique=True)
    op.drop_index("ix_items_story_id", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("story_id")
