"""One alert per chat and story: alerts carry their story's key.

A story is, for now, all items with the same canonical URL (``url:<canonical>``);
an item without one is its own story (``item:<id>``). Existing alerts become
their item's own story, so nothing already sent is touched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("story", sa.Text()))
    op.execute("UPDATE alerts SET story = 'item:' || item_id WHERE story IS NULL")
    op.create_index("uq_alerts_chat_story", "alerts", ["chat", "story"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_alerts_chat_story", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("story")
