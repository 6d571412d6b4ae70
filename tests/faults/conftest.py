"""Fault scenarios against real processes: PostgreSQL, a Redis server of their own, real `rq worker`
subprocesses and a local SMTP sink that counts what each recipient really received.

`make test-faults` runs them (TEST_DATABASE_URL must name PostgreSQL, REDIS_URL a reachable Redis, and
`redis-server` must be installed: the Redis scenarios stop and start a server of their own on a free
port, never the shared one). Anything missing stops the run with an error; nothing is skipped.

Unlike the rest of the suite, data here is really committed (workers in other processes must see it);
every test starts from emptied tables with both demo regions synced.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO, RequestIsolatingClient

BIN = Path(os.environ.get("VIRTUAL_ENV") or REPO / ".venv") / "bin"
SECRET = "faults-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------- required services


def _require_services() -> str:
    """The PostgreSQL URL. Without the services every fault test errors (never skips); an unreachable
    server stops the run, as in the rest of the suite."""
    db_url = os.environ.get("TEST_DATABASE_URL") or ""
    if not db_url.startswith("postgresql"):
        pytest.fail("tests/faults needs TEST_DATABASE_URL=postgresql://… (see README: make test-faults)", pytrace=False)
    if not os.environ.get("REDIS_URL"):
        pytest.fail("tests/faults needs REDIS_URL (see README: make test-faults)", pytrace=False)
    if not shutil.which("redis-server"):
        pytest.fail("tests/faults needs the redis-server binary (apt-get install redis-server)", pytrace=False)
    from tests.conftest import _check_reachable

    _check_reachable(db_url, os.environ["REDIS_URL"])
    return db_url


# ---------------------------------------------------------------- our own Redis server


class RedisServer:
    """A redis-server on a free port, without persistence: stopping it loses every job, like a crash."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.dir = tempfile.mkdtemp(prefix="lapor-faults-redis-")

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def ping(self) -> bool:
        from redis import Redis

        try:
            return bool(Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except Exception:  # noqa: BLE001
            return False


@pytest.fixture(scope="session")
def required_services() -> str:
    return _require_services()


@pytest.fixture(scope="session")
def redis_server(required_services):
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


# ---------------------------------------------------------------- SMTP sink (the recipient)


@dataclass
class Delivered:
    to: list[str]
    message_id: str
    subject: str


@dataclass
class SmtpSink:
    """Counts messages the recipient's server accepted (answered 250). ``stall_next`` holds the next
    message at the end of DATA, before the answer, until ``release`` is set: a worker killed then has
    not delivered anything (SMTP: a message is delivered only once the server said so)."""

    delivered: list[Delivered] = field(default_factory=list)
    aborted: int = 0
    stall_next: bool = False
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.stall_next:
            self.stall_next = False
            self.stalled.set()
            try:
                while not self.release.is_set():
                    transport = getattr(server, "transport", None)
                    if transport is None or transport.is_closing():
                        raise asyncio.CancelledError
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the client goes away
                with self.lock:
                    self.aborted += 1
                self.lost.set()
                raise
        msg = message_from_bytes(envelope.content)
        with self.lock:
            self.delivered.append(Delivered(list(envelope.rcpt_tos), msg["Message-ID"] or "", msg["Subject"] or ""))
        return "250 OK"

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.delivered:
            counts[d.message_id] = counts.get(d.message_id, 0) + 1
        return counts


@pytest.fixture(scope="session")
def smtp_controller():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture()
def smtp(smtp_controller) -> SmtpSink:
    sink: SmtpSink = smtp_controller.handler
    sink.delivered.clear()
    sink.aborted = 0
    sink.stall_next = False
    sink.stalled.clear()
    sink.release.clear()
    sink.lost.clear()
    return sink


# ---------------------------------------------------------------- the app, really committing


@pytest.fixture(scope="session")
def app(required_services, redis_server, smtp_controller):
    """Overrides the suite's app: PostgreSQL with real commits, RQ on our own Redis, mail to the sink."""
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import _prepare_postgres_roles

    # As in production: the app and the workers connect as the runtime role under row-level security,
    # migrations run as the owner (a fresh schema owned by it).
    roles = _prepare_postgres_roles(required_services)
    application = create_app({
        "APP_ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": roles["app"],
        "MIGRATION_DATABASE_URL": roles["owner"],
        "REPORTING_DATABASE_URL": roles["reporting"],
        "REDIS_URL": redis_server.url,
        "JOBS_INLINE": False,
        "WTF_CSRF_ENABLED": False,
        # The real limiter on the real Redis: a Redis outage must not stop citizens from reporting.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_server.url,
        "SUBMIT_RATE_LIMIT": "1000 per minute",
        "UPLOAD_DIR": tempfile.mkdtemp(prefix="lapor-faults-uploads-"),
        "SERVER_NAME": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_controller.port,
        "MAIL_USE_TLS": False,
        "SMS_GATEWAY_URL": None,
    })
    with application.app_context():
        from app.extensions import db

        upgrade(directory=str(REPO / "migrations"))
    application.test_client_class = RequestIsolatingClient
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections now, not at interpreter exit (ResourceWarning)


def worker_env(app) -> dict:
    """The environment of a worker process: the same database, Redis and mail server as the app."""
    cfg = app.config
    return {**os.environ, "APP_ENV": "testing", "SECRET_KEY": SECRET,
            "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": cfg["REDIS_URL"], "JOBS_INLINE": "0",
            "MAIL_SERVER": cfg["MAIL_SERVER"], "MAIL_PORT": str(cfg["MAIL_PORT"]), "MAIL_USE_TLS": "0",
            "UPLOAD_DIR": cfg["UPLOAD_DIR"], "SMS_GATEWAY_URL": "", "SENTRY_DSN": "", "LOG_LEVEL": "INFO"}


@pytest.fixture()
def tenants(app, redis_server):
    """Empty tables, empty Redis, both demo regions synced and committed: (banjarmasin, katingan)."""
    from redis import Redis

    from app.extensions import db
    from app.tenancy.files import load_tenant_config, sync_tenant

    if not redis_server.ping():
        redis_server.start()  # a failed earlier test may have left it stopped
    Redis.from_url(redis_server.url).flushall()
    with app.app_context():
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        owner = sa.create_engine(app.config["MIGRATION_DATABASE_URL"], poolclass=sa.pool.NullPool)
        with owner.begin() as conn:  # the runtime role may not TRUNCATE
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        owner.dispose()
        bjm = sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
        ktg = sync_tenant(load_tenant_config(REPO / "tenants", "katingan"))
        db.session.commit()
        ids = (bjm.id, bjm.slug), (ktg.id, ktg.slug)
        db.session.remove()
    yield [Region(i, s) for i, s in ids]
    with app.app_context():
        db.session.remove()


@dataclass(frozen=True)
class Region:
    id: int
    slug: str


@pytest.fixture()
def bjm(tenants):
    return tenants[0]


@pytest.fixture()
def client(app):
    return app.test_client()


# ---------------------------------------------------------------- rq worker subprocesses


class Worker:
    """`rq worker` as the README runs it, in its own process; killable like a crashed machine."""

    def __init__(self, app, burst: bool = False) -> None:
        args = [str(BIN / "rq"), "worker", "-w", "app.jobs.worker.AppWorker", "--with-scheduler",
                "--url", app.config["REDIS_URL"], "notifications", "default", "periodic"]
        if burst:
            args.append("--burst")
        self.log = tempfile.NamedTemporaryFile(prefix="lapor-faults-worker-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(args, cwd=REPO, env=worker_env(app), stdout=self.log,  # noqa: S603
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise AssertionError(f"worker did not finish in {timeout}s:\n{self.output()}") from exc

    def children(self) -> list[int]:
        """Process ids whose parent is the worker (RQ's work horse runs in its own process group)."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                out.append(int(stat.parent.name))
        return out

    def kill(self) -> None:
        """SIGKILL the worker and its work horse: no clean-up, no "job failed" bookkeeping."""
        horses = self.children()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in horses:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def run_worker_burst(app, timeout: float = 90) -> str:
    worker = Worker(app, burst=True)
    rc = worker.wait(timeout)
    out = worker.output()
    assert rc == 0, out
    return out
