"""The command center's wall-screen figures for the bound tenant ("ruang command center").

What is on the board: today's counts, open complaints by agency (incoming today, due soon, overdue),
the most urgent overdue and due-soon complaints, today's new ones, and map pins of recent complaints.

Privacy (UU PDP): a wall screen is read across a room, so the board never carries complainant identity
(no name, email, phone, account or free text written by the reporter beyond the title), and a
*rahasia* (confidential) complaint appears only as its code and category: no title and no map pin.
Built from explicit columns, not from the model, so a new personal field cannot slip in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select

from app.agencies.models import Agency, Category
from app.complaints.access import UNIT_ROLES
from app.complaints.inbox import CLOCK_STATUSES, class_label, due_soon_threshold, local_day_bounds, stage_label
from app.complaints.models import Complaint, Disposition, Status
from app.complaints.workflow import status_label
from app.deadlines.calendar import calendar_for_tenant
from app.extensions import db
from app.i18n import format_dt
from app.tenancy.models import Tenant, utcnow

#: Roles that may open the board: the complaint unit (officers) and administrators. Liaisons work from
#: their agency's inbox; the board shows every agency's load, which is the unit's business.
BOARD_ROLES = UNIT_ROLES
LIST_LIMIT = 12
MAP_DAYS = 30
MAP_LIMIT = 500


def _count(cond):
    return func.count(case((cond, 1)))


def _agency_names(complaint_ids: list[int]) -> dict[int, list[str]]:
    if not complaint_ids:
        return {}
    rows = db.session.execute(
        select(Disposition.complaint_id, Agency.short_name)
        .join(Agency, and_(Agency.id == Disposition.agency_id, Agency.tenant_id == Disposition.tenant_id))
        .where(Disposition.complaint_id.in_(complaint_ids), Disposition.active.is_(True))
        .order_by(Agency.short_name)).all()
    out: dict[int, list[str]] = {}
    for cid, name in rows:
        out.setdefault(cid, []).append(name)
    return out


def _item(row, agencies: dict[int, list[str]], tenant: Tenant, now: datetime, cal) -> dict:
    """One complaint on the board: code, title (not for rahasia), category, class, stage, agencies, times."""
    confidential = bool(row.confidential)
    item = {
        "code": row.code,
        "title": _("Confidential report") if confidential else row.title,
        "confidential": confidential,
        "category": (row.category_en if str(get_locale() or "id") == "en" else row.category_id_name) or "",
        "class": class_label(row.complaint_class),
        "status": row.status,
        "status_label": status_label(row.status),
        "stage": stage_label(row.due_stage) if row.due_stage else "",
        "agencies": agencies.get(row.id, []),
        "received": format_dt(row.submitted_at, tenant.timezone),
        "due": format_dt(row.due_at, tenant.timezone) if row.due_at else "",
    }
    if row.due_at is not None and row.status in CLOCK_STATUSES:
        if row.due_at < now:
            days = cal.working_days_between(cal.local_date(row.due_at), cal.local_date(now))
            item["late_working_days"] = max(days, 0)
    return item


def _rows(stmt) -> list:
    base = (select(Complaint.id, Complaint.code, Complaint.title, Complaint.confidential, Complaint.complaint_class,
                   Complaint.status, Complaint.due_stage, Complaint.due_at, Complaint.submitted_at,
                   Category.name_id.label("category_id_name"), Category.name_en.label("category_en"))
            .outerjoin(Category, and_(Category.id == Complaint.category_id,
                                      Category.tenant_id == Complaint.tenant_id)))
    return list(db.session.execute(stmt(base)).all())


def board(tenant: Tenant, now: datetime | None = None) -> dict:
    """Everything the wall screen shows, as plain JSON-ready data (no personal data)."""
    now = now or utcnow()
    cal = calendar_for_tenant(tenant)
    today = cal.local_date(now)
    day_start, day_end = local_day_bounds(today, tenant.timezone)
    soon = due_soon_threshold(tenant, now)

    def today_at(col):
        return and_(col >= day_start, col < day_end)

    on_clock = and_(Complaint.status.in_(CLOCK_STATUSES), Complaint.due_at.is_not(None))
    overdue = and_(on_clock, Complaint.due_at < now)
    due_soon = and_(on_clock, Complaint.due_at >= now, Complaint.due_at <= soon)
    totals = db.session.execute(select(
        _count(today_at(Complaint.submitted_at)).label("received"),
        _count(today_at(Complaint.verified_at)).label("verified"),
        _count(today_at(Complaint.disposed_at)).label("disposed"),
        _count(today_at(Complaint.answered_at)).label("answered"),
        _count(today_at(Complaint.closed_at)).label("closed"),
        _count(Complaint.status.in_(Status.OPEN)).label("open"),
        _count(overdue).label("overdue"),
        _count(due_soon).label("due_soon"),
    ).select_from(Complaint).where(Complaint.is_test.is_(False))).one()  # the day's figures: no test reports

    # The complaint unit's own queue (not yet disposed) is the first row; then each agency's.
    unit = db.session.execute(select(
        _count(Complaint.status.in_((Status.SUBMITTED, Status.VERIFIED))).label("open"),
        _count(and_(Complaint.status.in_((Status.SUBMITTED, Status.VERIFIED)),
                    today_at(Complaint.submitted_at))).label("incoming"),
        _count(and_(Complaint.status.in_((Status.SUBMITTED, Status.VERIFIED)), overdue)).label("overdue"),
        _count(and_(Complaint.status.in_((Status.SUBMITTED, Status.VERIFIED)), due_soon)).label("due_soon"),
    ).select_from(Complaint)).one()
    disposed = and_(Complaint.status == Status.DISPOSED, Disposition.active.is_(True))
    by_agency = db.session.execute(
        select(Agency.id, Agency.short_name, Agency.name,
               _count(disposed).label("open"),
               _count(and_(disposed, today_at(Disposition.created_at))).label("incoming"),
               _count(and_(disposed, overdue)).label("overdue"),
               _count(and_(disposed, due_soon)).label("due_soon"))
        .select_from(Agency)
        .outerjoin(Disposition, and_(Disposition.agency_id == Agency.id, Disposition.tenant_id == Agency.tenant_id))
        .outerjoin(Complaint, and_(Complaint.id == Disposition.complaint_id,
                                   Complaint.tenant_id == Disposition.tenant_id))
        .where(or_(Agency.active.is_(True), Disposition.id.is_not(None)))
        .group_by(Agency.id, Agency.short_name, Agency.name)
    ).all()
    agencies = [{"name": _("Complaint unit"), "unit": True,
                 "open": unit.open, "incoming": unit.incoming, "overdue": unit.overdue, "due_soon": unit.due_soon}]
    agencies += sorted(
        ({"name": a.short_name, "full_name": a.name, "unit": False, "open": a.open, "incoming": a.incoming,
          "overdue": a.overdue, "due_soon": a.due_soon} for a in by_agency if a.open or a.incoming),
        key=lambda a: (-a["overdue"], -a["due_soon"], -a["open"], a["name"]))

    overdue_rows = _rows(lambda s: s.where(overdue).order_by(Complaint.due_at.asc(), Complaint.id).limit(LIST_LIMIT))
    soon_rows = _rows(lambda s: s.where(due_soon).order_by(Complaint.due_at.asc(), Complaint.id).limit(LIST_LIMIT))
    new_rows = _rows(lambda s: s.where(today_at(Complaint.submitted_at))
                     .order_by(Complaint.submitted_at.desc(), Complaint.id.desc()).limit(LIST_LIMIT))
    names = _agency_names([r.id for r in (*overdue_rows, *soon_rows, *new_rows)])

    since = now - timedelta(days=MAP_DAYS)
    pins = db.session.execute(
        select(Complaint.code, Complaint.title, Complaint.status, Complaint.latitude, Complaint.longitude,
               Complaint.due_at, Complaint.submitted_at)
        .where(Complaint.submitted_at >= since, Complaint.latitude.is_not(None), Complaint.longitude.is_not(None),
               Complaint.confidential.is_(False))
        .order_by(Complaint.submitted_at.desc()).limit(MAP_LIMIT)).all()

    def pin_state(p) -> str:
        if p.status not in CLOCK_STATUSES or p.due_at is None:
            return "open" if p.status in Status.OPEN else "done"
        return "overdue" if p.due_at < now else ("due_soon" if p.due_at <= soon else "on_time")

    return {
        "generated_at": now.isoformat(),
        "generated_label": format_dt(now, tenant.timezone),
        "today": {"date": format_dt(now, tenant.timezone, with_time=False), "received": totals.received,
                  "verified": totals.verified, "disposed": totals.disposed, "answered": totals.answered,
                  "closed": totals.closed},
        "totals": {"open": totals.open, "overdue": totals.overdue, "due_soon": totals.due_soon},
        "agencies": agencies,
        "overdue": [_item(r, names, tenant, now, cal) for r in overdue_rows],
        "due_soon": [_item(r, names, tenant, now, cal) for r in soon_rows],
        "incoming": [_item(r, names, tenant, now, cal) for r in new_rows],
        "map": {"days": MAP_DAYS, "pins": [
            {"code": p.code, "title": p.title, "lat": round(p.latitude, 5), "lng": round(p.longitude, 5),
             "state": pin_state(p), "status_label": status_label(p.status),
             "received": format_dt(p.submitted_at, tenant.timezone)} for p in pins]},
    }
