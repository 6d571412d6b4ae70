"""rls: PostgreSQL row-level security on every tenant-owned table

Revision ID: d7a1e5f0b2c3
Revises: c155d2ecccc8
Create Date: 2026-11-28 23:45:00

A table that becomes tenant-owned later needs its own migration calling enable_rls_sql(table);
tests/isolation/test_rls.py fails until it has one.
"""
from alembic import op

from app.tenancy.rls import PLAIN_TENANT_PREDICATE, disable_rls_sql, enable_rls_sql

# revision identifiers, used by Alembic.
revision = 'd7a1e5f0b2c3'
down_revision = 'c155d2ecccc8'
branch_labels = None
depends_on = None

# The tenant-owned tables at this revision, by name: a migration must not depend on today's models.
TABLES = (
    "agency", "attachment", "bridge_item", "bridge_link", "category", "code_counter", "complaint",
    "complaint_event", "data_access_request", "disposition", "follow_up", "follower", "inbound_message",
    "inbound_token", "message_template", "notification", "outbox_message", "rating", "response_template",
    "security_event", "tenant_audit_event", "user_account", "user_session", "webhook", "webhook_attempt",
    "webhook_delivery",
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no row-level security; the ORM scoping is the only wall there
    for table in TABLES:
        for statement in enable_rls_sql(table, PLAIN_TENANT_PREDICATE):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        for statement in disable_rls_sql(table):
            op.execute(statement)
