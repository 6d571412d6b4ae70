"""outbox: a partial index on unprocessed rows instead of the index on dispatched_at

Revision ID: b7d3f2a9c1e4
Revises: a4c2e8f16d3b
Create Date: 2026-12-04 17:05:00

The relay asks only for unprocessed rows (waiting: dispatched_at IS NULL; stuck: dispatched before a
cutoff and still unprocessed). Through ix_outbox_message_dispatched_at (every row) a stuck-row check
read the region's whole dispatched history; the partial index holds only the unprocessed rows, so its
reads no longer grow with history (processed rows are pruned after OUTBOX_RETENTION_DAYS too).
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7d3f2a9c1e4'
down_revision = 'a4c2e8f16d3b'
branch_labels = None
depends_on = None

UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade():
    op.create_index("ix_outbox_message_unprocessed", "outbox_message", ["tenant_id", "dispatched_at"],
                    unique=False, postgresql_where=UNPROCESSED, sqlite_where=UNPROCESSED)
    op.drop_index("ix_outbox_message_dispatched_at", table_name="outbox_message")


def downgrade():
    op.create_index("ix_outbox_message_dispatched_at", "outbox_message", ["dispatched_at"], unique=False)
    op.drop_index("ix_outbox_message_unprocessed", table_name="outbox_message")
