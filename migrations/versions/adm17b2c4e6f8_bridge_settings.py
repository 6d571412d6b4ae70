"""SP4N-LAPOR! bridge settings set by the region administrator (row-level security, token encrypted)

Revision ID: adm17b2c4e6f8
Revises: re17b3d5f7a9
Create Date: 2026-12-06 04:30:00

One row per region: switched on or off, base URL, the token (a Fernet token of ``SECRETS_KEY``, never
plaintext), the last periodic pull and the last "test connection", and the latest errors. Unset values fall
back to ``tenant.toml`` and the environment, as before. The reporting role sees which region a row belongs to,
nothing else.
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import disable_rls_sql, enable_rls_sql

revision = 'adm17b2c4e6f8'
down_revision = 're17b3d5f7a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bridge_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=True),
    sa.Column('base_url', sa.String(length=500), nullable=True),
    sa.Column('token', sa.String(length=255), nullable=True),
    sa.Column('token_hint', sa.String(length=8), nullable=False),
    sa.Column('updated_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('last_sync_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sync_counts', sa.JSON(), nullable=False),
    sa.Column('last_test_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_test_ok', sa.Boolean(), nullable=True),
    sa.Column('last_test_message', sa.String(length=300), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'updated_by_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_bridge_settings_tenant_id_updated_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_bridge_settings_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bridge_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_bridge_settings_tenant_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_bridge_settings_tenant_id_id'))
    )
    with op.batch_alter_table('bridge_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bridge_settings_tenant_id'), ['tenant_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("bridge_settings"):
            op.execute(statement)
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            op.execute('REVOKE SELECT ON "bridge_settings" FROM lapor_reporting')
            op.execute('GRANT SELECT (id, tenant_id) ON "bridge_settings" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("bridge_settings"):
            op.execute(statement)
    op.drop_table('bridge_settings')
