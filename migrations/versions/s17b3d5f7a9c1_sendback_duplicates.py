"""send-back marker and the duplicate-candidate index

Revision ID: s17b3d5f7a9c1
Revises: adm17b2c4e6f8
Create Date: 2026-12-06 04:30:00

``complaint.sent_back_at``: when an agency's liaison last sent the report back to the complaint unit (cleared by
the unit's next disposition), so the unit's inbox finds sent-back reports without reading the event log; a partial
index holds only those rows. ``(tenant_id, category_id, submitted_at)``: the duplicate-candidate lookup
(app.complaints.duplicates) reads one category's reports in a time window. Both plain b-trees, SQLite and
PostgreSQL alike; the table keeps its row-level security.
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models

revision = 's17b3d5f7a9c1'
down_revision = 'adm17b2c4e6f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_back_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_complaint_tenant_category_submitted", "complaint",
                    ["tenant_id", "category_id", "submitted_at"])
    op.create_index("ix_complaint_tenant_sent_back", "complaint", ["tenant_id", "sent_back_at"],
                    postgresql_where=sa.text("sent_back_at IS NOT NULL"),
                    sqlite_where=sa.text("sent_back_at IS NOT NULL"))


def downgrade():
    op.drop_index("ix_complaint_tenant_sent_back", table_name="complaint")
    op.drop_index("ix_complaint_tenant_category_submitted", table_name="complaint")
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('sent_back_at')
