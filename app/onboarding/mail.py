"""Platform mail: messages to people who belong to no tenant (central administrators, applicants).

Why not the outbox and Notification: both are tenant-owned and these recipients have no tenant.
So a platform-level PlatformMessage row is written in the same transaction as the change; its
UNIQUE (event_key, recipient) makes a second send impossible. After the request the relay delivers
pending rows: in-process when jobs run inline, otherwise as an RQ job with the deterministic id
``platform-mail-<id>`` (relaying twice adds no second job). Delivery re-checks the row's status,
so running it twice sends once. ``flask onboarding relay-mail`` retries rows that waited out an outage.
"""

from __future__ import annotations

import logging

from flask import current_app, g, has_request_context
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs.queue import get_queue, redis_connection
from app.jobs.runner import run_in_app
from app.notifications import channels
from app.onboarding.models import PlatformMessage
from app.tenancy.models import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SENDER_NAME = "LAPOR Daerah"


def queue_platform_mail(event_key: str, recipient: str, subject: str, body: str) -> PlatformMessage | None:
    """Record one platform email; a second call for the same event and recipient returns None."""
    if not recipient:
        return None
    exists = db.session.execute(
        select(PlatformMessage.id).filter_by(event_key=event_key, recipient=recipient)
    ).first()
    if exists:
        return None
    row = PlatformMessage(event_key=event_key, recipient=recipient, subject=subject[:255], body=body)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # a concurrent writer recorded it first
        return None
    if has_request_context():
        g.platform_mail_pending = True
    return row


def deliver(message_id: int) -> str:
    """Send one recorded message; safe to run twice. Commits (it is its own unit of work)."""
    stmt = select(PlatformMessage).where(PlatformMessage.id == message_id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is None or row.status == "sent":
        db.session.rollback()
        return "skip"
    row.attempts += 1
    try:
        adapter = channels.send_email(row.recipient, row.subject, row.body, SENDER_NAME)
    except channels.DeliveryError as exc:
        row.status = "failed"
        row.last_error = str(exc)[:500]
        db.session.commit()
        log.warning("platform message %s failed: %s", row.id, type(exc).__name__)
        return "failed"
    row.status, row.sent_at, row.last_error = "sent", utcnow(), None
    row.dispatched_at = row.dispatched_at or row.sent_at
    db.session.commit()
    return adapter


def relay(limit: int = 100) -> dict:
    """Deliver (inline) or enqueue (RQ) every message not yet sent; never raises on a Redis outage."""
    ids = db.session.execute(
        select(PlatformMessage.id)
        .where(PlatformMessage.status != "sent", PlatformMessage.dispatched_at.is_(None),
               PlatformMessage.attempts < MAX_ATTEMPTS)
        .order_by(PlatformMessage.id).limit(limit)
    ).scalars().all()
    counts = {"ran": 0, "relayed": 0, "waiting": 0}
    if current_app.config["JOBS_INLINE"]:
        for message_id in ids:
            deliver(message_id)
            counts["ran"] += 1
        return counts

    for message_id in ids:
        try:
            conn = redis_connection()
            job_id = f"platform-mail-{message_id}"

            if not Job.exists(job_id, connection=conn):
                get_queue("notifications", conn).enqueue("app.onboarding.mail.run_platform_mail", message_id,
                                                         job_id=job_id, result_ttl=86400)
        except Exception as exc:  # noqa: BLE001 (Redis unreachable: rows wait for the next relay)
            counts["waiting"] = len(ids) - counts["relayed"]
            log.warning("platform mail relay paused: %s", type(exc).__name__)
            break
        row = db.session.get(PlatformMessage, message_id)
        row.dispatched_at = utcnow()
        db.session.commit()
        counts["relayed"] += 1
    return counts


def run_platform_mail(message_id: int) -> str:
    """RQ entry point (job id ``platform-mail-<id>``)."""

    return run_in_app(deliver, message_id)


def relay_after_request(response):
    """Deliver right after a request that recorded platform mail (the request has committed by then)."""
    if g.pop("platform_mail_pending", False):
        try:
            relay()
        except Exception:  # noqa: BLE001 (never turn a committed request into an error page)
            db.session.rollback()
            log.exception("platform mail relay after request failed")
    return response
