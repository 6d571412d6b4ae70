"""Send back (issue 17): an agency's liaison returns a disposition outside its remit to the complaint unit.

DOMAIN.md "Referral and send-back" and "Who is told what": the disposition ends, the unit re-disposes, the
coordination clock follows the unit's new disposition, the event is internal, the unit is told.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import access, actions, inbox, service
from app.complaints.models import Complaint, ComplaintEvent, Disposition, Status, Visibility
from app.complaints.workflow import TransitionError
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import deadline_for
from app.notifications.models import Notification, StaffNotification
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

# Tuesday 17 March 2026 15.00 WITA; verified Wednesday 25 March, disposed Thursday 26 March (after the holidays).
RECEIVED = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)
DISPOSED = datetime(2026, 3, 26, 2, 0, tzinfo=UTC)
SENT_BACK = datetime(2026, 3, 30, 3, 0, tzinfo=UTC)  # Monday
REDISPOSED = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)  # Wednesday
EXPLANATION = "Jalan Kayu Tangi adalah jalan provinsi, bukan kewenangan Dinas PUPR Kota."


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer", email="petugas@banjarmasin.example", name="Faturrahim")


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, "tenant_admin", email="admin@banjarmasin.example")


@pytest.fixture()
def pupr(bjm, make_user):
    return make_user(bjm, "liaison", email="pupr@banjarmasin.example", agency_code="pupr", name="Rahmat PUPR")


@pytest.fixture()
def dishub(bjm, make_user):
    return make_user(bjm, "liaison", email="dishub@banjarmasin.example", agency_code="dishub", name="Yanti Dishub")


def _agency(code: str) -> int:
    from app.extensions import db

    return db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()


def _disposed(db, bjm, officer, *codes, privacy="public"):
    """A report verified and disposed to ``codes`` (committed)."""
    with tenant_scope(bjm.id):
        c, _ = submit_complaint(when=RECEIVED, privacy=privacy, reporter_phone="+6281234567890")
        with frozen_time(VERIFIED):
            service.verify(c, service.Actor.of(officer))
        with frozen_time(DISPOSED):
            service.dispose(c, service.Actor.of(officer), [_agency(code) for code in codes])
        db.session.commit()
        return c


def _send_back(db, c, liaison, reason="wrong_agency", message=EXPLANATION, when=SENT_BACK):
    with frozen_time(when):
        event = service.send_back(c, service.Actor.of(liaison), reason, message)
    db.session.commit()
    return event


def test_the_last_agency_sends_back_the_report_returns_to_the_unit_and_the_clock_restarts(db, bjm, officer, pupr):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        followup_due = c.due_at
        assert c.status == Status.DISPOSED and c.due_stage == "followup"
        event = _send_back(db, c, pupr)
        assert c.status == Status.VERIFIED
        assert not db.session.execute(select(Disposition.active).filter_by(complaint_id=c.id)).scalar_one()
        assert c.sent_back_at == SENT_BACK
        # The coordination clock runs again, from the send-back: the unit's to dispose anew.
        cal = calendar_for_tenant(bjm)
        assert c.due_stage == "coordination"
        assert c.due_at == deadline_for(cal, bjm.settings, "coordination", SENT_BACK)
        assert c.due_at != followup_due
        assert event.kind == "send_back" and event.visibility == Visibility.INTERNAL
        assert event.before == {"status": Status.DISPOSED}
        assert event.after["status"] == Status.VERIFIED and event.after["reason"] == "wrong_agency"
        assert event.message == EXPLANATION

        # The unit re-disposes to another agency: the follow-up clock starts at that disposition.
        with frozen_time(REDISPOSED):
            service.dispose(c, service.Actor.of(officer), [_agency("dishub")])
        db.session.commit()
        assert c.status == Status.DISPOSED and c.sent_back_at is None
        assert c.due_stage == "followup" and c.stage_started_at == REDISPOSED
        assert c.due_at == deadline_for(cal, bjm.settings, "followup", REDISPOSED, complaint_class=c.complaint_class)


def test_with_another_agency_holding_it_the_report_stays_disposed_and_its_clock_runs_on(
        db, bjm, officer, pupr, dishub):
    c = _disposed(db, bjm, officer, "pupr", "dishub")
    with tenant_scope(bjm.id):
        due, stage_started = c.due_at, c.stage_started_at
        event = _send_back(db, c, pupr, reason="outside_remit")
        assert c.status == Status.DISPOSED
        assert (c.due_at, c.stage_started_at, c.due_stage) == (due, stage_started, "followup")
        assert event.before == {"status": Status.DISPOSED} and event.after["status"] == Status.DISPOSED
        active = {d.agency_id: d.active for d in db.session.execute(
            select(Disposition).filter_by(complaint_id=c.id)).scalars()}
        assert active == {_agency("pupr"): False, _agency("dishub"): True}
        # PUPR's liaison no longer sees it; Dishub's still does, and may still send it back itself.
        with pytest.raises(Exception):  # noqa: B017 (NotFound)
            access.access_complaint(c.id, pupr)
        assert access.access_complaint(c.id, dishub).id == c.id
        assert "send_back" in {a.action for a in actions.available_actions(c, dishub)}
        # The unit finds it: the "sent back" list and its work queue.
        listed = inbox.paginate(officer, inbox.InboxFilters(only="sent_back")).items
        assert [x.id for x in listed] == [c.id]
        assert c.id in {x.id for x in inbox.work_queue(officer, limit=50)}
        _send_back(db, c, dishub, reason="unit_decision")
        assert c.status == Status.VERIFIED and c.due_stage == "coordination"


def test_a_liaison_of_another_agency_cannot_send_back_nor_can_the_unit(db, bjm, officer, pupr, dishub):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        with pytest.raises(TransitionError):
            service.send_back(c, service.Actor.of(dishub), "wrong_agency", EXPLANATION)
        with pytest.raises(TransitionError):
            service.send_back(c, service.Actor.of(officer), "wrong_agency", EXPLANATION)
        db.session.rollback()
        c = db.session.get(Complaint, c.id)
        assert c.status == Status.DISPOSED and c.sent_back_at is None
        assert "send_back" not in {a.action for a in actions.available_actions(c, officer)}
        assert "send_back" in {a.action for a in actions.available_actions(c, pupr)}


def test_reason_and_explanation_are_required(db, bjm, officer, pupr):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        with pytest.raises(service.ValidationError) as exc:
            service.send_back(c, service.Actor.of(pupr), "because", "  ")
        assert set(exc.value.errors) == {"reason", "message"}
        db.session.rollback()
        assert db.session.get(Complaint, c.id).status == Status.DISPOSED


def test_no_send_back_while_the_agencys_follow_up_is_under_review(db, bjm, officer, pupr):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        service.save_followup_draft(c, service.Actor.of(pupr), "Lubang sudah ditambal kemarin sore.", submit=True)
        db.session.commit()
        assert "send_back" not in {a.action for a in actions.available_actions(c, pupr)}
        with pytest.raises(TransitionError):
            service.send_back(c, service.Actor.of(pupr), "wrong_agency", EXPLANATION)


def test_the_event_is_internal_never_public_and_tells_the_reporter_nothing(db, bjm, officer, pupr):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        event = _send_back(db, c, pupr)
        assert event.id in {e.id for e in access.timeline(c, for_staff=True)}
        assert event.id not in {e.id for e in access.timeline(c, for_staff=False)}
        to_citizen = db.session.execute(select(Notification.recipient).filter_by(
            event_key=f"event:{event.id}").where(Notification.recipient.in_(
                ("siti@contoh.id", "+6281234567890")))).all()
        assert to_citizen == []


@pytest.mark.parametrize("privacy", ["public", "anonim", "rahasia"])
def test_the_unit_is_told_not_the_liaison_who_acted_and_never_the_reporters_identity(
        db, bjm, officer, admin, pupr, dishub, privacy):
    c = _disposed(db, bjm, officer, "pupr", privacy=privacy)
    with tenant_scope(bjm.id):
        event = _send_back(db, c, pupr)
        told = {n.user_id for n in db.session.execute(
            select(StaffNotification).filter_by(event_id=event.id)).scalars()}
        assert told == {officer.id, admin.id}  # not PUPR's liaison who acted, not Dishub's
        mails = {n.recipient: n for n in db.session.execute(
            select(Notification).filter_by(event_key=f"event:{event.id}")).scalars()}
        assert set(mails) == {officer.email, admin.email}
        body = mails[officer.email].body
        assert c.code in body and EXPLANATION in body
        assert "Dinas Pekerjaan Umum dan Penataan Ruang Kota Banjarmasin" in body
        assert "Salah perangkat daerah" in body  # the reason, in the officer's language (the region's: id)
        assert "disposisikan kembali" in body  # no agency left: the unit is asked to dispose again
        for secret in ("Siti", "siti@contoh.id", "+6281234567890", "81234567890"):
            assert secret not in body and secret not in mails[officer.email].subject


def test_the_unit_may_choose_how_it_hears_of_send_backs(db, bjm, officer):
    from app.notifications import rules

    with tenant_scope(bjm.id):
        assert "sendback" in rules.preferences_of(officer)


def test_other_regions_never_see_a_send_back(db, bjm, ktg, officer, pupr, make_user):
    c = _disposed(db, bjm, officer, "pupr")
    with tenant_scope(bjm.id):
        _send_back(db, c, pupr)
    other = make_user(ktg, "officer", email="petugas@katingan.example")
    with tenant_scope(ktg.id):
        assert inbox.paginate(other, inbox.InboxFilters(only="sent_back")).items == []
        assert db.session.execute(select(ComplaintEvent).filter_by(kind="send_back")).all() == []
