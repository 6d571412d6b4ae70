"""complaint exports: the register of CSV/XLSX exports and the state of background ones (row-level security)

Revision ID: da17e0c3f5a1
Revises: c17e4f2a9b30
Create Date: 2026-12-06 04:20:00

``complaint_export`` records every export of a region's complaints (who, when, format, filters, how many rows,
whether reporters' identity went in) and, for exports made by a background job, its state, its stored file
and when the file's download link expires. Tenant-owned: row-level security like every tenant table; the
reporting role reads only which region a row belongs to (the filters may hold a search text).
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import disable_rls_sql, enable_rls_sql

revision = 'da17e0c3f5a1'
down_revision = 'c17e4f2a9b30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('include_identity', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('identity_rows', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('finished_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'done', 'failed', 'expired')", name=op.f('ck_complaint_export_status')),
    sa.CheckConstraint("format IN ('csv', 'xlsx')", name=op.f('ck_complaint_export_format')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_complaint_export_tenant_id_user_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_complaint_export_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_export')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_complaint_export_tenant_id_id'))
    )
    with op.batch_alter_table('complaint_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_export_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_complaint_export_tenant_status_expires', ['tenant_id', 'status', 'expires_at'],
                              unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("complaint_export"):
            op.execute(statement)
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            op.execute('REVOKE SELECT ON "complaint_export" FROM lapor_reporting')
            op.execute('GRANT SELECT (id, tenant_id) ON "complaint_export" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("complaint_export"):
            op.execute(statement)
    op.drop_table('complaint_export')
