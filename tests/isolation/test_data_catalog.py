"""Who may read each table with personal data or secrets (issue 15, item 8), checked in PostgreSQL's
own catalog: every table needs a decision, so a new one with personal data fails here until it has one.

- ``lapor_owner`` owns every table (migrations); row-level security is FORCEd on it for tenant tables.
- ``lapor_app`` (runtime) reads a tenant table only through the tenant_isolation policy; the platform
  tables it reads without one are listed with the reason (``PLATFORM_TABLES_FOR_APP``).
- ``lapor_reporting`` (BYPASSRLS) reads only the columns the cross-region comparison needs.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from app.tenancy.rls import (
    PLATFORM_POLICY,
    POLICY,
    deny_platform_tables,
    restore_platform_tables,
    setting_key,
    signed_setting,
    tenant_tables,
)
from app.tenancy.roles import (
    APP_ROLE,
    NO_PERSONAL_DATA,
    OWNER_ROLE,
    PLATFORM_TABLES_FOR_APP,
    REPORTING_COLUMNS,
    REPORTING_ROLE,
)


@pytest.fixture()
def conn(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles and row-level security are PostgreSQL's; this run uses SQLite")
    return db.session.connection()


def _tables(conn) -> set[str]:
    return set(conn.execute(text(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
        "AND relname <> 'alembic_version'")).scalars())


def _can_read(conn, role: str, table: str) -> bool:
    return conn.execute(text("SELECT has_table_privilege(:r, :t, 'SELECT')"),
                        {"r": role, "t": f"public.{table}"}).scalar()


def _readable_columns(conn, role: str, table: str) -> set[str]:
    return set(conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
        "AND NOT attisdropped AND has_column_privilege(:r, attrelid, attnum, 'SELECT')"),
        {"r": role, "t": f"public.{table}"}).scalars())


def test_every_table_has_a_personal_data_decision(conn):
    personal = set(REPORTING_COLUMNS)
    assert not personal & set(NO_PERSONAL_DATA)
    undecided = _tables(conn) - personal - set(NO_PERSONAL_DATA)
    assert not undecided, (
        "tables without a decision on personal data: add each to app.tenancy.roles.REPORTING_COLUMNS "
        "(personal data or secrets: which columns the reporting role may read) or NO_PERSONAL_DATA: "
        f"{sorted(undecided)}")


def test_who_reads_each_table_with_personal_data(conn):
    policies = set(conn.execute(text(
        "SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = :p"), {"p": POLICY}).scalars())
    platform_policies = set(conn.execute(text(
        "SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = :p"),
        {"p": PLATFORM_POLICY}).scalars())
    forced = set(conn.execute(text(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relrowsecurity "
        "AND relforcerowsecurity")).scalars())
    tenant_owned = set(tenant_tables())
    owners = dict(conn.execute(text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")).all())
    for table, columns in sorted(REPORTING_COLUMNS.items()):
        assert owners[table] == OWNER_ROLE, table
        assert _can_read(conn, APP_ROLE, table), table  # the runtime role works with every one of them ...
        if table in tenant_owned:  # ... through the tenant policy,
            assert table in policies and table in forced, f"{table}: tenant data without forced RLS"
        else:  # ... or, for a platform table, for a stated reason and never inside a region's request.
            assert table in PLATFORM_TABLES_FOR_APP, f"{table}: neither tenant-owned nor a platform table for the app"
            assert table in platform_policies and table in forced, f"{table}: platform data without forced RLS"
        assert not _can_read(conn, REPORTING_ROLE, table), f"{table}: the reporting role reads it whole"
        assert _readable_columns(conn, REPORTING_ROLE, table) == set(columns), table
    for table in NO_PERSONAL_DATA:
        assert _can_read(conn, REPORTING_ROLE, table), table


def test_the_reporting_role_cannot_read_identities_or_applications(conn, app, bjm):
    from app.complaints.models import Complaint  # noqa: F401 (the table exists through the models)

    engine = sa.create_engine(app.config["REPORTING_DATABASE_URL"], poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as reporting:
            assert reporting.execute(text("SELECT count(status) FROM complaint")).scalar() is not None
            for sql in ("SELECT reporter_email FROM complaint", "SELECT official_email FROM tenant_application",
                        "SELECT email FROM user_account", "SELECT totp_secret FROM platform_admin",
                        "SELECT key FROM lapor_private.rls_key"):
                nested = reporting.begin_nested() if reporting.in_transaction() else reporting.begin()
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    reporting.execute(text(sql))
                nested.rollback()
    finally:
        engine.dispose()


@pytest.fixture()
def platform_rows(conn, db, bjm):
    """A central administrator, an application and a platform mail (the platform side: no region bound)."""
    from app.accounts.services import create_platform_admin
    from app.onboarding.mail import queue_platform_mail
    from app.onboarding.models import TenantApplication

    create_platform_admin("pusat@lapor.example", "Pusat", "correct-horse-battery-staple")
    db.session.add(TenantApplication(
        name="Kabupaten Contoh", type="kabupaten", province="Kalimantan Tengah", region_code="62.99",
        timezone="Asia/Jakarta", official_name="Siti Aminah", official_position="Sekda",
        official_email="siti@contoh.example", official_phone="+6281234567890", slug="contoh", code_prefix="CTH"))
    queue_platform_mail("test:1", "siti@contoh.example", "Subject", "Body")
    db.session.commit()
    counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in PLATFORM_TABLES_FOR_APP}  # noqa: S608
    assert counts["platform_admin"] and counts["tenant_application"] and counts["platform_message"]
    return counts


def test_a_regions_request_cannot_read_or_write_the_platform_tables(conn, app, db, bjm, platform_rows):
    """SQL injected through a region's pages, API or gateway must not reach central administrators or
    applicants (names, emails, phones), even by forging the setting."""
    with app.test_request_context("/banjarmasin/"):
        assert app.preprocess_request() is None  # binds Banjarmasin, as every region's request does
        for table in PLATFORM_TABLES_FOR_APP:
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == 0, table  # noqa: S608
        nested = conn.begin_nested()
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            conn.execute(text("INSERT INTO platform_message (event_key, recipient, subject, body, status, attempts, "
                              "created_at) VALUES ('x', 'x@lapor.example', 's', 'b', 'pending', 0, now())"))
        nested.rollback()
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        for forged in (f"{bjm.id}.1.{pid}.00", signed_setting(bjm.id, pid, b"guessed", platform=True),
                       signed_setting(bjm.id, pid, setting_key(app.config)).replace(".0.", ".1.", 1)):
            conn.execute(text("SELECT set_config('app.tenant_id', :v, true)"), {"v": forged})
            assert conn.execute(text("SELECT count(*) FROM tenant_application")).scalar() == 0, forged
        app.do_teardown_request()
    # Outside a region's request (the central console, the sign-up, jobs) the platform side works.
    for table, count in platform_rows.items():
        assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == count, table  # noqa: S608


def test_inside_a_region_scope_of_a_platform_request_the_platform_tables_stay_usable(conn, db, bjm, platform_rows):
    """Approving an application provisions the region inside its scope: the platform side stays."""
    from app.tenancy.scope import tenant_scope

    with tenant_scope(bjm.id):
        assert conn.execute(text("SELECT count(*) FROM tenant_application")).scalar() == platform_rows[
            "tenant_application"]
    token = deny_platform_tables()
    try:
        assert conn.execute(text("SELECT count(*) FROM tenant_application")).scalar() == 0
    finally:
        restore_platform_tables(token)
