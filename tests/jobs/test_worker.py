"""AppWorker: RQ jobs run in the worker's own process with one app made at start-up."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job

from app.jobs.outbox import relay
from app.jobs.worker import AppWorker
from app.notifications.service import message_id
from app.tenancy.scope import tenant_scope
from tests.jobs.test_outbox import _notes, _outbox, _queue, rq_redis, t  # noqa: F401  (fixtures)


def test_app_worker_does_not_fork():
    assert issubclass(AppWorker, SimpleWorker)


@pytest.mark.redis
def test_app_worker_runs_an_outbox_job_with_the_app_context(app, db, t, rq_redis):  # noqa: F811
    with tenant_scope(t.bjm):
        _queue()
        db.session.commit()
    (row,) = _outbox(db, t.bjm)
    assert relay()["relayed"] == 1
    queues = [Queue(name, connection=rq_redis) for name in ("notifications", "default")]
    worker = AppWorker(queues, connection=rq_redis, app=app)
    assert worker.flask_app is app
    worker.work(burst=True)
    assert Job.fetch(f"outbox-{row.id}", connection=rq_redis).return_value() == "done"
    (sent,) = _notes(db, t.bjm)
    assert sent.status == "sent" and sent.attempts == 1


def test_notification_message_id_is_stable_per_notification(app):
    with app.app_context():
        assert message_id(3, 41) == message_id(3, 41)
        assert message_id(3, 41) != message_id(3, 42) != message_id(4, 41)
        assert message_id(3, 41).startswith("<notification-3-41@") and message_id(3, 41).endswith(">")
