"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "migrations"


def test_migrated_database_matches_the_models(db):
    """Nothing is ignored: types, nullability, server defaults, indexes, unique and foreign keys all agree."""
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "compare_server_default": True}
    )
    diff = compare_metadata(context, db.metadata)
    assert diff == [], "models and migrations differ; run `flask db migrate` and review the script:\n" + "\n".join(
        map(repr, diff))


def test_migration_history_has_a_single_head():
    script = ScriptDirectory.from_config(_alembic_config())
    assert len(script.get_heads()) == 1, f"several heads, merge them: {script.get_heads()}"


def _alembic_config() -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def test_migrations_downgrade_to_nothing_and_upgrade_again():
    """On a scratch SQLite file (the shared test database stays as it is)."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{tempfile.mkdtemp(prefix='lapor-migrate-')}/m.db"
    scratch = create_app({"APP_ENV": "testing", "SECRET_KEY": "migration-test-secret-key-0123456789",
                          "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "REDIS_URL": None})
    with scratch.app_context():
        upgrade(directory=str(MIGRATIONS))
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS))
        assert set(db.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
        db.session.remove()
        db.engine.dispose()


def test_free_text_search_has_trigram_indexes_on_postgresql(db):
    """The inbox searches code, title and description with ILIKE '%…%': GIN trigram indexes on PostgreSQL."""
    conn = db.session.connection()
    names = {ix["name"] for ix in sa.inspect(conn).get_indexes("complaint")}
    assert {"ix_complaint_code_trgm", "ix_complaint_title_trgm", "ix_complaint_description_trgm"} <= names
    if conn.dialect.name == "postgresql":
        defs = dict(conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes "
                                         "WHERE tablename = 'complaint' AND indexname LIKE '%trgm'")).all())
        assert all("USING gin" in d and "gin_trgm_ops" in d for d in defs.values()) and len(defs) == 3
