"""search index: a small GIN pending list, so a search right after a burst of submissions stays fast (PostgreSQL)

Revision ID: gp20c4e8a1b3
Revises: df17e5a9c3b1
Create Date: 2026-12-06 21:40:00

A GIN index collects new entries in a pending list (up to gin_pending_list_limit, 4 MB by default) that every
search reads in full until VACUUM or the next overflow merges it. At full scale, after the benchmark's phase 1
(about 1,400 submissions in one region) the list held 506 pages and the inbox search p95 was 121 ms; with a
256 kB limit it held 12 pages and the p95 was 102 ms, with no change in submissions per second (README,
Benchmarks).
"""
from alembic import op

revision = 'gp20c4e8a1b3'
down_revision = 'df17e5a9c3b1'
branch_labels = None
depends_on = None

#: kB; the limit the model declares too (app.complaints.models).
PENDING_LIST_KB = 256


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX ix_complaint_tenant_search SET (gin_pending_list_limit = {PENDING_LIST_KB})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_complaint_tenant_search RESET (gin_pending_list_limit)")
