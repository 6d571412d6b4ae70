"""referral between regions on the platform: the two tenant-owned halves, a report awaiting the decision

Revision ID: re17b3d5f7a9
Revises: i17c5d2e8a41
Create Date: 2026-12-06 04:30:00

``referral`` holds one half of a referral between two regions (app.complaints.referrals): ``out`` in the
referring region, ``in`` in the receiving one, each naming the other region and the other half's ids. It is a
tenant table like the others (row-level security; the reporting role reads only ``id`` and ``tenant_id``:
the reason for declining and the referring unit's message are free text). ``complaint.awaiting_referral_decision``
marks a report another region referred here until this unit accepts or declines it (every existing report: no).
"""
import sqlalchemy as sa
from alembic import op

import app.tenancy.models
from app.tenancy.rls import disable_rls_sql, enable_rls_sql

revision = 're17b3d5f7a9'
down_revision = 'i17c5d2e8a41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_referral_decision', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))

    op.create_table('referral',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('peer_tenant_id', sa.Integer(), nullable=False),
    sa.Column('peer_referral_id', sa.Integer(), nullable=True),
    sa.Column('peer_complaint_id', sa.Integer(), nullable=True),
    sa.Column('peer_code', sa.String(length=20), nullable=True),
    sa.Column('peer_status', sa.String(length=20), nullable=True),
    sa.Column('peer_public', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('created_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mirrored_event_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("direction IN ('out', 'in')", name=op.f('ck_referral_direction')),
    sa.CheckConstraint("status IN ('sent', 'awaiting', 'accepted', 'declined')", name=op.f('ck_referral_status')),
    sa.ForeignKeyConstraint(['peer_tenant_id'], ['tenant.id'], name=op.f('fk_referral_peer_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaint.tenant_id', 'complaint.id'],
                            name=op.f('fk_referral_tenant_id_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_referral_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_referral_tenant_id_id'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_referral_tenant_complaint', ['tenant_id', 'complaint_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in enable_rls_sql("referral"):
            op.execute(statement)
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            op.execute('REVOKE SELECT ON "referral" FROM lapor_reporting')
            op.execute('GRANT SELECT (id, tenant_id) ON "referral" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in disable_rls_sql("referral"):
            op.execute(statement)
    op.drop_table('referral')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('awaiting_referral_decision')
