"""Outbox history stays bounded: processed rows are pruned after OUTBOX_RETENTION_DAYS (never unprocessed
ones, never another tenant's when run for one), and the relay reads only unprocessed rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.jobs.outbox import OutboxMessage, prune_processed, relay, stuck_filter, waiting_filter
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.jobs.test_outbox import rq_redis  # noqa: F401 (fixture)


def _row(db, tenant_id, *, processed_days_ago=None, dispatched_days_ago=None, tag=""):
    now = utcnow()
    with tenant_scope(tenant_id):
        row = OutboxMessage(job="notifications.send", payload={"tag": tag})
        if dispatched_days_ago is not None:
            row.dispatched_at = now - timedelta(days=dispatched_days_ago)
        if processed_days_ago is not None:
            row.processed_at = now - timedelta(days=processed_days_ago)
            row.dispatched_at = row.dispatched_at or row.processed_at
        db.session.add(row)
        db.session.commit()
        return row.id


def _tags(db, tenant_id):
    with tenant_scope(tenant_id):
        db.session.expire_all()
        return sorted(r.payload["tag"] for r in db.session.scalars(select(OutboxMessage)))


def _history(db, tenant_id, prefix):
    """Old processed, recent processed, old unprocessed-dispatched (stuck), old waiting-but-failed rows."""
    _row(db, tenant_id, processed_days_ago=30, tag=f"{prefix}-old-done-1")
    _row(db, tenant_id, processed_days_ago=15, tag=f"{prefix}-old-done-2")
    _row(db, tenant_id, processed_days_ago=13, tag=f"{prefix}-recent-done")
    _row(db, tenant_id, dispatched_days_ago=40, tag=f"{prefix}-old-stuck")
    _row(db, tenant_id, tag=f"{prefix}-waiting")


def test_prune_deletes_only_processed_rows_older_than_the_retention(app, db, bjm, ktg):
    assert app.config["OUTBOX_RETENTION_DAYS"] == 14
    _history(db, bjm.id, "b")
    _history(db, ktg.id, "k")
    assert prune_processed() == {"deleted": 4}
    for tenant, p in ((bjm, "b"), (ktg, "k")):
        assert _tags(db, tenant.id) == [f"{p}-old-stuck", f"{p}-recent-done", f"{p}-waiting"]
    assert prune_processed() == {"deleted": 0}  # idempotent


def test_prune_for_one_tenant_leaves_the_others_alone(db, bjm, ktg):
    _history(db, bjm.id, "b")
    _history(db, ktg.id, "k")
    assert prune_processed(tenant_ids={ktg.id}) == {"deleted": 2}
    assert _tags(db, bjm.id) == ["b-old-done-1", "b-old-done-2", "b-old-stuck", "b-recent-done", "b-waiting"]
    assert _tags(db, ktg.id) == ["k-old-stuck", "k-recent-done", "k-waiting"]


def test_prune_works_in_batches_and_follows_the_setting(app, db, bjm):
    for i in range(7):
        _row(db, bjm.id, processed_days_ago=3, tag=f"done-{i}")
    _row(db, bjm.id, dispatched_days_ago=3, tag="stuck")
    assert prune_processed(batch=2) == {"deleted": 0}  # within 14 days
    app.config["OUTBOX_RETENTION_DAYS"] = 2
    try:
        assert prune_processed(batch=2) == {"deleted": 7}
    finally:
        app.config["OUTBOX_RETENTION_DAYS"] = 14
    assert _tags(db, bjm.id) == ["stuck"]


def test_operators_can_prune_from_the_command_line(app, db, bjm):
    _history(db, bjm.id, "b")
    result = app.test_cli_runner().invoke(args=["jobs", "prune-outbox"])
    assert result.exit_code == 0 and "'deleted': 2" in result.output
    assert _tags(db, bjm.id) == ["b-old-stuck", "b-recent-done", "b-waiting"]


def test_prune_is_in_the_periodic_schedule():
    from rq import cron

    from app.jobs import cron as schedule  # noqa: F401 (registers the jobs)
    from app.jobs.runner import prune_outbox

    registered = [j for j in cron._job_data_registry if j["func"] is prune_outbox]
    assert registered and registered[0]["queue_name"] == "periodic"


@pytest.mark.redis
def test_the_relay_still_releases_a_stuck_row_among_processed_history(app, db, bjm, rq_redis):  # noqa: F811
    for i in range(5):
        _row(db, bjm.id, processed_days_ago=1, tag=f"done-{i}")
    stuck = _row(db, bjm.id, dispatched_days_ago=1, tag="stuck")  # its RQ job is gone (Redis emptied)
    counts = relay()
    assert counts["resent"] == 1 and counts["relayed"] == 1
    with tenant_scope(bjm.id):
        db.session.expire_all()
        row = db.session.get(OutboxMessage, stuck)
        assert row.dispatched_at is not None and row.dispatched_at > utcnow() - timedelta(minutes=1)
        assert row.last_error == "requeued: job vanished"


def _plan(db, tenant_id, *where) -> str:
    stmt = (select(OutboxMessage.id, OutboxMessage.tenant_id).where(*where).order_by(OutboxMessage.id).limit(200))
    conn = db.session.connection()
    sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
    return "\n".join(conn.execute(sa.text("EXPLAIN " + sql)).scalars())


def test_the_relay_queries_use_the_partial_index_on_unprocessed_rows(db, bjm):
    """With a processed history, the stuck-row and waiting-row queries read the partial index (PostgreSQL)."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        pytest.skip("the plan is checked on PostgreSQL")
    with tenant_scope(bjm.id):
        conn.execute(sa.text(
            "INSERT INTO outbox_message (tenant_id, job, payload, created_at, dispatched_at, processed_at, attempts) "
            "SELECT :t, 'notifications.send', '{}', now() - interval '1 day', now() - interval '1 day', "
            "now() - interval '1 day', 1 FROM generate_series(1, 20000)"), {"t": bjm.id})
        conn.execute(sa.text("ANALYZE outbox_message"))
        cutoff = utcnow() - timedelta(minutes=10)
        assert "ix_outbox_message_unprocessed" in _plan(db, bjm.id, *stuck_filter(cutoff))
        assert "ix_outbox_message_unprocessed" in _plan(db, bjm.id, *waiting_filter())
        db.session.rollback()
