"""Following a public report, and one-time links to a citizen's own reports ("Laporan saya").

- **Follow** (double opt-in): a citizen enters an email address or phone number on a public report's page;
  a one-time confirmation link goes to that contact (:data:`FOLLOW_LINK_TTL`); only its confirmation adds a
  :class:`Follower` of kind "follower". Followers hear of public progress only, each message with an
  unfollow link (:func:`app.complaints.links.unfollow_link`) that works without signing in.
- **One-time list link**: a contact asks for a link (:data:`LIST_LINK_TTL`, usable once) that lists the
  reports it filed (each with its own private link) and the reports it follows.
- **Signed-in citizens**: the reports they filed while signed in (``Complaint.reporter_user_id``) and the
  reports they followed while signed in (asked AND confirmed by the same account, ``Follower.user_id``).
  Account email addresses are not verified, so an account never sees reports by its email alone.

Nothing here answers differently whether or not a contact has reports or already follows (no
enumeration). Only the tokens' SHA-256 is stored; they are bound to the region (its own table rows).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from sqlalchemy import func, select

from app import contact
from app.complaints import links
from app.complaints.models import (
    Complaint,
    ContactLink,
    ContactLinkPurpose,
    Follower,
    FollowerKind,
    Status,
)
from app.complaints.service import ValidationError
from app.extensions import db
from app.notifications.service import queue_message
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

FOLLOW_LINK_TTL = timedelta(days=3)
LIST_LINK_TTL = timedelta(minutes=30)
#: One-time links sent to one contact per hour (per purpose); more are silently not sent.
PER_CONTACT_PER_HOUR = 3

#: Reports that may be followed: those the public sees by their code and on the transparency page
#: (checked by the complaint unit, never rahasia, neither spam nor duplicates).
FOLLOWABLE_STATUSES = (Status.VERIFIED, Status.DISPOSED, Status.ANSWERED, Status.CLOSED, Status.REFERRED)

CONTACT_MESSAGE = _l("Enter an email address or a phone number such as 0812 3456 7890.")


def followable(c: Complaint) -> bool:
    return (not c.confidential and c.verified_at is not None and c.status in FOLLOWABLE_STATUSES)


def parse_contact(raw: str | None) -> tuple[str, str]:
    """(channel, normalised recipient) of an email address or phone number.

    :raises ValidationError: {"contact": message} when it is neither.
    """
    text = (raw or "").strip()
    try:
        if "@" in text:
            value = contact.normalize_email(text)
            channel = "email"
        else:
            value = contact.normalize_phone(text)
            channel = "sms"
    except contact.ContactError as exc:
        raise ValidationError({"contact": exc.message}) from None
    if not value:
        raise ValidationError({"contact": CONTACT_MESSAGE})
    return channel, value


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _issue(purpose: str, channel: str, recipient: str, locale: str, ttl: timedelta,
           complaint_id: int | None = None, user_id: int | None = None) -> tuple[ContactLink, str] | None:
    """A new one-time link row and its token, or None when the contact had enough links this hour."""
    now = utcnow()
    recent = db.session.scalar(select(func.count(ContactLink.id)).where(
        ContactLink.recipient == recipient, ContactLink.purpose == purpose,
        ContactLink.created_at >= now - timedelta(hours=1)))
    if recent >= PER_CONTACT_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    row = ContactLink(purpose=purpose, token_hash=_hash(token), channel=channel, recipient=recipient,
                      locale=locale, complaint_id=complaint_id, user_id=user_id, created_at=now,
                      expires_at=now + ttl)
    db.session.add(row)
    db.session.flush()
    return row, token


def _usable(token: str, purpose: str) -> ContactLink | None:
    if not token or len(token) > 100:
        return None
    row = db.session.execute(select(ContactLink).filter_by(token_hash=_hash(token), purpose=purpose)
                             ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def _base() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{current_tenant().slug}"


def _hours(ttl: timedelta) -> int:
    return int(ttl.total_seconds() // 3600)


# ---------------------------------------------------------------- follow


def request_follow(c: Complaint, raw_contact: str | None, locale: str, user_id: int | None = None) -> None:
    """Send a confirmation link to the contact (whether or not it already follows: same outcome)."""
    if not followable(c):
        raise ValidationError({"contact": CONTACT_MESSAGE})
    channel, recipient = parse_contact(raw_contact)
    issued = _issue(ContactLinkPurpose.FOLLOW, channel, recipient, locale, FOLLOW_LINK_TTL,
                    complaint_id=c.id, user_id=user_id)
    if issued is None:
        return
    row, token = issued
    queue_message(event_key=f"contact_link:{row.id}", channel=channel, recipient=recipient,
                  template_key="follow_confirm", locale=locale,
                  context={"code": c.code, "title": c.title, "link": f"{_base()}/lacak/{c.code}/ikuti/{token}",
                           "hours": _hours(FOLLOW_LINK_TTL)})


def follow_link_valid(c: Complaint, token: str) -> bool:
    row = _usable(token, ContactLinkPurpose.FOLLOW)
    return row is not None and row.complaint_id == c.id and followable(c)


def confirm_follow(c: Complaint, token: str, user_id: int | None = None) -> bool:
    """Use the confirmation link: the contact follows ``c`` (nothing new when it already does).

    The follow is tied to the citizen account only when the same account asked and confirmed.
    Returns False when the link is unknown, used, expired or for another report.
    """
    row = _usable(token, ContactLinkPurpose.FOLLOW)
    if row is None or row.complaint_id != c.id or not followable(c):
        return False
    row.used_at = utcnow()
    account = row.user_id if row.user_id is not None and row.user_id == user_id else None
    existing = db.session.execute(select(Follower).filter_by(
        complaint_id=c.id, channel=row.channel, recipient=row.recipient)).scalar_one_or_none()
    if existing is None:
        db.session.add(Follower(complaint_id=c.id, channel=row.channel, recipient=row.recipient,
                                locale=row.locale, kind=FollowerKind.FOLLOWER, user_id=account))
    elif existing.kind == FollowerKind.FOLLOWER and existing.user_id is None and account is not None:
        existing.user_id = account
    db.session.flush()
    return True


# ---------------------------------------------------------------- unfollow


def follower_by_unfollow_token(token: str) -> Follower | None:
    try:
        data = links.unfollow_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("f"), int):
        return None
    f = db.session.get(Follower, data["f"])
    if f is None or f.kind != FollowerKind.FOLLOWER or data.get("h") != links.follower_fingerprint(f):
        return None
    return f


def report_of_unfollow_token(token: str) -> Complaint | None:
    f = follower_by_unfollow_token(token)
    return db.session.get(Complaint, f.complaint_id) if f is not None else None


def unfollow(token: str) -> bool:
    """Remove the follower named by an unfollow link; False when it is already gone or the link is wrong."""
    f = follower_by_unfollow_token(token)
    if f is None:
        return False
    db.session.delete(f)
    db.session.flush()
    return True


# ---------------------------------------------------------------- my reports


@dataclass
class Entry:
    complaint: Complaint
    #: "filed" | "followed"
    relation: str
    #: The private link (filed) or the public page (followed).
    link: str
    unfollow: str | None = None

    @property
    def filed(self) -> bool:
        return self.relation == "filed"


def _sorted(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: e.complaint.submitted_at or datetime.min, reverse=True)


def _followed_entries(followers: list[Follower], seen: set[int]) -> list[Entry]:
    out = []
    for f in followers:
        c = db.session.get(Complaint, f.complaint_id)
        if c is None or c.id in seen or c.confidential:
            continue
        seen.add(c.id)
        out.append(Entry(c, "followed", links.public_link(c), unfollow=links.unfollow_link(f)))
    return out


def reports_of_account(user) -> list[Entry]:
    """The reports a signed-in citizen filed, and those they followed, while signed in."""
    filed = db.session.execute(select(Complaint).where(Complaint.reporter_user_id == user.id)).scalars().all()
    entries = [Entry(c, "filed", links.account_link(c, user)) for c in filed]
    seen = {c.id for c in filed}
    followers = db.session.execute(select(Follower).where(
        Follower.user_id == user.id, Follower.kind == FollowerKind.FOLLOWER).order_by(Follower.id)).scalars().all()
    return _sorted(entries + _followed_entries(list(followers), seen))


def request_list_link(raw_contact: str | None, locale: str) -> None:
    """Send a one-time link listing the contact's reports; the same outcome whether or not it has any
    (the message goes out either way; the page then lists what there is)."""
    channel, recipient = parse_contact(raw_contact)
    issued = _issue(ContactLinkPurpose.LIST, channel, recipient, locale, LIST_LINK_TTL)
    if issued is None:
        return
    row, token = issued
    queue_message(event_key=f"contact_link:{row.id}", channel=channel, recipient=recipient,
                  template_key="my_reports_link", locale=locale,
                  context={"link": f"{_base()}/laporan-saya/tautan/{token}",
                           "minutes": int(LIST_LINK_TTL.total_seconds() // 60)})


def list_link_valid(token: str) -> bool:
    return _usable(token, ContactLinkPurpose.LIST) is not None


def open_list_link(token: str) -> list[Entry] | None:
    """Use a one-time list link: the reports its contact filed (private links) and follows; None when the
    link is unknown, used or expired."""
    row = _usable(token, ContactLinkPurpose.LIST)
    if row is None:
        return None
    row.used_at = utcnow()
    db.session.flush()
    rows = db.session.execute(select(Follower).where(
        Follower.channel == row.channel, Follower.recipient == row.recipient).order_by(Follower.id)).scalars().all()
    entries: list[Entry] = []
    seen: set[int] = set()
    for f in rows:
        if f.kind != FollowerKind.REPORTER:
            continue
        own = links.own_complaint(f)
        if own.id in seen:
            continue
        seen.add(own.id)
        entries.append(Entry(own, "filed", links.private_link(f)))
    entries += _followed_entries([f for f in rows if f.kind == FollowerKind.FOLLOWER], seen)
    return _sorted(entries)

