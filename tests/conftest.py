"""Test set-up: one migrated database per run, a rolled-back transaction per test, two tenants always.

Database: TEST_DATABASE_URL (or DATABASE_URL), else a SQLite file in a temporary folder.
When a PostgreSQL URL or REDIS_URL is given and the server cannot be reached, the run stops
with an error: it never quietly falls back or skips.
"""

from __future__ import annotations

import contextvars
import os
import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("APP_ENV", "testing")

from flask.testing import FlaskClient  # noqa: E402

from app.extensions import TenantSession  # noqa: E402  (after APP_ENV is set)

REPO = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "correct-horse-battery"


#: Under pytest-xdist (`make test` runs ``-n 2``) each worker has its own database and Redis db number.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
#: Redis db of the RQ tests when no REDIS_URL is given (worker k uses this + k).
DEFAULT_TEST_REDIS = "redis://127.0.0.1:6379/14"


def worker_redis_url(url: str) -> str:
    """``url`` with the db number of this xdist worker: REDIS_URL's db + the worker index (tests flush it)."""
    from redis.connection import parse_url

    base = int(parse_url(url).get("db") or 0)
    db = base + WORKER_INDEX
    if db > 15:
        raise pytest.UsageError(f"REDIS_URL {url}: worker {WORKER} would need Redis db {db} (0-15)")
    scheme_host = url.split("://", 1)[0] + "://" + url.split("://", 1)[1].split("/", 1)[0]
    return f"{scheme_host}/{db}"


def run_redis_url() -> str | None:
    """This worker's REDIS_URL, or None when none is given."""
    url = os.environ.get("REDIS_URL") or None
    return worker_redis_url(url) if url else None


def shared_cache(app, prefix: str, setting: str, seconds: int):
    """For a test of a Redis-shared cache: this worker's Redis as REDIS_URL, ``setting`` set to ``seconds``, no
    key under ``prefix`` before or after; yields the connection (skips when no Redis answers)."""
    from redis import Redis

    url = run_redis_url() or worker_redis_url(DEFAULT_TEST_REDIS)
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Redis at {url} ({type(exc).__name__})")
    old = app.config["REDIS_URL"], app.config[setting]
    app.config.update({"REDIS_URL": url, setting: seconds})
    conn = Redis.from_url(url)
    for key in conn.scan_iter(f"{prefix}*"):
        conn.delete(key)
    yield conn
    for key in conn.scan_iter(f"{prefix}*"):
        conn.delete(key)
    app.config["REDIS_URL"], app.config[setting] = old


def pytest_configure(config):
    """A given PostgreSQL or Redis that cannot be reached stops the run at once, before any xdist worker
    starts (each worker's ``app`` fixture checks again)."""
    if hasattr(config, "workerinput"):
        return
    db_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url or (db_url and not db_url.startswith("sqlite")):
        _check_reachable(db_url or "sqlite://", redis_url)


def _database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        if WORKER_INDEX and not url.startswith("sqlite"):
            return _create_postgres_database(url, WORKER)  # worker 0 keeps the given database
        return url
    folder = tempfile.mkdtemp(prefix="lapor-test-")
    return f"sqlite:///{folder}/test.db"


_CREATED_DATABASES: list[tuple[str, str]] = []


def _create_postgres_database(admin_url: str, suffix: str) -> str:
    """A fresh database ``<TEST_DATABASE_URL's name>_<suffix>`` beside the given one (dropped at the end of
    the run); returns its URL. The given URL must be a superuser's, as for the roles."""
    url = sa.engine.make_url(admin_url)
    name = f"{url.database}_{suffix}"[:63]
    _check_reachable(admin_url, None)
    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    _CREATED_DATABASES.append((admin_url, name))
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_created_databases() -> None:
    while _CREATED_DATABASES:
        admin_url, name = _CREATED_DATABASES.pop()
        engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def _check_reachable(db_url: str, redis_url: str | None) -> None:
    if not db_url.startswith("sqlite"):
        try:
            engine = sa.create_engine(db_url)
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # noqa: BLE001
            pytest.exit(f"database {db_url.split('@')[-1]} is unreachable: {exc}", returncode=3)
    if redis_url:
        from redis import Redis

        try:
            Redis.from_url(redis_url, socket_connect_timeout=2).ping()
        except Exception as exc:  # noqa: BLE001
            pytest.exit(f"REDIS_URL {redis_url} is unreachable: {exc}", returncode=3)


class RequestIsolatingClient(FlaskClient):
    """Runs every request in a fresh context, as a server does.

    Flask reuses an application context that is already pushed (the ``db`` fixture pushes one), so
    without this every request of a test would share one ``g`` (Flask-Login caches the signed-in
    user there: a later request with another cookie, or none, would still be "signed in"), one
    session identity map, and the test's bound tenant. Here each request gets its own app context,
    ``g`` and session (on the test's connection, so it sees the test's data) and no tenant bound.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app():
    redis_url = run_redis_url()
    _check_reachable(os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or "sqlite://", redis_url)
    db_url = _database_url()
    if redis_url:
        from redis import Redis

        # REDIS_URL's db number belongs to the test run (as the database does): start it empty, so
        # nothing a previous run left (delivery marks, cached comparisons) meets rows with the same ids.
        Redis.from_url(redis_url).flushdb()
    application = _migrated_app(db_url, redis_url)
    yield application
    for key in ("test_harness_engine", "lapor_reporting_engine"):
        if key in application.extensions:
            application.extensions[key].dispose()
    _drop_created_databases()


def _migrated_app(db_url: str, redis_url: str | None):
    """The app on ``db_url`` (PostgreSQL: with the three roles), migrated to the head."""
    from flask_migrate import upgrade

    from app import create_app

    roles = _prepare_postgres_roles(db_url) if db_url.startswith("postgres") else {}
    application = create_app({
        "APP_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        # PostgreSQL: the app connects as the runtime role, migrations run as the owner, and the
        # comparison reads through the reporting role, as in production (row-level security applies).
        "SQLALCHEMY_DATABASE_URI": roles.get("app", db_url),
        "MIGRATION_DATABASE_URL": roles.get("owner"),
        "REPORTING_DATABASE_URL": roles.get("reporting"),
        "REDIS_URL": redis_url,
        "JOBS_INLINE": True,  # tests that exercise RQ switch this off explicitly
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_DIR": tempfile.mkdtemp(prefix="lapor-uploads-"),
        "SERVER_NAME": None,
        "MAIL_SERVER": None,
        "SMS_GATEWAY_URL": None,
        "COMPARE_CACHE_SECONDS": 0,  # every test has its own data: no comparison shared through Redis
        "TRANSPARENCY_CACHE_SECONDS": 0,  # likewise the transparency page's figures
    })
    with application.app_context():
        upgrade(directory=str(REPO / "migrations"))
    if roles:
        application.extensions["test_harness_engine"] = _harness_engine(
            db_url, application.config["SQLALCHEMY_ENGINE_OPTIONS"])
    application.test_client_class = RequestIsolatingClient
    return application


def _role_url(admin_url: str, role: str) -> str:
    """The test database as ``role`` (local trust authentication accepts any role without a password)."""
    return sa.engine.make_url(admin_url).set(username=role, password=None).render_as_string(hide_password=False)


def _prepare_postgres_roles(admin_url: str) -> dict[str, str]:
    """Create the three roles if missing, give the run a fresh schema owned by lapor_owner, and return
    the URL of each role. ``admin_url`` (TEST_DATABASE_URL) must be a superuser."""
    from app.tenancy.roles import APP_ROLE, OWNER_ROLE, REPORTING_ROLE, create_roles

    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    # The roles are cluster-wide: xdist workers (each on its own database) take turns altering them, under an
    # advisory lock in TEST_DATABASE_URL's database (advisory locks are per database).
    lock_engine = sa.create_engine(os.environ.get("TEST_DATABASE_URL") or admin_url, poolclass=sa.pool.NullPool)
    with lock_engine.connect() as lock:
        lock.exec_driver_sql("SELECT pg_advisory_lock(724201)")
        try:
            with engine.begin() as conn:
                create_roles(conn, engine.url.database)
                # A fresh schema per run: CI also gives each run its own database.
                conn.exec_driver_sql(f"DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION {OWNER_ROLE}")
                create_roles(conn, engine.url.database)  # the schema grants again, on the new schema
        finally:
            lock.exec_driver_sql("SELECT pg_advisory_unlock(724201)")
            lock.commit()
    lock_engine.dispose()
    engine.dispose()
    return {"app": _role_url(admin_url, APP_ROLE), "owner": _role_url(admin_url, OWNER_ROLE),
            "reporting": _role_url(admin_url, REPORTING_ROLE)}


def _harness_engine(admin_url: str, options: dict):
    """Connections for the per-test transaction: they act as the runtime role (``SET ROLE lapor_app``:
    its privileges, row-level security applies) but may switch to the reporting role for a moment,
    so the comparison sees the test's uncommitted rows through its own role (see ``_reporting_on``)."""
    from app.tenancy.rls import install_tenant_setting
    from app.tenancy.roles import APP_ROLE

    # The app's engine options (hide_parameters: SQL logs never carry values) with a small pool.
    engine = sa.create_engine(admin_url, **{**options, "pool_size": 2, "max_overflow": 4})

    @sa.event.listens_for(engine, "connect")
    def _as_runtime_role(dbapi_conn, record):
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET ROLE {APP_ROLE}")
        dbapi_conn.commit()

    install_tenant_setting(engine)
    return engine


def _reporting_on(connection):
    """cross_tenant_reads() inside a test: the test's connection, as lapor_reporting, in a savepoint
    whose rollback returns it to lapor_app."""
    from contextlib import contextmanager

    from sqlalchemy.orm import Session

    from app.tenancy.roles import REPORTING_ROLE

    @contextmanager
    def reporting_session():
        nested = connection.begin_nested()
        connection.exec_driver_sql(f"SET LOCAL ROLE {REPORTING_ROLE}")
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            nested.rollback()

    return reporting_session


class _ConnectionBoundSession(TenantSession):
    """Flask-SQLAlchemy's get_bind() picks the engine; tests need the one shared connection.

    It extends the application's session class, so its tenant guard on ``get()`` applies here too.
    """

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture()
def db(app, request):
    """The session, bound to one connection whose outer transaction is rolled back after the test.

    Code under test may commit: with ``create_savepoint`` that only releases a SAVEPOINT.
    A test that asks for ``demo_data`` gets a connection to the demo database instead (seeded once per run).
    """
    from app.extensions import db as _db

    target = app
    if "demo_data" in request.fixturenames:
        request.getfixturevalue("demo_data")
        target = app.extensions["test_demo_app"]
    with target.app_context():
        harness = target.extensions.get("test_harness_engine")
        engine = harness or _db.engine
    with app.app_context():
        connection = engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _ConnectionBoundSession}
        )
        original_reporting = app.extensions.get("lapor_reporting")
        if harness is not None:
            app.extensions["lapor_reporting"] = _reporting_on(connection)
        try:
            yield _db
        finally:
            if harness is not None:
                app.extensions["lapor_reporting"] = original_reporting
            _db.session.remove()
            _db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture(scope="session")
def demo_data(app):
    """The demo data of `make run` (``seed_demo``: both regions, staff of every role, 200 reports each),
    seeded ONCE per run (per xdist worker) into a database of its own: a SQLite file, or on PostgreSQL a
    database beside TEST_DATABASE_URL's. A test that asks for this fixture gets, from ``db``, a connection
    to that database whose transaction is rolled back afterwards, so demo tests stay independent.
    Returns the lines the seed printed."""
    from app.demo import seed_demo
    from app.extensions import db as _db

    main_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if main_url and not main_url.startswith("sqlite"):
        demo_url = _create_postgres_database(main_url, f"demo{WORKER_INDEX}")
    else:
        demo_url = f"sqlite:///{tempfile.mkdtemp(prefix='lapor-demo-')}/demo.db"
    demo_app = _migrated_app(demo_url, app.config["REDIS_URL"])
    with demo_app.app_context():
        lines = seed_demo()
        _db.session.commit()
        _db.session.remove()
    app.extensions["test_demo_app"] = demo_app
    yield lines
    app.extensions.pop("test_demo_app", None)
    for key in ("test_harness_engine", "lapor_reporting_engine"):
        if key in demo_app.extensions:
            demo_app.extensions[key].dispose()
    with demo_app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def totp_clock(request, monkeypatch):
    """The TOTP clock of app.accounts.mfa for this test: the wall clock plus an offset that
    ``totp_clock.advance(seconds)`` / ``totp_clock.next_step()`` move forward, so no test waits for the
    next 30-second step (tests/mfa_support.py moves it when a user signs in a third time in one step).
    Not for a live server in another process (tests/e2e), whose clock it cannot reach."""
    from app.accounts import mfa
    from tests.mfa_support import TotpClock

    if "live_server" in request.fixturenames:
        yield None
        return
    clock = TotpClock()
    monkeypatch.setattr(mfa, "clock", clock)
    yield clock


@pytest.fixture()
def tenants(db):
    """Both demo regions, synced from the real tenants/ files: (banjarmasin, katingan)."""
    from app.tenancy.files import load_tenant_config, sync_tenant

    bjm = sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
    ktg = sync_tenant(load_tenant_config(REPO / "tenants", "katingan"))
    db.session.commit()
    return bjm, ktg


@pytest.fixture()
def bjm(tenants):
    return tenants[0]


@pytest.fixture()
def ktg(tenants):
    return tenants[1]


@pytest.fixture()
def make_user(db):
    """make_user(tenant, role, email=None, agency_code=None, **kw) → User (committed)."""
    from sqlalchemy import select

    from app.accounts.services import create_user
    from app.agencies.models import Agency
    from app.tenancy.scope import tenant_scope

    counter = {"n": 0}

    def factory(tenant, role, email=None, agency_code=None, password=DEMO_PASSWORD, **kw):
        counter["n"] += 1
        with tenant_scope(tenant.id):
            agency_id = None
            if agency_code or role == "liaison":
                code = agency_code or "pupr"
                agency_id = db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()
            # ".test" is a special-use domain that the sign-in form (email_validator) refuses.
            email = email or f"{role}{counter['n']}@{tenant.slug}.example"
            name = kw.pop("name", f"{role} {counter['n']}")
            user = create_user(email, name, role, password=password, agency_id=agency_id, **kw)
            db.session.commit()
            return user

    return factory


@pytest.fixture()
def client(app, db):
    return app.test_client()


def login(client, tenant, email, password=DEMO_PASSWORD):
    """Sign in through the real form, with the second factor when the account has or needs one
    (tests/mfa_support.py); returns the last response."""
    from tests.mfa_support import complete_mfa

    resp = client.post(f"/{tenant.slug}/login", data={"email": email, "password": password})
    return complete_mfa(client, resp, email, f"/{tenant.slug}")


def central_login(client, email, password):
    """A central administrator signs in, enrolling or entering the second factor; returns the last response."""
    from tests.mfa_support import complete_mfa

    resp = client.post("/central/login", data={"email": email, "password": password})
    return complete_mfa(client, resp, email, "/central")


@pytest.fixture()
def login_as(client):
    def do(tenant, user, password=DEMO_PASSWORD):
        resp = login(client, tenant, user.email, password)
        assert resp.status_code == 302, resp.text[:500]
        return client

    return do


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


# ---------------------------------------------------------------- object storage (app.storage)

@pytest.fixture(scope="session")
def s3_server():
    """A real S3-speaking HTTP server (moto's server mode) on a free local port, for the whole run.

    moto serves the S3 REST protocol (signatures, ListObjectsV2, HEAD, metadata) in-process; the app
    talks to it through boto3 over HTTP exactly as to any S3-compatible service (README "Object storage").
    """
    from moto.server import ThreadedMotoServer

    # Credentials the server accepts; boto3 reads them from the environment as in production.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "lapor-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "lapor-test-secret")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, app):
    """Runs a test once on the local folder and once on a fresh private bucket of the S3 server."""
    import uuid

    saved = {k: app.config.get(k) for k in ("STORAGE_URL", "STORAGE_S3_ENDPOINT_URL", "STORAGE_S3_REGION")}
    if request.param == "s3":
        import boto3

        endpoint = request.getfixturevalue("s3_server")
        bucket = f"lapor-test-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="ap-southeast-3").create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-3"})
        app.config.update(STORAGE_URL=f"s3://{bucket}/uploads", STORAGE_S3_ENDPOINT_URL=endpoint,
                          STORAGE_S3_REGION="ap-southeast-3")
    else:
        app.config.update(STORAGE_URL=None)
    from app.storage import storage

    yield storage(app)
    app.config.update(saved)
