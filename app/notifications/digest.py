"""The daily digest: one email per staff user and local day with the events they chose to read that way.

``send_digests`` runs periodically (app/jobs/cron.py → RQ's periodic queue). In each active region it
acts from DIGEST_HOUR local time on; the digest is a message like any other (queue_message: outbox +
RQ), keyed ``digest:<user>:<local date>``, so the unique constraint on notifications makes it once per
user per day however often the job runs. Items arriving after that day's digest wait for the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from app.accounts.models import User
from app.complaints import workflow
from app.complaints.models import Complaint
from app.extensions import db
from app.notifications.models import Mode, StaffNotification
from app.notifications.service import queue_message
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import current_tenant, tenant_scope

log = logging.getLogger(__name__)

#: Local hour from which the day's digest goes out (the region's morning).
DIGEST_HOUR = 7
MAX_LINES = 50


def _pending(user_id: int, before: datetime) -> list[StaffNotification]:
    return list(db.session.execute(
        select(StaffNotification).where(StaffNotification.user_id == user_id,
                                        StaffNotification.mode == Mode.DIGEST,
                                        StaffNotification.digested_at.is_(None),
                                        StaffNotification.created_at <= before)
        .order_by(StaffNotification.id)).scalars())


def send_digest(user: User, day, now: datetime | None = None) -> bool:
    """Queue the user's digest for ``day`` (local date) if there is anything and none went out that day."""
    now = now or utcnow()
    items = _pending(user.id, now)
    if not items:
        return False
    tenant = current_tenant()
    locale = user.locale or tenant.locale
    codes = {c.id: c for c in db.session.execute(
        select(Complaint).where(Complaint.id.in_({i.complaint_id for i in items}))).scalars()}
    with force_locale(locale):
        lines = [f"- {codes[i.complaint_id].code} · {workflow.event_label(i.kind)}: {codes[i.complaint_id].title}"
                 for i in items[:MAX_LINES] if i.complaint_id in codes]
    if len(items) > MAX_LINES:
        lines.append(f"(+{len(items) - MAX_LINES})")
    base = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{tenant.slug}"
    note = queue_message(event_key=f"digest:{user.id}:{day.isoformat()}", channel="email", recipient=user.email,
                         template_key="staff_digest", locale=locale,
                         context={"count": len(items), "items": "\n".join(lines),
                                  "link": f"{base}/staff/notifications", "date": day.isoformat()})
    if note is None:  # today's digest already went out: these wait for tomorrow's
        return False
    for item in items:
        item.digested_at = now
    db.session.flush()
    return True


def digest_tenant(tenant: Tenant, now: datetime | None = None) -> int:
    """Send the due digests of one region (bound tenant); returns how many were queued."""
    now = now or utcnow()
    local = now.astimezone(ZoneInfo(tenant.timezone))
    if local.hour < DIGEST_HOUR:
        return 0
    user_ids = db.session.execute(
        select(StaffNotification.user_id).where(StaffNotification.mode == Mode.DIGEST,
                                                StaffNotification.digested_at.is_(None)).distinct()).scalars().all()
    sent = 0
    for user in db.session.execute(select(User).where(User.id.in_(user_ids), User.active)
                                   .order_by(User.id)).scalars():
        sent += send_digest(user, local.date(), now)
    return sent


def send_digests(now: datetime | None = None) -> dict:
    """Periodic: every active region's due digests, each region in its own scope and transaction."""
    total = 0
    tenants = db.session.execute(select(Tenant).filter_by(status=TenantStatus.ACTIVE)).scalars().all()
    for tenant in tenants:
        with tenant_scope(tenant.id):
            try:
                total += digest_tenant(tenant, now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("digest failed for tenant %s", tenant.slug)
    return {"digests": total}
