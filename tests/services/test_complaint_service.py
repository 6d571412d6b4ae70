"""The complaint lifecycle through the service layer, on a real database."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.complaints import service
from app.complaints.events import EventContext
from app.complaints.models import (
    AppendOnlyViolation,
    Complaint,
    ComplaintEvent,
    Follower,
    FollowUpStatus,
    Privacy,
    Status,
    Visibility,
)
from app.complaints.workflow import StaleComplaint, TransitionError, allowed_actions
from app.notifications import rules
from app.notifications.models import Notification
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

# Tuesday 17 March 2026 15.00 WITA (07.00 UTC): the DOMAIN.md example.
RECEIVED = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)


def submit(db, tenant, when=RECEIVED, **kw):
    """Through tests/factories.submit_complaint, in the tenant the caller has bound; (complaint, created)."""
    return submit_complaint(when=when, **kw)


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer", name="Faturrahim")


@pytest.fixture()
def liaison(bjm, make_user):
    return make_user(bjm, "liaison", agency_code="pupr")


def agency_id(db, code):
    from app.agencies.models import Agency

    return db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()


def test_submission_gets_a_readable_code_and_the_verification_deadline(db, bjm):
    with tenant_scope(bjm.id):
        c, created = submit(db, bjm)
        assert created
        assert c.code == "BJM-26-00001"
        assert c.status == Status.SUBMITTED
        # DOMAIN.md: day 0 is 17 March; 18–24 March are holidays/cuti bersama; working days 25, 26, 27.
        assert c.due_at == datetime(2026, 3, 27, 15, 59, 59, tzinfo=UTC)  # 23.59.59 WITA
        assert c.due_stage == "verification"
        c2, _ = submit(db, bjm)
        assert c2.code == "BJM-26-00002"


def test_tracking_codes_are_per_tenant_and_use_the_tenants_local_year(db, bjm, ktg):
    new_year_wita = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00.30 WITA on 1 Jan 2027, 23.30 WIB
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm, when=new_year_wita)
        assert c.code == "BJM-27-00001"
    with tenant_scope(ktg.id):
        c, _ = submit(db, ktg, when=new_year_wita)
        assert c.code == "KTG-26-00001"


def test_double_submit_with_the_same_key_creates_one_complaint(db, bjm):
    with tenant_scope(bjm.id):
        first, created1 = submit(db, bjm, submission_key="k" * 32)
        again, created2 = submit(db, bjm, submission_key="k" * 32)
        assert created1 and not created2
        assert again.id == first.id
        assert db.session.scalar(select(func.count(Complaint.id))) == 1


def test_invalid_submission_writes_nothing(db, bjm):
    with tenant_scope(bjm.id):
        with pytest.raises(service.ValidationError) as err:
            submit(db, bjm, title="x", description="short", complaint_class="bogus")
        assert set(err.value.errors) == {"title", "description", "complaint_class"}
        db.session.rollback()
        assert db.session.scalar(select(func.count(Complaint.id))) == 0
        assert db.session.scalar(select(func.count(ComplaintEvent.id))) == 0


def test_the_whole_path_submit_verify_dispose_draft_publish_reply_rate_close(db, bjm, officer, liaison):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        unit = service.Actor.of(officer)
        with frozen_time(datetime(2026, 3, 25, 2, 0, tzinfo=UTC)):
            service.verify(c, unit, complaint_class="pengaduan", tags=["jalan"], expected_version=c.version)
        assert c.status == Status.VERIFIED and c.verified_on_time is True
        with frozen_time(datetime(2026, 3, 26, 2, 0, tzinfo=UTC)):  # Thursday 26 March, 10.00 WITA
            service.dispose(c, unit, [agency_id(db, "pupr")], instruction="Mohon dicek", expected_version=c.version)
        assert c.status == Status.DISPOSED
        # pengaduan, 14 working days from Thu 26 March (day 0): 27, 30, 31 Mar, 1, 2 Apr (5),
        # 3 Apr is Good Friday, 6–10 Apr (10), 13, 14, 15, 16 Apr (14) → Thursday 16 April 23.59.59 WITA.
        assert c.due_stage == "followup"
        assert c.due_at == datetime(2026, 4, 16, 15, 59, 59, tzinfo=UTC)
        fu = service.save_followup_draft(c, service.Actor.of(liaison), "Lubang sudah ditambal pada hari Kamis.",
                                         submit=True)
        assert fu.status == FollowUpStatus.SUBMITTED
        with frozen_time(datetime(2026, 4, 1, 3, 0, tzinfo=UTC)):
            service.publish_followup(c, unit, fu.id, expected_version=c.version)
        assert c.status == Status.ANSWERED and c.answered_on_time is True
        assert c.due_stage == "auto_close"
        service.citizen_reply(c, "Terima kasih, sudah diperbaiki tetapi masih ada genangan.")
        assert c.status == Status.DISPOSED
        fu2 = service.save_followup_draft(c, unit, "Genangan akan ditangani dengan saluran baru.",
                                          agency_id=agency_id(db, "pupr"), submit=True)
        service.publish_followup(c, unit, fu2.id)
        service.rate(c, 5, "Cepat")
        service.close(c, unit, expected_version=c.version)
        db.session.commit()
        assert c.status == Status.CLOSED
        kinds = [e.kind for e in db.session.execute(
            select(ComplaintEvent).filter_by(complaint_id=c.id).order_by(ComplaintEvent.id)).scalars()]
        assert kinds[:4] == ["submit", "verify", "dispose", "note"]
        assert "publish_followup" in kinds and "citizen_reply" in kinds and kinds[-1] == "close"


def test_illegal_transition_is_refused_with_a_translated_reason(db, bjm, officer):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        with pytest.raises(TransitionError) as err:
            service.close(c, service.Actor.of(officer))
        reason = err.value.message  # lazy: rendered in the active language
        with force_locale("en"):
            assert "Awaiting verification" in str(reason)
        with force_locale("id"):
            assert gettext("Awaiting verification") in str(reason) and "Awaiting" not in str(reason)
        assert c.status == Status.SUBMITTED
        assert "close" not in allowed_actions(c.status, "officer")
        assert "verify" in allowed_actions(c.status, "officer")
        assert "verify" not in allowed_actions(c.status, "liaison")


def test_liaison_may_not_verify_or_publish(db, bjm, liaison):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        with pytest.raises(TransitionError):
            service.verify(c, service.Actor.of(liaison))


def test_second_officer_acting_on_a_stale_version_is_told_it_changed(db, bjm, officer, make_user):
    other = make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        seen_version = c.version
        service.verify(c, service.Actor.of(officer), title="Jalan berlubang, Kayu Tangi", expected_version=seen_version)
        db.session.commit()
        with pytest.raises(StaleComplaint):
            service.archive(c, service.Actor.of(other), "spam", expected_version=seen_version)
        assert c.title == "Jalan berlubang, Kayu Tangi" and c.status == Status.VERIFIED


def test_hold_pauses_the_clock_and_citizen_information_resumes_it(db, bjm, officer):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        original_due = c.due_at
        with frozen_time(datetime(2026, 3, 25, 2, 0, tzinfo=UTC)):  # Wed 25 March
            service.hold(c, service.Actor.of(officer), "Mohon kirim foto lokasi.")
        assert c.status == Status.ON_HOLD and c.due_at is None
        with frozen_time(datetime(2026, 3, 27, 2, 0, tzinfo=UTC)):  # Fri 27 March: paused 2 working days
            service.add_information(c, "Foto dan alamat lengkap: Jl. Kayu Tangi II no. 5.")
        assert c.status == Status.SUBMITTED
        assert c.paused_working_days == 2
        # 27 March + 2 working days = Tuesday 31 March
        assert original_due == datetime(2026, 3, 27, 15, 59, 59, tzinfo=UTC)
        assert c.due_at == datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)


def test_merge_keeps_followers_with_their_own_report_and_tells_them_with_their_own_link(db, bjm, officer):
    with tenant_scope(bjm.id):
        primary, _ = submit(db, bjm, reporter_email="a@contoh.id")
        dup, _ = submit(db, bjm, reporter_email="b@contoh.id", reporter_phone="081234567890")
        service.merge(dup, primary, service.Actor.of(officer))
        db.session.commit()
        assert dup.status == Status.MERGED and dup.merged_into_id == primary.id
        followers = {(f.channel, f.recipient) for f in db.session.execute(
            select(Follower).filter_by(complaint_id=primary.id)).scalars()}
        assert followers == {("email", "a@contoh.id")}
        event = service.verify(primary, service.Actor.of(officer))
        db.session.commit()
        notes = {n.recipient: n for n in db.session.execute(
            select(Notification).filter_by(event_key=f"event:{event.id}")).scalars()}
        assert set(notes) == {"a@contoh.id", "b@contoh.id", "+6281234567890"}
        assert f"t={primary.access_token}" in notes["a@contoh.id"].body
        for recipient in ("b@contoh.id", "+6281234567890"):
            assert primary.access_token not in notes[recipient].body
            assert f"/lacak/{dup.code}?t={dup.access_token}" in notes[recipient].body


def test_each_follower_gets_one_message_per_event_even_if_notified_twice(db, bjm, officer):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        event = service.verify(c, service.Actor.of(officer))
        again = rules.notify_citizens(c, event, EventContext(actor_role="officer", actor_user_id=officer.id))
        db.session.commit()
        assert again == 0
        count = db.session.scalar(select(func.count(Notification.id)).filter_by(event_key=f"event:{event.id}"))
        assert count == 1


def test_internal_notes_are_not_public_events(db, bjm, officer):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        e = service.note(c, service.Actor.of(officer), "Pelapor pernah melapor hal serupa.")
        assert e.visibility == Visibility.INTERNAL


def test_events_are_append_only(db, bjm):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        event = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id)).scalar_one()
        event.message = "rewritten history"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        event = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id)).scalar_one()
        db.session.delete(event)
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()


def test_sweep_flags_overdue_escalates_once_and_auto_closes(db, bjm, officer, make_user):
    from app.complaints.sweep import sweep_tenant

    make_user(bjm, "officer", email="kepala@banjarmasin.example", is_unit_head=True)
    with tenant_scope(bjm.id):
        late, _ = submit(db, bjm)
        answered, _ = submit(db, bjm, title="Parkir liar di Pasar Lama")
        unit = service.Actor.of(officer)
        service.verify(answered, unit)
        service.dispose(answered, unit, [agency_id(db, "dishub")])
        fu = service.save_followup_draft(answered, unit, "Juru parkir liar sudah ditertibkan.",
                                         agency_id=agency_id(db, "dishub"), submit=True)
        with frozen_time(datetime(2026, 3, 26, 2, 0, tzinfo=UTC)):
            service.publish_followup(answered, unit, fu.id)
        db.session.commit()
        # Friday 27 March 23.59 WITA is the verification deadline of `late`.
        due_soon_at = datetime(2026, 3, 26, 3, 0, tzinfo=UTC)
        counts = sweep_tenant(bjm, due_soon_at)
        assert late.deadline_state == "due_soon" and counts["escalated"] == 0
        after = datetime(2026, 3, 27, 16, 0, 1, tzinfo=UTC)  # Saturday 00.00.01 WITA
        counts = sweep_tenant(bjm, after)
        assert late.deadline_state == "overdue" and counts["escalated"] == 1
        counts = sweep_tenant(bjm, after + timedelta(hours=1))
        assert counts["escalated"] == 0, "escalation happens once per stage"
        escalations = db.session.scalar(select(func.count(ComplaintEvent.id)).filter_by(kind="escalate"))
        assert escalations == 1
        # auto close: published Thu 26 March; 10 working days → Friday 10 April (3 April is Good Friday)
        assert answered.due_at == datetime(2026, 4, 10, 15, 59, 59, tzinfo=UTC)
        sweep_tenant(bjm, datetime(2026, 4, 10, 15, 0, tzinfo=UTC))
        assert answered.status == Status.ANSWERED
        counts = sweep_tenant(bjm, datetime(2026, 4, 10, 16, 0, tzinfo=UTC))
        assert answered.status == Status.CLOSED and counts["auto_closed"] == 1
        assert sweep_tenant(bjm, datetime(2026, 4, 11, tzinfo=UTC))["auto_closed"] == 0


def test_citizen_reopen_only_within_the_window(db, bjm, officer):
    with tenant_scope(bjm.id):
        c, _ = submit(db, bjm)
        unit = service.Actor.of(officer)
        service.verify(c, unit)
        service.dispose(c, unit, [agency_id(db, "pupr")])
        fu = service.save_followup_draft(c, unit, "Sudah diperbaiki oleh tim.", agency_id=agency_id(db, "pupr"),
                                         submit=True)
        service.publish_followup(c, unit, fu.id)
        with frozen_time(datetime(2026, 4, 1, 2, 0, tzinfo=UTC)):
            service.close(c, unit)
        with frozen_time(datetime(2026, 5, 29, 2, 0, tzinfo=UTC)):
            with pytest.raises(TransitionError):
                service.reopen(c, service.CITIZEN, "Masih rusak")
        with frozen_time(datetime(2026, 4, 8, 2, 0, tzinfo=UTC)):
            service.reopen(c, service.CITIZEN, "Masih rusak")
        assert c.status == Status.DISPOSED and c.reopen_count == 1


def test_privacy_choice_sets_the_flags(db, bjm):
    with tenant_scope(bjm.id):
        anon, _ = submit(db, bjm, privacy=Privacy.ANONYMOUS)
        secret, _ = submit(db, bjm, privacy=Privacy.CONFIDENTIAL)
        assert anon.anonymous and not anon.confidential and anon.privacy == "anonim"
        assert secret.confidential and secret.privacy == "rahasia"
