"""Read-side of the citizen pages: what the public may see, and the transparency page's figures.

Everything here reads the bound tenant only (the ORM guard scopes every query) and never returns a
reporter's identity except :func:`app.complaints.access.public_reporter_name`'s first name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, not_, or_, select

from app.agencies.models import Agency, Category
from app.complaints import access
from app.complaints.inbox import Page
from app.complaints.models import (
    CLASSES,
    Complaint,
    ComplaintEvent,
    Disposition,
    FollowUp,
    FollowUpStatus,
    Rating,
    Status,
)
from app.deadlines import policy
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import DeadlineState, deadline_state, stage_days
from app.extensions import db
from app.notifications.models import Notification
from app.shared_cache import shared
from app.tenancy.models import utcnow

PER_PAGE = 20

#: Classes a citizen may choose; "pengawasan" (needing oversight) is set by the complaint unit only.
CITIZEN_CLASSES = ("aspirasi", "informasi", "pengaduan")

#: Reports listed on the transparency page: checked by the complaint unit (which may still mark a
#: report confidential at verification), neither spam (archived) nor duplicates (merged).
LISTED_STATUSES = (Status.VERIFIED, Status.DISPOSED, Status.ANSWERED, Status.CLOSED, Status.REFERRED)

CLASS_FALLBACK_LABELS = {
    "aspirasi": _l("Suggestion (aspirasi)"),
    "informasi": _l("Information request"),
    "pengaduan": _l("Complaint (pengaduan)"),
    "pengawasan": _l("Complaint needing oversight"),
}


def class_label(tenant, key: str | None, locale: str) -> str:
    """The tenant's name of a complaint class in ``locale`` (from its settings), else a default."""
    conf = ((tenant.settings or {}).get("classes") or {}).get(key or "") or {}
    name = conf.get("name_en" if locale == "en" else "name_id")
    return name or str(CLASS_FALLBACK_LABELS.get(key, key or ""))


@dataclass(frozen=True)
class ServiceStandard:
    """The statutory working-day deadlines of a region, for the help texts."""

    verification: int
    coordination: int
    auto_close: int
    #: (class key, follow-up working days) in the order of CLASSES.
    followup: list[tuple[str, int]]
    reopen_window: int

    def followup_days(self, key: str) -> int | None:
        return dict(self.followup).get(key)


def service_standard(tenant) -> ServiceStandard:
    """The tenant's deadlines read from its settings (national defaults for missing keys)."""
    settings = tenant.settings or {}
    followup = []
    for key in CLASSES:
        try:
            followup.append((key, stage_days(settings, "followup", key)))
        except ValueError:  # a class the tenant removed
            continue
    return ServiceStandard(
        verification=stage_days(settings, "verification"),
        coordination=stage_days(settings, "coordination"),
        auto_close=stage_days(settings, "auto_close"),
        followup=followup,
        reopen_window=int(settings.get("reopen_window_working_days", 10)),
    )


def active_categories() -> list[Category]:
    """The categories a citizen may choose."""
    stmt = select(Category).where(Category.active.is_(True)).order_by(Category.name_id)
    return list(db.session.execute(stmt).scalars())


def deadline_badge(c: Complaint, tenant, now: datetime | None = None) -> str | None:
    """'on_time', 'due_soon' or 'overdue', computed now; None when no clock runs."""
    if c.due_at is None or not c.is_open:
        return None
    state = deadline_state(calendar_for_tenant(tenant), tenant.settings or {}, c.due_at, now or utcnow())
    return None if state == DeadlineState.NONE else state


def published_followups(complaint_ids: list[int]) -> dict[int, list[FollowUp]]:
    """Published follow-ups (tindak lanjut) per complaint id, oldest first."""
    if not complaint_ids:
        return {}
    stmt = (select(FollowUp)
            .where(FollowUp.complaint_id.in_(complaint_ids), FollowUp.status == FollowUpStatus.PUBLISHED)
            .order_by(FollowUp.published_at, FollowUp.id))
    out: dict[int, list[FollowUp]] = {cid: [] for cid in complaint_ids}
    for fu in db.session.execute(stmt).scalars():
        out[fu.complaint_id].append(fu)
    return out


def current_rating(c: Complaint) -> Rating | None:
    """The citizen's rating of the current answer cycle, if given."""
    return db.session.execute(select(Rating).filter_by(complaint_id=c.id, cycle=c.reopen_count)).scalar_one_or_none()


@dataclass(frozen=True)
class Confirmation:
    channel: str  # email | sms
    status: str  # pending | sent | failed


def confirmations(c: Complaint) -> list[Confirmation]:
    """How the receipt confirmation of ``c`` went, per channel (never the address itself)."""
    event_id = db.session.execute(
        select(ComplaintEvent.id).filter_by(complaint_id=c.id, kind="submit").order_by(ComplaintEvent.id).limit(1)
    ).scalar_one_or_none()
    if event_id is None:
        return []
    rows = db.session.execute(
        select(Notification.channel, Notification.status).filter_by(event_key=f"event:{event_id}")
        .order_by(Notification.channel)
    ).all()
    return [Confirmation(channel, status) for channel, status in rows]


@dataclass
class PublicItem:
    """One report as the transparency page shows it."""

    complaint: Complaint
    #: A first name for public reports; None for anonymous ones.
    reporter_name: str | None
    answers: list[FollowUp] = field(default_factory=list)


def _listed():
    # Test reports (Complaint.is_test) are neither listed nor counted anywhere on the public pages.
    return (select(Complaint)
            .where(Complaint.confidential.is_(False), Complaint.status.in_(LISTED_STATUSES),
                   Complaint.is_test.is_(False)))


@dataclass(frozen=True)
class PublicFilter:
    """The transparency page's filters (GET parameters): a category code, a listed status, a month."""

    category: str | None = None
    status: str | None = None
    #: "YYYY-MM", the month of submission in the region's time zone.
    month: str | None = None

    @classmethod
    def parse(cls, args, categories: list[Category]) -> PublicFilter:
        """Unknown values are ignored (the whole list is shown), never an error."""
        category = (args.get("category") or "").strip()
        status = (args.get("status") or "").strip()
        month = (args.get("month") or "").strip()
        return cls(category=category if category in {c.code for c in categories} else None,
                   status=status if status in LISTED_STATUSES else None,
                   month=month if MONTH.fullmatch(month) and 1 <= int(month[5:]) <= 12 else None)

    @property
    def active(self) -> bool:
        return bool(self.category or self.status or self.month)

    def args(self) -> dict:
        return {k: v for k, v in (("category", self.category), ("status", self.status), ("month", self.month)) if v}

    def apply(self, stmt, tenant):
        if self.category:
            stmt = stmt.where(Complaint.category_id.in_(select(Category.id).where(Category.code == self.category)))
        if self.status:
            stmt = stmt.where(Complaint.status == self.status)
        if self.month:
            start, end = month_bounds(self.month, tenant.timezone)
            stmt = stmt.where(Complaint.submitted_at >= start, Complaint.submitted_at < end)
        return stmt


MONTH = re.compile(r"\d{4}-\d{2}")


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    """The UTC start and end of a local calendar month "YYYY-MM"."""
    zone = ZoneInfo(timezone)
    year, mon = int(month[:4]), int(month[5:])
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def recent_months(tenant, count: int = 12) -> list[str]:
    """The last ``count`` months "YYYY-MM" in the region's time zone, newest first."""
    today = utcnow().astimezone(ZoneInfo(tenant.timezone))
    out, year, mon = [], today.year, today.month
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out


def transparency_page(page: int = 1, per_page: int = PER_PAGE, flt: PublicFilter | None = None,
                      tenant=None) -> Page:
    """Recent public reports (never confidential ones), newest first, with their published answers."""
    page = max(1, page)
    listed = flt.apply(_listed(), tenant) if flt is not None and flt.active else _listed()
    total = db.session.execute(listed.with_only_columns(func.count(Complaint.id))).scalar_one()
    rows = list(db.session.execute(
        listed.order_by(Complaint.submitted_at.desc(), Complaint.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars())
    answers = published_followups([c.id for c in rows])
    items = [PublicItem(c, access.public_reporter_name(c), answers.get(c.id, [])) for c in rows]
    return Page(items=items, page=page, per_page=per_page, total=total)


def status_counts() -> dict[str, int]:
    """All reports of the region per status (numbers only, confidential ones included, test reports not)."""
    rows = db.session.execute(select(Complaint.status, func.count(Complaint.id))
                              .where(Complaint.is_test.is_(False)).group_by(Complaint.status)).all()
    return {status: n for status, n in rows}


@dataclass(frozen=True)
class OnTimeShare:
    handled: int
    on_time: int

    @property
    def percent(self) -> float | None:
        return None if not self.handled else round(100 * self.on_time / self.handled, 1)


def on_time_share(now: datetime | None = None) -> OnTimeShare:
    """Follow-ups within the deadline, as the central comparison counts them: answered on time / (answered +
    still awaiting the answer past the deadline); late is late, finished or still waiting. Test reports are
    left out."""
    late_waiting = and_(Complaint.status.in_((Status.VERIFIED, Status.DISPOSED)),
                        func.coalesce(Complaint.due_stage, "").in_(policy.ANSWER_STAGES),
                        Complaint.due_at.is_not(None), Complaint.due_at < (now or utcnow()))
    handled, on_time = db.session.execute(
        select(func.count(Complaint.id),
               func.sum(case((and_(Complaint.answered_on_time.is_(True), not_(late_waiting)), 1), else_=0)))
        .where(or_(Complaint.answered_on_time.is_not(None), late_waiting), Complaint.is_test.is_(False))
    ).one()
    return OnTimeShare(handled=handled or 0, on_time=on_time or 0)


def merged_primary(c: Complaint) -> Complaint | None:
    """The report a merged duplicate was merged into (of the bound region), or None."""
    if c.merged_into_id is None:
        return None
    return db.session.get(Complaint, c.merged_into_id)


#: At most this many pins on the public map (the newest); the list below it pages through all.
MAP_POINTS_LIMIT = 1000


def map_points(flt: PublicFilter, tenant, limit: int = MAP_POINTS_LIMIT) -> list[dict]:
    """Pins of the listed reports (never confidential, only once verified) that have a position, newest
    first. An anonymous report's pin is rounded to about 100 m: its place must not point at its reporter.
    Title, code and status only, as the list shows them."""
    stmt = (flt.apply(_listed(), tenant)
            .where(Complaint.latitude.is_not(None), Complaint.longitude.is_not(None))
            .with_only_columns(Complaint.code, Complaint.title, Complaint.status, Complaint.anonymous,
                               Complaint.latitude, Complaint.longitude)
            .order_by(Complaint.submitted_at.desc(), Complaint.id.desc()).limit(limit))
    points = []
    for code, title, status, anonymous, lat, lng in db.session.execute(stmt):
        digits = 3 if anonymous else 5
        points.append({"code": code, "title": title, "status": status, "open": status not in FINISHED,
                       "lat": round(lat, digits), "lng": round(lng, digits)})
    return points


FINISHED = (Status.ANSWERED, Status.CLOSED, Status.REFERRED)


@dataclass(frozen=True)
class AgencyFigures:
    name: str
    reports: int
    answered: int
    on_time: int


def agency_figures(flt: PublicFilter, tenant) -> list[AgencyFigures]:
    """Per agency, of the listed reports (filters applied): how many it was sent, how many were answered
    (a follow-up published), how many of those within the deadline. Numbers only."""
    listed = flt.apply(_listed(), tenant).with_only_columns(Complaint.id)
    answered = Complaint.answered_on_time.is_not(None)  # a follow-up was published (as on_time_share counts)
    stmt = (select(Agency.short_name, func.count(func.distinct(Complaint.id)),
                   func.count(func.distinct(case((answered, Complaint.id)))),
                   func.count(func.distinct(case((Complaint.answered_on_time.is_(True), Complaint.id)))))
            .select_from(Disposition)
            .join(Complaint, Complaint.id == Disposition.complaint_id)
            .join(Agency, Agency.id == Disposition.agency_id)
            .where(Disposition.complaint_id.in_(listed))
            .group_by(Agency.id, Agency.short_name)
            .order_by(func.count(func.distinct(Complaint.id)).desc(), Agency.short_name))
    return [AgencyFigures(name, n, a, o) for name, n, a, o in db.session.execute(stmt)]


# ---------------------------------------------------------------- the page's figures, shared for a minute

FIGURES_CACHE_PREFIX = "lapor:transparency:v1:"


@dataclass(frozen=True)
class PublicFigures:
    """The aggregate numbers of the transparency page (numbers and agency names only, nothing personal)."""

    counts: dict[str, int]
    share: OnTimeShare
    agencies: list[AgencyFigures]


def public_figures(flt: PublicFilter, tenant) -> PublicFigures:
    """Status counts, the on-time share and the agencies' figures of the bound region (``tenant``), shared by
    all web workers through Redis for ``TRANSPARENCY_CACHE_SECONDS``: each is an aggregate over the region's
    whole history (~2.3 s at 200,000 reports), and a public page must not cost that on every request. Keyed by
    the region and the filter; without Redis (or with 0 seconds) computed each time."""
    def dumps(f: PublicFigures) -> str:
        return json.dumps({"counts": f.counts, "share": [f.share.handled, f.share.on_time],
                           "agencies": [[a.name, a.reports, a.answered, a.on_time] for a in f.agencies]})

    def loads(raw: bytes) -> PublicFigures:
        data = json.loads(raw)
        return PublicFigures(counts=data["counts"], share=OnTimeShare(*data["share"]),
                             agencies=[AgencyFigures(*row) for row in data["agencies"]])

    return shared(f"{FIGURES_CACHE_PREFIX}{tenant.id}:{json.dumps(flt.args(), sort_keys=True)}",
                  int(current_app.config.get("TRANSPARENCY_CACHE_SECONDS", 60) or 0),
                  lambda: PublicFigures(counts=status_counts(), share=on_time_share(),
                                        agencies=agency_figures(flt, tenant)),
                  dumps=dumps, loads=loads)
