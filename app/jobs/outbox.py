"""Transactional outbox: rows written with the change, relayed after commit.

A row's RQ job id is derived from the row (``outbox-<id>``), so relaying a row twice never
creates two jobs; the runner skips rows already processed. If Redis is down the rows wait
and a later relay (next request, ``flask jobs relay`` or the periodic job) sends them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import db
from app.jobs import REGISTRY, RETRIES, RetryLater
from app.jobs.queue import enqueue_outbox_rows, redis_connection
from app.tenancy.models import Tenant, UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_scope

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class OutboxMessage(TenantScoped, db.Model):
    """A job to run once the transaction that wrote it has committed."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when handed to RQ; in-process mode sets it together with processed_at.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    # The relay asks only about unprocessed rows (waiting ones, stuck ones), a few among the whole
    # history: a partial index holds exactly those, so its reads do not grow with processed rows.
    __table_args__ = scoped_table_args(
        sa.Index("ix_outbox_message_unprocessed", "tenant_id", "dispatched_at",
                 postgresql_where=sa.text("processed_at IS NULL"), sqlite_where=sa.text("processed_at IS NULL")),
    )

    @property
    def rq_job_id(self) -> str:
        return f"outbox-{self.id}"


def enqueue(job_name: str, **payload) -> OutboxMessage:
    """Write an outbox row in the current transaction (tenant bound). Payload: ids, never personal data."""
    if job_name not in REGISTRY:
        raise KeyError(f"unknown job {job_name!r}")
    row = OutboxMessage(job=job_name, payload=payload)
    db.session.add(row)
    db.session.flush()  # written in the scope it was made in, not at some later autoflush
    return row


@event.listens_for(Session, "after_flush")
def _note_new_rows(session, flush_context) -> None:
    if has_request_context():
        tenants = {o.tenant_id for o in session.new if isinstance(o, OutboxMessage)}
        if tenants:
            g.outbox_tenants = g.get("outbox_tenants", set()) | tenants


def run_message(outbox_id: int, tenant_id: int) -> str:
    """Run one outbox row's handler inside its tenant; safe to call twice."""
    with tenant_scope(tenant_id):
        row = db.session.get(OutboxMessage, outbox_id, with_for_update=_lock_supported())
        if row is None:
            log.error("outbox row %s not found in tenant %s", outbox_id, tenant_id)
            return "missing"
        if row.processed_at is not None:
            db.session.rollback()
            return "already-processed"
        fn, _queue = REGISTRY[row.job]
        row.attempts += 1
        try:
            with db.session.begin_nested():
                result = fn(tenant_id=tenant_id, **row.payload)
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}"[:500]
            db.session.commit()
            log.warning("outbox job %s (#%s) failed: %s", row.job, row.id, type(exc).__name__)
            raise
        if isinstance(result, RetryLater):  # keep the handler's writes (its log), run it again later
            row.last_error = str(result)[:500] or "RetryLater"
            db.session.commit()
            log.info("outbox job %s (#%s) will be retried: %s", row.job, row.id, row.last_error)
            raise result
        row.processed_at = utcnow()
        row.dispatched_at = row.dispatched_at or row.processed_at
        row.last_error = None
        db.session.commit()
        return "done"


def _lock_supported() -> bool:
    return db.engine.dialect.name == "postgresql"


def _rows_by_tenant(limit: int, *where, tenant_ids: set[int] | None = None) -> list[tuple[int, int]]:
    """(id, tenant_id) of the rows matching ``where``, oldest first, read tenant by tenant
    (only the tenants in ``tenant_ids`` when given).

    Deliberately not one cross-tenant query: under PostgreSQL row-level security the runtime role sees
    one tenant's rows at a time, and the relay needs no wider right than that (no BYPASSRLS role, no
    SECURITY DEFINER function). One indexed query per tenant is cheap next to sending the messages.
    """

    found: list[tuple[int, int]] = []
    if tenant_ids is None:
        tenant_ids = db.session.execute(select(Tenant.id).order_by(Tenant.id)).scalars().all()
    for tenant_id in sorted(tenant_ids):
        with tenant_scope(tenant_id):
            found.extend(db.session.execute(
                select(OutboxMessage.id, OutboxMessage.tenant_id)
                .where(*where)
                .order_by(OutboxMessage.id).limit(limit)).all())
    return [(row_id, tid) for row_id, tid in sorted(found)][:limit]


def _waiting_rows(limit: int, tenant_ids: set[int] | None = None) -> list[tuple[int, int]]:
    """Undispatched rows, oldest first. (A processed row always has dispatched_at; ``processed_at IS NULL``
    is stated anyway so that the planner may use the partial index on unprocessed rows.)"""
    return _rows_by_tenant(limit, *waiting_filter(), tenant_ids=tenant_ids)


def waiting_filter() -> tuple:
    """What the relay asks for waiting rows (tests EXPLAIN it)."""
    return (OutboxMessage.processed_at.is_(None), OutboxMessage.dispatched_at.is_(None),
            OutboxMessage.attempts < MAX_ATTEMPTS)


def stuck_filter(cutoff: datetime) -> tuple:
    """What the stuck-row check asks: dispatched before ``cutoff`` and still unprocessed (tests EXPLAIN it)."""
    return (OutboxMessage.processed_at.is_(None), OutboxMessage.dispatched_at.is_not(None),
            OutboxMessage.dispatched_at < cutoff, OutboxMessage.attempts < MAX_ATTEMPTS)


def relay(limit: int = 200, release: bool = True, tenant_ids: set[int] | None = None) -> dict:
    """Hand undispatched rows to RQ, or run them here when jobs run in-process.

    :param release: first re-queue dispatched rows whose RQ job was lost (:func:`release_stuck`); the
        periodic relay and ``flask jobs relay`` do, the relay after a web request does not.
    :param tenant_ids: only these tenants' rows (a request relays what it wrote, not every region's
        backlog: with hundreds of regions that would be hundreds of queries per submission).

    Returns counts; never raises on a Redis outage (rows simply wait).
    """
    released = release_stuck(limit) if release and not current_app.config["JOBS_INLINE"] else 0
    rows = _waiting_rows(limit, tenant_ids)
    counts = {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}
    if released:
        counts["resent"] = released  # only present when it happened: callers compare the usual four keys
    if not rows:
        return counts
    if current_app.config["JOBS_INLINE"]:
        for outbox_id, tenant_id in rows:
            try:
                run_message(outbox_id, tenant_id)
                counts["ran"] += 1
            except Exception:  # noqa: BLE001 (the row keeps its error; retried later)
                db.session.rollback()
                counts["failed"] += 1
        return counts


    # One tenant at a time, each as one batch: one read of the rows' jobs, two round trips to Redis, one UPDATE
    # and one commit, however many rows (a submission writes several; the background relay gathers many).
    by_tenant: dict[int, list[int]] = {}
    for outbox_id, tenant_id in rows:
        by_tenant.setdefault(tenant_id, []).append(outbox_id)
    for tenant_id, ids in by_tenant.items():
        with tenant_scope(tenant_id):
            found = db.session.execute(select(OutboxMessage.id, OutboxMessage.job)
                                       .where(OutboxMessage.id.in_(ids), *waiting_filter())).all()
            batch = [(row_id, tenant_id, REGISTRY[job][1], RETRIES[job]() if job in RETRIES else None)
                     for row_id, job in found]
            try:
                enqueue_outbox_rows(batch)
            except Exception as exc:  # noqa: BLE001 (Redis unreachable: the rest wait for the next relay)
                db.session.rollback()
                counts["waiting"] = len(rows) - counts["relayed"]
                log.warning("outbox relay paused, queue unreachable: %s", type(exc).__name__)
                break
            db.session.execute(sa.update(OutboxMessage)
                               .where(OutboxMessage.tenant_id == tenant_id,
                                      OutboxMessage.id.in_([row_id for row_id, *_ in batch]))
                               .values(dispatched_at=utcnow()).execution_options(synchronize_session=False))
            db.session.commit()
            counts["relayed"] += len(batch)
    return counts


# ---------------------------------------------------------------- stuck rows (fault tolerance)
#
# A row is marked dispatched once RQ holds its job. Three things can still lose that job: Redis restarts
# without persistence (the job vanishes), the job fails for good while the row still has attempts left
# (e.g. RQ moved an abandoned job to the failed registry), or the worker dies mid-job (SIGKILL, OOM, a
# lost machine): its job stays "started" and no heartbeat comes any more. The periodic relay finds rows
# dispatched longer than OUTBOX_STUCK_SECONDS ago and still unprocessed, asks RQ about their job and,
# for these three cases only, clears ``dispatched_at`` so the normal relay hands them over again with
# the same job id. Sending twice is still impossible: run_message locks the row (SELECT … FOR UPDATE)
# and skips it once processed, and each message is recorded once per event and recipient.


def release_stuck(limit: int = 200) -> int:
    """Make dispatched rows whose RQ job was lost relayable again; returns how many. Never raises."""


    cutoff = utcnow() - timedelta(seconds=current_app.config.get("OUTBOX_STUCK_SECONDS", 600))
    rows = _rows_by_tenant(limit, *stuck_filter(cutoff))
    if not rows:
        return 0
    released = 0
    try:
        conn = redis_connection()
        for outbox_id, tenant_id in rows:
            try:
                job = Job.fetch(f"outbox-{outbox_id}", connection=conn)
            except NoSuchJobError:
                job, reason = None, "vanished"
            else:
                status = job.get_status(refresh=False)
                beat = job.last_heartbeat or job.started_at
                if beat is not None and beat.tzinfo is None:
                    beat = beat.replace(tzinfo=cutoff.tzinfo)
                if status == JobStatus.FAILED:
                    reason = "failed"
                elif status == JobStatus.STARTED and (beat is None or beat < cutoff):
                    reason = "abandoned"
                else:
                    continue  # queued, scheduled, running with a fresh heartbeat, or done: leave it
            with tenant_scope(tenant_id):
                row = db.session.get(OutboxMessage, outbox_id, with_for_update=_lock_supported())
                if row is None or row.processed_at is not None:
                    db.session.rollback()
                    continue
                if job is not None:
                    job.delete()  # the same job id is used again below
                row.dispatched_at = None
                row.last_error = f"requeued: job {reason}"
                db.session.commit()
            released += 1
            log.warning("outbox row #%s requeued: its job %s", outbox_id, reason)
    except Exception as exc:  # noqa: BLE001 (Redis unreachable: try again at the next relay)
        db.session.rollback()
        log.warning("outbox stuck-row check paused: %s", type(exc).__name__)
    return released


# ---------------------------------------------------------------- pruning processed rows
#
# Processed rows are only history: the RQ job id and the "already processed" check need them only while
# a duplicate job could still arrive (minutes). Kept forever they grow every tenant's table and hold
# payloads that may name people, so the daily prune deletes those processed more than
# OUTBOX_RETENTION_DAYS ago, tenant by tenant in its own scope (as the relay reads: the runtime role
# under row-level security, no wider right), in small batches so that no long lock or transaction
# holds up submissions. Unprocessed rows are never deleted, whatever their age.

PRUNE_BATCH = 1000


def prune_tenant(tenant_id: int, cutoff: datetime, batch: int = PRUNE_BATCH) -> int:
    """Delete one tenant's rows processed before ``cutoff``, ``batch`` rows per transaction; returns how many."""
    deleted = 0
    with tenant_scope(tenant_id):
        while True:
            ids = db.session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.processed_at.is_not(None),
                       OutboxMessage.processed_at < cutoff)
                .order_by(OutboxMessage.id).limit(batch)).scalars().all()
            if not ids:
                db.session.commit()
                return deleted
            db.session.execute(
                sa.delete(OutboxMessage)
                .where(OutboxMessage.tenant_id == tenant_id, OutboxMessage.id.in_(ids),
                       OutboxMessage.processed_at.is_not(None), OutboxMessage.processed_at < cutoff)
                .execution_options(synchronize_session=False))
            db.session.commit()
            deleted += len(ids)
            if len(ids) < batch:
                return deleted


def prune_processed(now: datetime | None = None, tenant_ids: set[int] | None = None,
                    batch: int = PRUNE_BATCH) -> dict:
    """The periodic job: delete processed rows older than OUTBOX_RETENTION_DAYS in every tenant (or those
    given). Idempotent; a failing tenant is logged and skipped."""

    cutoff = (now or utcnow()) - timedelta(days=current_app.config.get("OUTBOX_RETENTION_DAYS", 14))
    if tenant_ids is None:
        tenant_ids = set(db.session.execute(select(Tenant.id)).scalars().all())
    totals = {"deleted": 0}
    for tenant_id in sorted(tenant_ids):
        try:
            count = prune_tenant(tenant_id, cutoff, batch)
        except Exception:  # noqa: BLE001 (one tenant's failure must not stop the others)
            db.session.rollback()
            log.exception("outbox prune failed for tenant %s", tenant_id)
            continue
        if count:
            log.info("outbox prune: %s processed rows of tenant %s", count, tenant_id)
        totals["deleted"] += count
    return totals


def relay_after_request(response):
    """Relay right after a request that wrote outbox rows (the request has committed by then).

    With ``OUTBOX_RELAY_BACKGROUND`` (production) the request only hands its regions to the process's
    background relay and answers at once; otherwise (tests, the demo's in-process jobs) it relays here."""
    tenants = g.pop("outbox_tenants", None)
    if not tenants:
        return response
    if current_app.config.get("OUTBOX_RELAY_BACKGROUND") and not current_app.config["JOBS_INLINE"]:
        # Once the response is sent and the request's session is gone (its connection back in the pool).
        app = current_app._get_current_object()
        response.call_on_close(lambda: BACKGROUND.submit(app, tenants))
        return response
    try:
        relay(release=False, tenant_ids=tenants)
    except Exception:  # noqa: BLE001 (never turn a committed request into an error page)
        db.session.rollback()
        log.exception("outbox relay after request failed")
    return response


#: Rows per pass of the background relay.
RELAY_BATCH = 200


class BackgroundRelay:
    """Relays, off the request path, the rows that this process's requests wrote.

    The rows are committed before the request answers, so the response need not wait for Redis: a request adds
    its regions to a set and wakes one thread per process, which relays every region gathered meanwhile in one
    pass (under load, many submissions' rows in one batch). If the process dies first, nothing is lost: the rows
    are still waiting in the database and the periodic relay (every 30 s) sends them. At a normal exit the
    thread finishes what is pending (``atexit``)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, app, tenant_ids: set[int]) -> None:
        with self._cond:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._start(app)
            self._pending |= set(tenant_ids)
            self._cond.notify()

    def _start(self, app) -> None:
        self._pid = os.getpid()  # a forked child (gunicorn worker) starts its own thread
        self._pending, self._busy = set(), False
        self._thread = threading.Thread(target=self._run, args=(app,), name="outbox-relay", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def _run(self, app) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                tenants, self._pending, self._busy = self._pending, set(), True
            with app.app_context():
                try:
                    # A full batch may leave more behind (a burst): go on until a pass finds fewer.
                    while relay(limit=RELAY_BATCH, release=False, tenant_ids=tenants)["relayed"] >= RELAY_BATCH:
                        pass
                except Exception:  # noqa: BLE001 (the rows wait for the periodic relay)
                    db.session.rollback()
                    log.exception("background outbox relay failed")
                finally:
                    db.session.remove()
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over so far is relayed; False on timeout (tests, exit)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._cond.wait(left)
        return True


BACKGROUND = BackgroundRelay()
