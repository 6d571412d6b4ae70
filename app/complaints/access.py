"""Scoped fetches with permission checks, and who may see what.

Fetch-by-id answers the same NotFound for "missing" and "not yours". Identity rules (UU PDP):
the complaint unit sees the reporter; a liaison sees it only for public complaints disposed to
their agency; citizens and the public never see another person's identity.
"""

from __future__ import annotations

import hmac
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select
from werkzeug.exceptions import NotFound

from app.accounts.models import Role
from app.complaints.models import Attachment, Complaint, ComplaintEvent, Disposition, Visibility
from app.extensions import db

UNIT_ROLES = Role.UNIT
_CODE_CHARS = re.compile(r"[A-Z0-9\-]+")


def is_unit(user) -> bool:
    return getattr(user, "role", None) in UNIT_ROLES


def staff_complaints_query(user) -> Select:
    """Complaints a staff user may see: all for the unit, only their agency's for a liaison."""
    stmt = select(Complaint)
    if user.role == Role.LIAISON:
        stmt = stmt.where(exists().where(
            Disposition.complaint_id == Complaint.id, Disposition.tenant_id == Complaint.tenant_id,
            Disposition.agency_id == user.agency_id, Disposition.active.is_(True)))
    elif user.role not in UNIT_ROLES:
        stmt = stmt.where(Complaint.id.is_(None))
    return stmt


def access_complaint(complaint_id: int, user) -> Complaint:
    """A complaint of the bound tenant that ``user`` may handle.

    :raises NotFound: when missing or not visible to the user (the same answer for both).
    """
    c = db.session.execute(staff_complaints_query(user).where(Complaint.id == complaint_id)).scalar_one_or_none()
    if c is None:
        raise NotFound()
    return c


def access_complaint_by_code(code: str) -> Complaint:
    """A complaint of the bound tenant by its tracking code (case-insensitive)."""
    code = (code or "").strip().upper()
    # Codes are short and plain (BJM-26-00123); anything else cannot match, and is not sent to the database.
    if len(code) > 20 or not _CODE_CHARS.fullmatch(code):
        raise NotFound()
    c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one_or_none()
    if c is None:
        raise NotFound()
    return c


def citizen_may_act(c: Complaint, token: str | None) -> bool:
    """The private tracking link (code + secret token) lets the reporter reply, rate and add information."""

    # Bytes: compare_digest refuses str with non-ASCII characters, and a pasted link may carry any.
    return bool(token) and hmac.compare_digest(c.access_token.encode(), token.encode("utf-8", "replace"))


def can_see_identity(c: Complaint, user) -> bool:
    if is_unit(user):
        return True
    if getattr(user, "role", None) == Role.LIAISON:
        # A restriction of processing (UU PDP) keeps the identity with the complaint unit.
        return not (c.anonymous or c.confidential or c.processing_restricted)
    return False


HIDDEN = _l("Identity withheld (anonymous or confidential report)")
HIDDEN_RESTRICTED = _l("Identity withheld (processing restricted at the reporter's request)")


def reporter_view(c: Complaint, user) -> dict:
    """The reporter's identity as ``user`` may see it."""
    if can_see_identity(c, user):
        return {"name": c.reporter_name, "email": c.reporter_email, "phone": c.reporter_phone, "hidden": False}
    label = HIDDEN_RESTRICTED if c.processing_restricted and not (c.anonymous or c.confidential) else HIDDEN
    return {"name": str(label), "email": None, "phone": None, "hidden": True}


def public_reporter_name(c: Complaint) -> str | None:
    """On public pages: a first name for public reports, nothing for anonymous ones."""
    if c.anonymous or c.confidential or c.processing_restricted or not c.reporter_name:
        return None
    return c.reporter_name.split()[0]


def timeline(c: Complaint, for_staff: bool) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).filter_by(complaint_id=c.id).order_by(ComplaintEvent.at, ComplaintEvent.id)
    if not for_staff:
        stmt = stmt.where(ComplaintEvent.visibility == Visibility.PUBLIC)
    return list(db.session.execute(stmt).scalars())


def events_since(c: Complaint, version: int) -> list[ComplaintEvent]:
    """The events that changed ``c`` after its ``version`` (what a staff form based on that version missed)."""
    stmt = (select(ComplaintEvent).filter_by(complaint_id=c.id).where(ComplaintEvent.version > version)
            .order_by(ComplaintEvent.at, ComplaintEvent.id))
    return list(db.session.execute(stmt).scalars())


def attachments(c: Complaint, user=None, public_only: bool = False) -> list[Attachment]:
    stmt = select(Attachment).filter_by(complaint_id=c.id).order_by(Attachment.id)
    outside_unit = public_only or (user is not None and not is_unit(user))
    if outside_unit and c.processing_restricted:  # photos can identify the reporter: they stay with the unit
        return []
    if public_only:
        stmt = stmt.where(Attachment.public.is_(True))
    elif user is not None and not can_see_identity(c, user):
        # Photos can identify an anonymous reporter: agencies get them only for public reports.
        stmt = stmt.where(Attachment.public.is_(True))
    return list(db.session.execute(stmt).scalars())


def access_attachment(attachment_id: int, complaint: Complaint, user=None, public_only: bool = False) -> Attachment:
    for att in attachments(complaint, user, public_only):
        if att.id == attachment_id:
            return att
    raise NotFound()
