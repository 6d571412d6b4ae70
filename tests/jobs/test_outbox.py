"""The transactional outbox: one message per event, sent once, in-process or through real RQ + Redis,
surviving a Redis outage, and never acting on another tenant's rows.
"""

from __future__ import annotations

import logging

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from app.jobs import REGISTRY, job
from app.jobs.outbox import MAX_ATTEMPTS, OutboxMessage, enqueue, relay, run_message
from app.jobs.runner import run_outbox_job
from app.notifications.models import Notification
from app.notifications.service import queue_message, send_notification
from app.tenancy.scope import tenant_scope
from tests.conftest import DEFAULT_TEST_REDIS as CONFTEST_DEFAULT_REDIS
from tests.conftest import run_redis_url, worker_redis_url

#: Without REDIS_URL: this Redis db (+ the xdist worker index), if a server is there (tests/conftest.py).
DEFAULT_TEST_REDIS = worker_redis_url(CONFTEST_DEFAULT_REDIS)


def _queue(event_key="complaint:1:received", recipient="siti@contoh.id", channel="email"):
    return queue_message(event_key=event_key, channel=channel, recipient=recipient, template_key="complaint_received",
                         context={"code": "BJM-26-00001", "title": "Jalan berlubang", "link": "http://x/lacak"})


def _notes(db, tenant_id):
    with tenant_scope(tenant_id):
        db.session.expire_all()
        return db.session.scalars(select(Notification).order_by(Notification.id)).all()


def _outbox(db, tenant_id):
    with tenant_scope(tenant_id):
        db.session.expire_all()
        return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


@pytest.fixture()
def t(bjm, ktg):
    from types import SimpleNamespace

    return SimpleNamespace(bjm=bjm.id, ktg=ktg.id)


# ------------------------------------------------------------------ in-process mode


def test_queued_message_is_recorded_and_sent_by_the_relay(app, db, t):
    assert app.config["JOBS_INLINE"] is True
    with tenant_scope(t.bjm):
        note = _queue()
        assert note.status == "pending"
        assert "BJM-26-00001" in note.subject and "Lapor Baiman" in note.body  # the tenant's template
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    assert relay() == {"relayed": 0, "ran": 1, "failed": 0, "waiting": 0}
    (sent,) = _notes(db, t.bjm)
    assert sent.status == "sent" and sent.attempts == 1 and sent.sent_at is not None
    (row,) = _outbox(db, t.bjm)
    assert row.processed_at is not None and row.dispatched_at is not None and row.last_error is None
    assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}


def test_queueing_the_same_event_twice_records_one_message(db, t):
    with tenant_scope(t.bjm):
        assert _queue() is not None
        assert _queue() is None
        assert _queue(channel="sms", recipient="081234567") is not None  # another channel is another message
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    assert len(_notes(db, t.bjm)) == 2
    assert len(_outbox(db, t.bjm)) == 2


def test_the_same_event_key_in_two_tenants_is_two_messages(db, t):
    with tenant_scope(t.bjm):
        assert _queue() is not None
    with tenant_scope(t.ktg):
        note = _queue()
        assert note is not None and "Lapor Katingan" in note.body
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    assert len(_notes(db, t.bjm)) == len(_notes(db, t.ktg)) == 1


def test_running_the_job_twice_sends_once(db, t):
    with tenant_scope(t.bjm):
        note = _queue()
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    (row,) = _outbox(db, t.bjm)
    assert run_message(row.id, t.bjm) == "done"
    assert run_message(row.id, t.bjm) == "already-processed"
    with tenant_scope(t.bjm):
        assert send_notification(tenant_id=t.bjm, notification_id=note.id) == "skip"
    (sent,) = _notes(db, t.bjm)
    assert sent.status == "sent" and sent.attempts == 1


@pytest.fixture()
def failing_job():
    """A job that always fails, registered for one test."""
    calls = []

    @job("tests.always_fails")
    def always_fails(tenant_id: int, **payload):
        calls.append(tenant_id)
        raise RuntimeError("boom")

    yield calls
    REGISTRY.pop("tests.always_fails", None)


def test_a_failing_job_keeps_its_row_for_a_retry_and_gives_up_after_max_attempts(db, t, failing_job):
    with tenant_scope(t.bjm):
        enqueue("tests.always_fails", thing=1)
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert relay()["failed"] == 1
        (row,) = _outbox(db, t.bjm)
        assert row.attempts == attempt and row.processed_at is None and row.last_error == "RuntimeError"
    assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}
    assert failing_job == [t.bjm] * MAX_ATTEMPTS


def test_enqueue_refuses_an_unknown_job(db, t):
    with tenant_scope(t.bjm), pytest.raises(KeyError):
        enqueue("no.such.job")


# ------------------------------------------------------------------ jobs never cross tenants


def test_a_job_with_katingans_id_and_banjarmasins_outbox_row_does_nothing(db, t, caplog):
    with tenant_scope(t.bjm):
        _queue()
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    (row,) = _outbox(db, t.bjm)
    with caplog.at_level(logging.ERROR, logger="app.jobs.outbox"):
        assert run_message(row.id, t.ktg) == "missing"
    assert any("not found" in r.getMessage() for r in caplog.records)
    (row,) = _outbox(db, t.bjm)
    assert row.processed_at is None and row.attempts == 0
    assert _notes(db, t.bjm)[0].status == "pending"


def test_a_katingan_job_pointing_at_a_banjarmasin_notification_skips_it(db, t):
    with tenant_scope(t.bjm):
        bjm_note = _queue()
    with tenant_scope(t.ktg):
        enqueue("notifications.send", notification_id=bjm_note.id)  # a forged payload
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    ktg_row = _outbox(db, t.ktg)[0]
    assert run_message(ktg_row.id, t.ktg) == "done"  # the handler ran and found nothing to send
    with tenant_scope(t.ktg):
        assert send_notification(tenant_id=t.ktg, notification_id=bjm_note.id) == "skip"
    (untouched,) = _notes(db, t.bjm)
    assert untouched.status == "pending" and untouched.attempts == 0 and untouched.sent_at is None
    assert _notes(db, t.ktg) == []


# ------------------------------------------------------------------ real RQ on real Redis


def _redis_url() -> str:
    url = run_redis_url()  # REDIS_URL with this xdist worker's db number
    if url:
        return url  # conftest already stopped the run if it is unreachable
    try:
        Redis.from_url(DEFAULT_TEST_REDIS, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no REDIS_URL and no Redis at {DEFAULT_TEST_REDIS} ({type(exc).__name__}): RQ tests skipped")
    return DEFAULT_TEST_REDIS


@pytest.fixture()
def rq_redis(app):
    """RQ mode against a real Redis database, emptied before and after; config restored afterwards."""
    url = _redis_url()
    conn = Redis.from_url(url)
    conn.flushdb()
    old = {k: app.config[k] for k in ("JOBS_INLINE", "REDIS_URL")}
    app.config.update(JOBS_INLINE=False, REDIS_URL=url)
    yield conn
    app.config.update(old)
    conn.flushdb()
    conn.close()


def _drain(conn) -> None:
    queues = [Queue(name, connection=conn) for name in ("notifications", "default")]
    SimpleWorker(queues, connection=conn).work(burst=True)


@pytest.mark.redis
def test_relay_hands_the_row_to_rq_once_and_a_worker_sends_it_once(app, db, t, rq_redis):
    with tenant_scope(t.bjm):
        _queue()
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    (row,) = _outbox(db, t.bjm)
    assert relay() == {"relayed": 1, "ran": 0, "failed": 0, "waiting": 0}
    assert Job.exists(f"outbox-{row.id}", connection=rq_redis)
    queue = Queue("notifications", connection=rq_redis)
    assert queue.job_ids == [f"outbox-{row.id}"]
    assert _outbox(db, t.bjm)[0].dispatched_at is not None
    assert _notes(db, t.bjm)[0].status == "pending"  # nothing is sent before a worker runs

    assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}
    assert queue.count == 1

    _drain(rq_redis)
    assert queue.count == 0
    assert Job.fetch(f"outbox-{row.id}", connection=rq_redis).return_value() == "done"
    (sent,) = _notes(db, t.bjm)
    assert sent.status == "sent" and sent.attempts == 1
    assert run_outbox_job(row.id, t.bjm) == "already-processed"


@pytest.mark.redis
def test_relaying_a_row_again_after_a_crash_finds_its_job_and_adds_none(app, db, t, rq_redis):
    """Crash between enqueueing and recording dispatched_at: the deterministic job id prevents a twin."""
    with tenant_scope(t.bjm):
        _queue()
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    assert relay()["relayed"] == 1
    with tenant_scope(t.bjm):
        row = _outbox(db, t.bjm)[0]
        row.dispatched_at = None
        db.session.commit()
    assert relay()["relayed"] == 1
    assert Queue("notifications", connection=rq_redis).count == 1
    _drain(rq_redis)
    assert _notes(db, t.bjm)[0].attempts == 1


@pytest.mark.redis
def test_rows_wait_out_a_redis_outage_and_go_out_afterwards(app, db, t, rq_redis):
    with tenant_scope(t.bjm):
        _queue(recipient="a@contoh.id")
    with tenant_scope(t.ktg):
        _queue(recipient="b@contoh.id")
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    real_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 2}
    finally:
        app.config["REDIS_URL"] = real_url
    assert all(r.dispatched_at is None for r in _outbox(db, t.bjm) + _outbox(db, t.ktg))
    assert Queue("notifications", connection=rq_redis).count == 0

    assert relay() == {"relayed": 2, "ran": 0, "failed": 0, "waiting": 0}
    _drain(rq_redis)
    assert [n.status for n in _notes(db, t.bjm) + _notes(db, t.ktg)] == ["sent", "sent"]


@pytest.mark.redis
def test_an_rq_job_with_another_tenants_id_is_a_no_op(app, db, t, rq_redis):
    from app.jobs.queue import enqueue_outbox_row

    with tenant_scope(t.bjm):
        _queue()
        db.session.commit()  # the outbox row is stamped at flush: commit while bound
    (row,) = _outbox(db, t.bjm)
    enqueue_outbox_row(row.id, t.ktg, "notifications")  # Banjarmasin's row, Katingan's id
    _drain(rq_redis)
    assert Job.fetch(f"outbox-{row.id}", connection=rq_redis).return_value() == "missing"
    assert _notes(db, t.bjm)[0].status == "pending"
    with tenant_scope(t.bjm):
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.processed_at.is_(None))) == 1


def test_a_request_relays_only_its_own_regions_rows(app, db, bjm, ktg, client):
    """A submission in Banjarmasin sends Banjarmasin's messages; Katingan's waiting rows wait for the
    periodic relay (a request never walks every region's backlog)."""
    from tests.web.citizen_support import post_report

    with tenant_scope(ktg.id):
        _queue(event_key="complaint:99:received")
        db.session.commit()
    assert post_report(client, bjm).status_code == 303
    sent = _outbox(db, bjm.id)
    assert sent and all(r.processed_at is not None for r in sent)
    (waiting,) = _outbox(db, ktg.id)
    assert waiting.dispatched_at is None and waiting.processed_at is None
    assert relay()["ran"] == 1  # the periodic relay picks it up
