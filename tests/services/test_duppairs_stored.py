"""Stored duplicate candidates (issue 17): the pairs are written by the job a submission or an edit queues,
replaced (both ways round) when the report changes, the same when run twice; the inbox filter "possible duplicates"
reads them and lists exactly the open reports with an open candidate the user may see; the report page agrees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.agencies.models import Agency, Category
from app.complaints import duplicate_pairs, duplicates, inbox, service
from app.complaints.duplicates import DuplicateCandidate
from app.complaints.models import Complaint, Status
from app.extensions import db
from app.jobs.outbox import OutboxMessage, relay
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint
from tests.services.test_sendback_duplicates import FAR, FIRST, LAT, LON, NEAR, OTHER_TOPIC, SECOND, T0

# The same reports as the candidate tests: a pothole on Jalan Kayu Tangi reported twice ~15 m apart.
THIRD = {"title": "Jalan Kayu Tangi berlubang besar", "description":
         "Lubang besar di jalan Kayu Tangi depan SDN 5 belum juga diperbaiki, berbahaya bagi motor."}


def report(minutes=0, point=(LAT, LON), category="jalan", texts=FIRST, **kw):
    lat, lon = point if point else (None, None)
    c, _ = submit_complaint(when=T0 + timedelta(minutes=minutes), category=category, latitude=lat, longitude=lon,
                            **texts, **kw)
    return c


def pairs() -> set[tuple[int, int]]:
    return set(db_rows(select(DuplicateCandidate.complaint_id, DuplicateCandidate.other_id)))


def flagged() -> set[int]:
    """Reports whose ``has_duplicate_candidate`` flag is set."""
    return {i for (i,) in db_rows(select(Complaint.id).where(Complaint.has_duplicate_candidate.is_(True)))}


def db_rows(stmt):
    return db.session.execute(stmt).all()


def listed(user) -> set[int]:
    page = inbox.paginate(user, inbox.InboxFilters(only="duplicates"), per_page=100)
    return {c.id for c in page.items}


def category_id(code: str) -> int:
    return db_rows(select(Category.id).filter_by(code=code))[0][0]


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer")


def test_a_submission_queues_the_job_that_stores_the_pairs_both_ways(db, bjm, officer):
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        jobs = db_rows(select(OutboxMessage.payload).where(OutboxMessage.job == duplicate_pairs.JOB))
        assert sorted(p["complaint_id"] for (p,) in jobs) == [a.id, b.id]  # written with the submission
        assert pairs() == set()  # not on the request path: after commit, by the job
        assert listed(officer) == set()
        assert relay()["ran"] >= 2
        assert pairs() == {(a.id, b.id), (b.id, a.id)}
        assert listed(officer) == {a.id, b.id}


def test_an_edit_of_the_category_replaces_the_pairs_and_the_job_is_idempotent(db, bjm, officer):
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        relay()
        assert pairs() == {(a.id, b.id), (b.id, a.id)}
        service.verify(b, actor, category_id=category_id("sampah"))  # no longer the same category
        db.session.commit()
        relay()
        assert pairs() == set() and listed(officer) == set()
        service.edit(b, actor, category_id=category_id("jalan"))
        db.session.commit()
        relay()
        assert pairs() == {(a.id, b.id), (b.id, a.id)}
        before = set(db_rows(select(DuplicateCandidate.complaint_id, DuplicateCandidate.other_id,
                                    DuplicateCandidate.score)))
        for _ in range(2):  # the same job twice (a redelivery): the same rows
            duplicate_pairs.scan_job(tenant_id=bjm.id, complaint_id=b.id)
            duplicate_pairs.scan_job(tenant_id=bjm.id, complaint_id=a.id)
            db.session.commit()
            assert set(db_rows(select(DuplicateCandidate.complaint_id, DuplicateCandidate.other_id,
                                      DuplicateCandidate.score))) == before


def test_an_edit_that_changes_nothing_compared_queues_no_job(db, bjm, officer):
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        a = report()
        service.verify(a, actor)
        service.edit(a, actor, tags=["jalan"])
        queued = db_rows(select(OutboxMessage.id).where(OutboxMessage.job == duplicate_pairs.JOB))
        assert len(queued) == 1  # the submission's only


def test_the_filter_lists_exactly_the_open_reports_with_an_open_candidate(db, bjm, officer):
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        c = report(2, point=NEAR, texts=THIRD)
        lone = report(3, point=FAR, texts=OTHER_TOPIC, category="sampah")
        relay()
        assert listed(officer) == {a.id, b.id, c.id}
        service.merge(c, a, actor)  # merged: out at once (no longer open), and no longer anyone's candidate
        db.session.commit()
        assert listed(officer) == {a.id, b.id}
        relay()
        assert listed(officer) == {a.id, b.id} and flagged() == {a.id, b.id}
        service.archive(b, actor, "Laporan uji")  # closed: out at once; a's flag falls with the job after it
        db.session.commit()
        assert listed(officer) == {a.id}
        relay()
        assert listed(officer) == set() and flagged() == set()
        assert lone.status == Status.SUBMITTED
        counts = inbox.status_counts(officer, inbox.InboxFilters(only="duplicates"))
        assert sum(counts.values()) == 0


def test_a_liaison_sees_only_reports_and_candidates_disposed_to_their_agency(db, bjm, officer, make_user):
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        pupr = db_rows(select(Agency.id).filter_by(code="pupr"))[0][0]
        dishub = db_rows(select(Agency.id).filter_by(code="dishub"))[0][0]
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        relay()
        for c, agency in ((a, pupr), (b, dishub)):
            service.verify(c, actor)
            service.dispose(c, actor, [agency])
        db.session.commit()
        assert listed(officer) == {a.id, b.id}
        assert listed(liaison) == set()  # b is Dishub's
        service.dispose(b, actor, [pupr])
        db.session.commit()
        assert listed(liaison) == {a.id, b.id}


def test_another_region_never(db, bjm, ktg, officer, make_user):
    with tenant_scope(bjm.id):
        a = report(point=None)
    with tenant_scope(ktg.id):
        b = report(1, point=None)
        relay()
        k_officer = make_user(ktg, "officer")
        assert pairs() == set() and listed(k_officer) == set()
        # The database refuses a pair naming another region's report.
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(DuplicateCandidate(complaint_id=b.id, other_id=a.id, score=1.0))
            db.session.flush()
    with tenant_scope(bjm.id):
        assert pairs() == set() and listed(officer) == set()


def test_the_report_page_and_the_filter_agree(db, bjm, officer, make_user):
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        pupr = db_rows(select(Agency.id).filter_by(code="pupr"))[0][0]
        made = [report(), report(1, point=NEAR, texts=SECOND), report(2, point=None, texts=THIRD, category=None),
                report(3, point=FAR), report(4, point=FAR, texts=OTHER_TOPIC),
                report(5, point=NEAR, texts=OTHER_TOPIC, category="sampah"),
                report(60 * 24 * 9, texts=SECOND)]
        relay()
        service.archive(made[1], actor, "Laporan uji")
        for c in (made[0], made[2]):
            service.verify(c, actor)
            service.dispose(c, actor, [pupr])
        db.session.commit()
        relay()
        for user in (officer, liaison):
            in_filter = listed(user)
            visible = {c.id for c in db.session.execute(select(Complaint)).scalars()
                       if user is officer or c.id in {made[0].id, made[2].id}}
            on_page = {c.id for c in made if c.id in visible and duplicates.candidates(c, user)}
            assert in_filter == on_page
        assert listed(officer)  # the comparison is not vacuous


def test_the_scan_command_fills_the_pairs_of_existing_reports(app, db, bjm, officer):
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        db.session.execute(OutboxMessage.__table__.delete())  # reports from before the table existed
        db.session.commit()
        assert pairs() == set()
    result = app.test_cli_runner().invoke(args=["duplicates", "scan", "--tenant", bjm.slug])
    assert result.exit_code == 0, result.output
    assert "1 candidate pairs" in result.output
    with tenant_scope(bjm.id):
        assert pairs() == {(a.id, b.id), (b.id, a.id)}
        assert listed(officer) == {a.id, b.id}


def test_a_report_leaving_the_open_set_loses_its_pairs(db, bjm, officer):
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        c = report(2, point=NEAR, texts=THIRD)
        relay()
        assert len(pairs()) == 6
        service.archive(b, actor, "Laporan uji")
        db.session.commit()
        assert listed(officer) == {a.id, c.id}  # at once, before any job
        relay()
        assert pairs() == {(a.id, c.id), (c.id, a.id)}


def test_the_flag_is_true_exactly_while_a_pair_names_the_report(db, bjm, officer):
    """The unit's filter reads ``has_duplicate_candidate``: the job keeps it equal to "a stored pair names the
    report" through new pairs, replaced pairs, a merge, and a stale value, without touching the version."""
    actor = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        a = report()
        b = report(1, point=NEAR, texts=SECOND)
        lone = report(3, point=FAR, texts=OTHER_TOPIC, category="sampah")
        relay()
        assert flagged() == {a.id, b.id} == {x for x, _ in pairs()}
        version = db.session.get(Complaint, a.id).version
        c = report(2, point=NEAR, texts=THIRD)
        relay()  # c's scan pairs it with a and b, and flags it
        assert flagged() == {a.id, b.id, c.id} == {x for x, _ in pairs()}
        service.verify(c, actor, category_id=category_id("sampah"))  # c leaves the category: its pairs go
        db.session.commit()
        relay()
        assert flagged() == {a.id, b.id} == {x for x, _ in pairs()}
        service.merge(b, a, actor)  # a's only partner merged into it: both lose the flag
        db.session.commit()
        relay()
        assert flagged() == set() == {x for x, _ in pairs()}
        db.session.expire_all()
        assert db.session.get(Complaint, a.id).version == version  # the job changed no report
        lone.has_duplicate_candidate = True  # a stale flag (e.g. set by hand): the next scan corrects it
        db.session.commit()
        assert listed(officer) == {lone.id}
        duplicate_pairs.scan_job(tenant_id=bjm.id, complaint_id=lone.id)
        db.session.commit()
        assert flagged() == set() and listed(officer) == set()
