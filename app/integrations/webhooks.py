"""Webhooks: the tenant administrator registers URLs; complaint events become signed deliveries.

Flow: a complaint service function records an event → :func:`queue_event` writes one
``WebhookDelivery`` per subscribed webhook plus an outbox row, in the same transaction → after commit
the outbox hands ``webhooks.deliver`` to RQ → one HTTP attempt per run, logged as a ``WebhookAttempt``;
a failure returns ``RetryLater`` so RQ retries after base·2^n seconds, until WEBHOOK_MAX_ATTEMPTS.

Signature: ``X-Lapor-Signature: sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))`` with
``X-Lapor-Timestamp`` (Unix seconds) and ``X-Lapor-Event-Id`` (the same on every retry).

Privacy (UU PDP): a webhook never carries the reporter's identity or contact details (name, email,
phone, account), the private tracking link, or attachments, whatever the complaint's privacy. For a
*rahasia* complaint it carries no content either (no title, description, location or follow-up text),
only the code, status, class, dates and the privacy flag. The complaint is presented by
:mod:`app.api.present`, the same code (and rules) as the REST API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from rq import Retry
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.api import present
from app.complaints.models import FollowUp
from app.extensions import db
from app.integrations import outbound
from app.integrations.models import (
    WEBHOOK_EVENTS,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.jobs import RetryLater, job
from app.jobs.outbox import enqueue
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

log = logging.getLogger(__name__)

EVENT_LABELS = {
    "complaint.created": _l("Report received"),
    "complaint.status_changed": _l("Status changed"),
    "followup.published": _l("Follow-up published"),
}
DELIVERY_LABELS = {
    DeliveryStatus.PENDING: _l("Waiting"),
    DeliveryStatus.RETRYING: _l("Failed, will retry"),
    DeliveryStatus.SUCCEEDED: _l("Delivered"),
    DeliveryStatus.FAILED: _l("Failed"),
    DeliveryStatus.CANCELLED: _l("Cancelled"),
}
USER_AGENT = "LaporDaerah-Webhook/1"


class WebhookError(ValueError):
    """Bad webhook settings; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(", ".join(errors))


# ---------------------------------------------------------------- secrets and signatures

def _signing_key() -> bytes:
    cfg = current_app.config
    return (cfg.get("WEBHOOK_SIGNING_KEY") or cfg["SECRET_KEY"]).encode()


def webhook_secret(hook: Webhook) -> str:
    """The webhook's signing secret, derived from the signing key, its tenant, id and nonce."""
    msg = f"webhook:{hook.tenant_id}:{hook.id}:{hook.secret_nonce}".encode()
    digest = hmac.new(_signing_key(), msg, hashlib.sha256).digest()
    return "whsec_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Lapor-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


# ---------------------------------------------------------------- administration

def _validate(url: str, events: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    errors = {}
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        errors["url"] = _l("Enter a full http(s) address.")
    elif parts.scheme != "https" and current_app.config["APP_ENV"] == "production":
        errors["url"] = _l("Use an https address.")
    elif not _allow_private():
        # the same check as each delivery makes, so a loopback or metadata address is refused when saved
        try:
            outbound.check_url(url)
        except outbound.DestinationRefused:
            errors["url"] = _l("This address is not reachable from the internet (a private, loopback or "
                               "reserved address, or a name that does not resolve); use a public address.")
    events = [e for e in WEBHOOK_EVENTS if e in set(events or [])]
    if not events:
        errors["events"] = _l("Choose at least one event.")
    if errors:
        raise WebhookError(errors)
    return url, events


def create_webhook(url: str, events: list[str], description: str = "", actor=None) -> tuple[Webhook, str]:
    """Register a webhook; returns it with its secret, which is shown once and never again.

    :raises WebhookError: on a bad URL or no events.
    """
    url, events = _validate(url, events)
    hook = Webhook(url=url, events=events, description=(description or "").strip()[:200],
                   secret_nonce=secrets.token_urlsafe(24), created_by_id=getattr(actor, "id", None))
    db.session.add(hook)
    db.session.flush()
    secret = webhook_secret(hook)
    hook.secret_hint = secret[-4:]
    return hook, secret


def rotate_secret(hook: Webhook) -> str:
    """A new secret (shown once); the old one stops working at once."""
    hook.secret_nonce = secrets.token_urlsafe(24)
    secret = webhook_secret(hook)
    hook.secret_hint = secret[-4:]
    db.session.flush()
    return secret


def set_active(hook: Webhook, active: bool) -> None:
    """Switch a webhook on or off; switching off cancels deliveries not yet made."""
    hook.active = bool(active)
    if not hook.active:
        pending = db.session.execute(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == hook.id,
            WebhookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)))).scalars()
        for d in pending:
            d.status = DeliveryStatus.CANCELLED
            d.next_attempt_at = None
    db.session.flush()


def list_webhooks() -> list[Webhook]:
    return list(db.session.execute(select(Webhook).order_by(Webhook.active.desc(), Webhook.id)).scalars())


def access_webhook(webhook_id: int) -> Webhook:
    """A webhook of the bound tenant.

    :raises NotFound: when missing or of another tenant (the same answer).
    """
    hook = db.session.execute(select(Webhook).where(Webhook.id == webhook_id)).scalar_one_or_none()
    if hook is None:
        raise NotFound()
    return hook


def recent_deliveries(hook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    return list(db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)).scalars())


def redeliver(hook: Webhook, delivery_id: int) -> WebhookDelivery:
    """Send a finished delivery again (same event id and body: receivers still deduplicate).

    :raises NotFound: for a delivery of another webhook or tenant.
    """
    d = db.session.execute(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == hook.id)).scalar_one_or_none()
    if d is None:
        raise NotFound()
    if d.status in DeliveryStatus.FINAL and hook.active:
        d.status = DeliveryStatus.PENDING  # the attempt count goes on: the log keeps every attempt
        d.next_attempt_at = None
        enqueue("webhooks.deliver", delivery_id=d.id)
    return d


# ---------------------------------------------------------------- events → deliveries

def build_payload(event_type: str, event_id: str, complaint, event, follow_up=None) -> dict:
    """The event as a receiver sees it; see the module docstring (and app.api.present) for what is never
    included. The complaint is presented exactly as the REST API presents it."""

    tenant = current_tenant()
    payload: dict = {
        "id": event_id,
        "type": event_type,
        "occurred_at": present.iso(event.at),
        "tenant": tenant.slug,
        "complaint": present.webhook_complaint(complaint),
    }
    if event_type == "complaint.status_changed":
        payload["change"] = {"action": event.kind, "from": (event.before or {}).get("status"),
                             "to": (event.after or {}).get("status")}
    if event_type == "followup.published" and follow_up is not None:
        payload["follow_up"] = {
            "agency": follow_up.agency.short_name if follow_up.agency is not None else None,
            "published_at": present.iso(follow_up.published_at),
            **({"body": follow_up.body} if present.has_content(complaint) else {}),
        }
    return payload


def event_types_for(event) -> list[str]:
    """Which webhook events a complaint event is."""
    types = []
    if event.kind == "submit":
        types.append("complaint.created")
    before, after = (event.before or {}).get("status"), (event.after or {}).get("status")
    if event.kind != "submit" and after and before != after:
        types.append("complaint.status_changed")
    if event.kind == "publish_followup":
        types.append("followup.published")
    return types


def queue_event(complaint, event) -> list[WebhookDelivery]:
    """Record deliveries of one complaint event to every subscribed active webhook (same transaction)."""
    types = event_types_for(event)
    if not types:
        return []
    hooks = [h for h in db.session.execute(select(Webhook).where(Webhook.active.is_(True))).scalars()]
    if not hooks:
        return []
    follow_up = None
    if "followup.published" in types:

        follow_up = db.session.get(FollowUp, int((event.after or {}).get("follow_up") or 0))
    made = []
    for event_type in types:
        subscribed = [h for h in hooks if event_type in (h.events or [])]
        if not subscribed:
            continue
        event_id = str(uuid.uuid4())
        body = json.dumps(build_payload(event_type, event_id, complaint, event, follow_up),
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        for hook in subscribed:
            d = WebhookDelivery(webhook_id=hook.id, event_id=event_id, event_type=event_type,
                                complaint_id=complaint.id, body=body)
            db.session.add(d)
            db.session.flush()
            enqueue("webhooks.deliver", delivery_id=d.id)
            made.append(d)
    return made


# ---------------------------------------------------------------- delivery

def retry_policy() -> Retry:
    """Exponential backoff: base, 2·base, 4·base, … seconds; one attempt fewer than the maximum."""
    cfg = current_app.config
    retries = max(cfg["WEBHOOK_MAX_ATTEMPTS"] - 1, 1)
    return Retry(max=retries, interval=[cfg["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** i for i in range(retries)])


def _allow_private() -> bool:
    return bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_HOSTS"])


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str | None]:
    """POST once to the checked address of the URL's host (no second DNS lookup, no redirects); returns
    (status code, error) where error is None for a 2xx answer."""
    try:
        req = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
        with outbound.open_checked(req, current_app.config["WEBHOOK_TIMEOUT"], _allow_private()) as resp:
            resp.read(1024)
            return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None)
        return None, f"{type(exc).__name__}: {reason or exc}"[:300]


@job("webhooks.deliver", queue="default", retry=retry_policy)
def deliver(tenant_id: int, delivery_id: int):
    """One attempt of one delivery; a failure before the last attempt asks the outbox for a retry."""
    d = db.session.get(WebhookDelivery, delivery_id)
    if d is None or d.status in DeliveryStatus.FINAL:
        return "skip"
    hook = db.session.get(Webhook, d.webhook_id)
    if hook is None or not hook.active:
        d.status = DeliveryStatus.CANCELLED
        return "cancelled"
    body = d.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Lapor-Event": d.event_type,
        "X-Lapor-Event-Id": d.event_id,
        "X-Lapor-Timestamp": timestamp,
        "X-Lapor-Signature": sign(webhook_secret(hook), timestamp, body),
    }
    started = time.perf_counter()
    status_code, error = _post(hook.url, body, headers)
    duration_ms = int((time.perf_counter() - started) * 1000)
    d.attempts += 1
    db.session.add(WebhookAttempt(delivery_id=d.id, number=d.attempts, status_code=status_code, error=error,
                                  duration_ms=duration_ms))
    d.last_status_code, d.last_error, d.last_duration_ms = status_code, error, duration_ms
    now = utcnow()
    if error is None:
        d.status, d.delivered_at, d.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
        db.session.flush()
        return "delivered"
    max_attempts = current_app.config["WEBHOOK_MAX_ATTEMPTS"]
    if d.attempts >= max_attempts:
        d.status, d.next_attempt_at = DeliveryStatus.FAILED, None
        db.session.flush()
        log.warning("webhook delivery %s failed for good after %s attempts", d.id, d.attempts)
        return "failed"
    delay = current_app.config["WEBHOOK_RETRY_BASE_SECONDS"] * 2 ** (d.attempts - 1)
    d.status, d.next_attempt_at = DeliveryStatus.RETRYING, now + timedelta(seconds=delay)
    db.session.flush()
    return RetryLater(f"webhook delivery {d.id} attempt {d.attempts}: {error}")
