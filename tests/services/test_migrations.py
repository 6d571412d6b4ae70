"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.models import include_for_dialect

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "migrations"


def test_migrated_database_matches_the_models(db):
    """Nothing is ignored: types, nullability, server defaults, indexes, unique and foreign keys all agree."""
    context = MigrationContext.configure(
        db.session.connection(), opts={"compare_type": True, "compare_server_default": True,
                                       "include_object": include_for_dialect(db.session.connection().dialect.name)}
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


def test_free_text_search_has_one_tenant_and_trigram_gin_index_on_postgresql(db):
    """The inbox searches code, title and description with ILIKE '%…%' within one region: a GIN index over
    (tenant_id, the three columns' trigrams) on PostgreSQL; SQLite has none (no GIN there)."""
    conn = db.session.connection()
    names = {ix["name"] for ix in sa.inspect(conn).get_indexes("complaint")}
    assert not {n for n in names if n.endswith("_trgm")}
    if conn.dialect.name != "postgresql":
        assert "ix_complaint_tenant_search" not in names
        return
    (definition,) = conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'complaint' "
                                         "AND indexname = 'ix_complaint_tenant_search'")).scalars()
    assert "USING gin (tenant_id, code gin_trgm_ops, title gin_trgm_ops, description gin_trgm_ops)" in definition
