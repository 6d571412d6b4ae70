"""Retention (UU PDP): a reporter's identity is kept for ``settings.retention_years`` after the report
ended, then purged. The report itself stays, so every statistic (counts, classes, deadlines, ratings,
the cross-region comparison) is unchanged.

What the purge removes: name, email, phone and the link to a citizen account; the report's contact
rows and the log of messages sent to those contacts; the attachments (rows and files: photos and
scans can show or name people); pending data-access links; the identity values kept in correction
events. What stays: the text of the report and of the messages (the reporter was told not to write
other people's data there; staff redact on request), the timeline, deadlines and ratings.

Idempotent: a purged report carries ``identity_purged_at`` and one ``purge_identity`` event.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from app.complaints.models import Attachment, Complaint, ComplaintEvent, Follower, Status
from app.complaints.service import SYSTEM, record_event
from app.complaints.uploads import stored_keys
from app.extensions import db
from app.notifications.models import Notification
from app.privacy.models import DataAccessRequest
from app.storage import storage
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import tenant_scope

log = logging.getLogger(__name__)

DEFAULT_RETENTION_YEARS = 5


def retention_years(tenant) -> int:
    years = (tenant.settings or {}).get("retention_years")
    return years if isinstance(years, int) and years >= 1 else DEFAULT_RETENTION_YEARS


def _years_before(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year - years)
    except ValueError:  # 29 February
        return at.replace(year=at.year - years, day=28)


def _years_after(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def removal_due(c: Complaint, tenant) -> datetime | None:
    """When the purge removes this report's identity (None while the report is open)."""
    if c.status not in Status.TERMINAL or c.closed_at is None:
        return None
    return _years_after(c.closed_at, retention_years(tenant))


def purge_complaint(c: Complaint, years: int, now: datetime) -> list[str]:
    """Remove the reporter's identity from one ended report; returns the attachment files to delete."""
    contacts = {v for v in (c.reporter_email, c.reporter_phone) if v}
    own = list(db.session.execute(select(Follower).where(
        or_(Follower.complaint_id == c.id, Follower.origin_complaint_id == c.id))).scalars())
    contacts |= {f.recipient for f in own if f.origin_complaint_id == c.id}
    # Messages about this report, and (for a merged duplicate) those its reporter got about the main report.
    about = [c.id] + ([c.merged_into_id] if c.merged_into_id else [])
    event_ids = list(db.session.execute(select(ComplaintEvent.id).where(
        ComplaintEvent.complaint_id.in_(about))).scalars())
    if contacts and event_ids:
        db.session.execute(delete(Notification).where(
            Notification.event_key.in_([f"event:{i}" for i in event_ids]), Notification.recipient.in_(contacts))
            .execution_options(synchronize_session=False))
    for f in own:
        db.session.delete(f)
    atts = list(db.session.execute(select(Attachment).filter_by(complaint_id=c.id)).scalars())
    files = [key for a in atts for key in stored_keys(a)]
    for a in atts:
        db.session.delete(a)
    db.session.execute(delete(DataAccessRequest).where(DataAccessRequest.complaint_id == c.id)
                       .execution_options(synchronize_session=False))
    # The one sanctioned change to history: correction events held the old and new identity values.
    db.session.execute(update(ComplaintEvent).where(
        ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind == "correct_identity")
        .values(before={"removed": True}, after={"removed": True}).execution_options(synchronize_session=False))
    c.reporter_name = c.reporter_email = c.reporter_phone = None
    c.reporter_user_id = None
    c.identity_purged_at = now
    record_event(c, SYSTEM, "purge_identity", after={"retention_years": years, "attachments": len(atts)})
    return files


def purge_tenant(tenant, now: datetime | None = None) -> tuple[dict, list[str]]:
    """Purge every report of the bound tenant that ended more than the retention period ago."""
    now = now or utcnow()
    years = retention_years(tenant)
    cutoff = _years_before(now, years)
    rows = db.session.execute(select(Complaint).where(
        Complaint.status.in_(Status.TERMINAL), Complaint.closed_at < cutoff,
        Complaint.identity_purged_at.is_(None)).order_by(Complaint.id)).scalars().all()
    files: list[str] = []
    for c in rows:
        files += purge_complaint(c, years, now)
    db.session.flush()
    originals = sum(1 for key in files if not key.endswith(".thumb.webp"))  # thumbnails go along unnamed
    return {"purged": len(rows), "attachments": originals}, files


def _delete_files(tenant_id: int, keys: list[str]) -> None:

    store = storage()
    for key in keys:
        if key.startswith(f"{tenant_id}/"):
            store.delete(key)


def purge_all_tenants(now: datetime | None = None, slug: str | None = None) -> dict:
    """The periodic job: each tenant in its own scope and transaction; files go after the commit."""
    stmt = select(Tenant).where(Tenant.status.in_((TenantStatus.ACTIVE, TenantStatus.SUSPENDED)))
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    totals = {"purged": 0, "attachments": 0}
    for tenant in db.session.execute(stmt.order_by(Tenant.id)).scalars().all():
        with tenant_scope(tenant.id):
            try:
                counts, files = purge_tenant(tenant, now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("retention purge failed for tenant %s", tenant.slug)
                continue
            _delete_files(tenant.id, files)
            if counts["purged"]:
                log.info("retention purge: %s reports of tenant %s", counts["purged"], tenant.slug)
        for key, value in counts.items():
            totals[key] += value
    return totals
