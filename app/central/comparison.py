"""Cross-region comparison for the central console, and the anonymised peer benchmark for tenant staff.

The only module allowed to read across tenants (``ALL_TENANTS_ALLOWED``), and on PostgreSQL it does so
through the one privileged path, :func:`app.tenancy.rls.cross_tenant_reads` (the read-only
``lapor_reporting`` role, which row-level security lets see every tenant): everything it returns is an
aggregate per tenant (counts, shares, medians), never a complaint, a reporter or a user.

How the indicators are defined (see also DOMAIN.md, "How regions are compared today"):

* **Periods are local dates of each tenant.** A complaint belongs to the period when the calendar date of
  ``submitted_at`` *in the tenant's own time zone* lies between ``period_start`` and ``period_end``
  (inclusive). SQL computes that local date itself (PostgreSQL: ``AT TIME ZONE tenant.timezone``; SQLite: the
  zone's UTC offset, exact for Indonesia's WIB/WITA/WIT, which have no daylight saving).
* **Test reports are left out of everything** (``Complaint.is_test``: the go-live test report, or one the
  complaint unit marked): counts, shares, medians, backlog, ratings, trends, breakdowns and peer medians.
* **Cohort.** Received, per 100,000 inhabitants, verified within deadline, time to first response, follow-ups
  within deadline, reopen rate and rating describe the complaints *received in the period*, as they stand
  now (``as_of``, default the time of computation: a complaint received in December and answered in January
  counts for December).
* **Late is late, finished or still waiting.** A report still waiting past its deadline counts as late at
  once; a report still waiting within its deadline is not counted yet (neither on time nor late).
* **Verified within 3 working days** = verified on time / (verified + still awaiting verification past the
  deadline). Verified on time: ``verified_on_time`` true (the service compares the verification with the
  working-day deadline, which already allows for hold time). Still awaiting verification past the deadline:
  status submitted and the verification deadline (``due_at``) before ``as_of``. A report on hold waits for
  the citizen with its clock paused and is not counted; one archived, referred or merged before verification
  left the verification stage by another decision and is not counted either.
* **Median working days to first response**: working days (the tenant's :class:`WorkingCalendar`, day of
  receipt = day 0) between the local dates of ``submitted_at`` and ``first_response_at``, over complaints
  that have a first response (verification, hold, referral or answer) and those still awaiting verification
  without any, which count with the working days waited so far (to the local date of ``as_of``): a region
  that never responds is slow, not without a value. SQL groups by (tenant, local submit date, local
  response date) with a count, so Python sees one row per distinct date pair, never one per complaint, and
  takes a weighted median.
* **Follow-ups within deadline** = answered on time / (answered + still awaiting the answer past the
  deadline). Answered: a follow-up was published (``answered_on_time`` not null; its value is the latest
  answer's). Still awaiting the answer past the deadline: verified or disposed (again, after a reply or a
  reopening) and the deadline of the stage it waits in (coordination: disposition within 5 working days;
  follow-up: by class) before ``as_of``; such a report counts as late even if an earlier answer was on time.
* **Backlog as of period_end**: complaints received on or before ``period_end`` that were open at the end of
  that day: status still open, or closed (``closed_at``) after it. A complaint closed before period_end and
  reopened later counts as open (its earlier close time is not kept). The oldest one's age is in calendar
  days from its local submit date to ``period_end``.
* **Reopen rate**: complaints reopened at least once / complaints ever closed (closed now, or reopened,
  which needs a close first).
* **Average rating**: mean score of all ratings (every answer cycle) of the cohort.
* **Performance score (0–100)**, the default ranking: a weighted mean of points per indicator, each
  ``100 × (value − worst) / (best − worst)`` clamped to 0..100, with weights, best and worst from
  ``COMPARE_SCORE`` (defaults: app.config.COMPARE_SCORE_DEFAULT). An indicator without a value leaves the
  mean (the other weights count in proportion), except the oldest open complaint: none open earns 100. No
  score with fewer than ``COMPARE_SCORE_MIN_REPORTS`` (10) real reports received in the period: a handful of
  reports says little, and a region live for a week would top the ranking. Volume is no part of it (big
  regions are not better).
* **Peer medians** (the staff dashboard's benchmark) come only from regions live at least
  ``PEER_MIN_LIVE_DAYS`` days (since ``go_live_at``, else since the region was created) with at least
  ``PEER_MIN_REPORTS`` real reports received in the period, and only when at least
  ``PEER_BENCHMARK_MIN_TENANTS`` such regions have a value.
"""

from __future__ import annotations

import pickle  # noqa: S403 (our own Redis, trusted like RQ's pickled jobs)
import time
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from app.accounts.models import Role, User
from app.complaints.models import CLASSES, Complaint, ComplaintEvent, Rating, Status
from app.config import COMPARE_SCORE_DEFAULT, COMPARE_THRESHOLDS_DEFAULT
from app.deadlines import policy
from app.deadlines.calendar import WorkingCalendar, calendar_for_tenant, national_holidays
from app.extensions import db
from app.onboarding.models import TenantAuditEvent
from app.shared_cache import shared
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.rls import cross_tenant_reads
from app.tenancy.scope import all_tenants_options

GREEN, YELLOW, RED = "green", "yellow", "red"


@dataclass(frozen=True)
class Indicator:
    key: str
    label: object  # lazy string
    #: "count", "rate" (per 100k), "share" (0..1), "days", "score" (a rating 1–5) or "index" (0–100)
    kind: str
    higher_is_better: bool | None  # None: neither (volume)
    banded: bool = False


#: Every indicator in display order; the ranking may be sorted by any of them.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("score", _l("Performance score (0–100)"), "index", True, banded=True),
    Indicator("received", _l("Complaints received"), "count", None),
    Indicator("per_100k", _l("Per 100,000 inhabitants"), "rate", None),
    Indicator("verified_share", _l("Verified within 3 working days"), "share", True, banded=True),
    Indicator("median_first_response_days", _l("Median working days to first response"), "days", False,
              banded=True),
    Indicator("followup_share", _l("Follow-ups within deadline"), "share", True, banded=True),
    Indicator("backlog", _l("Open at period end (backlog)"), "count", False),
    Indicator("oldest_open_days", _l("Oldest open complaint (days)"), "days", False),
    Indicator("reopen_rate", _l("Reopen rate"), "share", False, banded=True),
    Indicator("avg_rating", _l("Average rating (1–5)"), "score", True, banded=True),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)

#: Each indicator's formula in words, for the "how we compute" page (the module docstring is the reference).
FORMULAS: Mapping[str, object] = {
    "score": _l("The weighted mean of the points of the indicators below (weights in the table). Each earns "
                "100 × (value − worst) ÷ (best − worst) points, limited to 0–100. An indicator without a value "
                "is left out and the other weights count in proportion; with no open report at the end of the "
                "period the oldest open report earns 100 points. No score below the minimum number of "
                "reports received in the period (below): a handful of reports says little. Volume is no part "
                "of the score."),
    "received": _l("Reports received in the period (by the local date of receipt in the region's time zone)."),
    "per_100k": _l("Reports received × 100,000 ÷ the region's population."),
    "verified_share": _l("Verified within the deadline ÷ (verified + still awaiting verification with the "
                         "deadline passed). A report still within its deadline is not counted yet; one on hold "
                         "(the clock is paused for the reporter) is not counted; one archived, referred or "
                         "merged before verification is not counted."),
    "median_first_response_days": _l("The median, over reports with a first response (verification, hold, "
                                     "referral or answer), of the working days from the day of receipt "
                                     "(day 0) to the day of that response, in the region's calendar. A "
                                     "report still awaiting verification without any response counts with "
                                     "the working days it has waited so far."),
    "followup_share": _l("Follow-ups published within the deadline ÷ (reports answered + reports still awaiting "
                         "disposition or the follow-up with the deadline of their stage passed). A report "
                         "waiting again after a reply or a reopening counts as late once its new deadline has "
                         "passed, even if its earlier answer was on time."),
    "backlog": _l("Reports received up to the end of the period that were still open at the end of its last "
                  "day."),
    "oldest_open_days": _l("Calendar days from the receipt of the oldest of those open reports to the end of "
                           "the period."),
    "reopen_rate": _l("Reports reopened at least once ÷ reports ever closed."),
    "avg_rating": _l("The mean of all ratings reporters gave (1–5), for every answer."),
}
BY_KEY: Mapping[str, Indicator] = {i.key: i for i in INDICATORS}


@dataclass(frozen=True)
class RegionIndicators:
    """One tenant's aggregates for a period. No personal data, only numbers and the tenant's public name."""

    tenant_id: int
    slug: str
    name: str
    province: str
    population: int | None
    period_start: date
    period_end: date
    received: int = 0
    verified_on_time: int = 0
    #: Verified, plus still awaiting verification past the deadline (``verified_waiting_late`` of them).
    verified_total: int = 0
    verified_waiting_late: int = 0
    median_first_response_days: float | None = None
    first_responses: int = 0
    answered_on_time: int = 0
    #: Answered, plus still awaiting the answer past the deadline (``answered_waiting_late`` of them).
    answered_total: int = 0
    answered_waiting_late: int = 0
    backlog: int = 0
    oldest_open_days: int | None = None
    reopened: int = 0
    closed_ever: int = 0
    avg_rating: float | None = None
    ratings: int = 0
    #: The composite performance score and its points per indicator (:func:`composite_score`).
    score: float | None = None
    score_points: Mapping[str, float | None] = field(default_factory=dict)
    #: Since when the region is live (``go_live_at``, else its creation): peer eligibility.
    live_since: datetime | None = None
    bands: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def per_100k(self) -> float | None:
        if not self.population:
            return None
        return self.received * 100_000 / self.population

    @property
    def verified_share(self) -> float | None:
        return _share(self.verified_on_time, self.verified_total)

    @property
    def followup_share(self) -> float | None:
        return _share(self.answered_on_time, self.answered_total)

    @property
    def reopen_rate(self) -> float | None:
        return _share(self.reopened, self.closed_ever)

    def value(self, key: str) -> float | int | None:
        """The value of indicator ``key`` (see :data:`INDICATORS`)."""
        if key not in BY_KEY:
            raise KeyError(key)
        return getattr(self, key)


def _share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


# ---------------------------------------------------------------- thresholds and bands


def thresholds_from_config(overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, dict]:
    """Defaults < app config ``COMPARE_THRESHOLDS`` < ``overrides``, per indicator."""
    merged = {k: dict(v) for k, v in COMPARE_THRESHOLDS_DEFAULT.items()}
    configured = current_app.config.get("COMPARE_THRESHOLDS") if has_app_context() else None
    for source in (configured or {}, overrides or {}):
        for key, values in source.items():
            if key not in BY_KEY:
                raise ValueError(f"unknown indicator in COMPARE_THRESHOLDS: {key!r}")
            merged.setdefault(key, {}).update(values)
    return merged


def band(key: str, value: float | None, thresholds: Mapping[str, Mapping[str, float]]) -> str | None:
    """green / yellow / red for a banded indicator; None without a value or without thresholds."""
    limits = thresholds.get(key)
    if value is None or not limits:
        return None
    higher = BY_KEY[key].higher_is_better
    if higher:
        return GREEN if value >= limits["green"] else YELLOW if value >= limits["yellow"] else RED
    return GREEN if value <= limits["green"] else YELLOW if value <= limits["yellow"] else RED


# ---------------------------------------------------------------- the composite performance score


def score_config(overrides: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """Weights and scales of the performance score: defaults < app config ``COMPARE_SCORE`` < ``overrides``.

    :raises ValueError: an unknown indicator, a negative weight, best equal to worst, or no weight at all.
    """
    merged = {k: dict(v) for k, v in COMPARE_SCORE_DEFAULT.items()}
    configured = current_app.config.get("COMPARE_SCORE") if has_app_context() else None
    for source in (configured or {}, overrides or {}):
        for key, values in source.items():
            if key not in BY_KEY or key == "score":
                raise ValueError(f"unknown indicator in COMPARE_SCORE: {key!r}")
            merged.setdefault(key, {"weight": 0, "best": 1.0, "worst": 0.0}).update(values)
    for key, spec in merged.items():
        if spec["weight"] < 0 or spec["best"] == spec["worst"]:
            raise ValueError(f"COMPARE_SCORE[{key!r}]: the weight must be >= 0 and best differ from worst")
    if not sum(spec["weight"] for spec in merged.values()):
        raise ValueError("COMPARE_SCORE: at least one indicator needs a weight")
    return merged


def score_points(value: float | None, best: float, worst: float) -> float | None:
    """0..100 points: 100 at ``best`` or beyond, 0 at ``worst`` or beyond, linear in between."""
    if value is None:
        return None
    return max(0.0, min(1.0, (value - worst) / (best - worst))) * 100


def score_min_reports() -> int:
    """Fewest real reports received in the period for a performance score (``COMPARE_SCORE_MIN_REPORTS``)."""
    return int(current_app.config.get("COMPARE_SCORE_MIN_REPORTS", 10)) if has_app_context() else 10


def composite_score(row: RegionIndicators, config: Mapping[str, Mapping[str, float]],
                    min_reports: int = 1) -> tuple[float | None, dict[str, float | None]]:
    """The performance score of ``row`` (0–100) and each indicator's points (see the module docstring)."""
    points: dict[str, float | None] = {}
    for key, spec in config.items():
        value = row.value(key)
        if key == "oldest_open_days" and value is None and row.backlog == 0:
            points[key] = 100.0  # nothing open at the end of the period: the best there is
        else:
            points[key] = score_points(value, spec["best"], spec["worst"])
    if not row.received or row.received < min_reports:
        return None, points
    weighted = [(config[k]["weight"], p) for k, p in points.items() if p is not None and config[k]["weight"] > 0]
    total = sum(w for w, _p in weighted)
    if not total:
        return None, points
    return sum(w * p for w, p in weighted) / total, points


# ---------------------------------------------------------------- local dates in SQL


def _across_tenants(stmt) -> list:
    """Run an aggregate over several tenants through the one privileged read path."""
    with cross_tenant_reads() as reader:
        return reader.execute(stmt, execution_options=all_tenants_options()).all()


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _utc_offset_minutes(tz_name: str, at: date) -> int:
    offset = datetime.combine(at, dtime(12), tzinfo=ZoneInfo(tz_name)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


class _LocalTime:
    """SQL expressions for the local date / month of a UTC column, in the joined tenant's time zone."""

    def __init__(self, zones: Iterable[str], at: date) -> None:
        self.dialect = _dialect()
        if self.dialect not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"cross-region reports support PostgreSQL and SQLite, not {self.dialect}")
        if self.dialect == "sqlite":
            # SQLite has no time zone database: use each zone's offset (exact for zones without DST).
            # Offsets are integers rendered by us, so a literal is safe; zone names stay bound parameters.
            whens = {tz: sa.literal_column(f"'{_utc_offset_minutes(tz, at):+d} minutes'") for tz in sorted(set(zones))}
            self._modifier = case(whens, value=Tenant.timezone, else_=sa.literal_column("'+0 minutes'"))

    def date(self, column) -> sa.ColumnElement:
        if self.dialect == "postgresql":
            return sa.cast(func.timezone(Tenant.timezone, column), sa.Date)
        return sa.type_coerce(func.date(column, self._modifier), sa.Date)

    def month(self, column) -> sa.ColumnElement:
        """'YYYY-MM' of the local date."""
        if self.dialect == "postgresql":
            # A literal, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
            return func.to_char(func.timezone(Tenant.timezone, column), sa.literal_column("'YYYY-MM'"))
        return func.strftime(sa.literal_column("'%Y-%m'"), column, self._modifier)


def _coarse_utc(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants safely around local dates start..end in any zone (UTC-12..UTC+14), so the
    (tenant_id, submitted_at) index narrows the scan before the exact local-date test."""
    return (datetime.combine(start, dtime.min, tzinfo=UTC) - timedelta(days=1),
            datetime.combine(end + timedelta(days=1), dtime.min, tzinfo=UTC) + timedelta(days=1))


def _weighted_median(pairs: list[tuple[int, int]]) -> float | None:
    """Median of values given as (value, count), as statistics.median would give on the expanded list."""
    total = sum(n for _, n in pairs)
    if not total:
        return None
    pairs = sorted(pairs)
    lo_rank, hi_rank = (total - 1) // 2, total // 2  # 0-based ranks of the middle element(s)
    lo = hi = None
    seen = 0
    for value, n in pairs:
        if lo is None and lo_rank < seen + n:
            lo = value
        if hi_rank < seen + n:
            hi = value
            break
        seen += n
    return (lo + hi) / 2


class _WorkingDayCounter:
    """``WorkingCalendar.working_days_between`` for many date pairs at O(1) each: a running count of
    national working days over the span (shared by all tenants), minus each tenant's local holidays."""

    def __init__(self, first: date, last: date) -> None:
        self.origin = first
        national = WorkingCalendar("UTC")  # no local holidays; the zone plays no part in date arithmetic
        running, total = [], 0
        for i in range((last - first).days + 1):
            total += national.is_working_day(first + timedelta(days=i))
            running.append(total)
        self.running = running

    def between(self, a: date, b: date, local_off: list[date]) -> int:
        if b <= a:
            return 0
        n = self.running[(b - self.origin).days] - self.running[(a - self.origin).days]
        return n - (bisect_right(local_off, b) - bisect_right(local_off, a))

    @staticmethod
    def local_days_off(cal: WorkingCalendar) -> list[date]:
        """The tenant's local holidays that would otherwise be working days, sorted."""
        return sorted(d for d in cal.local_holidays if d.weekday() < 5 and d not in national_holidays(d.year))


# ---------------------------------------------------------------- the comparison


#: Tenants still being set up (onboarding) take no complaints yet: they join the comparison at go-live.
_LIVE = getattr(Tenant, "live", None)


def _active_tenants() -> list[Tenant]:
    """Active tenants that have gone live ("live tenants")."""
    stmt = select(Tenant).where(Tenant.status == TenantStatus.ACTIVE).order_by(Tenant.name)
    if _LIVE is not None:
        stmt = stmt.where(_LIVE.is_(True))
    return list(db.session.execute(stmt).scalars())


#: Waiting for verification with the clock running (on hold, the clock is paused: ``due_at`` is None).
WAITING_VERIFICATION = (Status.SUBMITTED,)
#: Waiting for the answer: verified (coordination: to be disposed) or disposed (the follow-up).
WAITING_ANSWER = (Status.VERIFIED, Status.DISPOSED)


def waiting_late(as_of: datetime) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """SQL conditions: still awaiting verification / the answer with the stage's deadline before ``as_of``.
    Never NULL (a report without a running deadline is simply not late)."""
    running = and_(Complaint.due_at.is_not(None), Complaint.due_at < as_of)
    stage = func.coalesce(Complaint.due_stage, "")
    verification = and_(Complaint.status.in_(WAITING_VERIFICATION), stage == policy.VERIFICATION, running)
    answer = and_(Complaint.status.in_(WAITING_ANSWER), stage.in_(policy.ANSWER_STAGES), running)
    return verification, answer


def real_reports() -> sa.ColumnElement:
    """Test reports (``is_test``) are left out of every statistic."""
    return Complaint.is_test.is_(False)


def _compute(tenants: Sequence[Tenant], period_start: date, period_end: date,
             thresholds: Mapping[str, Mapping[str, float]] | None,
             as_of: datetime | None = None) -> list[RegionIndicators]:
    if period_end < period_start:
        raise ValueError("period_end is before period_start")
    if not tenants:
        return []
    limits = thresholds_from_config(thresholds)
    scoring, min_reports = score_config(), score_min_reports()
    as_of = as_of or utcnow()
    verification_late, answer_late = waiting_late(as_of)
    ids = [t.id for t in tenants]
    local = _LocalTime((t.timezone for t in tenants), period_end)
    lo_utc, hi_utc = _coarse_utc(period_start, period_end)
    # No instant before midnight UTC of period_end can fall on a later local date in any zone.
    after_end_lo = datetime.combine(period_end, dtime.min, tzinfo=UTC)

    sub_day = local.date(Complaint.submitted_at)
    in_period = and_(Complaint.submitted_at >= lo_utc, sub_day >= period_start, sub_day <= period_end)
    open_at_end = and_(sub_day <= period_end,
                       or_(Complaint.status.in_(Status.OPEN), local.date(Complaint.closed_at) > period_end))
    base = (select().select_from(Complaint).join(Tenant, Tenant.id == Complaint.tenant_id)
            .where(Complaint.tenant_id.in_(ids), Complaint.submitted_at < hi_utc, real_reports()))

    def count_if(*conds):
        return func.count(case((and_(*conds), 1)))

    # One GROUP BY tenant pass for the counts and the backlog.
    main = base.add_columns(
        Complaint.tenant_id,
        count_if(in_period).label("received"),
        count_if(in_period, Complaint.verified_on_time.is_(True)).label("verified_ok"),
        count_if(in_period, or_(Complaint.verified_on_time.is_not(None), verification_late)).label("verified_n"),
        count_if(in_period, verification_late).label("verified_late_waiting"),
        # An earlier answer on time does not count while the report waits again past its new deadline.
        count_if(in_period, Complaint.answered_on_time.is_(True), sa.not_(answer_late)).label("answered_ok"),
        count_if(in_period, or_(Complaint.answered_on_time.is_not(None), answer_late)).label("answered_n"),
        count_if(in_period, answer_late).label("answered_late_waiting"),
        count_if(in_period, Complaint.reopen_count > 0).label("reopened"),
        count_if(in_period, or_(Complaint.status == Status.CLOSED, Complaint.reopen_count > 0)).label("closed_ever"),
        count_if(open_at_end).label("backlog"),
        sa.type_coerce(func.min(case((open_at_end, sub_day))), sa.Date).label("oldest"),
    ).where(or_(Complaint.submitted_at >= lo_utc, Complaint.status.in_(Status.OPEN),
                Complaint.closed_at >= after_end_lo)).group_by(Complaint.tenant_id)
    counts = {row.tenant_id: row for row in _across_tenants(main)}

    # First responses: one row per (tenant, local submit date, local response date), not per complaint. A
    # report still awaiting verification without any response counts with the time waited so far (its
    # response date is None here, then the local date of as_of): a region that never answers is slow, not
    # without a value.
    resp_day = local.date(Complaint.first_response_at)
    pairs_stmt = (base.add_columns(Complaint.tenant_id, sub_day.label("a"), resp_day.label("b"),
                                   func.count().label("n"))
                  .where(in_period, or_(Complaint.first_response_at.is_not(None),
                                        Complaint.status.in_(WAITING_VERIFICATION)))
                  .group_by(Complaint.tenant_id, sub_day, resp_day).order_by(Complaint.tenant_id))
    as_of_day = {t.id: calendar_for_tenant(t).local_date(as_of) for t in tenants}
    pairs: dict[int, list[tuple[date, date, int]]] = {}
    for row in _across_tenants(pairs_stmt):
        pairs.setdefault(row.tenant_id, []).append((row.a, row.b if row.b is not None else as_of_day[row.tenant_id],
                                                    row.n))

    rating_stmt = (select(Complaint.tenant_id, func.avg(Rating.score).label("avg"), func.count(Rating.id).label("n"))
                   .select_from(Rating)
                   .join(Complaint, and_(Complaint.tenant_id == Rating.tenant_id, Complaint.id == Rating.complaint_id))
                   .join(Tenant, Tenant.id == Complaint.tenant_id)
                   .where(Complaint.tenant_id.in_(ids), Complaint.submitted_at < hi_utc, in_period, real_reports())
                   .group_by(Complaint.tenant_id))
    ratings = {row.tenant_id: row for row in _across_tenants(rating_stmt)}

    all_days = [d for rows in pairs.values() for a, b, _n in rows for d in (a, b)]
    counter = _WorkingDayCounter(min(all_days), max(all_days)) if all_days else None
    out = []
    for t in tenants:
        c, r = counts.get(t.id), ratings.get(t.id)
        cal = calendar_for_tenant(t)
        off = _WorkingDayCounter.local_days_off(cal)
        median = _weighted_median([(counter.between(a, b, off), n) for a, b, n in pairs.get(t.id, [])])
        oldest = c.oldest if c is not None else None
        values = dict(
            tenant_id=t.id, slug=t.slug, name=t.name, province=t.province, population=t.population,
            period_start=period_start, period_end=period_end,
            received=c.received if c else 0,
            verified_on_time=c.verified_ok if c else 0, verified_total=c.verified_n if c else 0,
            verified_waiting_late=c.verified_late_waiting if c else 0,
            median_first_response_days=median, first_responses=sum(n for *_, n in pairs.get(t.id, [])),
            answered_on_time=c.answered_ok if c else 0, answered_total=c.answered_n if c else 0,
            answered_waiting_late=c.answered_late_waiting if c else 0,
            backlog=c.backlog if c else 0,
            oldest_open_days=(period_end - oldest).days if oldest is not None else None,
            reopened=c.reopened if c else 0, closed_ever=c.closed_ever if c else 0,
            avg_rating=float(r.avg) if r is not None and r.avg is not None else None,
            ratings=r.n if r is not None else 0,
            live_since=t.go_live_at or t.created_at,
        )
        score, points = composite_score(RegionIndicators(**values), scoring, min_reports)
        values.update(score=score, score_points=points)
        row = RegionIndicators(**values)
        bands = {i.key: band(i.key, row.value(i.key), limits) for i in INDICATORS if i.banded}
        out.append(RegionIndicators(**values, bands=bands))
    return out


def compare_regions(period_start: date, period_end: date,
                    thresholds: Mapping[str, Mapping[str, float]] | None = None,
                    as_of: datetime | None = None) -> list[RegionIndicators]:
    """Indicators of every live, active tenant for local dates ``period_start``..``period_end`` (inclusive),
    as the reports stand at ``as_of`` (default: now).

    Four queries in all, whatever the number of tenants and complaints (see the module docstring).
    """
    return _compute(_active_tenants(), period_start, period_end, thresholds, as_of)


def region_indicators(tenant_id: int, period_start: date, period_end: date,
                      thresholds: Mapping[str, Mapping[str, float]] | None = None,
                      as_of: datetime | None = None) -> RegionIndicators | None:
    """One tenant's indicators (any status), or None for an unknown id."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    return _compute([tenant], period_start, period_end, thresholds, as_of)[0]


SORT_KEYS = ("name", *INDICATOR_KEYS)


def sort_rows(rows: Sequence[RegionIndicators], key: str, descending: bool) -> list[RegionIndicators]:
    """Rows sorted by ``key`` (an indicator or "name"); tenants without a value always come last."""
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}")
    if key == "name":
        return sorted(rows, key=lambda r: r.name.casefold(), reverse=descending)
    with_value = [r for r in rows if r.value(key) is not None]
    without = sorted((r for r in rows if r.value(key) is None), key=lambda r: r.name.casefold())
    # Sort by name first, then stably by value, so ties keep a predictable order.
    with_value = sorted(sorted(with_value, key=lambda r: r.name.casefold()),
                        key=lambda r: r.value(key), reverse=descending)
    return with_value + without


# ---------------------------------------------------------------- periods and trends


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 12 months: from the 1st of the month 11 months back to today (WIB, the platform's zone)."""
    if today is None:
        tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Jakarta") if has_app_context() else "Asia/Jakarta"
        today = utcnow().astimezone(ZoneInfo(tz)).date()
    year, month = today.year, today.month - 11
    if month <= 0:
        year, month = year - 1, month + 12
    return date(year, month, 1), today


def month_range(start: date, end: date) -> list[str]:
    """'YYYY-MM' for every month touched by start..end."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_trend(tenant_ids: Sequence[int], months: Sequence[str]) -> dict[int, list[int]]:
    """Complaints received per local month ('YYYY-MM', in order) per tenant: {tenant_id: [count, ...]}.

    One GROUP BY (tenant, month) query; months without complaints are 0.
    """
    if not tenant_ids or not months:
        return {}
    tenants = list(db.session.execute(select(Tenant).where(Tenant.id.in_(tenant_ids))).scalars())
    first = date.fromisoformat(f"{months[0]}-01")
    y, m = (int(p) for p in months[-1].split("-"))
    last = date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
    local = _LocalTime((t.timezone for t in tenants), last)
    lo_utc, hi_utc = _coarse_utc(first, last)
    month_expr = local.month(Complaint.submitted_at)
    stmt = (select(Complaint.tenant_id, month_expr.label("month"), func.count(Complaint.id).label("n"))
            .join(Tenant, Tenant.id == Complaint.tenant_id)
            .where(Complaint.tenant_id.in_(list(tenant_ids)), Complaint.submitted_at >= lo_utc,
                   Complaint.submitted_at < hi_utc, month_expr.in_(list(months)), real_reports())
            .group_by(Complaint.tenant_id, month_expr))
    index = {m: i for i, m in enumerate(months)}
    out = {tid: [0] * len(months) for tid in tenant_ids}
    for row in _across_tenants(stmt):
        out[row.tenant_id][index[row.month]] = row.n
    return out


# ---------------------------------------------------------------- shared cache of the comparison

COMPARE_CACHE_PREFIX = "lapor:compare:v2:"  # v2: rows carry the performance score


def cached_comparison(start: date, end: date, *, refresh: bool = False) -> tuple[list[RegionIndicators],
                                                                                dict[int, list[int]]]:
    """The comparison rows and monthly trends for a period, shared by all web workers through Redis for
    COMPARE_CACHE_SECONDS (aggregates over months need not be fresher; the periodic job
    :func:`warm_default_comparison` keeps the default 12 months warm). Without Redis: computed each time."""
    def compute():
        rows = compare_regions(start, end)
        return rows, monthly_trend([r.tenant_id for r in rows], month_range(start, end))

    return shared(f"{COMPARE_CACHE_PREFIX}{start.isoformat()}:{end.isoformat()}",
                  int(current_app.config.get("COMPARE_CACHE_SECONDS", 300) or 0), compute,
                  dumps=pickle.dumps, loads=pickle.loads, refresh=refresh)  # noqa: S301 (our own Redis)


def warm_default_comparison() -> dict:
    """Periodic: recompute the default period's comparison into the shared cache."""
    start, end = default_period()
    rows, _trends = cached_comparison(start, end, refresh=True)
    return {"regions": len(rows), "start": start.isoformat(), "end": end.isoformat()}


# ---------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class TenantAggregates:
    """A drill-down into one tenant: its indicators, monthly trend and breakdowns (counts only)."""

    indicators: RegionIndicators
    months: list[str]
    trend: list[int]
    by_status: dict[str, int]
    by_class: dict[str, int]


def tenant_aggregates(slug: str, period_start: date, period_end: date,
                      thresholds: Mapping[str, Mapping[str, float]] | None = None) -> TenantAggregates | None:
    """Aggregates of the tenant ``slug`` for the period (never a complaint or a person); None if unknown
    or not yet approved."""
    tenant = db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is None or tenant.status == TenantStatus.PENDING:
        return None
    indicators = _compute([tenant], period_start, period_end, thresholds)[0]
    months = month_range(period_start, period_end)
    trend = monthly_trend([tenant.id], months).get(tenant.id, [0] * len(months))
    local = _LocalTime([tenant.timezone], period_end)
    sub_day = local.date(Complaint.submitted_at)
    lo_utc, hi_utc = _coarse_utc(period_start, period_end)
    cohort = (select().select_from(Complaint).join(Tenant, Tenant.id == Complaint.tenant_id)
              .where(Complaint.tenant_id == tenant.id, Complaint.submitted_at >= lo_utc,
                     Complaint.submitted_at < hi_utc, sub_day >= period_start, sub_day <= period_end,
                     real_reports()))
    by_status = {s: n for s, n in _across_tenants(
        cohort.add_columns(Complaint.status, func.count()).group_by(Complaint.status))}
    by_class = {k: n for k, n in _across_tenants(
        cohort.add_columns(Complaint.complaint_class, func.count()).group_by(Complaint.complaint_class))}
    return TenantAggregates(
        indicators=indicators, months=months, trend=trend,
        by_status={s: by_status.get(s, 0) for s in Status.ALL},
        by_class={k: by_class.get(k, 0) for k in CLASSES},
    )


# ---------------------------------------------------------------- peer benchmark


@dataclass(frozen=True)
class PeerRules:
    """Which regions count as peers: live at least ``min_live_days`` with ``min_reports`` real reports
    received in the period; a median needs ``min_peers`` of them with a value."""

    min_live_days: int = 30
    min_reports: int = 20
    min_peers: int = 3

    @classmethod
    def from_config(cls) -> PeerRules:
        if not has_app_context():
            return cls()
        cfg = current_app.config
        return cls(min_live_days=int(cfg.get("PEER_MIN_LIVE_DAYS", 30)),
                   min_reports=int(cfg.get("PEER_MIN_REPORTS", 20)),
                   min_peers=int(cfg.get("PEER_BENCHMARK_MIN_TENANTS", 3)))

    def eligible(self, row: RegionIndicators, as_of: datetime | None = None) -> bool:
        as_of = as_of or utcnow()
        live_long_enough = row.live_since is not None and as_of - row.live_since >= timedelta(days=self.min_live_days)
        return live_long_enough and row.received >= self.min_reports


def eligible_peers(rows: Sequence[RegionIndicators], rules: PeerRules | None = None,
                   as_of: datetime | None = None) -> list[RegionIndicators]:
    """The rows of regions that count towards the peer medians (:class:`PeerRules`)."""
    rules = rules or PeerRules.from_config()
    return [r for r in rows if rules.eligible(r, as_of)]


def peer_median(indicator_name: str, period: tuple[date, date],
                rows: Sequence[RegionIndicators] | None = None) -> float | None:
    """Median of ``indicator_name`` over the eligible peer regions (:class:`PeerRules`) that have a value, or
    None when fewer than ``PEER_BENCHMARK_MIN_TENANTS`` have one. Anonymised: only the number leaves this
    function."""
    if indicator_name not in BY_KEY:
        raise KeyError(indicator_name)
    if rows is None:
        rows = compare_regions(*period)
    rows = eligible_peers(rows)
    values = [v for v in (r.value(indicator_name) for r in rows) if v is not None]
    minimum = current_app.config.get("PEER_BENCHMARK_MIN_TENANTS", 3) if has_app_context() else 3
    if not values or len(values) < max(1, minimum):
        return None
    return _weighted_median([(v, 1) for v in values])


@dataclass(frozen=True)
class PeerBenchmark:
    """A tenant's own indicators beside the medians of all live tenants (no other tenant's rows)."""

    own: RegionIndicators
    medians: dict[str, float | None]
    #: How many regions count as peers (:class:`PeerRules`).
    peers: int
    min_peers: int
    min_live_days: int = 30
    min_reports: int = 20


_peer_cache: dict[tuple, tuple[float, dict[str, float | None], int]] = {}


def clear_peer_cache() -> None:
    _peer_cache.clear()


def peer_medians(period: tuple[date, date]) -> tuple[dict[str, float | None], int]:
    """{indicator: median} over the eligible peer regions and their number, cached for
    PEER_BENCHMARK_CACHE_SECONDS (every staff dashboard shows them; they need not be fresher than that)."""
    ttl = current_app.config.get("PEER_BENCHMARK_CACHE_SECONDS", 300)
    key = (period, PeerRules.from_config())
    hit = _peer_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return hit[1], hit[2]
    rows = compare_regions(*period)
    medians = {key_: peer_median(key_, period, rows) for key_ in INDICATOR_KEYS}
    peers = len(eligible_peers(rows))
    if ttl > 0:
        _peer_cache[key] = (time.monotonic(), medians, peers)
    return medians, peers


def peer_benchmark(tenant_id: int, period: tuple[date, date] | None = None) -> PeerBenchmark | None:
    """For the tenant staff dashboard: this tenant's indicators and the anonymised peer medians.

    The default period is the last 12 months in the tenant's local dates.
    """
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    if period is None:
        period = default_period(calendar_for_tenant(tenant).local_date(utcnow()))
    own = _compute([tenant], *period, None)[0]
    medians, peers = peer_medians(period)
    rules = PeerRules.from_config()
    return PeerBenchmark(own=own, medians=medians, peers=peers, min_peers=rules.min_peers,
                         min_live_days=rules.min_live_days, min_reports=rules.min_reports)


# ---------------------------------------------------------------- central console: activity per tenant

@dataclass(frozen=True)
class TenantActivity:
    """What the central console shows about one tenant's use of the platform (numbers and times only)."""

    complaints_30d: int = 0
    last_complaint_at: datetime | None = None
    last_event_at: datetime | None = None
    last_staff_login_at: datetime | None = None
    #: The reason given with the latest suspension or reactivation (a central administrator's text).
    status_reason: str | None = None
    status_changed_at: datetime | None = None

    @property
    def last_activity_at(self) -> datetime | None:
        times = [t for t in (self.last_complaint_at, self.last_event_at, self.last_staff_login_at) if t]
        return max(times) if times else None


def _max_dt(value) -> datetime | None:
    # SQLite returns MAX() of a UTCDateTime as a string; PostgreSQL as an aware datetime.
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def tenant_activity(now: datetime | None = None) -> dict[int, TenantActivity]:
    """Per tenant: complaints received in the last 30 days and the latest activity, in four grouped queries."""
    now = now or utcnow()
    since = now - timedelta(days=30)
    complaints = {row.tenant_id: row for row in _across_tenants(
        select(Complaint.tenant_id, func.count(case((Complaint.submitted_at >= since, 1))).label("n"),
               func.max(Complaint.submitted_at).label("last")).where(real_reports())
        .group_by(Complaint.tenant_id))}
    events = dict(_across_tenants(
        select(ComplaintEvent.tenant_id, func.max(ComplaintEvent.at)).group_by(ComplaintEvent.tenant_id)))
    logins = dict(_across_tenants(
        select(User.tenant_id, func.max(User.last_login_at)).where(User.role.in_(Role.STAFF))
        .group_by(User.tenant_id)))
    latest = (select(TenantAuditEvent.tenant_id, func.max(TenantAuditEvent.id).label("id"))
              .where(TenantAuditEvent.kind.in_(("tenant.suspended", "tenant.reactivated")))
              .group_by(TenantAuditEvent.tenant_id).subquery())
    reasons = {row.tenant_id: row for row in _across_tenants(
        select(TenantAuditEvent.tenant_id, TenantAuditEvent.after, TenantAuditEvent.at)
        .join(latest, latest.c.id == TenantAuditEvent.id))}
    out = {}
    for tid in set(complaints) | set(events) | set(logins) | set(reasons):
        c, r = complaints.get(tid), reasons.get(tid)
        out[tid] = TenantActivity(
            complaints_30d=c.n if c else 0, last_complaint_at=_max_dt(c.last) if c else None,
            last_event_at=_max_dt(events.get(tid)), last_staff_login_at=_max_dt(logins.get(tid)),
            status_reason=(r.after or {}).get("reason") if r else None, status_changed_at=r.at if r else None)
    return out
