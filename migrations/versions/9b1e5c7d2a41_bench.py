"""bench: trigram indexes for the inbox's free-text search (PostgreSQL pg_trgm; plain indexes on SQLite)

Revision ID: 9b1e5c7d2a41
Revises: d7a1e5f0b2c3
Create Date: 2026-11-29 00:30:00

"""
from alembic import op

revision = '9b1e5c7d2a41'
down_revision = "d7a1e5f0b2c3"
branch_labels = None
depends_on = None

COLUMNS = ("code", "title", "description")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Needs CREATE privilege on the database (pg_trgm is a trusted extension since PostgreSQL 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for col in COLUMNS:
        op.create_index(f"ix_complaint_{col}_trgm", "complaint", [col], unique=False,
                        postgresql_using="gin", postgresql_ops={col: "gin_trgm_ops"})


def downgrade():
    for col in reversed(COLUMNS):
        op.drop_index(f"ix_complaint_{col}_trgm", table_name="complaint")
