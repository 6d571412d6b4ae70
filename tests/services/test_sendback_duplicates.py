"""Duplicate candidates (issue 17): same region, same category, similar text, near in place and time; only
reports the staff user may see; the inbox's "possible duplicates" filter follows the same rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.complaints import duplicates, inbox, service
from app.complaints.models import Status
from app.jobs.outbox import relay
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

T0 = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)
# A pothole on Jalan Kayu Tangi, Banjarmasin; the second report ~15 m away.
LAT, LON = -3.2982, 114.5921
NEAR = (LAT + 0.000135, LON)  # ~15 m north
FAR = (LAT + 0.009, LON)  # ~1 km north

FIRST = {"title": "Jalan berlubang di Kayu Tangi", "description":
         "Lubang besar di tengah jalan Kayu Tangi depan SDN 5, sudah dua minggu tidak diperbaiki."}
SECOND = {"title": "Lubang besar di Jalan Kayu Tangi", "description":
          "Ada lubang besar di jalan Kayu Tangi dekat SDN 5, motor sering jatuh."}
OTHER_TOPIC = {"title": "Lampu penerangan jalan mati", "description":
               "Lampu penerangan jalan umum di Pasar Lama mati sejak seminggu lalu, gelap di malam hari."}


def report(when=T0, point=(LAT, LON), category="jalan", texts=FIRST, **kw):
    lat, lon = point if point else (None, None)
    c, _ = submit_complaint(when=when, category=category, latitude=lat, longitude=lon, **texts, **kw)
    return c


def codes(c, user):
    return [cand.complaint.code for cand in duplicates.candidates(c, user)]


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer")


def test_the_same_pothole_reported_twice_a_minute_apart_is_suggested_both_ways(db, bjm, officer):
    with tenant_scope(bjm.id):
        a = report()
        b = report(when=T0 + timedelta(minutes=1), point=NEAR, texts=SECOND)
        assert codes(a, officer) == [b.code]
        assert codes(b, officer) == [a.code]
        cand = duplicates.candidates(a, officer)[0]
        assert 10 <= cand.distance_m <= 20 and cand.hours_apart < 0.1
        assert cand.text_similarity >= 0.3


@pytest.mark.parametrize("case", ["other_category", "far_away", "weeks_later", "other_text", "merged", "closed"])
def test_not_a_candidate(db, bjm, officer, case):
    with tenant_scope(bjm.id):
        a = report()
        kw = {"when": T0 + timedelta(minutes=1), "point": NEAR, "texts": SECOND}
        if case == "other_category":
            kw["category"] = "sampah"
        elif case == "far_away":
            kw["point"] = FAR
        elif case == "weeks_later":
            kw["when"] = T0 + timedelta(days=duplicates.DEFAULT_DAYS + 1)
        elif case == "other_text":
            kw["texts"] = OTHER_TOPIC
        b = report(**kw)
        if case in ("merged", "closed"):
            actor = service.Actor.of(officer)
            if case == "merged":
                third = report(when=T0 + timedelta(minutes=2))
                service.merge(b, third, actor)
                assert b.status == Status.MERGED
            else:
                service.archive(b, actor, "Laporan uji")
        assert b.code not in codes(a, officer)
        assert a.code not in codes(b, officer)


def test_without_a_pin_or_a_category_the_text_and_time_decide(db, bjm, officer):
    with tenant_scope(bjm.id):
        a = report()
        b = report(when=T0 + timedelta(hours=3), point=None, category=None, texts=SECOND)
        assert codes(a, officer) == [b.code] and codes(b, officer) == [a.code]


def test_thresholds_are_configurable(app, db, bjm, officer, monkeypatch):
    with tenant_scope(bjm.id):
        a = report()
        b = report(when=T0 + timedelta(minutes=1), point=NEAR, texts=SECOND)
        monkeypatch.setitem(app.config, "DUPLICATE_RADIUS_M", 5)
        assert codes(a, officer) == []
        monkeypatch.setitem(app.config, "DUPLICATE_RADIUS_M", 200)
        monkeypatch.setitem(app.config, "DUPLICATE_MIN_SIMILARITY", 0.95)
        assert codes(a, officer) == []
        monkeypatch.setitem(app.config, "DUPLICATE_MIN_SIMILARITY", 0.3)
        assert codes(a, officer) == [b.code]


def test_the_text_is_compared_with_the_nearest_reports_in_time_only(app, db, bjm, officer, monkeypatch):
    """The scan's cost is bounded: DUPLICATE_SCAN_ROWS reports on each side in time, nearest first."""
    with tenant_scope(bjm.id):
        earlier = [report(when=T0 - timedelta(hours=h)) for h in (4, 3, 2, 1)]
        a = report()
        later = [report(when=T0 + timedelta(hours=h)) for h in (1, 2, 3)]
        unrelated = report(when=T0 - timedelta(minutes=30), texts=OTHER_TOPIC)
        assert set(codes_all(a, officer)) == {c.code for c in earlier + later}
        monkeypatch.setitem(app.config, "DUPLICATE_SCAN_ROWS", 2)
        # Two on each side that pass the category, place and open tests, whatever their text: the unrelated
        # report half an hour before takes one of the two places before.
        assert set(codes_all(a, officer)) == {earlier[3].code, later[0].code, later[1].code}
        assert unrelated.code not in codes_all(a, officer)


def test_the_bound_counts_only_reports_the_user_may_see(app, db, bjm, officer, make_user, monkeypatch):
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    with tenant_scope(bjm.id):
        from sqlalchemy import select

        from app.agencies.models import Agency

        pupr = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
        dishub = db.session.execute(select(Agency.id).filter_by(code="dishub")).scalar_one()
        actor = service.Actor.of(officer)
        far, a, near = report(when=T0 - timedelta(hours=2)), report(), report(when=T0 - timedelta(hours=1))
        for c, agency in ((far, pupr), (a, pupr), (near, dishub)):
            service.verify(c, actor)
            service.dispose(c, actor, [agency])
        monkeypatch.setitem(app.config, "DUPLICATE_SCAN_ROWS", 1)
        assert codes(a, liaison) == [far.code]  # the nearer one is Dishub's: it does not use up the bound
        assert codes(a, officer) == [near.code]


def codes_all(c, user):
    return [cand.complaint.code for cand in duplicates.candidates(c, user, limit=100)]


def test_another_region_never(db, bjm, ktg, officer, make_user):
    with tenant_scope(bjm.id):
        a = report()
    with tenant_scope(ktg.id):
        # The same text and time, no pin (Banjarmasin's point lies outside Katingan): only the region differs.
        b = report(when=T0 + timedelta(minutes=1), point=None, texts=FIRST, category="jalan")
        k_officer = make_user(ktg, "officer")
        assert codes(b, k_officer) == []
        assert inbox.paginate(k_officer, inbox.InboxFilters(only="duplicates")).items == []
    with tenant_scope(bjm.id):
        assert codes(a, officer) == []


def test_a_liaison_sees_only_candidates_disposed_to_their_agency(db, bjm, officer, make_user):
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    with tenant_scope(bjm.id):
        from sqlalchemy import select

        from app.agencies.models import Agency

        pupr = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
        dishub = db.session.execute(select(Agency.id).filter_by(code="dishub")).scalar_one()
        actor = service.Actor.of(officer)
        a = report()
        b = report(when=T0 + timedelta(minutes=1), point=NEAR, texts=SECOND, privacy="anonim")
        for c, agency in ((a, pupr), (b, dishub)):
            service.verify(c, actor)
            service.dispose(c, actor, [agency])
        assert codes(a, liaison) == []  # b is Dishub's: not this liaison's to see
        assert inbox.paginate(liaison, inbox.InboxFilters(only="duplicates")).items == []
        service.dispose(b, actor, [pupr])
        assert codes(a, liaison) == [b.code]
        assert codes(a, officer) == [b.code]


def test_the_inbox_filter_lists_reports_with_a_candidate_and_no_others(db, bjm, officer):
    with tenant_scope(bjm.id):
        a = report()
        b = report(when=T0 + timedelta(minutes=1), point=NEAR, texts=SECOND)
        lone = report(when=T0 + timedelta(minutes=2), point=FAR, texts=OTHER_TOPIC, category="sampah")
        elsewhere = report(when=T0 + timedelta(minutes=3), point=FAR)  # same text, 1 km away
        relay()  # the submissions' jobs store the pairs (after the request, in the web app)
        listed = {c.id for c in inbox.paginate(officer, inbox.InboxFilters(only="duplicates")).items}
        assert listed == {a.id, b.id}
        assert lone.id not in listed and elsewhere.id not in listed
        counts = inbox.status_counts(officer, inbox.InboxFilters(only="duplicates"))
        assert counts == {Status.SUBMITTED: 2}


def test_the_python_measure_is_pg_trgm_similarity(db):
    pairs = [(FIRST["title"], SECOND["title"]), (FIRST["description"], SECOND["description"]),
             ("Jl. A. Yani km 2, lampu mati!", "lampu jalan mati di jl a yani"), ("", "apa saja")]
    for a, b in pairs:
        in_db = db.session.execute(text("SELECT similarity(:a, :b)"), {"a": a, "b": b}).scalar_one()
        assert duplicates.trigram_similarity(a, b) == pytest.approx(float(in_db), abs=1e-6)

