"""The staff inbox: filtered, sorted lists of the complaints a staff user may see, and their counts.

Visibility always starts from :func:`app.complaints.access.staff_complaints_query`; this module only
narrows it. Dates in filters are local dates of the tenant, converted to UTC bounds here.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select, text
from sqlalchemy.orm import selectinload

from app.accounts.models import Role
from app.agencies.models import Agency, Category
from app.complaints import duplicates
from app.complaints.access import is_unit, staff_complaints_query
from app.complaints.models import CLASSES, Complaint, Disposition, FollowUp, FollowUpStatus, Status
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import DeadlineState, deadline_state, due_soon_working_days
from app.extensions import db
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

PER_PAGE = 25

#: Statuses whose deadline is the staff's to meet (an answered report waits for the citizen).
CLOCK_STATUSES = (Status.SUBMITTED, Status.VERIFIED, Status.DISPOSED)

SORTS = {
    "newest": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "due": _l("Due date"),
}
#: Lists the complaint unit works through besides the statuses (the inbox's "Show" filter).
LIST_FILTERS = {
    "sent_back": _l("Sent back by an agency"),
    "duplicates": _l("Possible duplicates"),
    "referrals": _l("Referred by another region: to accept or decline"),
}
DEADLINE_FILTERS = {
    DeadlineState.OVERDUE: _l("Overdue"),
    DeadlineState.DUE_SOON: _l("Due soon"),
}
STAGE_LABELS = {
    "verification": _l("Verification"),
    "coordination": _l("Coordination (disposition)"),
    "followup": _l("Follow-up by the agency"),
    "auto_close": _l("Waiting for the reporter's reply"),
}
CLASS_LABELS = {
    "aspirasi": _l("Aspiration (aspirasi)"),
    "informasi": _l("Information request"),
    "pengaduan": _l("Complaint (pengaduan)"),
    "pengawasan": _l("Complaint needing oversight (berkadar pengawasan)"),
}


def class_label(value: str | None) -> str:
    return str(CLASS_LABELS.get(value, value or ""))


def stage_label(value: str | None) -> str:
    return str(STAGE_LABELS.get(value, value or ""))


@dataclass
class InboxFilters:
    """Parsed inbox filters; every field is optional."""

    status: str | None = None
    complaint_class: str | None = None
    category_id: int | None = None
    agency_id: int | None = None
    deadline: str | None = None  # overdue | due_soon
    date_from: date | None = None  # local date of submission, inclusive
    date_to: date | None = None  # local date of submission, inclusive
    q: str | None = None
    sort: str = "newest"
    page: int = 1
    #: sent_back | duplicates | referrals (:data:`LIST_FILTERS`)
    only: str | None = None

    def __post_init__(self) -> None:
        if self.status not in Status.ALL:
            self.status = None
        if self.complaint_class not in CLASSES:
            self.complaint_class = None
        if self.deadline not in DEADLINE_FILTERS:
            self.deadline = None
        if self.only not in LIST_FILTERS:
            self.only = None
        if self.sort not in SORTS:
            self.sort = "newest"
        self.q = (self.q or "").strip()[:100] or None
        self.page = max(1, int(self.page or 1))


def local_day_bounds(d: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of the local day ``d`` in ``tz_name``, as aware UTC datetimes."""
    tz = ZoneInfo(tz_name)
    start = datetime.combine(d, time.min, tzinfo=tz)
    end = datetime.combine(d + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def due_soon_threshold(tenant, now: datetime) -> datetime:
    """The latest due instant that still counts as "due soon" (same rule as deadlines.policy)."""
    cal = calendar_for_tenant(tenant)
    n = due_soon_working_days(tenant.settings or {})
    first_not_soon = cal.add_working_days(cal.local_date(now), n + 1)
    return cal.end_of_day(first_not_soon - timedelta(days=1))


def _deadline_clause(kind: str, tenant, now: datetime):
    on_clock = Complaint.status.in_(CLOCK_STATUSES) & Complaint.due_at.is_not(None)
    if kind == DeadlineState.OVERDUE:
        return on_clock & (Complaint.due_at < now)
    return on_clock & (Complaint.due_at >= now) & (Complaint.due_at <= due_soon_threshold(tenant, now))


def disposed_to(agency_id: int):
    """Where-clause: the complaint has an active disposition to this agency."""
    return exists().where(
        Disposition.complaint_id == Complaint.id, Disposition.tenant_id == Complaint.tenant_id,
        Disposition.agency_id == agency_id, Disposition.active.is_(True))


def submitted_within(stmt: Select, first: date | None, last: date | None, timezone: str) -> Select:
    """``stmt`` narrowed to complaints submitted from the local day ``first`` through ``last`` (each optional)."""
    if first:
        stmt = stmt.where(Complaint.submitted_at >= local_day_bounds(first, timezone)[0])
    if last:
        stmt = stmt.where(Complaint.submitted_at < local_day_bounds(last, timezone)[1])
    return stmt


def visible_query(user, filters: InboxFilters, now: datetime | None = None, *, with_status: bool = True) -> Select:
    """Complaints ``user`` may see, narrowed by ``filters`` (without ordering).

    ``with_status=False`` leaves out the status filter (for the per-status counts).
    """
    tenant = current_tenant()
    now = now or utcnow()
    stmt = staff_complaints_query(user)
    if with_status and filters.status:
        stmt = stmt.where(Complaint.status == filters.status)
    if filters.complaint_class:
        stmt = stmt.where(Complaint.complaint_class == filters.complaint_class)
    if filters.category_id:
        stmt = stmt.where(Complaint.category_id == filters.category_id)
    if filters.agency_id:
        stmt = stmt.where(disposed_to(filters.agency_id))
    if filters.deadline:
        stmt = stmt.where(_deadline_clause(filters.deadline, tenant, now))
    stmt = submitted_within(stmt, filters.date_from, filters.date_to, tenant.timezone)
    if filters.only == "sent_back":  # waiting for the unit after an agency sent it back (cleared by dispose)
        stmt = stmt.where(Complaint.sent_back_at.is_not(None), Complaint.status.in_(Status.OPEN))
    elif filters.only == "referrals":  # linked reports from another region awaiting this unit's decision
        stmt = stmt.where(Complaint.awaiting_referral_decision.is_(True))
    elif filters.only == "duplicates":
        stmt = stmt.where(duplicates.has_candidate(user))
    if filters.q:
        # ILIKE (not lower(x) LIKE lower(y), which icontains renders): PostgreSQL's trigram indexes on these
        # columns serve ILIKE '%…%'. SQLite renders ilike as lower() LIKE lower().
        pattern = "%" + filters.q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        stmt = stmt.where(or_(
            Complaint.code.ilike(pattern, escape="/"),
            Complaint.title.ilike(pattern, escape="/"),
            Complaint.description.ilike(pattern, escape="/"),
        ))
    return stmt


def inbox_query(user, filters: InboxFilters, now: datetime | None = None) -> Select:
    """The inbox list for ``user``: visible complaints, filtered and sorted (not paginated)."""
    stmt = visible_query(user, filters, now)
    if filters.sort == "oldest":
        stmt = stmt.order_by(Complaint.submitted_at.asc(), Complaint.id.asc())
    elif filters.sort == "due":
        stmt = stmt.order_by(Complaint.due_at.is_(None), Complaint.due_at.asc(), Complaint.id.asc())
    else:
        stmt = stmt.order_by(Complaint.submitted_at.desc(), Complaint.id.desc())
    return stmt.options(selectinload(Complaint.dispositions).selectinload(Disposition.agency),
                        selectinload(Complaint.category))


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def count_of(stmt: Select) -> int:
    """Rows of a Complaint select, counted inside the same tenant-scoped query."""
    # count(*), not count(id): the (tenant_id, status, due_at) index then answers without the table rows
    return db.session.execute(
        stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    ).scalar_one()


def paginate(user, filters: InboxFilters, now: datetime | None = None, per_page: int = PER_PAGE,
             counts: dict[str, int] | None = None) -> Page:
    """One page of the inbox. With ``counts`` (from :func:`status_counts` for the same filters) the total
    comes from them instead of a second scan of the matching rows (a free-text search scans many)."""
    if counts is not None:
        total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    else:
        total = count_of(visible_query(user, filters, now))
    page = min(filters.page, max(1, -(-total // per_page)))
    stmt = inbox_query(user, filters, now).limit(per_page).offset((page - 1) * per_page)
    items = list(db.session.execute(stmt).scalars().unique())
    return Page(items=items, total=total, page=page, per_page=per_page)


@contextmanager
def _prefer_search_index():
    """PostgreSQL: let the free-text search use the (tenant_id, trigram) GIN index.

    The planner prices ILIKE on long texts far too low and walks the tenant's btree index instead,
    testing every one of the region's rows (200,000 in the largest: ~210 ms against ~40 ms through the
    GIN index, measured by the benchmark). Switched off for these statements only.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(text("SET LOCAL enable_indexscan = off"))
    try:
        yield
    finally:
        db.session.execute(text("SET LOCAL enable_indexscan = on"))


#: Up to this many matches the page of a search is also read through the search index and sorted; with more,
#: matches are dense enough that walking the region's rows in list order finds a page sooner.
SEARCH_SORT_MAX = 2000


def search_page(user, filters: InboxFilters, now: datetime | None = None,
                per_page: int = PER_PAGE) -> tuple[dict[str, int], Page]:
    """Per-status counts and one page of a free-text search (counted once, through the search index)."""
    with _prefer_search_index():
        counts = status_counts(user, filters, now)
    total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
    with _prefer_search_index() if total <= SEARCH_SORT_MAX else nullcontext():
        page = paginate(user, filters, now, per_page, counts=counts)
    return counts, page


def status_counts(user, filters: InboxFilters | None = None, now: datetime | None = None) -> dict[str, int]:
    """Visible complaints per status (other filters applied, the status filter left out)."""
    stmt = visible_query(user, filters or InboxFilters(), now, with_status=False)
    stmt = stmt.with_only_columns(Complaint.status, func.count(), maintain_column_froms=True)
    rows = db.session.execute(stmt.group_by(Complaint.status).order_by(None)).all()
    return {status: n for status, n in rows}


def deadline_counts(user, now: datetime | None = None) -> dict[str, int]:
    """Visible complaints that are overdue and due soon."""
    return {kind: count_of(visible_query(user, InboxFilters(deadline=kind), now)) for kind in DEADLINE_FILTERS}


def deadline_badge(c: Complaint, tenant, now: datetime | None = None) -> str | None:
    """'overdue', 'due_soon' or None, computed now (the stored flag may wait for the next sweep)."""
    if c.status not in CLOCK_STATUSES or c.due_at is None:
        return None
    state = deadline_state(calendar_for_tenant(tenant), tenant.settings or {}, c.due_at, now or utcnow())
    return state if state in DEADLINE_FILTERS else None


def work_queue(user, limit: int = 10) -> list[Complaint]:
    """What waits for ``user`` now, most urgent first.

    The complaint unit: reports to verify, to dispose (sent-back ones included), and follow-ups sent for review.
    A liaison: reports disposed to their agency whose follow-up is not yet sent or was returned.
    """
    stmt = staff_complaints_query(user)
    if is_unit(user):
        review = exists().where(FollowUp.complaint_id == Complaint.id, FollowUp.tenant_id == Complaint.tenant_id,
                                FollowUp.status == FollowUpStatus.SUBMITTED)
        # A report an agency sent back while others still hold it waits for the unit's look too.
        stmt = stmt.where(or_(Complaint.status.in_((Status.SUBMITTED, Status.VERIFIED)),
                              (Complaint.status == Status.DISPOSED) & (review | Complaint.sent_back_at.is_not(None))))
    elif user.role == Role.LIAISON:
        sent = exists().where(FollowUp.complaint_id == Complaint.id, FollowUp.tenant_id == Complaint.tenant_id,
                              FollowUp.agency_id == user.agency_id,
                              FollowUp.status.in_((FollowUpStatus.SUBMITTED, FollowUpStatus.PUBLISHED)))
        stmt = stmt.where(Complaint.status == Status.DISPOSED, ~sent)
    else:
        return []
    stmt = stmt.order_by(Complaint.due_at.is_(None), Complaint.due_at.asc(), Complaint.id.asc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def followups_query(c: Complaint, user) -> Select:
    """Follow-ups of ``c`` that ``user`` may see: all for the unit; a liaison sees their agency's
    (drafts included) and the published ones of other agencies."""
    stmt = select(FollowUp).where(FollowUp.complaint_id == c.id).order_by(FollowUp.id)
    if not is_unit(user):
        stmt = stmt.where(or_(FollowUp.agency_id == getattr(user, "agency_id", None),
                              FollowUp.status == FollowUpStatus.PUBLISHED))
    return stmt


def visible_followups(c: Complaint, user) -> list[FollowUp]:
    """The follow-ups of :func:`followups_query`, in order."""
    return list(db.session.execute(followups_query(c, user)).scalars())


# ---------------------------------------------------------------- reads for the staff report page


def categories_by_code() -> list[Category]:
    return list(db.session.execute(select(Category).order_by(Category.code)).scalars())


def agencies_by_short_name(active_only: bool = True) -> list[Agency]:
    stmt = select(Agency).order_by(Agency.short_name)
    if active_only:
        stmt = stmt.where(Agency.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def followups(c: Complaint, user) -> list[FollowUp]:
    """The follow-ups of ``c`` that ``user`` may see (``followups_query``), oldest first."""
    return list(db.session.execute(followups_query(c, user)).scalars())


def followup(c: Complaint, user, followup_id: int) -> FollowUp | None:
    """One follow-up of ``c`` that ``user`` may see, or None."""
    return db.session.execute(followups_query(c, user).where(FollowUp.id == followup_id)).scalar_one_or_none()
