"""Faults, on PostgreSQL and Redis with real processes (issue 6): nothing is lost, nothing is sent twice.

Run with `make test-faults` (README). Messages are counted where they arrive: at a local SMTP server,
by their Message-ID (one per recorded message, i.e. per event and recipient).
"""

from __future__ import annotations

import re
import select as selectmod
import socket
import subprocess
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select

from app.complaints.models import CodeCounter, Complaint, ComplaintEvent, Follower
from app.extensions import db
from app.jobs.outbox import OutboxMessage
from app.notifications.models import Notification
from app.tenancy.scope import tenant_scope
from tests.faults.conftest import BIN, REPO, free_port, run_worker_burst, worker_env
from tests.web.citizen_support import form_data, pin_of

pytestmark = [
    pytest.mark.faults,
    # Connections cut or raced on purpose are sometimes collected unclosed by psycopg: expected here.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

RECEIVED = re.compile(r"/lapor/diterima/([A-Z]{2,5}-\d{2}-\d{4,6})\?t=")


def post_report(client, region, **overrides):
    # Email only (the SMTP sink is the recipient); a map pin inside the region's area.
    data = form_data(reporter_phone=None, **pin_of(region.slug, overrides))
    return client.post(f"/{region.slug}/lapor", data=data, content_type="multipart/form-data")


def code_of(resp) -> str:
    assert resp.status_code == 303, resp.text[:500]
    match = RECEIVED.search(resp.headers["Location"])
    assert match, resp.headers["Location"]
    return match.group(1)


#: A report's outbox rows: its receipt message and its duplicate-candidate scan (app.complaints.duplicate_pairs).
ROWS_PER_REPORT = 2
MAIL = OutboxMessage.job == "notifications.send"


def rows(app, region, model, *where):
    with app.app_context(), tenant_scope(region.id):
        try:
            return db.session.scalars(select(model).where(*where).order_by(model.id)).all()
        finally:
            db.session.expunge_all()
            db.session.remove()


def count(app, region, model) -> int:
    with app.app_context(), tenant_scope(region.id):
        try:
            return db.session.scalar(select(func.count(model.id)))
        finally:
            db.session.remove()


def engine_of(app):
    with app.app_context():
        return db.engine


def flask_relay(app, **env) -> str:
    """The periodic relay's path, as an operator runs it: `flask jobs relay` in its own process."""
    out = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "jobs", "relay"], cwd=REPO,  # noqa: S603
                         env={**worker_env(app), **env}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def assert_each_sent_once(app, region, smtp, expected_recipients: list[str]) -> None:
    """Every recorded message reached its recipient exactly once, and nothing else arrived."""
    notes = rows(app, region, Notification)
    assert sorted(n.recipient for n in notes) == sorted(expected_recipients)
    assert all(n.status == "sent" and n.attempts == 1 for n in notes), [(n.status, n.attempts) for n in notes]
    per_id = smtp.by_message_id()
    expected_ids = {f"<notification-{region.id}-{n.id}@lapor.localhost>" for n in notes}
    assert set(per_id) == expected_ids, per_id
    assert all(times == 1 for times in per_id.values()), per_id
    assert sorted(d.to[0] for d in smtp.delivered) == sorted(expected_recipients)
    assert all(r.processed_at is not None for r in rows(app, region, OutboxMessage))


# ---------------------------------------------------------------- a. Redis stopped while citizens submit


def test_reports_sent_while_redis_is_down_get_codes_and_their_mail_goes_out_once_after_it_returns(
        app, bjm, client, redis_server, smtp):
    recipients = [f"warga{i}@contoh.id" for i in range(4)]
    redis_server.stop()
    try:
        codes = [code_of(post_report(client, bjm, reporter_email=email, title=f"Jalan berlubang nomor {i + 1}"))
                 for i, email in enumerate(recipients)]
        page = client.get(f"/{bjm.slug}/lacak/{codes[0]}")
        assert page.status_code == 200  # tracking works without Redis too
    finally:
        redis_server.start()  # empty: nothing survived the outage in Redis
    assert len(set(codes)) == 4
    assert [c.code for c in rows(app, bjm, Complaint)] == codes
    waiting = rows(app, bjm, OutboxMessage)
    assert len(rows(app, bjm, OutboxMessage, MAIL)) == 4
    assert len(waiting) == 4 * ROWS_PER_REPORT and all(r.dispatched_at is None for r in waiting)
    assert smtp.delivered == []

    assert f"'relayed': {4 * ROWS_PER_REPORT}" in flask_relay(app)
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, recipients)

    # The periodic relay and the worker run again: nothing is sent twice.
    assert "'relayed': 0" in flask_relay(app, OUTBOX_STUCK_SECONDS="0")
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, recipients)


def test_jobs_lost_with_a_redis_restart_are_relayed_again_and_sent_once(app, bjm, client, redis_server, smtp):
    """Handed to RQ, then Redis restarts without persistence before a worker ran them."""
    recipients = ["ani@contoh.id", "budi@contoh.id"]
    for email in recipients:
        code_of(post_report(client, bjm, reporter_email=email))
    assert all(r.dispatched_at is not None for r in rows(app, bjm, OutboxMessage))  # relayed after the request
    redis_server.stop()
    redis_server.start()
    assert "'relayed': 0" in flask_relay(app)  # not yet stuck for long enough: left alone
    out = flask_relay(app, OUTBOX_STUCK_SECONDS="0")
    lost = 2 * ROWS_PER_REPORT  # every row's job went with Redis
    assert f"'resent': {lost}" in out and f"'relayed': {lost}" in out
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, recipients)


# ---------------------------------------------------------------- b. a worker killed mid-job


def test_a_worker_killed_while_sending_leaves_the_job_to_be_retried_and_the_recipient_gets_one_message(
        app, bjm, client, smtp):
    from tests.faults.conftest import Worker

    smtp.stall_next = True  # the first delivery hangs at the end of DATA, before the server accepts it
    code_of(post_report(client, bjm, reporter_email="siti@contoh.id"))
    (row,) = rows(app, bjm, OutboxMessage, MAIL)
    assert row.dispatched_at is not None

    worker = Worker(app)
    try:
        assert smtp.stalled.wait(60), worker.output()
        assert worker.children(), "no work horse is running the job"
    finally:
        worker.kill()  # SIGKILL mid-job: no clean-up, no failure recorded anywhere
    assert smtp.lost.wait(20), "the killed worker's SMTP connection is still open"
    assert smtp.aborted == 1  # the server never answered 250: nothing was delivered
    (row,) = rows(app, bjm, OutboxMessage, MAIL)
    assert row.processed_at is None and row.attempts == 0  # the killed attempt's transaction never committed
    assert smtp.delivered == []

    # The periodic relay notices the abandoned job (started, no heartbeat since) and hands the row over again.
    time.sleep(1.1)
    assert "'resent': 1" in flask_relay(app, OUTBOX_STUCK_SECONDS="1")
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, ["siti@contoh.id"])
    (row,) = rows(app, bjm, OutboxMessage, MAIL)
    assert row.attempts == 1

    # Later relays and workers (RQ's own abandoned-job clean-up included) send nothing more.
    assert "'relayed': 0" in flask_relay(app, OUTBOX_STUCK_SECONDS="0")
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, ["siti@contoh.id"])


# ---------------------------------------------------------------- c. database unavailable


class TcpProxy:
    """127.0.0.1:<port> → PostgreSQL; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = selectmod.select([a, b], [], [], 1.0)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if src is a else a).sendall(data)
        except (OSError, ValueError):
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.fixture()
def proxied_app(app, tenants):
    """A second app instance whose database connections all go through a TCP proxy."""
    from app import create_app

    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = create_app({**{k: app.config[k] for k in (
        "APP_ENV", "TESTING", "SECRET_KEY", "REDIS_URL", "JOBS_INLINE", "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED",
        "RATELIMIT_STORAGE_URI", "SUBMIT_RATE_LIMIT", "UPLOAD_DIR", "SERVER_NAME", "MAIL_SERVER", "MAIL_PORT",
        "MAIL_USE_TLS", "SMS_GATEWAY_URL")},
        "SQLALCHEMY_DATABASE_URI": url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
    })
    proxied.test_client_class = app.test_client_class
    yield proxied, proxy
    proxy.cut()
    with proxied.app_context():
        db.engine.dispose()


NO_TRACE = ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "File \"")


def test_database_outage_shows_a_translated_503_and_an_interrupted_report_leaves_nothing(app, proxied_app, bjm):
    proxied, proxy = proxied_app
    client = proxied.test_client()
    assert client.get(f"/{bjm.slug}/lapor").status_code == 200
    proxy.cut()

    page = client.get(f"/{bjm.slug}/lapor")
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "Layanan sementara tidak tersedia" in page.text and 'lang="id"' in page.text  # Indonesian default
    assert not any(t in page.text for t in NO_TRACE)
    for english in (client.get(f"/{bjm.slug}/?lang=en"),
                    client.get(f"/{bjm.slug}/lacak", headers={"Accept-Language": "en-US,en;q=0.9"})):
        assert english.status_code == 503
        assert "Service temporarily unavailable" in english.text and 'lang="en"' in english.text
        assert "We cannot reach our database" in english.text
        assert not any(t in english.text for t in NO_TRACE)
    assert client.get("/").status_code == 503  # the platform home (it lists the regions) too

    proxy.start()  # back: the pool replaces its dead connections
    assert client.get(f"/{bjm.slug}/lapor").status_code == 200

    # The database goes away in the middle of a report: after the complaint row, before its timeline event.
    key = uuid.uuid4().hex
    engine = engine_of(proxied)

    armed = [True]

    def cut_midway(conn, cursor, statement, params, context, executemany):
        if armed[0] and statement.lstrip().upper().startswith("INSERT INTO COMPLAINT_EVENT"):
            armed[0] = False
            proxy.cut()

    event.listen(engine, "before_cursor_execute", cut_midway)
    try:
        resp = client.post(f"/{bjm.slug}/lapor", data=form_data(submission_key=key),
                           content_type="multipart/form-data")
    finally:
        event.remove(engine, "before_cursor_execute", cut_midway)
    assert not armed[0], "the report never reached its timeline event"
    assert resp.status_code == 503
    assert not any(t in resp.text for t in NO_TRACE)
    proxy.start()

    for model in (Complaint, ComplaintEvent, Follower, Notification, OutboxMessage, CodeCounter):
        assert count(app, bjm, model) == 0, f"partial rows left in {model.__tablename__}"

    # The citizen sends the same form again once the database is back: one report, the first code of the year.
    resp = client.post(f"/{bjm.slug}/lapor", data=form_data(submission_key=key), content_type="multipart/form-data")
    assert code_of(resp).endswith("-00001")
    assert count(app, bjm, Complaint) == 1


# ---------------------------------------------------------------- d. two officers, one complaint, same moment


def _officer(app, region, n: int):
    from app.accounts.services import create_user
    from tests.conftest import DEMO_PASSWORD

    with app.app_context(), tenant_scope(region.id):
        user = create_user(f"petugas{n}@{region.slug}.go.id", f"Petugas {n}", "officer", password=DEMO_PASSWORD)
        db.session.commit()
        email = user.email
        db.session.remove()
    return email


def _signed_in(app, region, email):
    from tests.conftest import login

    client = app.test_client()
    resp = login(client, region, email)
    assert resp.status_code == 302, resp.text[:300]
    return client


class Rendezvous:
    """Holds the first ``n`` statements that match until all ``n`` have arrived (a real race, every time)."""

    def __init__(self, engine, n: int, match) -> None:
        self.engine, self.match = engine, match
        self.barrier = threading.Barrier(n, timeout=20)
        self.left = n
        self.lock = threading.Lock()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.hook)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.hook)

    def hook(self, conn, cursor, statement, params, context, executemany):
        if not self.match(statement):
            return
        with self.lock:
            if self.left == 0:
                return
            self.left -= 1
        self.barrier.wait()


def _race(*calls):
    results: list = [None] * len(calls)
    errors: list = []

    def run(i, fn):
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_two_officers_verifying_the_same_report_at_once_one_wins_the_other_is_told(app, bjm, client):
    from tests.web.staff_support import hidden_version, post_action

    code = code_of(post_report(client, bjm, reporter_email="rina@contoh.id"))
    (c,) = rows(app, bjm, Complaint)
    first, second = (_signed_in(app, bjm, _officer(app, bjm, n)) for n in (1, 2))
    versions = {hidden_version(o.get(f"/{bjm.slug}/staff/complaints/{c.id}").text, "verify") for o in (first, second)}
    assert versions == {str(c.version)}

    engine = engine_of(app)
    with Rendezvous(engine, 2, lambda s: s.lstrip().upper().startswith("UPDATE COMPLAINT SET")):
        a, b = _race(*(lambda o=o, t=t: post_action(o, bjm, c.id, "verify", "verify", c.version, title=t,
                                                    complaint_class="pengaduan")
                       for o, t in ((first, "Judul dari petugas satu"), (second, "Judul dari petugas dua"))))
    assert sorted([a.status_code, b.status_code]) == [302, 409], (a.status_code, b.status_code)
    loser = a if a.status_code == 409 else b
    assert "Laporan ini baru saja diubah oleh orang lain" in loser.text  # "changed by someone else", translated
    assert not any(t in loser.text for t in NO_TRACE)

    (c,) = rows(app, bjm, Complaint)
    assert c.code == code and c.status == "verified"
    assert c.title in {"Judul dari petugas satu", "Judul dari petugas dua"}
    kinds = [e.kind for e in rows(app, bjm, ComplaintEvent)]
    assert kinds.count("verify") == 1


# ---------------------------------------------------------------- e. a double-submitted form


def test_the_same_form_posted_twice_makes_one_report_with_one_code(app, bjm, client, smtp):
    form = client.get(f"/{bjm.slug}/lapor").text
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', form).group(1)
    first = post_report(client, bjm, submission_key=key, reporter_email="dodi@contoh.id")
    again = post_report(client, bjm, submission_key=key, reporter_email="dodi@contoh.id")
    assert code_of(first) == code_of(again)
    assert first.headers["Location"] == again.headers["Location"]  # the same confirmation page
    assert count(app, bjm, Complaint) == 1


def test_the_same_form_posted_twice_at_the_same_moment_makes_one_report(app, bjm, smtp):
    key = uuid.uuid4().hex
    browsers = [app.test_client(), app.test_client()]
    engine = engine_of(app)
    # Both requests look for the key before either has written anything.
    with Rendezvous(engine, 2, lambda s: "submission_key" in s and s.lstrip().upper().startswith("SELECT")):
        a, b = _race(*(lambda br=br: post_report(br, bjm, submission_key=key, reporter_email="eka@contoh.id")
                       for br in browsers))
    assert code_of(a) == code_of(b)
    assert a.headers["Location"] == b.headers["Location"]
    assert count(app, bjm, Complaint) == 1
    assert [e.kind for e in rows(app, bjm, ComplaintEvent)] == ["submit"]
    run_worker_burst(app)
    assert_each_sent_once(app, bjm, smtp, ["eka@contoh.id"])


def test_a_message_sent_whose_sent_status_was_lost_with_the_database_is_not_sent_again(app, bjm, client, smtp):
    """The gateway accepted the email, then the database failed before "sent" was committed (a
    failover: make test-cluster saw one such duplicate). The retried job must not send a second copy."""
    from app.notifications.service import send_notification

    code_of(post_report(client, bjm, reporter_email="rina@contoh.id"))
    (note,) = rows(app, bjm, Notification)
    with app.app_context(), tenant_scope(bjm.id):
        assert send_notification(bjm.id, note.id) != "skip"
        db.session.rollback()  # the commit never happened: the row still says pending
        db.session.remove()
    (still,) = rows(app, bjm, Notification)
    assert still.status == "pending" and len(smtp.delivered) == 1
    with app.app_context(), tenant_scope(bjm.id):  # the retry
        assert send_notification(bjm.id, note.id) == "skip"
        db.session.commit()
        db.session.remove()
    (done,) = rows(app, bjm, Notification)
    assert done.status == "sent" and [d.to for d in smtp.delivered] == [["rina@contoh.id"]]
