"""nearby: index on (tenant_id, status, latitude, longitude) for "is this already reported?"

Revision ID: n16a4c2e9b7d1
Revises: c5e1a7d3f9b2
Create Date: 2026-12-06 02:00:00

The report form asks for open public reports near a point (app.complaints.nearby). The lookup reads a
bounding box around the point: with the status (three open public ones) and the latitude as seek
columns and the longitude checked inside the index, PostgreSQL reads only the index entries of the
region's open reports in the latitude band and fetches the few rows also inside the longitude band
(EXPLAIN in README, "Is this already reported?"). A plain b-tree: SQLite uses it the same way.
"""
from alembic import op

revision = 'n16a4c2e9b7d1'
down_revision = 'c5e1a7d3f9b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_complaint_tenant_status_geo", "complaint",
                    ["tenant_id", "status", "latitude", "longitude"])


def downgrade():
    op.drop_index("ix_complaint_tenant_status_geo", table_name="complaint")
