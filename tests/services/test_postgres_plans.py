"""Every statement of the app's PostgreSQL connections is planned with its own values (app.config)."""

from __future__ import annotations

import pytest
from sqlalchemy import text


def test_the_app_connection_never_uses_a_generic_plan(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's; this run uses SQLite")
    # A prepared statement's generic plan does not know the region (README, Benchmarks): custom plans only.
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"


def test_the_search_index_keeps_a_small_pending_list(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("GIN indexes are PostgreSQL's; this run uses SQLite")
    # Every search reads the whole pending list until it is merged: 256 kB, not the 4 MB default.
    options = db.session.execute(text(
        "SELECT reloptions FROM pg_class WHERE relname = 'ix_complaint_tenant_search'")).scalar_one()
    assert "gin_pending_list_limit=256" in options
