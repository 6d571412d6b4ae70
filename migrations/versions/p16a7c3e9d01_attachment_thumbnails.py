"""attachment thumbnails: a small WebP copy of each photo

Revision ID: p16a7c3e9d01
Revises: n16a4c2e9b7d1
Create Date: 2026-12-06 02:00:00

Three nullable columns on ``attachment``: the storage key of the thumbnail (in the same tenant folder
as the original) and its pixel size, so pages can set ``width``/``height`` on the ``<img>``. Photos
stored before this revision get their thumbnails from ``flask storage thumbnails`` (idempotent); until
then the pages show the plain link. The table keeps its row-level security (no new table).
"""
import sqlalchemy as sa
from alembic import op

revision = 'p16a7c3e9d01'
down_revision = 'n16a4c2e9b7d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumb_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('thumb_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('thumb_height', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('thumb_height')
        batch_op.drop_column('thumb_width')
        batch_op.drop_column('thumb_key')
