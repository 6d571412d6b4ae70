"""stored duplicate-candidate pairs (row-level security)

Revision ID: du17c4a8e2b6
Revises: s17b3d5f7a9c1
Create Date: 2026-12-06 05:40:00

``duplicate_candidate`` holds each open report's duplicate candidates as found by the ``duplicates.scan`` job
(app.complaints.duplicate_pairs), both ways round, so the inbox filter "possible duplicates" is one index read per
report instead of the candidate test against the whole region. Tenant-owned: row-level security like every tenant
table; the reporting role reads only which region a row belongs to. Existing reports: ``flask duplicates scan``.
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import disable_rls_sql, enable_rls_sql

revision = 'du17c4a8e2b6'
down_revision = 's17b3d5f7a9c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('found_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaint.tenant_id', 'complaint.id'], name=op.f('fk_duplicate_candidate_tenant_id_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'other_id'], ['complaint.tenant_id', 'complaint.id'], name=op.f('fk_duplicate_candidate_tenant_id_other_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_duplicate_candidate_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidate')),
    sa.UniqueConstraint('tenant_id', 'complaint_id', 'other_id', name=op.f('uq_duplicate_candidate_tenant_id_complaint_id_other_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_duplicate_candidate_tenant_id_id'))
    )
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_candidate_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_duplicate_candidate_tenant_other', ['tenant_id', 'other_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("duplicate_candidate"):
            op.execute(statement)
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            op.execute('REVOKE SELECT ON "duplicate_candidate" FROM lapor_reporting')
            op.execute('GRANT SELECT (id, tenant_id) ON "duplicate_candidate" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("duplicate_candidate"):
            op.execute(statement)
    op.drop_table('duplicate_candidate')
