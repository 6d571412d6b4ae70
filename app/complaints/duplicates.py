"""Duplicate candidates: open reports of the same region that may describe the same thing.

A candidate of report A is a report B that:

- is open (submitted, on hold, verified, disposed, answered; never merged, closed or ended otherwise), as A
  must be: only open reports can be merged (app.complaints.workflow);
- has the same category, when both have one (a report without a category is compared with every category);
- was sent within ``DUPLICATE_DAYS`` days of A (before or after);
- lies within ``DUPLICATE_RADIUS_M`` metres north-south and east-west of A, when both have a map pin (a box:
  the same test in the list and in the inbox filter; without a pin the text decides);
- is among the ``DUPLICATE_SCAN_ROWS`` reports (each side) sent nearest in time before and after A that pass
  the tests above: the text measure below is the costly part (~25 µs a row on PostgreSQL), so a region receiving
  thousands of reports a week compares a new report with a bounded number of neighbours, not its whole week;
- has a similar text: the greater of the titles' and the descriptions' (first 400 characters) trigram
  similarity is at least ``DUPLICATE_MIN_SIMILARITY``. PostgreSQL computes it with pg_trgm's ``similarity()``
  (the extension is installed by migration 9b1e5c7d2a41); on SQLite the same measure is computed in Python
  (:func:`trigram_similarity`, registered on each SQLite connection as ``similarity``), so one query serves
  both and a threshold means the same on both;
- is visible to the staff user asking (:func:`app.complaints.access.staff_complaints_query`: the whole region for
  the complaint unit, a liaison only the reports disposed to their agency). Only what the report page shows is
  listed; the reporter's identity never is.

Speed at national scale: the database reads one category's reports in the time window through the index
``(tenant_id, category_id, submitted_at)``, checks the box and only then the text; the ranking runs in Python on
at most :data:`MAX_ROWS` rows. Figures: README, "Duplicate candidates".

The inbox filter "possible duplicates" does not run this test for every open report of the region (14 s at
200,000 reports): each report's candidates are stored as pairs (:class:`DuplicateCandidate`, both directions)
by a job queued when the report is submitted or its text, category or place changes
(app.complaints.duplicate_pairs), and the filter is one EXISTS over the stored pairs whose other report is still
open and visible (:func:`has_candidate`).
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import and_, exists, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, aliased, mapped_column, selectinload

from app.accounts.models import Role
from app.complaints.access import UNIT_ROLES, staff_complaints_query
from app.complaints.geo import METRES_PER_DEGREE, haversine_m
from app.complaints.models import Complaint, Disposition, Status
from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk

DEFAULT_DAYS = 7
DEFAULT_RADIUS_M = 200
DEFAULT_MIN_SIMILARITY = 0.3
DEFAULT_LIMIT = 5
#: Reports compared by text at most, on each side in time (see the module docstring).
DEFAULT_SCAN_ROWS = 500
#: Rows the query hands to the ranking at most (best text first).
MAX_ROWS = 50
#: Characters of a description compared (long texts dilute the measure and cost more).
DESCRIPTION_CHARS = 400
#: A degree of longitude is shorter than one of latitude away from the equator; Indonesia lies within about
#: 11 degrees of it, where the difference is under 2 %: the box is widened by that much east-west.
LONGITUDE_WIDENING = 1 / math.cos(math.radians(11.5))
#: Weights of the ranking (sum 1): similar text, nearer, closer in time.
WEIGHTS = {"text": 0.6, "distance": 0.25, "time": 0.15}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class DuplicateCandidate(TenantScoped, db.Model):
    """``other_id`` was a duplicate candidate of ``complaint_id`` when last computed (stored both ways round, so
    a report's candidates are one index read). Whether the other report is still open and who may see it is
    decided when read, so merging or closing a report needs no rescan."""

    __tablename__ = "duplicate_candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    other_id: Mapped[int] = mapped_column(sa.Integer)
    #: The ranking's score (:func:`candidates`) when found.
    score: Mapped[float] = mapped_column(sa.Float)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "complaint_id", "other_id"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["other_id"], "complaint", ondelete="CASCADE"),
        # The replacing job deletes the pairs naming a report on either side.
        sa.Index("ix_duplicate_candidate_tenant_other", "tenant_id", "other_id"),
    )


@dataclass(frozen=True)
class Thresholds:
    days: int
    radius_m: float
    min_similarity: float
    limit: int
    scan_rows: int = DEFAULT_SCAN_ROWS


def thresholds() -> Thresholds:
    """The configured thresholds (``DUPLICATE_*`` settings, app/config.py)."""
    cfg = current_app.config
    return Thresholds(days=int(cfg.get("DUPLICATE_DAYS") or DEFAULT_DAYS),
                      radius_m=float(cfg.get("DUPLICATE_RADIUS_M") or DEFAULT_RADIUS_M),
                      min_similarity=float(cfg.get("DUPLICATE_MIN_SIMILARITY") or DEFAULT_MIN_SIMILARITY),
                      limit=int(cfg.get("DUPLICATE_LIMIT") or DEFAULT_LIMIT),
                      scan_rows=int(cfg.get("DUPLICATE_SCAN_ROWS") or DEFAULT_SCAN_ROWS))


# ---------------------------------------------------------------- the text measure


def trigrams(text: str | None) -> set[str]:
    """pg_trgm's trigrams: lower-case words of letters and digits, each padded with two spaces in front and one
    behind."""
    out: set[str] = set()
    for word in _WORD.findall((text or "").lower()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return out


def trigram_similarity(a: str | None, b: str | None) -> float:
    """Shared trigrams over all trigrams (pg_trgm's ``similarity()``), between 0 and 1."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


@sa.event.listens_for(Engine, "connect")
def _sqlite_similarity(dbapi_connection, _record) -> None:
    # SQLite has no pg_trgm: the same measure, in Python, under the same name.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("similarity", 2, trigram_similarity, deterministic=True)


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _greatest(a, b):
    return func.greatest(a, b) if _postgres() else func.max(a, b)


def _text_score(other, title, description):
    """The SQL expression of the text measure between ``other``'s texts and ``title``/``description``."""
    return _greatest(func.similarity(other.title, title),
                     func.similarity(func.substr(other.description, 1, DESCRIPTION_CHARS), description))


def _box(degrees_radius: float) -> tuple[float, float]:
    dlat = degrees_radius
    return dlat, dlat * LONGITUDE_WIDENING


# ---------------------------------------------------------------- one report's candidates


@dataclass(frozen=True)
class Candidate:
    complaint: Complaint
    text_similarity: float
    #: Metres between the pins, None when one has none.
    distance_m: int | None
    #: Hours between the submissions.
    hours_apart: float
    score: float


def candidates_query(c: Complaint, user, t: Thresholds) -> sa.Select:
    """Candidates of ``c`` visible to ``user`` (``None``: the whole region, as the complaint unit sees it) with
    their text measure, best text first (the region is the bound one: the ORM guard adds it)."""
    score = _text_score(Complaint, c.title or "", (c.description or "")[:DESCRIPTION_CHARS]).label("text_score")
    window = timedelta(days=t.days)
    base = sa.select(Complaint) if user is None else staff_complaints_query(user)
    tests = [Complaint.id != c.id, Complaint.status.in_(Status.OPEN),
             Complaint.submitted_at.between(c.submitted_at - window, c.submitted_at + window)]
    if c.category_id is not None:
        tests.append(or_(Complaint.category_id == c.category_id, Complaint.category_id.is_(None)))
    if c.latitude is not None and c.longitude is not None:
        dlat, dlon = _box(t.radius_m / METRES_PER_DEGREE)
        tests.append(or_(Complaint.latitude.is_(None), Complaint.longitude.is_(None), and_(
            Complaint.latitude.between(c.latitude - dlat, c.latitude + dlat),
            Complaint.longitude.between(c.longitude - dlon, c.longitude + dlon))))
    # The text is measured on the nearest reports in time only: each side walks the (tenant, submitted_at) index
    # from A outwards and stops after scan_rows, so the cost does not grow with the region's volume.
    ids = base.with_only_columns(Complaint.id).where(*tests)
    before = (ids.where(Complaint.submitted_at <= c.submitted_at)
              .order_by(Complaint.submitted_at.desc(), Complaint.id.desc()).limit(t.scan_rows).subquery())
    after = (ids.where(Complaint.submitted_at > c.submitted_at)
             .order_by(Complaint.submitted_at, Complaint.id).limit(t.scan_rows).subquery())
    nearest = sa.union_all(sa.select(before.c.id), sa.select(after.c.id))
    return (base.add_columns(score).where(Complaint.id.in_(nearest), score >= t.min_similarity)
            .order_by(score.desc(), Complaint.id).limit(MAX_ROWS)
            .options(selectinload(Complaint.category)))


def _rank(c: Complaint, other: Complaint, text: float, t: Thresholds) -> Candidate:
    distance = None
    nearness = 0.5  # no pin on one side: neither nearer nor farther
    if None not in (c.latitude, c.longitude, other.latitude, other.longitude):
        distance = haversine_m(c.latitude, c.longitude, other.latitude, other.longitude)
        nearness = max(0.0, 1 - distance / (t.radius_m * LONGITUDE_WIDENING * math.sqrt(2)))
    hours = abs((other.submitted_at - c.submitted_at).total_seconds()) / 3600
    closeness = max(0.0, 1 - hours / (24 * t.days))
    score = WEIGHTS["text"] * text + WEIGHTS["distance"] * nearness + WEIGHTS["time"] * closeness
    return Candidate(complaint=other, text_similarity=round(text, 3),
                     distance_m=None if distance is None else round(distance), hours_apart=round(hours, 1),
                     score=round(score, 4))


def candidates(c: Complaint, user, limit: int | None = None) -> list[Candidate]:
    """Open reports of the bound region that may duplicate ``c`` and that ``user`` may see (``None``: the whole
    region), best first. Nothing for a report that is not open (it can no longer be merged)."""
    if c.status not in Status.OPEN:
        return []
    t = thresholds()
    rows = db.session.execute(candidates_query(c, user, t)).all()
    ranked = [_rank(c, other, float(text or 0), t) for other, text in rows]
    ranked.sort(key=lambda cand: (-cand.score, cand.complaint.id))
    return ranked[:limit or t.limit]


def compare(c: Complaint, other: Complaint) -> Candidate:
    """How ``other`` compares with ``c`` (for the side-by-side page), whatever the thresholds say."""
    t = thresholds()
    text = max(trigram_similarity(c.title, other.title),
               trigram_similarity((c.description or "")[:DESCRIPTION_CHARS],
                                  (other.description or "")[:DESCRIPTION_CHARS]))
    return _rank(c, other, text, t)


# ---------------------------------------------------------------- the inbox filter


def _visible(other, user):
    """``other`` (an alias of Complaint) is visible to ``user``: the inbox's rule, for the alias."""
    if user.role == Role.LIAISON:
        return exists().where(Disposition.complaint_id == other.id, Disposition.tenant_id == other.tenant_id,
                              Disposition.agency_id == user.agency_id, Disposition.active.is_(True))
    if user.role in UNIT_ROLES:
        return sa.true()
    return sa.false()


def has_candidate(user):
    """Where-clause on ``Complaint``: the report is open and has a stored candidate visible to ``user`` (the
    inbox's "possible duplicates" filter).

    The complaint unit sees the whole region, so the report's ``has_duplicate_candidate`` flag answers: the
    scan job keeps it equal to "a stored pair names it", and removes the pairs of a report leaving the open set
    (so a merged or closed candidate drops out when that job has run, right after the change). Counted through
    the partial index of flagged reports, whatever the number of pairs. A liaison's reports are the few
    disposed to their agency: for each, one index read of its pairs whose other report is open and disposed to
    the agency too."""
    if user.role in UNIT_ROLES:
        return and_(Complaint.status.in_(Status.OPEN), Complaint.has_duplicate_candidate.is_(True))
    other = aliased(Complaint)
    pair = DuplicateCandidate
    return and_(Complaint.status.in_(Status.OPEN), exists().where(
        pair.tenant_id == Complaint.tenant_id, pair.complaint_id == Complaint.id,
        other.tenant_id == pair.tenant_id, other.id == pair.other_id, other.status.in_(Status.OPEN),
        _visible(other, user)))
