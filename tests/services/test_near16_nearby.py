""""Is this already reported?" (app.complaints.nearby): radius, recency, ranking and the public rules.

Run on SQLite by default and on PostgreSQL with TEST_DATABASE_URL (the bounding box uses the same index).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.agencies.models import Category
from app.complaints import nearby
from app.complaints.models import Complaint, Status
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.factories import make

LAT, LON = -3.3194, 114.5908
M_LAT = 1 / nearby.METRES_PER_DEGREE  # degrees of latitude per metre


def report(days_ago: float = 2, north_m: float = 0, east_m: float = 0, **kw) -> Complaint:
    """An open public report verified by the unit, ``north_m``/``east_m`` metres from the point."""
    now = utcnow()
    values = {"status": Status.VERIFIED, "submitted_at": now - timedelta(days=days_ago),
              "verified_at": now - timedelta(days=days_ago) + timedelta(hours=1),
              "latitude": LAT + north_m * M_LAT,
              "longitude": LON + east_m * M_LAT / nearby.math.cos(nearby.math.radians(LAT))}
    values.update(kw)
    return make(Complaint, **values)


def codes(found) -> list[str]:
    return [r.code for r in found]


def test_haversine_and_bounding_box():
    assert nearby.haversine_m(LAT, LON, LAT + 100 * M_LAT, LON) == pytest.approx(100, abs=0.5)
    south, north, west, east = nearby.bounding_box(LAT, LON, 300)
    assert nearby.haversine_m(LAT, LON, north, LON) == pytest.approx(300, abs=1)
    assert nearby.haversine_m(LAT, LON, LAT, east) == pytest.approx(300, abs=1)
    assert south < LAT < north and west < LON < east


def test_title_tokens_ignore_case_punctuation_and_stop_words():
    assert nearby.tokens("Lampu jalan MATI di Jl. A. Yani!") == {"lampu", "mati", "yani"}
    assert nearby.title_similarity(nearby.tokens("Lampu jalan mati"), nearby.tokens("lampu mati di pasar")) \
        == pytest.approx(2 / 3)
    assert nearby.title_similarity(set(), {"lampu"}) == 0


def test_only_reports_within_the_radius_and_the_recent_days(app, db, bjm):
    with tenant_scope(bjm.id):
        near = report(north_m=100)
        edge = report(east_m=290)
        corner = report(north_m=250, east_m=250)  # in the box, 354 m away
        far = report(north_m=400)
        old = report(days_ago=45, north_m=20)
        found = nearby.nearby_reports(LAT, LON)
        assert set(codes(found)) == {near.code, edge.code}
        assert {far.code, old.code, corner.code}.isdisjoint(codes(found))
        assert [r.distance_m for r in found if r.code == near.code] == [100]
        # Configurable: a wider radius and a longer window find them.
        wide = codes(nearby.nearby_reports(LAT, LON, radius_m=500, days=60))
        assert {near.code, edge.code, corner.code, far.code, old.code} <= set(wide)
        app.config["NEARBY_RADIUS_M"] = 120
        try:
            assert codes(nearby.nearby_reports(LAT, LON)) == [near.code]
        finally:
            app.config["NEARBY_RADIUS_M"] = 300


def test_only_what_the_public_may_see(app, db, bjm):
    now = utcnow()
    with tenant_scope(bjm.id):
        shown = [report(status=s, north_m=10 * i) for i, s in enumerate((Status.VERIFIED, Status.DISPOSED,
                                                                          Status.ANSWERED))]
        anonim = report(anonymous=True, north_m=40, reporter_name="Rahasia Orangnya",
                        reporter_email="orangnya@contoh.id", reporter_phone="+6281234500000")
        hidden = [
            report(confidential=True, north_m=5),  # rahasia
            report(status=Status.SUBMITTED, verified_at=None, north_m=6),  # not verified yet
            report(status=Status.ON_HOLD, verified_at=None, north_m=7),
            report(status=Status.CLOSED, closed_at=now, north_m=8),
            report(status=Status.ARCHIVED, north_m=9),
            report(status=Status.REFERRED, north_m=11),
            report(status=Status.MERGED, north_m=12, merged_into_id=None),
            report(latitude=None, longitude=None),
        ]
        found = nearby.nearby_reports(LAT, LON, limit=20)
        assert set(codes(found)) == {c.code for c in [*shown, anonim]}
        assert not {c.code for c in hidden} & set(codes(found))
        item = next(r for r in found if r.code == anonim.code)
        text = repr(item.public_dict("x", "/u", "/f"))
        for personal in ("Rahasia", "orangnya", "6281234500000"):
            assert personal not in text
        assert set(item.public_dict("x", "/u", "/f")) == {
            "code", "title", "summary", "category", "status", "status_label", "distance_m", "submitted_on",
            "submitted_label", "url", "follow_url", "thumbnail"}
        assert item.thumbnail is None


def test_another_regions_reports_are_never_returned(db, bjm, ktg):
    with tenant_scope(ktg.id):
        theirs = report(north_m=10)
    with tenant_scope(bjm.id):
        ours = report(north_m=30)
        assert codes(nearby.nearby_reports(LAT, LON)) == [ours.code]
    with tenant_scope(ktg.id):
        assert codes(nearby.nearby_reports(LAT, LON)) == [theirs.code]


def test_ranking_prefers_the_same_category_a_similar_title_nearer_and_newer(db, bjm):
    with tenant_scope(bjm.id):
        lamp = make(Category)
        other = make(Category)
        a = report(north_m=100, category_id=other.id, title="Sampah menumpuk di TPS")
        b = report(north_m=-100, category_id=lamp.id, title="Jalan berlubang dekat sekolah")
        assert codes(nearby.nearby_reports(LAT, LON, category_id=lamp.id))[:2] == [b.code, a.code]
        # A similar title outweighs the category here (0.2 × 1.0 against 0.25 × 0 … both differ).
        c = report(north_m=100, east_m=1, category_id=other.id, title="Lampu jalan mati di depan pasar")
        found = codes(nearby.nearby_reports(LAT, LON, title="lampu mati depan pasar"))
        assert found[0] == c.code
        # Nearer and newer win when nothing else differs.
        near_new = report(north_m=20, days_ago=1, category_id=other.id, title="Parkir liar")
        report(north_m=200, days_ago=25, category_id=other.id, title="Parkir liar")
        assert codes(nearby.nearby_reports(LAT, LON, title="parkir"))[0] == near_new.code
        assert len(nearby.nearby_reports(LAT, LON, limit=2)) == 2


def test_public_fields_name_the_category_and_status_in_the_locale(db, bjm):
    with tenant_scope(bjm.id):
        cat = make(Category, name_id="Penerangan Jalan", name_en="Street lighting")
        c = report(category_id=cat.id, status=Status.DISPOSED, description="Kata " * 100)
        item = nearby.nearby_reports(LAT, LON, locale="en")[0]
        assert (item.code, item.category, item.title) == (c.code, "Street lighting", c.title)
        assert item.status == Status.DISPOSED and item.status_label
        assert len(item.summary) <= nearby.SUMMARY_CHARS + 1 and item.summary.endswith("…")
        assert nearby.nearby_reports(LAT, LON, locale="id")[0].category == "Penerangan Jalan"


def test_an_impossible_point_is_refused(db, bjm):
    with tenant_scope(bjm.id), pytest.raises(nearby.InvalidPoint):
        nearby.nearby_reports(95.0, LON)
