"""Queue messages (one per recipient per event) and send them from a job."""

from __future__ import annotations

import logging
import string

from flask import current_app
from flask_babel import force_locale, gettext
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.jobs import job
from app.jobs.outbox import enqueue
from app.jobs.queue import redis_connection
from app.notifications import channels
from app.notifications.models import MessageTemplate, Notification
from app.notifications.sms import fit_sms
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

log = logging.getLogger(__name__)


class _SafeDict(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render_message(key: str, locale: str, context: dict, channel: str = "email") -> tuple[str, str]:
    """Render a tenant's message template in ``locale`` (falls back to Indonesian).

    For the ``sms`` channel the template's short text is used (fitted to one message where possible),
    or its body when the template has none.
    """
    rows = {r.locale: r for r in db.session.execute(select(MessageTemplate).filter_by(key=key)).scalars()}
    tpl = rows.get(locale) or rows.get("id")
    if tpl is None:
        raise LookupError(f"no message template {key!r}")
    fmt = string.Formatter()
    values = _SafeDict({k: "" if v is None else str(v) for k, v in context.items()})
    subject = fmt.vformat(tpl.subject, (), values)
    if channel == "sms" and tpl.sms:
        return "", fit_sms(fmt.vformat(tpl.sms, (), values), keep=values.get("link", "") or "")
    return subject, _tidy(fmt.vformat(tpl.body, (), values))


def _tidy(body: str) -> str:
    """Drop the lines an empty optional placeholder left blank (a template keeps one blank line)."""
    out: list[str] = []
    for line in body.splitlines():
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip()


def queue_message(event_key: str, channel: str, recipient: str, template_key: str, context: dict,
                  locale: str | None = None) -> Notification | None:
    """Record one message for one recipient and event, and enqueue its delivery.

    A second call for the same event and recipient returns None and sends nothing.

    :param event_key: identifies the event, e.g. ``complaint:12:received``.
    """
    if not recipient:
        return None
    tenant = current_tenant()
    locale = locale or tenant.locale
    subject, body = render_message(template_key, locale, {
        "service": tenant.service_name or tenant.name, "tenant": tenant.name, **context}, channel=channel)
    # One statement: the unique key (tenant, event, channel, recipient) decides, whether the earlier message was
    # recorded by this transaction, an earlier one or a concurrent writer (no read first, no savepoint).
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (dialect.insert(Notification)
            .values(tenant_id=tenant.id, event_key=event_key, channel=channel, recipient=recipient, subject=subject,
                    body=body, status="pending", attempts=0, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["tenant_id", "event_key", "channel", "recipient"])
            .returning(Notification))
    note = db.session.scalars(stmt).first()
    if note is None:
        return None
    enqueue("notifications.send", notification_id=note.id)
    return note


def message_id(tenant_id: int, notification_id: int) -> str:
    """The email Message-ID of a notification: the same on every retry (receivers can drop a repeat)."""
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "lapor.localhost"
    return f"<notification-{tenant_id}-{notification_id}@{domain}>"


#: Seconds a delivery is remembered in Redis (longer than any job's retries).
DELIVERY_MARK_SECONDS = 7 * 24 * 3600


def _delivery_mark(note: Notification) -> str:
    # The creation time too: a database restored from a backup hands out the same ids again.
    created = int(note.created_at.timestamp() * 1_000_000) if note.created_at else 0
    return f"lapor:delivered:{note.tenant_id}:{note.id}:{created}"


def _delivered_before(note: Notification) -> bool:
    """Whether an earlier attempt handed this message over but its "sent" never reached the database.

    The gateway's acceptance and the database's commit cannot be one transaction: if the database fails
    between the two (a failover, README "Production at scale"), the retry would send a second copy.
    Redis, a separate failure domain, records each hand-over the moment the gateway accepts it."""
    if not current_app.config.get("REDIS_URL"):
        return False


    try:
        return bool(redis_connection().exists(_delivery_mark(note)))
    except RedisError:
        return False  # without the record, behave as before: at least once, same Message-ID


def _remember_delivery(note: Notification) -> None:
    if not current_app.config.get("REDIS_URL"):
        return


    try:
        redis_connection().set(_delivery_mark(note), 1, ex=DELIVERY_MARK_SECONDS)
    except RedisError:
        log.warning("notification %s sent but its delivery mark could not be kept", note.id)


@job("notifications.send", queue="notifications")
def send_notification(tenant_id: int, notification_id: int) -> str:
    """Deliver one recorded message; a second run finds it sent (in the database, or marked in Redis by
    an attempt whose commit was lost) and does nothing."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.status == "sent":
        return "skip"
    if _delivered_before(note):
        note.status = "sent"
        note.sent_at = note.sent_at or utcnow()
        note.last_error = None
        db.session.flush()
        return "skip"
    tenant = current_tenant()
    sender = (tenant.settings or {}).get("sender_name") or tenant.name
    note.attempts += 1
    try:
        if note.channel == "email":
            adapter = channels.send_email(note.recipient, note.subject, note.body, sender,
                                          message_id=message_id(tenant_id, note.id))
        else:
            adapter = channels.send_sms(note.recipient, note.body, sender)
    except channels.DeliveryError as exc:
        note.status = "failed"
        note.last_error = str(exc)[:500]
        db.session.flush()
        raise
    _remember_delivery(note)
    note.status = "sent"
    note.sent_at = utcnow()
    note.last_error = None
    db.session.flush()
    log.debug("notification %s sent via %s", note.id, adapter)
    return adapter


def translated_status(status_label: str, locale: str) -> str:
    with force_locale(locale):
        return gettext(status_label)


def dev_outbox_enabled() -> bool:
    return current_app.config["APP_ENV"] == "development" or current_app.config["TESTING"]
