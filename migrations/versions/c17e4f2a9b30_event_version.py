"""complaint events remember the report's version

Revision ID: c17e4f2a9b30
Revises: m16f0110a5e1
Create Date: 2026-12-06 03:00:00

One nullable column on ``complaint_event``: the report's version right after the event (the
``Complaint.version`` counter). A staff form carries the version it was based on, so the conflict page can list
exactly the events recorded since (who changed what, and when). Events recorded before this revision have
none and are never listed there. The table keeps its row-level security and its append-only rule.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c17e4f2a9b30'
down_revision = 'm16f0110a5e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.drop_column('version')
