"""complaints can be marked as test reports

Revision ID: i17c5d2e8a41
Revises: da17e0c3f5a1
Create Date: 2026-12-06 04:20:00

One boolean on ``complaint``: ``is_test`` (default false). Test reports (the go-live test report, or any the
complaint unit marks) are left out of every statistic. The comparison also reads each waiting report's
current deadline (``due_at``, ``due_stage``) to count a report still waiting past its deadline as late, so
the BYPASSRLS reporting role gets SELECT on those three columns (app.tenancy.roles.REPORTING_COLUMNS,
re-applied by ``flask db-roles create``). The table keeps its row-level security.
"""
import sqlalchemy as sa
from alembic import op

revision = 'i17c5d2e8a41'
down_revision = 'da17e0c3f5a1'
branch_labels = None
depends_on = None

#: Fixed column names (no input reaches these statements).
GRANT = 'GRANT SELECT (is_test, due_at, due_stage) ON "complaint" TO lapor_reporting'
REVOKE = 'REVOKE SELECT (is_test, due_at, due_stage) ON "complaint" FROM lapor_reporting'


def _reporting_role_exists() -> bool:
    conn = op.get_bind()
    return conn.dialect.name == "postgresql" and conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first() is not None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_test', sa.Boolean(), server_default=sa.false(), nullable=False))
    if _reporting_role_exists():
        op.execute(GRANT)


def downgrade():
    if _reporting_role_exists():
        op.execute(REVOKE)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_column('is_test')
