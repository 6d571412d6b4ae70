"""followers' kind (reporter | follower) and account, one-time contact links (row-level security)

Revision ID: m16f0110a5e1
Revises: p16a7c3e9d01
Create Date: 2026-12-06 02:00:00

Citizens may follow a public report (double opt-in) and ask for a one-time link listing their reports.
``follower.kind`` tells the reporter's own contacts (every existing row: "reporter") from people who
followed; ``follower.user_id`` is the citizen account that asked and confirmed. ``contact_link`` keeps the
SHA-256 of each one-time link's token (follow confirmation, "Laporan saya" list).
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import disable_rls_sql, enable_rls_sql

revision = 'm16f0110a5e1'
down_revision = 'p16a7c3e9d01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follower', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=10), server_default='reporter', nullable=False))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follower_tenant_id_user_id_user_account'), 'user_account',
                                    ['tenant_id', 'user_id'], ['tenant_id', 'id'])
        batch_op.create_check_constraint(batch_op.f('ck_follower_kind'), "kind IN ('reporter', 'follower')")

    op.create_table('contact_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=255), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("purpose IN ('follow', 'list')", name=op.f('ck_contact_link_purpose')),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaint.tenant_id', 'complaint.id'], name=op.f('fk_contact_link_tenant_id_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_contact_link_tenant_id_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_contact_link_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_link')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_contact_link_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'token_hash', name=op.f('uq_contact_link_tenant_id_token_hash'))
    )
    with op.batch_alter_table('contact_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_link_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_contact_link_tenant_recipient', ['tenant_id', 'recipient', 'created_at'],
                              unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("contact_link"):
            op.execute(statement)
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            op.execute('REVOKE SELECT ON "contact_link" FROM lapor_reporting')
            op.execute('GRANT SELECT (id, tenant_id) ON "contact_link" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("contact_link"):
            op.execute(statement)
    op.drop_table('contact_link')
    op.execute("DELETE FROM follower WHERE kind <> 'reporter'")
    with op.batch_alter_table('follower', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_follower_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_follower_tenant_id_user_id_user_account'), type_='foreignkey')
        batch_op.drop_column('user_id')
        batch_op.drop_column('kind')
