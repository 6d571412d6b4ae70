"""PostgreSQL row-level security: the database's wall behind the ORM scoping of ``app.tenancy.scope``.

Every tenant-owned table has ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one policy,
``tenant_isolation``: a row is visible and writable only while the transaction's ``app.tenant_id``
setting names its tenant. The setting is made per transaction (``set_config(..., true)``), never per
connection, by :func:`install_tenant_setting`, so it cannot leak into the next transaction of a pooled
connection. With no tenant bound the setting is empty and every tenant table looks empty and refuses
inserts (fail closed).

The setting is signed, so SQL injected into the runtime role's statements cannot name another tenant:
its value is ``<tenant id>.<platform 0/1>.<backend pid>.<HMAC-SHA256>`` made with :func:`setting_key`
(:func:`signed_setting`), and the policies call ``app_current_tenant()``, a ``SECURITY DEFINER``
function owned by ``lapor_owner`` that checks the signature against the keys in
``lapor_private.rls_key`` (a schema the runtime and reporting roles cannot enter) and returns the
tenant id, or NULL. The pid binds a value to one database session, so a value seen in one session is
worthless in another. Written ``tenant_id = (SELECT app_current_tenant())``, the
check runs once per statement (an InitPlan), not per row. The platform's own tables (central
administrators, applications) have a policy of their own, ``platform_only``: ``app_platform_access()``
is true unless the setting was made inside a region's request (:func:`deny_platform_tables`).

Roles (``app.tenancy.roles``): the app runs as ``lapor_app`` (not owner, not superuser, no BYPASSRLS),
migrations as ``lapor_owner`` (owns the tables; FORCE makes the policy apply to it too, so a data
migration must bind each tenant with a signed ``set_config`` or it sees no rows), and the cross-region
comparison reads through ``lapor_reporting`` (read-only, BYPASSRLS) via :func:`cross_tenant_reads`,
the one privileged path, allowed only to ``app.central.comparison``.

SQLite has no row-level security: everything here is a no-op there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from app.extensions import db
from app.tenancy.scope import CrossTenantWrite, TenantScoped, bound_tenant_id, tenant_owned_models, tenant_scope

#: Name of the policy on every tenant-owned table.
POLICY = "tenant_isolation"
#: The transaction-local setting that names the current tenant.
TENANT_SETTING = "app.tenant_id"
#: The row filter: an unset, empty, unsigned or forged setting matches nothing. The sub-select makes
#: the planner evaluate the (STABLE) check once per statement.
TENANT_PREDICATE = "tenant_id = (SELECT app_current_tenant())"
#: The filter before the setting was signed (migrations older than the signed setting use it).
PLAIN_TENANT_PREDICATE = f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::int"


def setting_key(config) -> bytes:
    """The key that signs ``app.tenant_id``: ``RLS_SIGNING_KEY``, else derived from ``SECRET_KEY``.

    The database holds a copy in ``lapor_private.rls_key`` (written by the migration and by
    ``flask db-roles rls-key``); the runtime role cannot read it.
    """
    explicit = config.get("RLS_SIGNING_KEY")
    if explicit:
        return explicit.encode()
    return hmac.new(config["SECRET_KEY"].encode(), b"lapor rls tenant setting", hashlib.sha256).hexdigest().encode()


def signed_setting(tenant_id: int | None, backend_pid: int, key: bytes, platform: bool = False) -> str:
    """The value of ``app.tenant_id`` that the database accepts in session ``backend_pid``:
    ``<tenant id or empty>.<platform 0/1>.<pid>.<HMAC>``. ``app_current_tenant()`` returns the tenant id,
    ``app_platform_access()`` whether the platform tables may be used (see :func:`deny_platform_tables`)."""
    message = f"{'' if tenant_id is None else int(tenant_id)}.{1 if platform else 0}.{int(backend_pid)}"
    return f"{message}.{hmac.new(key, message.encode(), hashlib.sha256).hexdigest()}"


#: The only modules that may read across tenants through the reporting role.
CROSS_TENANT_READERS = ("app.central.comparison",)


# ---------------------------------------------------------------- the platform side

#: The platform's own tables: central administrators, their sessions and security log, platform mail,
#: and applications of new regions. Row-level security (policy PLATFORM_POLICY) hides them from a
#: transaction whose signed setting does not grant the platform side.
PLATFORM_POLICY = "platform_only"
PLATFORM_PREDICATE = "(SELECT app_platform_access())"

_platform_access: ContextVar[bool] = ContextVar("lapor_platform_access", default=True)


def platform_access() -> bool:
    """Whether this request or job may use the platform tables (not inside a region's request)."""
    return _platform_access.get()


def deny_platform_tables():
    """For the rest of a region's request: the platform tables look empty and refuse writes, so SQL
    injected through a region's pages, API or gateway cannot reach central administrators or
    applications. Returns a token for :func:`restore_platform_tables`."""
    return _platform_access.set(False)


def restore_platform_tables(token) -> None:
    _platform_access.reset(token)


def tenant_tables() -> list[str]:
    """Names of every tenant-owned table (every ``TenantScoped`` model), sorted."""

    return sorted({cls.__table__.name for cls in tenant_owned_models()})


def _quote(table: str) -> str:
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a plain table name: {table!r}")
    return f'"{table}"'


def enable_rls_sql(table: str, predicate: str = TENANT_PREDICATE) -> list[str]:
    """Statements that put ``table`` behind the tenant policy (idempotent; for migrations).

    The default needs ``app_current_tenant()`` (migration ``a4c8e2f1d9b6``); migrations older than it pass
    :data:`PLAIN_TENANT_PREDICATE`.
    """
    t = _quote(table)
    return [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {t}",
        f"CREATE POLICY {POLICY} ON {t} USING ({predicate}) WITH CHECK ({predicate})",
    ]


def disable_rls_sql(table: str) -> list[str]:
    """The reverse of :func:`enable_rls_sql` (for downgrades)."""
    t = _quote(table)
    return [
        f"DROP POLICY IF EXISTS {POLICY} ON {t}",
        f"ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
    ]


# ---------------------------------------------------------------- the per-transaction tenant setting

_KEY = "lapor_rls_tenant"  # in the DBAPI connection's info: the tenant set in the current transaction
_UNKNOWN = object()  # after a rollback to a savepoint the setting may have reverted: set it again
_TX_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN")


def bind_migration_tenant(conn, tenant_id: int | None) -> None:
    """For a data migration on ``conn`` (PostgreSQL): make ``tenant_id``'s rows visible and writable for the rest
    of the transaction (``None``: none again). FORCE ROW LEVEL SECURITY applies to the tables' owner too."""
    if conn.dialect.name != "postgresql":
        return
    value = ""
    if tenant_id is not None:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        value = signed_setting(tenant_id, pid, setting_key(current_app.config))
    conn.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": TENANT_SETTING, "value": value})


def _server_pid(dbapi_conn, pooled: bool) -> int:
    """The pid of the PostgreSQL backend that runs this transaction.

    Behind pgbouncer's transaction pooling the pid the driver saw at connect time is pgbouncer's own
    key, and each transaction may run on another server connection: ask the server, inside the
    transaction that the setting is for (one round trip, only when pooled).
    """
    if not pooled:
        return dbapi_conn.info.backend_pid
    with dbapi_conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def install_tenant_setting(engine, key: bytes | None = None, pooled: bool = False) -> None:
    """Keep ``app.tenant_id`` equal to the bound tenant in every transaction of ``engine`` (PostgreSQL).

    Before each statement, if the bound tenant differs from what this transaction has set (a new
    transaction starts with nothing set; a request or job may bind another tenant midway), one
    ``set_config(..., true)`` brings it in line. Transaction-local, so commit or rollback clears it.
    The value is signed with ``key`` (default: :func:`setting_key` of the current app's config) for the
    server backend of the transaction; ``pooled`` (``DATABASE_PGBOUNCER``) asks the server for it.
    """
    if engine.dialect.name != "postgresql":
        return

    def _value(dbapi_conn, want) -> str:
        tenant_id, platform = want
        if tenant_id is None and not platform:
            return ""

        signing_key = key or setting_key(current_app.config)
        return signed_setting(tenant_id, _server_pid(dbapi_conn, pooled), signing_key, platform=platform)

    def _note(conn, value) -> None:
        # A connection that died mid-transaction (database gone) refuses even .info until rolled back:
        # the original OperationalError must surface (503 page), not an error raised from this hook.
        if conn.invalidated:
            return
        try:
            conn.info[_KEY] = value
        except sa_exc.PendingRollbackError:
            pass

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        _note(conn, None)  # nothing set yet in this transaction

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn) -> None:
        _note(conn, None)

    @event.listens_for(engine, "rollback_savepoint")
    def _rollback_savepoint(conn, name, context) -> None:
        _note(conn, _UNKNOWN)

    @event.listens_for(engine, "engine_connect")
    def _connect(conn) -> None:
        conn.info.setdefault(_KEY, _UNKNOWN)

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip()[:9].upper().startswith(_TX_CONTROL):
            return  # a ROLLBACK TO SAVEPOINT would undo a setting made right before it
        want = (bound_tenant_id(), platform_access())
        have = conn.info.get(_KEY, _UNKNOWN)
        if have is None:
            have = (None, False)  # nothing set yet in this transaction: no tenant, no platform side
        if have is not _UNKNOWN and have == want:
            return
        try:
            value = _value(cursor.connection, want)
            with cursor.connection.cursor() as cur:
                cur.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, value))
        except Exception:  # noqa: BLE001 (the statement itself will report a broken connection or
            # transaction; without the setting it sees no tenant rows, which fails closed)
            conn.info[_KEY] = _UNKNOWN
            return
        conn.info[_KEY] = want


# ---------------------------------------------------------------- refreshing an object already held

_REMEMBERED = "_rls_tenant_id"  # not a mapped attribute, so expiring the object keeps it


def _remember_tenant(target, *args) -> None:
    tid = target.__dict__.get("tenant_id")
    if tid is not None:
        target.__dict__[_REMEMBERED] = tid


event.listen(TenantScoped, "load", _remember_tenant, propagate=True)
event.listen(TenantScoped, "refresh", _remember_tenant, propagate=True)
event.listen(TenantScoped, "refresh_flush", _remember_tenant, propagate=True)


@event.listens_for(Session, "pending_to_persistent")
def _remember_new(session, instance) -> None:
    if isinstance(instance, TenantScoped):
        _remember_tenant(instance)


@event.listens_for(Session, "do_orm_execute")
def _refresh_in_the_rows_tenant(state) -> None:
    """Reload an expired attribute (e.g. after a commit) of an object the session already holds in that
    object's own tenant. The ORM scoping already allows such column loads whatever tenant is bound
    (``app.tenancy.scope``); without this, row-level security would make the row look deleted when it
    is touched outside its tenant's scope."""
    if not state.is_column_load:
        return None
    refreshing = getattr(state.load_options, "_refresh_state", None)
    obj = refreshing.obj() if refreshing is not None else None
    tid = obj.__dict__.get(_REMEMBERED) if isinstance(obj, TenantScoped) else None
    if tid is None or tid == bound_tenant_id():
        return None
    with tenant_scope(tid):
        return state.invoke_statement()


# ---------------------------------------------------------------- the one cross-tenant read path

_EXTENSION = "lapor_reporting"


def init_reporting(app) -> None:
    """On PostgreSQL with ``REPORTING_DATABASE_URL``, cross-tenant reads use the reporting role."""
    url = app.config.get("REPORTING_DATABASE_URL")
    if not url:
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and app.config["APP_ENV"] == "production":

            logging.getLogger(__name__).warning(
                "REPORTING_DATABASE_URL is not set: under row-level security the cross-region comparison "
                "sees no region's rows (README, 'Database roles and row-level security')")
        return

    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return

    @contextmanager
    def reporting_session() -> Iterator[Session]:
        with Session(bind=engine) as session:
            session.connection().exec_driver_sql("SET TRANSACTION READ ONLY")
            try:
                yield session
            finally:
                session.rollback()

    app.extensions[_EXTENSION] = reporting_session
    app.extensions[_EXTENSION + "_engine"] = engine


def cross_tenant_reads():
    """A read-only session that sees every tenant's rows; only :data:`CROSS_TENANT_READERS` may ask.

    PostgreSQL: a session of the ``lapor_reporting`` role (``REPORTING_DATABASE_URL``). Without that URL
    (SQLite, or a development database used as a superuser) it is the app's own session.
    Statements run on it still need the ORM's all-tenants execution option of ``app.tenancy.scope``.
    """

    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller not in CROSS_TENANT_READERS:
        raise CrossTenantWrite(f"{caller} may not read across tenants")

    factory = current_app.extensions.get(_EXTENSION)
    if factory is None:

        return _same_session(db.session)
    return factory()


@contextmanager
def _same_session(session) -> Iterator[Session]:
    yield session
