"""The second wall: PostgreSQL row-level security, seen from raw SQL as the runtime role.

Skipped only when the run uses SQLite (no row-level security there). The per-test connection acts as
``lapor_app`` (tests/conftest.py), so raw SQL here bypasses the ORM scoping and meets only the database.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from app.tenancy.rls import POLICY, cross_tenant_reads, enable_rls_sql, tenant_tables
from app.tenancy.roles import APP_ROLE, OWNER_ROLE, REPORTING_ROLE
from app.tenancy.scope import CrossTenantWrite, tenant_owned_models, tenant_scope
from tests.factories import make


@pytest.fixture()
def pg(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; this run uses SQLite")
    return db


@pytest.fixture()
def filled(pg, bjm, ktg):
    """One row of every tenant-owned model in each region (uncommitted, in the test's transaction)."""
    for model in tenant_owned_models():
        with tenant_scope(bjm.id):
            make(model)
        with tenant_scope(ktg.id):
            make(model)
    pg.session.commit()
    return bjm.id, ktg.id


def _conn(db):
    return db.session.connection()


def _refused(conn, sql: str, **params) -> str:
    """Run ``sql`` in a savepoint and return the database's refusal (the test fails if it succeeds)."""
    nested = conn.begin_nested()
    try:
        conn.execute(text(sql), params)
    except sa.exc.DBAPIError as exc:
        nested.rollback()
        return str(exc.orig)
    nested.rollback()
    pytest.fail(f"the database accepted: {sql}")


def _count(table: str):
    return text(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (table names from the models)


def _distinct_tenants(table: str):
    return text(f'SELECT DISTINCT tenant_id FROM "{table}"')  # noqa: S608 (table names from the models)


def _set_tenant(conn, tenant_id) -> None:
    value = "" if tenant_id is None else str(tenant_id)
    conn.execute(text("SELECT set_config('app.tenant_id', :v, true)"), {"v": value})


def test_the_test_connection_is_the_runtime_role(pg):
    assert _conn(pg).execute(text("SELECT current_user")).scalar() == APP_ROLE


def test_no_tenant_set_sees_no_row_of_any_tenant_table_and_cannot_insert(filled, pg):
    conn = _conn(pg)
    bjm_id, _ = filled
    assert conn.execute(text("SELECT app_current_tenant()")).scalar() is None
    for table in tenant_tables():
        assert conn.execute(_count(table)).scalar() == 0, table
    # The same rows exist: the reporting role (BYPASSRLS) sees both regions in every table.
    with _reporting() as reporting:
        for table in tenant_tables():
            seen = set(reporting.execute(_distinct_tenants(table)).scalars())
            assert seen == set(filled), table
    refusal = _refused(conn, "INSERT INTO agency (tenant_id, code, name, short_name, active) "
                             "VALUES (:t, 'x-rls', 'X', 'X', true)", t=bjm_id)
    assert "row-level security" in refusal


def _reporting():
    """The comparison's read path (in tests: the test's connection as lapor_reporting)."""
    from flask import current_app

    return current_app.extensions["lapor_reporting"]()


def test_with_tenant_a_set_only_a_rows_are_visible_and_b_cannot_be_written(filled, pg):
    bjm_id, ktg_id = filled
    conn = _conn(pg)
    with tenant_scope(bjm_id):  # the hook sets app.tenant_id (signed) for this transaction
        assert conn.execute(text("SELECT app_current_tenant()")).scalar() == bjm_id
        for table in tenant_tables():
            assert set(conn.execute(_distinct_tenants(table)).scalars()) == {bjm_id}, table
        assert "row-level security" in _refused(
            conn, "INSERT INTO agency (tenant_id, code, name, short_name, active) "
                  "VALUES (:t, 'x-rls', 'X', 'X', true)", t=ktg_id)
        # B's rows cannot be updated or deleted: they are not there.
        assert conn.execute(text("UPDATE agency SET name = 'taken' WHERE tenant_id = :t"),
                            {"t": ktg_id}).rowcount == 0
        assert conn.execute(text("DELETE FROM complaint_event WHERE tenant_id = :t"), {"t": ktg_id}).rowcount == 0
        # A's row cannot be handed to B.
        a_row = conn.execute(text("SELECT id FROM webhook LIMIT 1")).scalar()
        assert a_row is not None
        assert "row-level security" in _refused(conn, "UPDATE webhook SET tenant_id = :t WHERE id = :i",
                                                t=ktg_id, i=a_row)
        # The setting follows the bound tenant within the transaction.
        with tenant_scope(ktg_id):
            assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM agency")).scalars()) == {ktg_id}
        assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM agency")).scalars()) == {bjm_id}
    assert conn.execute(text("SELECT count(*) FROM agency")).scalar() == 0  # unbound again: nothing


def test_a_tenant_setting_forged_from_sql_sees_no_row_of_the_other_tenant(filled, pg, app):
    """SQL injected into the runtime role's statements can run set_config: it must not reach region B."""
    from app.tenancy.rls import setting_key, signed_setting

    bjm_id, ktg_id = filled
    conn = _conn(pg)
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    forgeries = [
        str(ktg_id),  # the plain id, as the setting was before it was signed
        signed_setting(ktg_id, pid + 1, setting_key(app.config)),  # a genuine value of another session
        signed_setting(ktg_id, pid, b"a key guessed by the attacker"),
        signed_setting(bjm_id, pid, setting_key(app.config)).replace(f"{bjm_id}.", f"{ktg_id}.", 1),
        f"{ktg_id}.{pid}",
    ]
    with tenant_scope(bjm_id):
        assert conn.execute(text("SELECT count(*) FROM complaint")).scalar() > 0
        for value in forgeries:
            _set_tenant(conn, value)
            assert conn.execute(text("SELECT app_current_tenant()")).scalar() is None, value
            for table in tenant_tables():
                assert conn.execute(_count(table)).scalar() == 0, (table, value)
            assert "row-level security" in _refused(
                conn, "INSERT INTO agency (tenant_id, code, name, short_name, active) "
                      "VALUES (:t, 'x-rls', 'X', 'X', true)", t=ktg_id)
    # The key is out of the runtime role's reach, and so are the check and the policies.
    assert "permission denied" in _refused(conn, "SELECT key FROM lapor_private.rls_key")
    assert "permission denied" in _refused(conn, "CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS integer "
                                             "LANGUAGE sql AS 'SELECT 1'")
    # The genuine value for this session works (the same check the app's hook passes).
    _set_tenant(conn, signed_setting(ktg_id, pid, setting_key(app.config)))
    assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM category")).scalars()) == {ktg_id}


def test_the_setting_does_not_leak_into_the_next_transaction_of_a_pooled_connection(pg, app):
    from app.tenancy.rls import install_tenant_setting

    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    install_tenant_setting(engine)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            with tenant_scope(4242):
                assert conn.execute(text("SELECT app_current_tenant()")).scalar() == 4242
            conn.commit()
            with tenant_scope(4242):
                conn.execute(text("SELECT set_config('app.tenant_id', '4343', true)"))  # by hand, too
            conn.rollback()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid  # the same pooled connection
            assert conn.execute(text("SELECT app_current_tenant()")).scalar() is None
            assert conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
    finally:
        engine.dispose()


def test_a_rolled_back_savepoint_does_not_leave_the_setting_stale(filled, pg):
    bjm_id, ktg_id = filled
    conn = _conn(pg)
    with tenant_scope(bjm_id):
        nested = conn.begin_nested()
        with tenant_scope(ktg_id):
            assert conn.execute(text("SELECT DISTINCT tenant_id FROM agency")).scalar() == ktg_id
        nested.rollback()  # reverts the setting to bjm's in the database
        assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM agency")).scalars()) == {bjm_id}
        nested = conn.begin_nested()
        with tenant_scope(ktg_id):
            conn.execute(text("SELECT 1"))
        nested.rollback()
        with tenant_scope(ktg_id):  # the hook must not trust its memory after the rollback
            assert set(conn.execute(text("SELECT DISTINCT tenant_id FROM agency")).scalars()) == {ktg_id}


def test_every_tenant_owned_table_has_forced_row_level_security_and_the_policy(pg):
    tables = tenant_tables()
    assert tables
    conn = _conn(pg)
    flags = {row.relname: (row.relrowsecurity, row.relforcerowsecurity) for row in conn.execute(text(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"))}
    policies = set(conn.execute(text(
        "SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = :p"), {"p": POLICY}).scalars())
    missing = [t for t in tables if flags.get(t) != (True, True) or t not in policies]
    assert not missing, ("tenant-owned tables without forced row-level security; add a migration that runs "
                         f"app.tenancy.rls.enable_rls_sql(table) for: {missing}")


def test_the_runtime_role_is_not_owner_superuser_or_bypassrls(pg, app):
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:  # a real login as the runtime role, not the test's SET ROLE
            assert conn.execute(text("SELECT session_user")).scalar() == APP_ROLE
            role = conn.execute(text(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )).one()
            assert tuple(role) == (False, False, False, False)
            owned = conn.execute(text(
                "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )).scalar()
            assert owned == 0
            owners = set(conn.execute(text(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
            assert owners == {OWNER_ROLE}
            # Member of no other role (it could SET ROLE to a privileged one).
            assert conn.execute(text(
                "SELECT count(*) FROM pg_auth_members "
                "WHERE member = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )).scalar() == 0
            assert "must be owner" in _refused(conn, "ALTER TABLE agency NO FORCE ROW LEVEL SECURITY")
            assert "must be owner" in _refused(conn, "DROP POLICY tenant_isolation ON agency")
    finally:
        engine.dispose()


def test_the_reporting_role_reads_every_tenant_and_writes_nothing(pg, app):
    engine = sa.create_engine(app.config["REPORTING_DATABASE_URL"], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar() == REPORTING_ROLE
            role = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
            assert tuple(role) == (False, True)
            assert "permission denied" in _refused(conn, "DELETE FROM agency")
            assert "permission denied" in _refused(conn, "UPDATE tenant SET name = name")
    finally:
        engine.dispose()


def test_the_comparison_sees_every_tenant_through_the_reporting_path(filled, pg):
    from app.central import comparison as reports

    bjm_id, ktg_id = filled
    activity = reports.tenant_activity()
    assert {bjm_id, ktg_id} <= set(activity)
    assert all(activity[t].last_event_at is not None for t in (bjm_id, ktg_id))


def test_only_the_comparison_may_read_across_tenants():
    with pytest.raises(CrossTenantWrite):
        cross_tenant_reads()


def test_enable_rls_sql_forces_the_policy_on_a_table():
    statements = enable_rls_sql("api_key")
    assert 'ALTER TABLE "api_key" FORCE ROW LEVEL SECURITY' in statements
    assert any(s.startswith(f'CREATE POLICY {POLICY} ON "api_key"') and "WITH CHECK" in s for s in statements)
    with pytest.raises(ValueError):
        enable_rls_sql("agency; DROP TABLE tenant")


def test_the_rls_key_command_stores_the_signing_key_idempotently(pg, app):
    url = app.config["MIGRATION_DATABASE_URL"]
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["db-roles", "rls-key", "--admin-url", url])
        assert result.exit_code == 0 and "key(s) accepted" in result.output, result.output
