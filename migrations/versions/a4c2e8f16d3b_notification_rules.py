"""notification rules: staff preferences, the in-app list, SMS texts; merges no longer copy followers

Revision ID: a4c2e8f16d3b
Revises: a4c8e2f1d9b6
Create Date: 2026-12-04 16:00:00

"""
from alembic import op
import sqlalchemy as sa
import app.tenancy.models  # noqa: F401  (custom column types)

from app.tenancy.rls import disable_rls_sql, enable_rls_sql

# revision identifiers, used by Alembic.
revision = 'a4c2e8f16d3b'
down_revision = 'a4c8e2f1d9b6'
branch_labels = None
depends_on = None

TABLES = ("notification_preference", "staff_notification")


def upgrade():
    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("mode IN ('immediate', 'digest', 'off')", name=op.f('ck_notification_preference_mode')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_notification_preference_tenant_id_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_notification_preference_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_notification_preference_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'group', name=op.f('uq_notification_preference_tenant_id_user_id_group'))
    )
    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preference_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('staff_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('group', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('created_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digested_at', app.tenancy.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'complaint_id'], ['complaint.tenant_id', 'complaint.id'], name=op.f('fk_staff_notification_tenant_id_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'event_id'], ['complaint_event.tenant_id', 'complaint_event.id'], name=op.f('fk_staff_notification_tenant_id_event_id_complaint_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['user_account.tenant_id', 'user_account.id'], name=op.f('fk_staff_notification_tenant_id_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_staff_notification_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_notification')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_staff_notification_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'user_id', 'event_id', name=op.f('uq_staff_notification_tenant_id_user_id_event_id'))
    )
    with op.batch_alter_table('staff_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_notification_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_staff_notification_tenant_user_read', ['tenant_id', 'user_id', 'read_at'], unique=False)

    with op.batch_alter_table('message_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms', sa.Text(), nullable=True))

    # Merges used to copy a duplicate's followers onto the primary, which sent them the primary's private
    # link. The copies go; every contact stays a follower of its own report.
    op.execute("DELETE FROM follower WHERE origin_complaint_id IS NOT NULL AND origin_complaint_id <> complaint_id")

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in enable_rls_sql(table):
                op.execute(statement)
        # Staff users' reading habits are theirs: the BYPASSRLS reporting role sees which region a row
        # belongs to, nothing else (app.tenancy.roles.REPORTING_COLUMNS).
        if op.get_bind().execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            for table in TABLES:
                op.execute(f'REVOKE SELECT ON "{table}" FROM lapor_reporting')
                op.execute(f'GRANT SELECT (id, tenant_id) ON "{table}" TO lapor_reporting')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for statement in disable_rls_sql(table):
                op.execute(statement)
    with op.batch_alter_table('message_template', schema=None) as batch_op:
        batch_op.drop_column('sms')
    op.drop_table('staff_notification')
    op.drop_table('notification_preference')
