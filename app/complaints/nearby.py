""""Is this already reported?": open public reports near a point, for the report form.

The rules are the public pages' own (:mod:`app.complaints.transparency`): a report is shown only once the
complaint unit has verified it and while it is open (verified, disposed, answered), never when it is
confidential (rahasia), never a merged duplicate or an archived one. Only what the public page of the
report shows leaves this module: code, title, a short summary, category, status, distance and date, and
links. Never a reporter's name or contact: an anonymous (anonim) report looks like any other here.

Speed at national scale: the database reads a bounding box around the point on the index
``(tenant_id, status, latitude, longitude)`` (the region, the three statuses, a latitude band, the
longitude checked inside the index) and only then the recency; the exact distance (haversine) and the
ranking run in Python on those few rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, select

from app.agencies.models import Category
from app.complaints import workflow
from app.complaints.geo import METRES_PER_DEGREE, bounding_box, haversine_m  # noqa: F401 (METRES_PER_DEGREE: tests)
from app.complaints.models import Complaint, Status
from app.complaints.transparency import LISTED_STATUSES
from app.complaints.uploads import public_thumbnail_urls
from app.extensions import db
from app.tenancy.models import utcnow

#: Open reports the public may see: listed on the transparency page (checked by the unit) and still open.
VISIBLE_STATUSES = tuple(s for s in LISTED_STATUSES if s in Status.OPEN)
DEFAULT_RADIUS_M = 300
DEFAULT_DAYS = 30
#: Rows read from the box at most: a bound on the work of one lookup whatever the density.
MAX_CANDIDATES = 1000
SUMMARY_CHARS = 160

#: Weights of the ranking (sum 1): nearer, same category, more recent, similar title.
WEIGHTS = {"distance": 0.4, "category": 0.25, "recency": 0.15, "title": 0.2}

#: Short words that say nothing about what a report is about (Indonesian and English).
STOPWORDS = frozenset("""
di ke dari dan yang atau untuk pada dengan tidak belum sudah ada ini itu jl jalan gang gg no rt rw
kel kec desa kota kab the a an of in at on to and or is not near
""".split())
_WORD = re.compile(r"[0-9a-zà-ÿ]+")


class InvalidPoint(ValueError):
    """The point lies outside what a latitude and a longitude can be."""


@dataclass(frozen=True)
class NearbyReport:
    code: str
    title: str
    summary: str
    category: str | None
    status: str
    status_label: str
    distance_m: int
    submitted_at: datetime
    #: The first public photo's thumbnail URL (public reports only), or None.
    thumbnail: str | None
    score: float

    def public_dict(self, date_label: str, url: str, follow_url: str) -> dict:
        """Only the fields the public page shows (the score stays here), with the links of the request."""
        return {
            "code": self.code, "title": self.title, "summary": self.summary, "category": self.category,
            "status": self.status, "status_label": self.status_label, "distance_m": self.distance_m,
            "submitted_on": self.submitted_at.date().isoformat(), "submitted_label": date_label,
            "url": url, "follow_url": follow_url, "thumbnail": self.thumbnail,
        }


def tokens(text: str | None) -> set[str]:
    """Words of a title, lower case, without stop words and one-letter words."""
    return {w for w in _WORD.findall((text or "").lower()) if len(w) > 1 and w not in STOPWORDS}


def title_similarity(a: set[str], b: set[str]) -> float:
    """Token overlap (Jaccard) between 0 and 1; the same in Python whatever the database."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _summary(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"


def candidates_query(lat: float, lon: float, radius_m: float, since: datetime) -> Select:
    """The rows in the bounding box (the bound region is added by the ORM guard when it runs)."""
    south, north, west, east = bounding_box(lat, lon, radius_m)
    return (
        select(Complaint.id, Complaint.code, Complaint.title, Complaint.description, Complaint.category_id,
               Complaint.status, Complaint.submitted_at, Complaint.latitude, Complaint.longitude,
               Complaint.anonymous, Complaint.confidential, Complaint.verified_at, Complaint.processing_restricted)
        .where(Complaint.status.in_(VISIBLE_STATUSES), Complaint.latitude.between(south, north),
               Complaint.longitude.between(west, east), Complaint.confidential.is_(False),
               Complaint.verified_at.is_not(None), Complaint.merged_into_id.is_(None),
               Complaint.submitted_at >= since)
        .limit(MAX_CANDIDATES)
    )


def nearby_reports(lat: float, lon: float, category_id: int | None = None, title: str = "", limit: int = 5,
                   locale: str = "id", radius_m: float | None = None, days: int | None = None,
                   now: datetime | None = None) -> list[NearbyReport]:
    """Open public reports of the bound region within ``radius_m`` of (lat, lon), sent in the last ``days``
    days, best first: nearer, the same category, more recent and with a similar title rank higher.

    :raises InvalidPoint: for a latitude or longitude that cannot be.
    """
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidPoint()
    config = current_app.config
    radius = float(radius_m or config.get("NEARBY_RADIUS_M") or DEFAULT_RADIUS_M)
    days = int(days or config.get("NEARBY_DAYS") or DEFAULT_DAYS)
    now = now or utcnow()
    since = now - timedelta(days=days)
    stmt = candidates_query(lat, lon, radius, since)
    wanted = tokens(title)
    scored = []
    for row in db.session.execute(stmt):
        distance = haversine_m(lat, lon, row.latitude, row.longitude)
        if distance > radius:
            continue
        age = max(0.0, (now - row.submitted_at).total_seconds()) / 86400
        score = (WEIGHTS["distance"] * (1 - distance / radius)
                 + WEIGHTS["category"] * (1.0 if category_id is not None and row.category_id == category_id else 0.0)
                 + WEIGHTS["recency"] * max(0.0, 1 - age / days)
                 + WEIGHTS["title"] * title_similarity(wanted, tokens(row.title)))
        scored.append((score, distance, row))
    scored.sort(key=lambda item: (-item[0], item[1], item[2].code))
    best = scored[:max(0, limit)]
    category_ids = {row.category_id for _s, _d, row in best if row.category_id is not None}
    names = {}
    if category_ids:
        names = {c.id: c.label(locale) for c in db.session.execute(
            select(Category).where(Category.id.in_(category_ids))).scalars()}
    # Photos only as the public sees them: public reports' public photos (app.complaints.uploads).
    thumbnails = public_thumbnail_urls([row for _s, _d, row in best]) if best else {}
    return [
        NearbyReport(
            code=row.code, title=row.title, summary=_summary(row.description),
            category=names.get(row.category_id), status=row.status, status_label=workflow.status_label(row.status),
            distance_m=round(distance), submitted_at=row.submitted_at, thumbnail=thumbnails.get(row.id),
            score=round(score, 4),
        )
        for score, distance, row in best
    ]
