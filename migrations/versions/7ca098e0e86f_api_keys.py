"""api: API keys of a region's integrations (row-level security on PostgreSQL)

Revision ID: 7ca098e0e86f
Revises: 9b1e5c7d2a41
Create Date: 2026-11-29 05:40:00

"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import PLAIN_TENANT_PREDICATE, disable_rls_sql, enable_rls_sql

revision = '7ca098e0e86f'
down_revision = '9b1e5c7d2a41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_api_key_tenant_id_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id', 'revoked_by_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_api_key_tenant_id_revoked_by_id_user_account')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_api_key_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('tenant_id', 'prefix', name=op.f('uq_api_key_tenant_id_prefix')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_api_key_tenant_id_id'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_tenant_id'), ['tenant_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("api_key", PLAIN_TENANT_PREDICATE):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("api_key"):
            op.execute(statement)
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_tenant_id'))
    op.drop_table('api_key')
