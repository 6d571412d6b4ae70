"""Reporters' personal data (UU PDP 27/2022): the data document with its processing trail, the
one-time link that opens it, correction and restriction by the complaint unit.

Like the complaint service: explicit actor and data, one event per change, flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import contact
from app.accounts.models import Role, User
from app.complaints import workflow
from app.complaints.models import Attachment, Complaint, ComplaintEvent, Follower, FollowerKind, Rating
from app.complaints.service import CITIZEN, Actor, ValidationError, record_event
from app.complaints.transparency import class_label
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.service import queue_message
from app.privacy.models import DataAccessRequest
from app.privacy.retention import removal_due, retention_years
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

IDENTITY_FIELDS = ("reporter_name", "reporter_email", "reporter_phone")
#: Hours a one-time data link stays valid unless DATA_LINK_MAX_AGE (seconds) says otherwise.
DATA_LINK_HOURS = 24
#: Requests per report and day: the tracking link must not become a way to flood the reporter's inbox.
MAX_REQUESTS_PER_DAY = 3
#: Event kinds whose record names who received the report, and how to read the recipients.
SHARING: dict[str, Callable[[ComplaintEvent], list[str]]] = {
    "dispose": lambda e: list((e.after or {}).get("agencies") or []),
    "refer": lambda e: [x for x in [(e.after or {}).get("refer_to")] if x],
    "sp4n_forward": lambda e: ["SP4N-LAPOR!"],
}
#: The reporter's own words, as recorded in events.
CITIZEN_MESSAGE_KINDS = ("add_info", "citizen_reply", "reopen")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_max_age() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("DATA_LINK_MAX_AGE", DATA_LINK_HOURS * 3600)))


def mask_contact(value: str | None) -> str | None:
    """``siti.rahmah@contoh.id`` → ``s***@contoh.id``; ``081234567890`` → ``********7890``."""
    if not value:
        return None
    if "@" in value:
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return "*" * max(len(value) - 4, 0) + value[-4:]


# ---------------------------------------------------------------- the data document

def _role_label(event: ComplaintEvent, users: dict[int, User]) -> str:
    """Who acted, by role: officers' names are their own personal data and are not handed out."""
    if event.actor_type == "citizen":
        return _("You (the reporter)")
    if event.actor_type == "system":
        return _("System (automatic)")
    user = users.get(event.actor_id)
    if user is not None and user.role == Role.LIAISON:
        agency = user.agency.name if user.agency is not None else ""
        return _("Agency liaison (%(agency)s)", agency=agency)
    if user is not None and user.role in Role.UNIT:
        return _("Complaint unit")
    return _("Staff")


def processing_trail(c: Complaint) -> list[dict]:
    """Every recorded processing step: when, what, by whom (role), and who received the report."""
    events = list(db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id)
                                     .order_by(ComplaintEvent.at, ComplaintEvent.id)).scalars())
    ids = {e.actor_id for e in events if e.actor_id}
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}
    trail = []
    for e in events:
        entry = {"at": _iso(e.at), "action": e.kind, "description": workflow.event_label(e.kind),
                 "by": _role_label(e, users), "shared_with": SHARING[e.kind](e) if e.kind in SHARING else []}
        if e.kind == "correct_identity":
            entry["fields"] = sorted((e.after or {}).keys())
        trail.append(entry)
    return trail


def _own_contacts(c: Complaint) -> list[Follower]:
    """The reporter's contact rows (a merge copies them to the main report; other people's stay out)."""
    return list(db.session.execute(select(Follower).where(Follower.origin_complaint_id == c.id)
                                   .order_by(Follower.id)).scalars())


def personal_data(c: Complaint) -> dict:
    """Everything held about the reporter of ``c``, and its processing trail (a JSON-ready dict)."""
    tenant = current_tenant()
    locale = str(_locale())
    contacts = _own_contacts(c)
    recipients = {f.recipient for f in contacts} | {v for v in (c.reporter_email, c.reporter_phone) if v}
    events = list(db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id)
                                     .order_by(ComplaintEvent.at, ComplaintEvent.id)).scalars())
    keys = [f"event:{e.id}" for e in events]
    notes = list(db.session.execute(
        select(Notification).where(Notification.event_key.in_(keys), Notification.recipient.in_(recipients))
        .order_by(Notification.id)).scalars()) if keys and recipients else []
    atts = db.session.execute(select(Attachment).filter_by(complaint_id=c.id).order_by(Attachment.id)).scalars()
    ratings = db.session.execute(select(Rating).filter_by(complaint_id=c.id).order_by(Rating.id)).scalars()
    due = removal_due(c, tenant)
    return {
        "document": "personal-data",
        "generated_at": _iso(utcnow()),
        "controller": {"name": tenant.name, "service": tenant.service_name or tenant.name},
        "report": {
            "code": c.code, "title": c.title, "description": c.description,
            "kind": class_label(tenant, c.complaint_class, locale), "privacy": c.privacy,
            "status": workflow.status_label(c.status), "submitted_at": _iso(c.submitted_at),
            "ended_at": _iso(c.closed_at), "location": c.location_text, "latitude": c.latitude,
            "longitude": c.longitude, "channel": c.source,
        },
        "identity": {
            "name": c.reporter_name, "email": c.reporter_email, "phone": c.reporter_phone,
            "citizen_account": c.reporter_user_id is not None,
            "removed_at": _iso(c.identity_purged_at),
        },
        "contacts": [{"channel": f.channel, "recipient": f.recipient, "language": f.locale} for f in contacts],
        "attachments": [{"file_name": a.filename, "type": a.content_type, "size_bytes": a.size,
                         "received_at": _iso(a.created_at)} for a in atts],
        "messages": [{"at": _iso(e.at), "kind": workflow.event_label(e.kind), "text": e.message}
                     for e in events if e.actor_type == "citizen" and e.kind in CITIZEN_MESSAGE_KINDS and e.message],
        "ratings": [{"at": _iso(r.created_at), "score": r.score, "comment": r.comment} for r in ratings],
        "messages_sent_to_you": [{"at": _iso(n.created_at), "channel": n.channel, "to": n.recipient,
                                  "subject": n.subject, "status": n.status} for n in notes],
        "processing": processing_trail(c),
        "restriction": {"restricted": bool(c.processing_restricted)},
        "retention": {"years": retention_years(tenant), "identity_removal_due": _iso(due)},
    }


def _locale() -> str:
    return str(get_locale() or "id")


def export_for_unit(c: Complaint, actor: Actor) -> dict:
    """The complaint unit exports a reporter's data (e.g. for a request by letter); recorded."""
    workflow.check("data_export", c.status, actor.role)
    record_event(c, actor, "data_export")
    return personal_data(c)


# ---------------------------------------------------------------- correction

def _clean_identity(name: str | None, email: str | None, phone: str | None) -> dict:
    name = (name or "").strip()
    email, phone, errors = contact.clean_contacts(email, phone)
    if not name:
        errors["reporter_name"] = _l("Write the reporter's name.")
    elif len(name) > 120:
        errors["reporter_name"] = _l("The name may have at most 120 characters.")
    if not email and not phone and "reporter_email" not in errors and "reporter_phone" not in errors:
        errors["reporter_email"] = _l("Give an email address or a mobile number.")
    if errors:
        raise ValidationError(errors)
    return {"reporter_name": name, "reporter_email": email, "reporter_phone": phone}


def _promote_follower(c: Complaint, complaint_id: int, channel: str, recipient: str) -> bool:
    """Whether ``recipient`` already follows ``complaint_id``; a contact that only followed the public report
    becomes the reporter's own contact (kind "reporter": private link, all messages)."""
    row = db.session.execute(select(Follower).filter_by(
        complaint_id=complaint_id, channel=channel, recipient=recipient)).scalar_one_or_none()
    if row is None:
        return False
    if row.kind != FollowerKind.REPORTER:
        row.kind, row.origin_complaint_id, row.user_id = FollowerKind.REPORTER, c.id, None
    return True


def _move_contact(c: Complaint, channel: str, old: str | None, new: str | None) -> None:
    """Keep the reporter's notification contacts in step with the corrected identity."""
    if old == new:
        return
    rows = [f for f in _own_contacts(c) if f.channel == channel and f.recipient == old] if old else []
    for row in rows:
        clash = new and _promote_follower(c, row.complaint_id, channel, new)
        if not new or clash:
            db.session.delete(row)
        else:
            row.recipient = new
    if new and not rows and not _promote_follower(c, c.id, channel, new):
        locale = next((f.locale for f in _own_contacts(c)), None) or current_tenant().locale
        db.session.add(Follower(complaint_id=c.id, channel=channel, recipient=new, locale=locale,
                                origin_complaint_id=c.id))
    db.session.flush()


def correct_identity(c: Complaint, actor: Actor, *, name: str | None, email: str | None, phone: str | None,
                     reason: str | None = None, expected_version: int | None = None) -> ComplaintEvent | None:
    """Correct the reporter's identity and contacts; the event keeps before and after (for the audit).

    :raises ValidationError: on bad values, before anything changes.
    """
    workflow.check("correct_identity", c.status, actor.role)
    if expected_version is not None and int(expected_version) != c.version:
        raise workflow.StaleComplaint()
    if c.identity_purged_at is not None:
        raise workflow.TransitionError(_l("The identity of this report was removed at the end of the retention "
                                          "period."))
    new = _clean_identity(name, email, phone)
    before = {k: getattr(c, k) for k in IDENTITY_FIELDS}
    changed = [k for k in IDENTITY_FIELDS if before[k] != new[k]]
    if not changed:
        return None
    _move_contact(c, "email", before["reporter_email"], new["reporter_email"])
    _move_contact(c, "sms", before["reporter_phone"], new["reporter_phone"])
    for k in changed:
        setattr(c, k, new[k])
    return record_event(c, actor, "correct_identity", message=(reason or "").strip() or None,
                        before={k: before[k] for k in changed}, after={k: new[k] for k in changed})


# ---------------------------------------------------------------- restriction

def set_restriction(c: Complaint, actor: Actor, restricted: bool, reason: str | None,
                    expected_version: int | None = None) -> ComplaintEvent | None:
    """Restrict processing (no further sharing; identity with the complaint unit only) or lift it."""
    kind = "restrict" if restricted else "unrestrict"
    workflow.check(kind, c.status, actor.role)
    if expected_version is not None and int(expected_version) != c.version:
        raise workflow.StaleComplaint()
    if not (reason or "").strip():
        raise ValidationError({"reason": _l("Give the reason (e.g. the reporter's request and its date).")})
    if bool(c.processing_restricted) == restricted:
        return None
    before = {"processing_restricted": bool(c.processing_restricted)}
    c.processing_restricted = restricted
    return record_event(c, actor, kind, message=reason.strip(), before=before,
                        after={"processing_restricted": restricted})


# ---------------------------------------------------------------- the reporter's own request

def request_data_link(c: Complaint, link_for_token: Callable[[str], str], now: datetime | None = None
                      ) -> DataAccessRequest:
    """Send a one-time, expiring link to the contacts on file (through the outbox).

    :raises ValidationError: without a contact, or after too many requests today.
    """
    workflow.check("data_request", c.status, "citizen")
    now = now or utcnow()
    contacts = [(ch, v) for ch, v in (("email", c.reporter_email), ("sms", c.reporter_phone)) if v]
    if not contacts:
        raise ValidationError({"request": _l("No contact is on file for this report. Ask the complaint unit for "
                                             "your data.")})
    recent = db.session.scalar(select(func.count(DataAccessRequest.id)).where(
        DataAccessRequest.complaint_id == c.id, DataAccessRequest.requested_at > now - timedelta(days=1)))
    if recent >= MAX_REQUESTS_PER_DAY:
        raise ValidationError({"request": _l("You asked several times today. Use a link already sent, or try "
                                             "again tomorrow.")})
    token = secrets.token_urlsafe(32)
    max_age = link_max_age()
    req = DataAccessRequest(complaint_id=c.id, token_hash=_hash(token), channels=",".join(ch for ch, _v in contacts),
                            requested_at=now, expires_at=now + max_age)
    db.session.add(req)
    db.session.flush()
    event = record_event(c, CITIZEN, "data_request", after={"request": req.id, "channels": req.channels})
    locales = {f.channel: f.locale for f in _own_contacts(c)}
    for channel, recipient in contacts:
        queue_message(event_key=f"event:{event.id}", channel=channel, recipient=recipient,
                      template_key="data_access_link",
                      context={"code": c.code, "title": c.title, "link": link_for_token(token),
                               "hours": int(max_age.total_seconds() // 3600)},
                      locale=locales.get(channel))
    return req


def redeem_data_link(c: Complaint, token: str | None, now: datetime | None = None) -> bool:
    """Use a one-time link: True once for a valid, unexpired, unused link of this report."""
    if not token or len(token) > 100:
        return False
    now = now or utcnow()
    req = db.session.execute(select(DataAccessRequest).filter_by(token_hash=_hash(token))).scalar_one_or_none()
    if req is None or req.complaint_id != c.id or req.used_at is not None or req.expires_at <= now:
        return False
    # Conditional update: two browsers opening the link at once cannot both use it.
    used = db.session.execute(update(DataAccessRequest).where(
        DataAccessRequest.id == req.id, DataAccessRequest.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:
        return False
    record_event(c, CITIZEN, "data_access", after={"request": req.id})
    return True


def record_owner_access(c: Complaint) -> ComplaintEvent:
    """A signed-in citizen opened the data of their own report (no link needed)."""
    return record_event(c, CITIZEN, "data_access", after={"account": True})
