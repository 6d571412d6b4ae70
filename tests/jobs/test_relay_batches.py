"""The relay off the request path (issue 20): a region's waiting rows go to RQ as one batch (one UPDATE, one
commit, two round trips to Redis, however many rows); in production a request only hands its regions to the
process's background relay and answers at once; rows the background relay never got to are still waiting in
the database for the periodic relay; a message is recorded in one statement, the unique key deciding."""

from __future__ import annotations

import pytest
from rq import Queue
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.jobs.outbox import BACKGROUND, OutboxMessage, relay
from app.notifications.models import Notification
from app.tenancy.scope import tenant_scope
from tests.jobs.test_outbox import _drain, _notes, _outbox, _queue, rq_redis, t  # noqa: F401 (fixtures)
from tests.web.citizen_support import post_report


class Statements:
    """The SQL statements and commits run inside the ``with`` block (any engine: on PostgreSQL the tests' session
    runs as the runtime role through an engine of its own)."""

    def __enter__(self):
        self.sql: list[str] = []
        self.commits = 0
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Session, "after_commit", self._commit)
        return self

    def _statement(self, conn, cursor, statement, *args) -> None:
        self.sql.append(statement.lstrip().split(None, 1)[0].upper())

    def _commit(self, session) -> None:
        self.commits += 1

    def __exit__(self, *exc) -> None:
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Session, "after_commit", self._commit)


@pytest.mark.redis
def test_a_regions_waiting_rows_go_to_rq_in_one_batch(app, db, t, rq_redis):  # noqa: F811
    with tenant_scope(t.bjm):
        for n in range(5):
            _queue(event_key=f"complaint:{n}:received")
        db.session.commit()
    with tenant_scope(t.ktg):
        _queue(event_key="complaint:9:received")
        db.session.commit()
    with Statements() as seen:
        assert relay(release=False) == {"relayed": 6, "ran": 0, "failed": 0, "waiting": 0}
    assert seen.commits == 2  # one per region, not one per row
    assert seen.sql.count("UPDATE") == 2
    assert Queue("notifications", connection=rq_redis).count == 6
    assert all(r.dispatched_at is not None for r in _outbox(db, t.bjm) + _outbox(db, t.ktg))
    assert relay(release=False)["relayed"] == 0  # nothing twice
    _drain(rq_redis)
    assert {n.status for n in _notes(db, t.bjm) + _notes(db, t.ktg)} == {"sent"}


@pytest.mark.redis
def test_in_production_the_request_answers_and_the_background_relay_sends(app, db, bjm, client, rq_redis):  # noqa: F811
    app.config["OUTBOX_RELAY_BACKGROUND"] = True
    try:
        response = post_report(client, bjm)
        assert response.status_code == 303
        assert all(r.dispatched_at is None for r in _outbox(db, bjm.id))  # the answer did not wait for Redis
        response.close()  # as the WSGI server does once the response is sent
        assert BACKGROUND.flush(timeout=10)
    finally:
        app.config["OUTBOX_RELAY_BACKGROUND"] = False
    rows = _outbox(db, bjm.id)
    assert rows and all(r.dispatched_at is not None for r in rows)
    queued = {j for name in ("notifications", "default") for j in Queue(name, connection=rq_redis).job_ids}
    assert queued == {r.rq_job_id for r in rows}
    _drain(rq_redis)
    with tenant_scope(bjm.id):
        db.session.expire_all()
        receipt = db.session.scalars(select(Notification)).all()
    assert [n.status for n in receipt] == ["sent"] * len(receipt) and receipt


@pytest.mark.redis
def test_rows_the_background_relay_never_got_to_wait_for_the_periodic_relay(
        app, db, bjm, client, rq_redis, monkeypatch):  # noqa: F811
    """The process died after answering, before its relay ran: the committed rows are still in the database."""
    app.config["OUTBOX_RELAY_BACKGROUND"] = True
    monkeypatch.setattr(BACKGROUND, "submit", lambda *a, **k: None)  # the thread never runs
    try:
        response = post_report(client, bjm)
        assert response.status_code == 303
        response.close()
    finally:
        app.config["OUTBOX_RELAY_BACKGROUND"] = False
    rows = _outbox(db, bjm.id)
    assert rows and all(r.dispatched_at is None for r in rows)
    assert relay()["relayed"] == len(rows)  # the periodic relay (cron every 30 s)
    _drain(rq_redis)
    assert all(r.processed_at is not None for r in _outbox(db, bjm.id))


def test_a_message_is_recorded_in_one_statement_and_once(db, t):  # noqa: F811
    with tenant_scope(t.bjm):
        with Statements() as seen:
            first = _queue()
        assert first is not None and first.id and first.subject
        assert "SAVEPOINT" not in seen.sql
        assert seen.sql.count("INSERT") == 2  # the message (the unique key decides) and its outbox row
        assert _queue() is None  # the same event and recipient again: nothing
        db.session.commit()
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 1
    assert len(_notes(db, t.bjm)) == 1


@pytest.mark.redis
def test_the_background_relay_goes_on_until_a_burst_is_sent(app, db, t, rq_redis, monkeypatch):  # noqa: F811
    """More rows than one pass takes (a burst) do not wait for the periodic relay."""
    import app.jobs.outbox as outbox

    monkeypatch.setattr(outbox, "RELAY_BATCH", 2)
    with tenant_scope(t.bjm):
        for n in range(5):
            _queue(event_key=f"complaint:{n}:received")
        db.session.commit()
    BACKGROUND.submit(app, {t.bjm})
    assert BACKGROUND.flush(timeout=10)
    assert all(r.dispatched_at is not None for r in _outbox(db, t.bjm))
    assert Queue("notifications", connection=rq_redis).count == 5
