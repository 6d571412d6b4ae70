"""Inbound SMS/WhatsApp: the region's gateway posts a message, we answer with the tracking code.

- Authentication: ``Authorization: Bearer <token>``; a token belongs to one region, only its SHA-256
  is stored, and the comparison is constant-time.
- A message that names one of the sender's open complaints by tracking code, or a sender with exactly
  one open complaint submitted within ``settings.inbound.append_window_days``, adds information to it;
  otherwise it becomes a new complaint (class, category and privacy from ``settings.inbound``; the
  sender's number as the contact).
- The gateway's message id makes a resent message return the first answer and change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import contact
from app.agencies.models import Category
from app.complaints import links, service
from app.complaints.models import CLASSES, Complaint, Follower, FollowerKind, Privacy, Status
from app.complaints.service import derived_submission_key
from app.extensions import db
from app.integrations.models import InboundMessage, InboundToken
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

log = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp")
MAX_TEXT = 4000
#: The gateway's field for each field of the complaint service's validation errors (others: "text").
FIELD_NAMES = {"reporter_phone": "from", "title": "text", "description": "text"}


class InboundError(ValueError):
    """The request is not a usable message (HTTP 400); ``message`` says why, in English."""


@dataclass(frozen=True)
class InboundResult:
    action: str  # created | appended | rejected
    reply: str
    code: str | None
    duplicate: bool


# ---------------------------------------------------------------- tokens

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor=None) -> str:
    """A new gateway token for the bound tenant (shown once); earlier tokens are revoked."""
    now = utcnow()
    for old in db.session.execute(select(InboundToken).where(InboundToken.revoked_at.is_(None))).scalars():
        old.revoked_at = now
    token = "gw_" + secrets.token_urlsafe(32)
    db.session.add(InboundToken(token_hash=_digest(token), token_hint=token[-4:],
                                created_by_id=getattr(actor, "id", None)))
    db.session.flush()
    return token


def revoke_tokens() -> int:
    now = utcnow()
    rows = db.session.execute(select(InboundToken).where(InboundToken.revoked_at.is_(None))).scalars().all()
    for row in rows:
        row.revoked_at = now
    db.session.flush()
    return len(rows)


def active_token() -> InboundToken | None:
    return db.session.execute(select(InboundToken).where(InboundToken.revoked_at.is_(None))
                              .order_by(InboundToken.id.desc())).scalars().first()


def authenticate(presented: str | None) -> InboundToken | None:
    """The bound tenant's active token matching ``presented``, compared in constant time."""
    if not presented:
        return None
    digest = _digest(presented)
    found = None
    for row in db.session.execute(select(InboundToken).where(InboundToken.revoked_at.is_(None))).scalars():
        if hmac.compare_digest(row.token_hash, digest):
            found = row
    return found


# ---------------------------------------------------------------- messages

def _reply(key: str, **values) -> str:
    with force_locale(current_tenant().locale or "id"):
        if key == "created":
            return _("Thank you, your report is recorded with code %(code)s. Quote this code when you send "
                     "more information. Follow it at %(link)s", **values)
        if key == "appended":
            return _("Thank you, your message was added to report %(code)s.", **values)
        return _("Your message is too short to be recorded as a report. Please describe what happened, where "
                 "and when (at least 20 characters).")


def _referenced_complaint(text: str, phone: str):
    """An open complaint of this sender named by its tracking code in ``text``."""
    prefix = re.escape(current_tenant().code_prefix)
    codes = {m.upper() for m in re.findall(rf"\b{prefix}-\d{{2}}-\d{{5}}\b", text, flags=re.IGNORECASE)}
    if not codes:
        return None
    # Only the sender's own reports: a number that merely follows a public report adds nothing to it.
    followed = select(Follower.complaint_id).where(Follower.channel == "sms", Follower.recipient == phone,
                                                   Follower.kind == FollowerKind.REPORTER)
    return db.session.execute(
        select(Complaint).where(Complaint.code.in_(codes), Complaint.status.in_(Status.OPEN),
                                or_(Complaint.reporter_phone == phone, Complaint.id.in_(followed)))
        .order_by(Complaint.id.desc())).scalars().first()


def _only_recent_open_complaint(phone: str):
    days = int(((current_tenant().settings or {}).get("inbound") or {}).get("append_window_days", 14))
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(Complaint).where(Complaint.reporter_phone == phone, Complaint.status.in_(Status.OPEN),
                                Complaint.submitted_at >= since).limit(2)).scalars().all()
    return rows[0] if len(rows) == 1 else None


def submission_key(channel: str, message_id: str) -> str:
    """The complaint's ``submission_key`` for a gateway message: a hash of the channel and the whole id.

    WhatsApp ids (``wamid.…``) share long prefixes, so a key cut from the id itself would make a second
    sender's report look like a retry of the first one's (and hand them its private link)."""
    return derived_submission_key(channel, channel, message_id)


def _checked(channel: str, message_id: str, sender: str, text: str) -> tuple[str, str, str]:
    """The message's id, the sender's number in E.164 and the text, or InboundError for the first bad one."""
    message_id, text = (message_id or "").strip(), (text or "").strip()
    if channel not in CHANNELS:
        raise InboundError("unknown channel")
    if not message_id or len(message_id) > 120:
        raise InboundError("message_id is required (at most 120 characters)")
    try:  # stored phones are E.164 (app.contact): the sender's earlier reports compare equal
        sender = contact.normalize_phone(sender)
    except contact.ContactError as exc:
        raise InboundError(f"from must be a phone number: {exc.message}") from None
    if sender is None:
        raise InboundError("from must be a phone number")
    if not text or len(text) > MAX_TEXT:
        raise InboundError(f"text is required (at most {MAX_TEXT} characters)")
    return message_id, sender, text


def receive(channel: str, message_id: str, sender: str, text: str) -> InboundResult:
    """Turn one gateway message into a complaint or an addition; idempotent on ``message_id``.

    :raises InboundError: when a field is missing or malformed (nothing is written).
    """
    message_id, sender, text = _checked(channel, message_id, sender, text)
    seen = db.session.execute(select(InboundMessage).filter_by(
        channel=channel, gateway_message_id=message_id)).scalar_one_or_none()
    if seen is not None:
        return _result_of(seen, duplicate=True)

    target = _referenced_complaint(text, sender) or _only_recent_open_complaint(sender)
    complaint, action, duplicate = None, "rejected", False
    if target is not None:
        service.add_information(target, text)
        complaint, action = target, "appended"
        reply = _reply("appended", code=target.code)
    elif len(text) < 20:
        reply = _reply("too_short")
    else:
        cfg = (current_tenant().settings or {}).get("inbound") or {}
        category_id = None
        if cfg.get("category"):
            category_id = db.session.execute(
                select(Category.id).filter_by(code=cfg["category"], active=True)).scalar_one_or_none()
        complaint_class = cfg.get("complaint_class") if cfg.get("complaint_class") in CLASSES else "pengaduan"
        privacy = cfg.get("privacy") if cfg.get("privacy") in Privacy.ALL else Privacy.ANONYMOUS
        first_line = text.splitlines()[0].strip()
        title = first_line if len(first_line) <= 80 else first_line[:77].rstrip() + "…"
        if len(title) < 5:
            title = f"{_channel_name(channel)}: {title}"
        try:
            complaint, created = service.submit_complaint(service.SubmitData(
                title=title, description=text, complaint_class=complaint_class, category_id=category_id,
                privacy=privacy, reporter_phone=sender, locale=current_tenant().locale or "id",
                submission_key=submission_key(channel, message_id), source=channel, notify_reporter=False))
        except service.ValidationError as exc:
            raise InboundError("; ".join(f"{FIELD_NAMES.get(k, 'text')}: {v}" for k, v in exc.errors.items())) \
                from None
        if not created:
            # Only the same channel and message id derive this key: a concurrent delivery of this very
            # message stored it meanwhile. Answer as a re-delivery (the first answer if it is recorded).
            seen = db.session.execute(select(InboundMessage).filter_by(
                channel=channel, gateway_message_id=message_id)).scalar_one_or_none()
            if seen is not None:
                return _result_of(seen, duplicate=True)
            duplicate = True
        action = "created"
        reply = _reply("created", code=complaint.code, link=links.receipt_link(complaint))
    row = InboundMessage(channel=channel, gateway_message_id=message_id, sender=sender, body=text, action=action,
                         complaint_id=complaint.id if complaint is not None else None, reply=reply)
    db.session.add(row)
    db.session.flush()  # a concurrent twin fails here (unique message id); the view then answers from it
    log.info("inbound %s message %s: %s %s", channel, row.id, action, complaint.code if complaint else "-")
    return _result_of(row, duplicate=duplicate)


def _channel_name(channel: str) -> str:
    return {"sms": "SMS", "whatsapp": "WhatsApp"}.get(channel, channel)


def _result_of(row: InboundMessage, duplicate: bool) -> InboundResult:
    code = None
    if row.complaint_id is not None:
        code = db.session.execute(select(Complaint.code).filter_by(id=row.complaint_id)).scalar_one_or_none()
    return InboundResult(action=row.action, reply=row.reply, code=code, duplicate=duplicate)
