"""The staff dashboard's figures (app/complaints/dashboard.py) on hand-made reports: weeks in the region's own
time zone, categories, agencies, on-time rate per stage (late whether finished or still waiting) and
satisfaction; only the reports the user may see, never another region's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.agencies.models import Agency, Category
from app.complaints import dashboard, service
from app.complaints.models import Complaint, Disposition, Rating, Status
from app.deadlines.policy import COORDINATION, FOLLOWUP, VERIFICATION
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.factories import make, submit_complaint

WITA = ZoneInfo("Asia/Makassar")
#: Friday 20 November 2026, 11.00 WITA (no holiday in November 2026).
NOW = datetime(2026, 11, 20, 11, 0, tzinfo=WITA).astimezone(UTC)


def wita(y, m, d, h=10, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=WITA).astimezone(UTC)


@pytest.fixture()
def people(bjm, ktg, make_user):
    return {"officer": make_user(bjm, "officer"), "pupr": make_user(bjm, "liaison", agency_code="pupr"),
            "ktg": make_user(ktg, "officer")}


def _ids(db, model, **by):
    return db.session.execute(select(model.id).filter_by(**by)).scalar_one()


@pytest.fixture()
def data(db, bjm, ktg, people):
    """Eight Banjarmasin reports in the period, one before it, and one Katingan report."""
    with tenant_scope(bjm.id):
        road, drain = _ids(db, Category, code="jalan"), _ids(db, Category, code="drainase")
        pupr, dishub = _ids(db, Agency, code="pupr"), _ids(db, Agency, code="dishub")

        def c(at, **kw):
            kw.setdefault("category_id", road)
            return make(Complaint, submitted_at=at, **kw)

        # Monday 16 Nov 00.30 WITA is still Sunday in UTC: it belongs to the week of 16 November.
        c1 = c(wita(2026, 11, 16, 0, 30), status=Status.ANSWERED, verified_on_time=True, answered_on_time=True,
               verified_at=wita(2026, 11, 16, 9), disposed_at=wita(2026, 11, 17, 9))
        # Sunday 15 Nov 23.30 WITA: the week of 9 November.
        c2 = c(wita(2026, 11, 15, 23, 30), status=Status.ANSWERED, verified_on_time=True, answered_on_time=False,
               verified_at=wita(2026, 11, 2, 9), disposed_at=wita(2026, 11, 16, 9), category_id=drain)
        c3 = c(wita(2026, 11, 3), status=Status.ARCHIVED, verified_on_time=False, category_id=None)
        # Waiting for verification: one past its deadline (late), one still within it (not counted yet).
        c(wita(2026, 11, 12), status=Status.SUBMITTED, due_stage=VERIFICATION, due_at=NOW - timedelta(hours=1))
        c(wita(2026, 11, 19), status=Status.SUBMITTED, due_stage=VERIFICATION, due_at=NOW + timedelta(days=1))
        # At the agency past the follow-up deadline; verified and waiting for a disposition past its deadline.
        c6 = c(wita(2026, 9, 1), status=Status.DISPOSED, due_stage=FOLLOWUP, due_at=NOW - timedelta(days=3),
               verified_on_time=True, verified_at=wita(2026, 9, 2), disposed_at=wita(2026, 9, 3))
        c(wita(2026, 10, 5), status=Status.VERIFIED, due_stage=COORDINATION, due_at=NOW - timedelta(days=1),
          verified_on_time=True, verified_at=wita(2026, 10, 6))
        # Before the period (the week of 31 August is the first): counted nowhere.
        old = c(wita(2026, 8, 30), status=Status.CLOSED, verified_on_time=False, answered_on_time=False)
        make(Disposition, complaint_id=c1.id, agency_id=pupr)
        make(Disposition, complaint_id=c2.id, agency_id=pupr)
        make(Disposition, complaint_id=c2.id, agency_id=dishub)
        make(Disposition, complaint_id=c3.id, agency_id=dishub, active=False)  # taken back: not counted
        make(Disposition, complaint_id=c6.id, agency_id=dishub)
        make(Rating, complaint_id=c1.id, score=5)
        make(Rating, complaint_id=c2.id, score=4)
        make(Rating, complaint_id=c2.id, cycle=1, score=2)
        make(Rating, complaint_id=old.id, score=1)
        db.session.commit()
    with tenant_scope(ktg.id):
        k = make(Complaint, submitted_at=wita(2026, 11, 16), verified_on_time=False)
        make(Rating, complaint_id=k.id, score=1)
        db.session.commit()


def _dash(bjm, user, now=NOW):
    with tenant_scope(bjm.id):
        return dashboard.region_dashboard(user, "id", now)


def test_weeks_are_the_regions_local_weeks_and_the_period_starts_twelve_mondays_back(db, bjm, people, data):
    d = _dash(bjm, people["officer"])
    assert d.first_day == date(2026, 8, 31) and d.last_day == date(2026, 11, 20)
    assert [w.start for w in d.weeks][-2:] == [date(2026, 11, 9), date(2026, 11, 16)]
    assert len(d.weeks) == 12 and all(w.start.weekday() == 0 for w in d.weeks)
    counts = {w.start: w.count for w in d.weeks}
    assert counts[date(2026, 11, 16)] == 2  # 16 Nov 00.30 WITA and 19 Nov
    assert counts[date(2026, 11, 9)] == 2  # 15 Nov 23.30 WITA and 12 Nov
    assert counts[date(2026, 11, 2)] == 1
    assert counts[date(2026, 10, 5)] == 1 and counts[date(2026, 8, 31)] == 1
    assert d.total == 7 == sum(counts.values())  # not the report of 30 August, not Katingan's


def test_categories_and_agencies_are_counted_per_report(db, bjm, people, data):
    d = _dash(bjm, people["officer"])
    assert [s.count for s in d.categories] == [5, 1, 1]
    assert d.categories[-1].key is None and d.categories[-1].count == 1
    by_agency = {s.label: s.count for s in d.agencies}
    assert by_agency == {"Dinas PUPR": 2, "Dishub": 2}  # c2 counts for both; c3's disposition was taken back
    assert d.not_disposed == 7 - 3


def test_on_time_per_stage_counts_late_whether_finished_or_still_waiting(db, bjm, people, data):
    rates = {r.stage: r for r in _dash(bjm, people["officer"]).stages}
    v = rates[VERIFICATION]
    assert (v.on_time, v.late_done, v.late_waiting, v.pending) == (4, 1, 1, 1)  # c1 c2 c6 c7 / c3 / c4 / c5
    assert v.share == pytest.approx(4 / 6)
    co = rates[COORDINATION]
    # c1 and c6 disposed the next day; c2 verified Mon 2 Nov (due Mon 9 Nov 23.59 WITA) disposed 16 Nov; c7 waits.
    assert (co.on_time, co.late_done, co.late_waiting) == (2, 1, 1)
    assert co.share == pytest.approx(0.5)
    f = rates[FOLLOWUP]
    assert (f.on_time, f.late_done, f.late_waiting) == (1, 1, 1)
    assert f.share == pytest.approx(1 / 3)


def test_satisfaction_counts_every_rating_of_the_periods_reports(db, bjm, people, data):
    sat = _dash(bjm, people["officer"]).satisfaction
    assert sat.counts == {5: 1, 4: 1, 2: 1} and sat.total == 3
    assert sat.average == pytest.approx(11 / 3)


def test_a_liaison_sees_the_figures_of_their_agencys_reports_only(db, bjm, people, data):
    d = _dash(bjm, people["pupr"])
    assert d.total == 2  # c1 and c2
    assert {s.label: s.count for s in d.agencies} == {"Dinas PUPR": 2, "Dishub": 1}
    assert d.satisfaction.total == 3
    assert {r.stage: r.on_time for r in d.stages}[VERIFICATION] == 2


def test_another_region_sees_only_its_own(db, ktg, people, data):
    d = _dash(ktg, people["ktg"])
    assert d.total == 1 and d.satisfaction.counts == {1: 1}
    assert {r.stage: (r.on_time, r.late) for r in d.stages}[VERIFICATION] == (0, 1)


def test_an_empty_region_has_no_rates_and_no_average(db, bjm, people):
    d = _dash(bjm, people["officer"])
    assert d.total == 0 and all(r.share is None for r in d.stages) and d.satisfaction.average is None
    with tenant_scope(bjm.id):
        charts = dashboard.charts(d, "id")
    assert [c.key for c in charts] == ["weekly", "category", "agency", "ontime", "satisfaction"]
    assert all(c.svg is None for c in charts)  # the page says "nothing to count" in words


def test_coordination_on_time_follows_the_services_own_deadline(db, bjm, people):
    """Through the real service: verified on a Friday, disposed on the fifth working day after (on time) and
    another on the sixth (late): the dashboard's rule is the clock's rule."""
    officer = people["officer"]
    with tenant_scope(bjm.id):
        pupr = _ids(db, Agency, code="pupr")
        results = []
        for disposed_day in (date(2026, 11, 13), date(2026, 11, 16)):  # Fri 6 Nov + 5 working days = Fri 13 Nov
            c, _ = submit_complaint(when=wita(2026, 11, 5), commit=False)
            actor = service.Actor.of(officer)
            with frozen_time(wita(2026, 11, 6, 15)):
                service.verify(c, actor)
            with frozen_time(datetime.combine(disposed_day, datetime.min.time(), tzinfo=WITA).replace(hour=23)):
                assert c.due_at is not None and c.due_stage == COORDINATION
                results.append(c.due_at)
                service.dispose(c, actor, [pupr])
        db.session.commit()
        co = {r.stage: r for r in dashboard.region_dashboard(officer, "id", NOW).stages}[COORDINATION]
    assert results[0] == results[1] == wita(2026, 11, 13, 23, 59) + timedelta(seconds=59)
    assert (co.on_time, co.late_done) == (1, 1)


def test_charts_carry_titles_text_alternatives_and_tables(db, bjm, people, data):
    d = _dash(bjm, people["officer"])
    with tenant_scope(bjm.id):
        charts = {c.key: c for c in dashboard.charts(d, "id")}
    assert all(c.svg is not None and 'role="img"' in c.svg for c in charts.values())
    assert ("Dinas PUPR", "2") in charts["agency"].rows
    ontime = dict((row[0], row[1]) for row in charts["ontime"].rows)
    assert list(ontime.values()) == ["67%", "50%", "33%"]
    assert "<desc" in charts["satisfaction"].svg and len(charts["weekly"].rows) == 12


def test_test_reports_are_left_out_of_the_dashboard(db, bjm, people, data):
    with tenant_scope(bjm.id):
        road = _ids(db, Category, code="jalan")
        make(Complaint, submitted_at=wita(2026, 11, 18), category_id=road, status=Status.SUBMITTED,
             due_stage=VERIFICATION, due_at=NOW - timedelta(hours=2), is_test=True)
        db.session.commit()
    d = _dash(bjm, people["officer"])
    assert d.total == 7 and {w.start: w.count for w in d.weeks}[date(2026, 11, 16)] == 2
    assert [s.count for s in d.categories] == [5, 1, 1]
