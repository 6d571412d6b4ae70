"""The region's staff dashboard figures: reports received per week, by category, by agency, on-time rate per
stage and satisfaction, over the reports the signed-in staff user may see (a liaison: their agency's).

Every figure counts the reports *received* in the period: the last :data:`WEEKS` weeks, Monday to Sunday in the
region's local time zone, the current week included. All counting is done by the database (aggregates, no
rows fetched), so the page costs the same few queries in a region of 27 reports a year or of 200,000.

On time per stage (DOMAIN.md deadlines; the clocks of ``app.complaints.service``):

* a report counts for a stage once the stage is done, on time or late, or while it is still waiting past its
  deadline (late whether finished or still waiting); a report whose stage is still within its deadline is not
  counted yet (shown as "still within the deadline");
* verification: ``verified_on_time``, stamped when the report is verified; waiting and late: awaiting
  verification with its verification deadline passed (a hold stops that clock);
* coordination (disposition): the first disposition by the end of the coordination deadline counted from the
  verification (``deadline_for(..., "coordination", verified_at)``, the rule the service applies); waiting and
  late: verified, not yet disposed, deadline passed;
* follow-up: ``answered_on_time``, stamped when the answer is published; waiting and late: at the agency with
  the follow-up deadline passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import Select, and_, case, distinct, func, literal, select

from app.agencies.models import Agency, Category
from app.complaints.access import staff_complaints_query
from app.complaints.charts import Datum, bar_chart, column_chart
from app.complaints.inbox import local_day_bounds, stage_label, submitted_within
from app.complaints.models import Complaint, Disposition, Rating, Status
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import COORDINATION, FOLLOWUP, VERIFICATION, deadline_for
from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import current_tenant

WEEKS = 12
#: The stages whose on-time rate the dashboard shows, in the order a report meets them.
STAGES = (VERIFICATION, COORDINATION, FOLLOWUP)
SCORES = (5, 4, 3, 2, 1)


@dataclass
class WeekCount:
    start: date  # the Monday (local)
    count: int

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)


@dataclass
class Slice:
    """One bar of a breakdown: an id (None for "none"), its label and its count."""

    key: int | None
    label: str
    count: int


@dataclass
class StageRate:
    stage: str
    on_time: int = 0
    late_done: int = 0
    late_waiting: int = 0
    #: Still within the deadline: not counted in the rate yet.
    pending: int = 0

    @property
    def late(self) -> int:
        return self.late_done + self.late_waiting

    @property
    def counted(self) -> int:
        return self.on_time + self.late

    @property
    def share(self) -> float | None:
        """On time / (on time + late), 0..1; None when nothing counts yet."""
        return self.on_time / self.counted if self.counted else None


@dataclass
class Satisfaction:
    counts: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        return sum(s * n for s, n in self.counts.items()) / self.total if self.total else None


@dataclass
class Dashboard:
    first_day: date
    last_day: date
    total: int
    weeks: list[WeekCount]
    categories: list[Slice]
    agencies: list[Slice]
    not_disposed: int
    stages: list[StageRate]
    satisfaction: Satisfaction


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, the week of ``today`` last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def period_query(user, first_day: date, last_day: date, tz_name: str) -> Select:
    """The reports ``user`` may see that were received from the local day ``first_day`` through ``last_day``;
    test reports (``is_test``) are left out, as from every statistic."""
    return submitted_within(staff_complaints_query(user), first_day, last_day, tz_name).where(
        Complaint.is_test.is_(False))


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _scalar_row(stmt: Select, *columns):
    return db.session.execute(stmt.with_only_columns(*columns, maintain_column_froms=True).order_by(None)).one()


def weekly_counts(base: Select, mondays: list[date], tz_name: str) -> list[WeekCount]:
    """Reports of ``base`` per local week (one query: a conditional count per week)."""
    bounds = [local_day_bounds(m, tz_name)[0] for m in mondays] + [local_day_bounds(mondays[-1] + timedelta(days=6),
                                                                                    tz_name)[1]]
    columns = [_count_if(and_(Complaint.submitted_at >= bounds[i], Complaint.submitted_at < bounds[i + 1]))
               for i in range(len(mondays))]
    row = _scalar_row(base, *columns)
    return [WeekCount(start=m, count=int(n)) for m, n in zip(mondays, row, strict=True)]


def by_category(base: Select, locale: str) -> list[Slice]:
    """Reports per category, most first; reports without a category last."""
    rows = db.session.execute(base.with_only_columns(Complaint.category_id, func.count(), maintain_column_froms=True)
                              .group_by(Complaint.category_id).order_by(None)).all()
    ids = [cid for cid, _n in rows if cid is not None]
    names = {c.id: c.label(locale) for c in db.session.execute(
        select(Category).where(Category.id.in_(ids))).scalars()} if ids else {}
    slices = sorted((Slice(cid, names.get(cid, "?"), n) for cid, n in rows if cid is not None),
                    key=lambda s: (-s.count, s.label))
    return slices + [Slice(None, "", n) for cid, n in rows if cid is None]


def by_agency(base: Select, total: int) -> tuple[list[Slice], int]:
    """Reports per agency they are (actively) disposed to, most first (a report sent to two agencies counts for
    both), and how many of the ``total`` reports of ``base`` are not disposed to any agency."""
    ids = base.with_only_columns(Complaint.id, maintain_column_froms=True).order_by(None)
    rows = db.session.execute(
        select(Disposition.agency_id, Agency.short_name, func.count(distinct(Disposition.complaint_id)))
        .join(Agency, and_(Agency.id == Disposition.agency_id, Agency.tenant_id == Disposition.tenant_id))
        .where(Disposition.active.is_(True), Disposition.complaint_id.in_(ids))
        .group_by(Disposition.agency_id, Agency.short_name)).all()
    disposed = db.session.execute(
        select(func.count(distinct(Disposition.complaint_id)))
        .where(Disposition.active.is_(True), Disposition.complaint_id.in_(ids))).scalar_one()
    slices = sorted((Slice(aid, name, n) for aid, name, n in rows), key=lambda s: (-s.count, s.label))
    return slices, total - disposed


def coordination_deadline(tenant, first_day: date, last_day: date):
    """SQL expression: the coordination deadline of a report verified on each local day from ``first_day`` to
    ``last_day`` (a CASE over the days, computed once per day with the working-day calendar), NULL before."""
    cal = calendar_for_tenant(tenant)
    settings = tenant.settings or {}
    whens = []
    day = first_day
    while day <= last_day:
        start, end = local_day_bounds(day, tenant.timezone)
        due = deadline_for(cal, settings, COORDINATION, start)
        whens.append((and_(Complaint.verified_at >= start, Complaint.verified_at < end), literal(due, UTCDateTime())))
        day += timedelta(days=1)
    return case(*whens, else_=None)


def stage_rates(base: Select, tenant, first_day: date, now: datetime) -> list[StageRate]:
    """On-time counts per stage (module docstring), in one query."""
    today = calendar_for_tenant(tenant).local_date(now)
    coordination_due = coordination_deadline(tenant, first_day, today)
    overdue = Complaint.due_at.is_not(None) & (Complaint.due_at < now)
    within = Complaint.due_at.is_not(None) & (Complaint.due_at >= now)
    disposed = Complaint.verified_at.is_not(None) & Complaint.disposed_at.is_not(None)
    waiting = {
        VERIFICATION: (Complaint.status == Status.SUBMITTED) & (Complaint.due_stage == VERIFICATION),
        COORDINATION: (Complaint.status == Status.VERIFIED) & (Complaint.due_stage == COORDINATION),
        FOLLOWUP: (Complaint.status == Status.DISPOSED) & (Complaint.due_stage == FOLLOWUP),
    }
    columns = [
        _count_if(Complaint.verified_on_time.is_(True)), _count_if(Complaint.verified_on_time.is_(False)),
        _count_if(disposed & (Complaint.disposed_at <= coordination_due)),
        _count_if(disposed & ~(Complaint.disposed_at <= coordination_due)),
        _count_if(Complaint.answered_on_time.is_(True)), _count_if(Complaint.answered_on_time.is_(False)),
    ]
    for stage in STAGES:
        columns += [_count_if(waiting[stage] & overdue), _count_if(waiting[stage] & within)]
    row = [int(v) for v in _scalar_row(base, *columns)]
    done = {VERIFICATION: row[0:2], COORDINATION: row[2:4], FOLLOWUP: row[4:6]}
    rates = []
    for i, stage in enumerate(STAGES):
        late_waiting, pending = row[6 + 2 * i], row[7 + 2 * i]
        rates.append(StageRate(stage, on_time=done[stage][0], late_done=done[stage][1], late_waiting=late_waiting,
                               pending=pending))
    return rates


def satisfaction(base: Select) -> Satisfaction:
    """The citizens' ratings (1–5) of the reports of ``base``, every answer cycle's rating counted."""
    ids = base.with_only_columns(Complaint.id, maintain_column_froms=True).order_by(None)
    rows = db.session.execute(select(Rating.score, func.count()).where(Rating.complaint_id.in_(ids))
                              .group_by(Rating.score)).all()
    return Satisfaction({int(score): n for score, n in rows})


def region_dashboard(user, locale: str = "id", now: datetime | None = None, weeks: int = WEEKS) -> Dashboard:
    """Every figure of the dashboard for ``user`` (see the module docstring)."""
    tenant = current_tenant()
    now = now or utcnow()
    today = calendar_for_tenant(tenant).local_date(now)
    mondays = week_starts(today, weeks)
    base = period_query(user, mondays[0], today, tenant.timezone)
    week_rows = weekly_counts(base, mondays, tenant.timezone)
    total = sum(w.count for w in week_rows)
    agencies, not_disposed = by_agency(base, total)
    return Dashboard(
        first_day=mondays[0], last_day=today, total=total, weeks=week_rows,
        categories=by_category(base, locale), agencies=agencies, not_disposed=not_disposed,
        stages=stage_rates(base, tenant, mondays[0], now), satisfaction=satisfaction(base),
    )


# ---------------------------------------------------------------- the charts of the page


@dataclass
class Chart:
    """A chart with its heading, its SVG (text alternative inside) and its data table."""

    key: str
    title: str
    svg: Markup | None  # None when there is nothing to draw (the page says so in words)
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


def _pct(share: float | None, locale: str) -> str:
    return "—" if share is None else format_percent(share, format="#,##0%", locale=locale)


def charts(d: Dashboard, locale: str = "id") -> list[Chart]:
    """The five charts of the dashboard, titled, described and tabulated in ``locale``."""
    num = lambda n: format_decimal(n, locale=locale)  # noqa: E731
    out = []

    def week_label(w: WeekCount, short: bool) -> str:
        if short:
            return f"{w.start.day}/{w.start.month}"
        return f"{format_date(w.start, 'd MMM', locale=locale)} – {format_date(w.end, 'd MMM y', locale=locale)}"

    weeks = [Datum(week_label(w, True), w.count, num(w.count)) for w in d.weeks]
    busiest = max(d.weeks, key=lambda w: w.count) if d.weeks else None
    title = _("Reports received per week")
    desc = _("Reports received in each of the last %(n)s weeks: %(total)s in all, most in the week of %(week)s "
             "(%(most)s).", n=len(d.weeks), total=num(d.total), week=week_label(busiest, False) if busiest else "",
             most=num(busiest.count) if busiest else 0)
    out.append(Chart("weekly", title, column_chart("chart-weekly", title, desc, weeks) if d.total else None,
                     (_("Week"), _("Reports")), [(week_label(w, False), num(w.count)) for w in d.weeks]))

    title = _("Reports by category")
    cats = [Datum(s.label or _("No category"), s.count, num(s.count)) for s in d.categories]
    desc = _("Reports per category: ") + "; ".join(f"{c.label} {c.text}" for c in cats) + "."
    out.append(Chart("category", title, bar_chart("chart-category", title, desc, cats) if cats else None,
                     (_("Category"), _("Reports")), [(c.label, c.text) for c in cats]))

    title = _("Reports by agency")
    ags = [Datum(s.label, s.count, num(s.count)) for s in d.agencies]
    desc = _("Reports per agency they were sent to: ") + "; ".join(f"{a.label} {a.text}" for a in ags) + "."
    rows = [(a.label, a.text) for a in ags] + [(_("Not sent to an agency"), num(d.not_disposed))]
    out.append(Chart("agency", title, bar_chart("chart-agency", title, desc, ags) if ags else None,
                     (_("Agency"), _("Reports")), rows,
                     note=_("A report sent to two agencies counts for each of them.")))

    title = _("On time per stage")
    stages = [Datum(stage_label(r.stage), 0 if r.share is None else round(r.share * 100, 1), _pct(r.share, locale))
              for r in d.stages]
    desc = _("Share of reports handled within the deadline, per stage: ") + "; ".join(
        f"{s.label} {s.text}" for s in stages) + "."
    rows = [(stage_label(r.stage), _pct(r.share, locale), num(r.on_time), num(r.late_done), num(r.late_waiting),
             num(r.pending)) for r in d.stages]
    out.append(Chart("ontime", title, bar_chart("chart-ontime", title, desc, stages, max_value=100)
                     if any(r.counted for r in d.stages) else None,
                     (_("Stage"), _("On time"), _("Done on time"), _("Done late"), _("Waiting, deadline passed"),
                      _("Waiting, within the deadline")), rows,
                     note=_("Late counts whether the stage is finished or still waiting past its deadline; reports "
                            "still within the deadline are not counted yet.")))

    title = _("Satisfaction")
    sat = d.satisfaction
    scores = [Datum(ngettext("%(num)s star", "%(num)s stars", s), sat.counts.get(s, 0), num(sat.counts.get(s, 0)))
              for s in SCORES]
    average = format_decimal(round(sat.average, 1), locale=locale) if sat.average is not None else "—"
    desc = _("Ratings given by reporters: %(n)s, average %(avg)s of 5. ", n=num(sat.total), avg=average) + "; ".join(
        f"{s.label} {s.text}" for s in scores) + "."
    out.append(Chart("satisfaction", title, bar_chart("chart-satisfaction", title, desc, scores)
                     if sat.total else None, (_("Rating"), _("Ratings")), [(s.label, s.text) for s in scores],
                     note=_("Average %(avg)s of 5 from %(n)s ratings.", avg=average, n=num(sat.total))
                     if sat.total else ""))
    return out
