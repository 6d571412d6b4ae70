"""The periodic deadline sweep for one tenant: due-soon/overdue flags, escalation, auto-close.

Idempotent: a second run in the same state changes nothing and sends nothing new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.accounts.models import Role, User
from app.complaints import service
from app.complaints.models import Complaint, Disposition, Status
from app.extensions import db
from app.i18n import format_dt
from app.jobs.sweeps import SWEEPS
from app.notifications.service import queue_message
from app.tenancy.models import utcnow


def sweep_tenant(tenant, now: datetime | None = None) -> dict:
    now = now or utcnow()
    counts = {"overdue": 0, "due_soon": 0, "escalated": 0, "auto_closed": 0}
    rows = db.session.execute(
        select(Complaint).where(Complaint.status.in_(Status.OPEN), Complaint.due_at.is_not(None))
    ).scalars().all()
    for c in rows:
        if c.status == Status.ANSWERED:
            if service.auto_close(c, now) is not None:
                counts["auto_closed"] += 1
            continue
        state = service.refresh_deadline_state(c, now)
        if state in counts:
            counts[state] += 1
        if state == "overdue" and c.escalated_stage != c.due_stage:
            escalate(c, tenant)
            counts["escalated"] += 1
    db.session.flush()
    return counts


def escalate(c: Complaint, tenant) -> None:
    """Tell the complaint unit's head and the agency liaisons once per stage."""
    c.escalated_stage = c.due_stage
    event = service.record_event(c, service.SYSTEM, "escalate", after={"stage": c.due_stage})
    recipients = list(db.session.execute(select(User).where(User.is_unit_head.is_(True), User.active)).scalars())
    if c.status == Status.DISPOSED:
        agency_ids = [d.agency_id for d in db.session.execute(
            select(Disposition).filter_by(complaint_id=c.id, active=True)).scalars()]
        recipients += list(db.session.execute(select(User).where(
            User.role == Role.LIAISON, User.agency_id.in_(agency_ids), User.active)).scalars())
    link = f"{service._tracking_link(c).split('/lacak/')[0]}/staff/complaints/{c.id}"
    for user in recipients:
        queue_message(event_key=f"event:{event.id}", channel="email", recipient=user.email,
                      template_key="escalation",
                      context={"code": c.code, "title": c.title, "link": link,
                               "deadline": format_dt(c.due_at, tenant.timezone, user.locale or tenant.locale)},
                      locale=user.locale or tenant.locale)


SWEEPS.append(sweep_tenant)
