"""secrets at rest and a signed tenant setting: encrypted TOTP secrets; RLS checks a signature

Revision ID: a4c8e2f1d9b6
Revises: e3a1c9f4b7d2
Create Date: 2026-12-04 16:00:00

1. TOTP secrets (platform_admin, user_account) are encrypted with SECRETS_KEY (app.crypto, Fernet); the
   column grows to 255 characters. Downgrade decrypts them again.
2. PostgreSQL: the tenant setting is signed. A schema ``lapor_private`` that only lapor_owner may enter
   holds the signing key(s) (``rls_key``); ``app_current_tenant()`` (SECURITY DEFINER, owned by
   lapor_owner) verifies ``app.tenant_id`` and every tenant_isolation policy compares with it. A runtime
   role that runs ``set_config('app.tenant_id', '<other id>', true)`` then sees nothing.
   The platform's own tables get a policy too: ``app_platform_access()`` (same signed setting) is false
   inside a region's request, so they look empty there.
3. PostgreSQL: the BYPASSRLS reporting role loses the tables with personal data or secrets, except the
   columns the cross-region comparison reads.

Self-contained: it names its tables and writes its SQL here, not through today's models.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c8e2f1d9b6'
down_revision = 'e3a1c9f4b7d2'
branch_labels = None
depends_on = None

ENCRYPTED = (("platform_admin", "totp_secret"), ("user_account", "totp_secret"))
TENANT_TABLES_WITH_SECRETS = {"user_account"}
PRIVATE = "lapor_private"
PLAIN = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::int"
SIGNED = "tenant_id = (SELECT app_current_tenant())"
FERNET_PREFIX = "gAAAAA"
# The reporting role's columns of tables with personal data at this revision (empty: none).
REPORTING_COLUMNS = {
    "complaint": ("id", "tenant_id", "status", "complaint_class", "submitted_at", "first_response_at",
                  "closed_at", "verified_on_time", "answered_on_time", "reopen_count"),
    "complaint_event": ("id", "tenant_id", "at"),
    "rating": ("id", "tenant_id", "complaint_id", "score"),
    "user_account": ("id", "tenant_id", "role", "last_login_at"),
    # The console's region list shows why a region was suspended (the "after" of that change).
    "tenant_audit_event": ("id", "tenant_id", "kind", "at", "after"),
    # Tenant tables: which region a row belongs to, nothing else.
    **{table: ("id", "tenant_id") for table in (
        "api_key", "attachment", "data_access_request", "follow_up", "follower", "inbound_message",
        "inbound_token", "notification", "outbox_message", "security_event", "user_session", "webhook",
        "webhook_delivery")},
    # Platform tables: nothing.
    **{table: () for table in (
        "platform_admin", "platform_message", "platform_security_event", "platform_session",
        "tenant_application")},
}

# '<tenant id or empty>.<platform 0/1>.<backend pid>.<hex HMAC-SHA256 of the first three>', made by
# app.tenancy.rls.signed_setting; anything else (unsigned, another session's, a wrong key) grants nothing.
FUNCTION = """
CREATE OR REPLACE FUNCTION public.%(name)s() RETURNS %(returns)s
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v text := current_setting('app.tenant_id', true);
    parts text[];
BEGIN
    IF v IS NULL OR v = '' THEN
        RETURN %(none)s;
    END IF;
    parts := string_to_array(v, '.');
    IF array_length(parts, 1) <> 4 OR parts[1] !~ '^[0-9]{0,9}$' OR parts[2] !~ '^[01]$'
       OR parts[3] <> pg_backend_pid()::text THEN
        RETURN %(none)s;
    END IF;
    IF EXISTS (SELECT 1 FROM lapor_private.rls_key k
               WHERE encode(%(hmac)s(convert_to(parts[1] || '.' || parts[2] || '.' || parts[3], 'UTF8'),
                                     k.key, 'sha256'), 'hex') = parts[4]) THEN
        RETURN %(result)s;
    END IF;
    RETURN %(none)s;
END
$fn$
"""
FUNCTIONS = (
    {"name": "app_current_tenant", "returns": "integer", "none": "NULL", "result": "NULLIF(parts[1], '')::integer"},
    {"name": "app_platform_access", "returns": "boolean", "none": "false", "result": "parts[2] = '1'"},
)
# The platform's own tables: hidden from a region's requests (app.tenancy.rls.deny_platform_tables).
PLATFORM_TABLES = ("platform_admin", "platform_message", "platform_security_event", "platform_session",
                   "tenant_application")
PLATFORM = "(SELECT app_platform_access())"


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _tenant_ids(conn) -> list[int]:
    return [r[0] for r in conn.execute(sa.text("SELECT id FROM tenant ORDER BY id"))]


def _rewrite(conn, table: str, change) -> None:
    """Apply ``change`` to every stored value of ``table``.totp_secret; under the plain (pre-signature)
    policy, tenant rows are reached by naming each tenant in the setting, as the owner may."""
    tenants = _tenant_ids(conn) if (_pg() and table in TENANT_TABLES_WITH_SECRETS) else [None]
    for tid in tenants:
        if tid is not None:
            conn.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        rows = conn.execute(sa.text(f"SELECT id, totp_secret FROM {table} WHERE totp_secret IS NOT NULL")).all()
        for pk, value in rows:
            new = change(value)
            if new != value:
                conn.execute(sa.text(f"UPDATE {table} SET totp_secret = :v WHERE id = :k"), {"v": new, "k": pk})
    if _pg():
        conn.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def _policy_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(sa.text(
        "SELECT tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname = 'tenant_isolation' "
        "ORDER BY tablename"))]


def _set_policies(conn, predicate: str) -> None:
    for table in _policy_tables(conn):
        op.execute(f'DROP POLICY tenant_isolation ON "{table}"')
        op.execute(f'CREATE POLICY tenant_isolation ON "{table}" USING ({predicate}) WITH CHECK ({predicate})')


def _widen(table: str, length: int) -> None:
    if _pg():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN totp_secret TYPE VARCHAR({length})")
        return
    # SQLite: add, copy, drop, rename (no table rebuild, so foreign keys to the table are untouched).
    op.execute(f"ALTER TABLE {table} ADD COLUMN totp_secret_new VARCHAR({length})")
    op.execute(f"UPDATE {table} SET totp_secret_new = totp_secret")
    op.execute(f"ALTER TABLE {table} DROP COLUMN totp_secret")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN totp_secret_new TO totp_secret")


def upgrade():
    from flask import current_app

    from app.crypto import decrypt, encrypt  # noqa: F401  (the keys of the running config)
    from app.tenancy.rls import setting_key

    conn = op.get_bind()
    for table, _ in ENCRYPTED:
        _widen(table, 255)
        _rewrite(conn, table, lambda v: v if v.startswith(FERNET_PREFIX) else encrypt(v))
    if not _pg():
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {PRIVATE}")
    op.execute(f"REVOKE ALL ON SCHEMA {PRIVATE} FROM PUBLIC")
    op.execute(f"CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA {PRIVATE}")
    schema = conn.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pgcrypto'")).scalar_one()
    op.execute(f"CREATE TABLE IF NOT EXISTS {PRIVATE}.rls_key (key bytea PRIMARY KEY, "
               "added_at timestamptz NOT NULL DEFAULT now())")
    op.execute(f"REVOKE ALL ON {PRIVATE}.rls_key FROM PUBLIC")
    # Default privileges may have granted the table to the runtime and reporting roles: take that back
    # (without USAGE on the schema they could not reach it anyway).
    for role in conn.execute(sa.text(
            "SELECT rolname FROM pg_roles WHERE rolname IN ('lapor_app', 'lapor_reporting')")).scalars():
        op.execute(f"REVOKE ALL ON {PRIVATE}.rls_key FROM {role}")
    conn.execute(sa.text(f"INSERT INTO {PRIVATE}.rls_key (key) VALUES (:k) ON CONFLICT DO NOTHING"),
                 {"k": setting_key(current_app.config)})
    for function in FUNCTIONS:
        op.execute(FUNCTION % {**function, "hmac": f'"{schema}".hmac'})
    _set_policies(conn, SIGNED)
    for table in PLATFORM_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'DROP POLICY IF EXISTS platform_only ON "{table}"')
        op.execute(f'CREATE POLICY platform_only ON "{table}" USING ({PLATFORM}) WITH CHECK ({PLATFORM})')
    # 3. The BYPASSRLS reporting role keeps only the columns the comparison reads of tables with personal
    #    data (app.tenancy.roles.REPORTING_COLUMNS, re-applied by `flask db-roles create`).
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
        for table, columns in REPORTING_COLUMNS.items():
            op.execute(f'REVOKE SELECT ON "{table}" FROM lapor_reporting')
            if columns:
                op.execute(f'GRANT SELECT ({", ".join(columns)}) ON "{table}" TO lapor_reporting')


def downgrade():
    from app.crypto import decrypt

    conn = op.get_bind()
    if _pg():
        if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'lapor_reporting'")).first():
            for table, columns in REPORTING_COLUMNS.items():
                if columns:
                    op.execute(f'REVOKE SELECT ({", ".join(columns)}) ON "{table}" FROM lapor_reporting')
                op.execute(f'GRANT SELECT ON "{table}" TO lapor_reporting')
        _set_policies(conn, PLAIN)
        for table in PLATFORM_TABLES:
            op.execute(f'DROP POLICY IF EXISTS platform_only ON "{table}"')
            op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS public.{function['name']}()")
        op.execute(f"DROP SCHEMA IF EXISTS {PRIVATE} CASCADE")
    for table, _ in ENCRYPTED:
        _rewrite(conn, table, lambda v: decrypt(v) if v.startswith(FERNET_PREFIX) else v)
        _widen(table, 64)
