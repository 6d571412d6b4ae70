"""Referral between regions on the platform (issue 17, "no wrong door"): Banjarmasin refers a report to
Katingan; the linked report appears there only once the outbox job has run, awaits Katingan's decision, and
every public step there is mirrored once onto the original, where it reaches the reporter. Each region sees
only its own half; a rahasia report stays rahasia and an anonymous reporter's identity never travels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.central.comparison import region_indicators
from app.complaints import referrals, service
from app.complaints.actions import available_actions
from app.complaints.models import Attachment, Complaint, ComplaintEvent, Follower, Status
from app.complaints.referral_models import Referral
from app.jobs.outbox import OutboxMessage, relay
from app.notifications.models import Notification, StaffNotification
from app.tenancy.models import TenantStatus
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import REPORTER, fresh, make_staff, submit

NOTE = "Jalan poros Kasongan–Tumbang Samba adalah wewenang Kabupaten Katingan."


@pytest.fixture()
def officers(bjm, ktg, make_user):
    return make_staff(make_user, bjm, "officer"), make_staff(make_user, ktg, "officer")


def _refer(db, bjm, ktg, officer, privacy="public", photo=True, run=True) -> int:
    """A Banjarmasin report with a photo referred to Katingan (committed); with ``run`` the outbox relays."""
    c = submit(db, bjm, privacy=privacy, with_photo=photo, category="jalan")
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c.id)
        referrals.refer(c, service.Actor.of(officer), ktg.id, None, NOTE)
        db.session.commit()
    if run:
        relay(tenant_ids={bjm.id})
    return c.id


def _linked(db, ktg) -> list[Complaint]:
    db.session.expire_all()
    with tenant_scope(ktg.id):
        return list(db.session.execute(select(Complaint).filter_by(source=referrals.SOURCE)).scalars())


def _events(db, tenant, c_id) -> list[ComplaintEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return list(db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c_id)
                                       .order_by(ComplaintEvent.id)).scalars())


def test_the_refer_form_offers_the_other_live_regions_never_the_own(db, bjm, ktg):
    with tenant_scope(bjm.id):
        assert [t.slug for t in referrals.regions_to_refer_to()] == ["katingan"]
    with tenant_scope(ktg.id):
        assert [t.slug for t in referrals.regions_to_refer_to()] == ["banjarmasin"]
    ktg.status = TenantStatus.SUSPENDED
    db.session.flush()
    with tenant_scope(bjm.id):
        assert referrals.regions_to_refer_to() == []


def test_referring_to_the_own_or_an_unknown_region_is_refused(db, bjm, ktg, officers):
    c = submit(db, bjm)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c.id)
        for target in (bjm.id, 99_999):
            with pytest.raises(service.ValidationError) as err:
                referrals.refer(c, service.Actor.of(officers[0]), target, None)
            assert "target_tenant_id" in err.value.errors
        db.session.rollback()


def test_a_referral_creates_the_linked_report_in_the_other_region_once_the_job_has_run(db, bjm, ktg, officers):
    c_id = _refer(db, bjm, ktg, officers[0], run=False)
    source = fresh(db, bjm, c_id)
    assert source.status == Status.REFERRED and source.closed_at is not None  # finished in Banjarmasin
    assert source.refer_to == ktg.name
    assert _linked(db, ktg) == []  # nothing crossed inside Banjarmasin's request
    with tenant_scope(bjm.id):
        assert db.session.execute(select(OutboxMessage.job).where(OutboxMessage.processed_at.is_(None))
                                  ).scalars().all().count("referral.deliver") == 1

    relay(tenant_ids={bjm.id})
    [linked] = _linked(db, ktg)
    with tenant_scope(ktg.id):
        assert linked.code.startswith("KTG-") and linked.status == Status.SUBMITTED
        assert linked.awaiting_referral_decision and linked.due_at is None  # no clock before the decision
        assert (linked.title, linked.description) == (source.title, source.description)
        assert linked.category is not None and linked.category.code == "jalan"  # Katingan's own category
        assert (linked.anonymous, linked.confidential) == (False, False)
        assert linked.reporter_name == REPORTER["name"]  # a named report: the name only
        assert (linked.reporter_email, linked.reporter_phone, linked.reporter_user_id) == (None, None, None)
        [att] = db.session.execute(select(Attachment).filter_by(complaint_id=linked.id)).scalars().all()
        assert att.public and att.storage_key.startswith(f"{ktg.id}/")
        assert db.session.execute(select(Follower).filter_by(complaint_id=linked.id)).first() is None
        row = referrals.incoming(linked)
        assert (row.peer_code, row.peer_tenant_id, row.status, row.note) == (source.code, bjm.id, "awaiting", NOTE)
        told = db.session.execute(select(StaffNotification.user_id).filter_by(kind="receive_referral")).scalars()
        assert list(told) == [officers[1].id]  # Katingan's complaint unit
    with tenant_scope(bjm.id):
        out = referrals.outgoing(source)
        assert (out.status, out.peer_code, out.peer_public) == ("awaiting", linked.code, True)
    assert [e.kind for e in _events(db, bjm, c_id)][-2:] == ["refer", "referral_delivered"]

    # Run again (a job retried after a lost acknowledgement): nothing new on either side.
    with tenant_scope(bjm.id):
        assert referrals.deliver(tenant_id=bjm.id, referral_id=out.id) == "already"
    assert len(_linked(db, ktg)) == 1


def test_while_the_decision_is_awaited_only_accept_decline_or_a_note_are_possible(db, bjm, ktg, officers):
    _refer(db, bjm, ktg, officers[0])
    [linked] = _linked(db, ktg)
    unit = service.Actor.of(officers[1])
    with tenant_scope(ktg.id):
        linked = db.session.get(Complaint, linked.id)
        assert {a.action for a in available_actions(linked, officers[1])} == {
            "accept_referral", "decline_referral", "note"}
        for action in (lambda: service.verify(linked, unit), lambda: service.archive(linked, unit, "Spam"),
                       lambda: service.hold(linked, unit, "Alamat lengkapnya?")):
            with pytest.raises(service.TransitionError):
                action()
        db.session.rollback()


def test_accepting_starts_the_clock_and_each_public_step_is_mirrored_once(db, bjm, ktg, officers):
    c_id = _refer(db, bjm, ktg, officers[0])
    [linked] = _linked(db, ktg)
    unit = service.Actor.of(officers[1])
    with tenant_scope(ktg.id):
        linked = db.session.get(Complaint, linked.id)
        referrals.accept(linked, unit)
        assert not linked.awaiting_referral_decision and linked.due_stage == "verification"
        assert linked.due_at is not None
        service.note(linked, unit, "Cek dulu ke Dinas PUPR.")  # internal: never mirrored
        db.session.commit()
    relay(tenant_ids={ktg.id})
    with tenant_scope(ktg.id):
        linked = db.session.get(Complaint, linked.id)
        service.verify(linked, unit)
        db.session.commit()
        in_id = referrals.incoming(linked).id
    relay(tenant_ids={ktg.id})
    with tenant_scope(ktg.id):  # a duplicate run of the mirror job changes nothing
        assert referrals.sync(tenant_id=ktg.id, referral_id=in_id) == "mirrored 0"
        db.session.commit()

    mirrored = [e for e in _events(db, bjm, c_id) if e.kind == "referral_update"]
    assert [e.after["kind"] for e in mirrored] == ["accept_referral", "verify"]
    assert all(linked.code in e.message and e.visibility == "public" for e in mirrored)
    assert not any("PUPR" in (e.message or "") for e in mirrored)
    source = fresh(db, bjm, c_id)
    assert source.status == Status.REFERRED  # still finished in Banjarmasin
    with tenant_scope(bjm.id):
        out = referrals.outgoing(source)
        assert (out.status, out.peer_status) == ("accepted", Status.VERIFIED)
        for e in mirrored:  # the reporter is told once per mirrored step (one row per channel)
            rows = db.session.execute(select(Notification.channel).filter_by(event_key=f"event:{e.id}")).scalars()
            assert sorted(rows) == ["email", "sms"]


def test_declining_sends_the_report_back_to_the_referring_unit_with_the_reason(db, bjm, ktg, officers):
    c_id = _refer(db, bjm, ktg, officers[0])
    [linked] = _linked(db, ktg)
    reason = "Jalan ini jalan kota Banjarmasin, bukan jalan kabupaten."
    with tenant_scope(ktg.id):
        linked = db.session.get(Complaint, linked.id)
        with pytest.raises(service.ValidationError):
            referrals.decline(linked, service.Actor.of(officers[1]), "  ")
        referrals.decline(linked, service.Actor.of(officers[1]), reason)
        db.session.commit()
    relay(tenant_ids={ktg.id})
    linked = fresh(db, ktg, linked.id)
    assert linked.status == Status.REFERRED and linked.refer_to == bjm.name  # finished in Katingan too
    source = fresh(db, bjm, c_id)
    assert source.status == Status.SUBMITTED and source.closed_at is None and source.refer_to is None
    assert source.due_stage == "verification" and source.due_at is not None  # back in the unit's queue
    last = _events(db, bjm, c_id)[-1]
    assert (last.kind, last.message) == ("referral_declined", reason)
    with tenant_scope(bjm.id):
        out = referrals.outgoing(source)
        assert (out.status, out.decline_reason) == ("declined", reason)
        assert referrals.citizen_view(source) is None
        told = db.session.execute(select(StaffNotification).filter_by(kind="referral_declined")).scalars().all()
        assert [n.user_id for n in told] == [officers[0].id]
    # Back with Banjarmasin, it may be verified (or referred elsewhere) again.
    with tenant_scope(bjm.id):
        service.verify(db.session.get(Complaint, c_id), service.Actor.of(officers[0]))
        db.session.rollback()


def test_a_rahasia_report_stays_rahasia_and_travels_without_identity_or_photos(db, bjm, ktg, officers):
    _refer(db, bjm, ktg, officers[0], privacy="rahasia")
    [linked] = _linked(db, ktg)
    with tenant_scope(ktg.id):
        assert linked.confidential and not linked.anonymous
        assert (linked.reporter_name, linked.reporter_email, linked.reporter_phone) == (None, None, None)
        assert db.session.execute(select(Attachment).filter_by(complaint_id=linked.id)).first() is None
        assert referrals.outgoing(linked) is None
    with tenant_scope(bjm.id):
        out = db.session.execute(select(Referral)).scalar_one()
        assert out.peer_public is False  # no link to a public page of a rahasia report


def test_an_anonymous_reporters_identity_and_photos_are_not_copied(db, bjm, ktg, officers):
    _refer(db, bjm, ktg, officers[0], privacy="anonim")
    [linked] = _linked(db, ktg)
    with tenant_scope(ktg.id):
        assert linked.anonymous and not linked.confidential
        assert (linked.reporter_name, linked.reporter_email, linked.reporter_phone) == (None, None, None)
        assert db.session.execute(select(Attachment).filter_by(complaint_id=linked.id)).first() is None


def test_each_region_sees_only_its_own_half_and_nothing_else_of_the_other(db, bjm, ktg, officers):
    other = submit(db, bjm, title="Lampu jalan padam di Teluk Dalam")  # never referred
    c_id = _refer(db, bjm, ktg, officers[0])
    with tenant_scope(bjm.id):
        service.note(db.session.get(Complaint, c_id), service.Actor.of(officers[0]), "Catatan internal Banjarmasin")
        db.session.commit()
    db.session.expire_all()
    with tenant_scope(ktg.id):
        assert [r.direction for r in db.session.execute(select(Referral)).scalars()] == ["in"]
        titles = db.session.execute(select(Complaint.title)).scalars().all()
        assert other.title not in titles and len(titles) == 1
        messages = db.session.execute(select(ComplaintEvent.message)).scalars().all()
        assert not any("Catatan internal" in (m or "") for m in messages)
        assert db.session.get(Complaint, c_id) is None  # the original, by its id: not there
        if db.engine.dialect.name == "postgresql":  # row-level security, under the ORM's scoping
            conn = db.session.connection()
            assert conn.execute(sa.text("SELECT count(*) FROM referral")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM complaint")).scalar() == 1
    with tenant_scope(bjm.id):
        assert [r.direction for r in db.session.execute(select(Referral)).scalars()] == ["out"]
        assert db.session.execute(select(Complaint).filter_by(source=referrals.SOURCE)).first() is None


def test_a_restriction_of_processing_stops_a_referral_to_a_region(db, bjm, ktg, officers):
    c = submit(db, bjm)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c.id)
        c.processing_restricted = True
        with pytest.raises(service.TransitionError):
            referrals.refer(c, service.Actor.of(officers[0]), ktg.id, None)
        db.session.rollback()


def test_both_regions_count_it_and_referred_out_is_not_unresolved(db, bjm, ktg, officers):
    period = (date.today() - timedelta(days=2), date.today() + timedelta(days=2))
    c_id = _refer(db, bjm, ktg, officers[0])
    source, linked = region_indicators(bjm.id, *period), region_indicators(ktg.id, *period)
    assert (source.received, source.backlog) == (1, 0)  # referred out: finished in Banjarmasin
    assert (linked.received, linked.backlog) == (1, 1)  # Katingan's to decide on: waiting there
    [row] = _linked(db, ktg)
    with tenant_scope(ktg.id):
        referrals.decline(db.session.get(Complaint, row.id), service.Actor.of(officers[1]), "Bukan wilayah kami.")
        db.session.commit()
    relay(tenant_ids={ktg.id})
    assert fresh(db, bjm, c_id).status == Status.SUBMITTED
    source, linked = region_indicators(bjm.id, *period), region_indicators(ktg.id, *period)
    assert (source.backlog, linked.backlog) == (1, 0)  # back in Banjarmasin's queue; ended in Katingan


def test_a_redis_outage_loses_no_referral(app, db, bjm, ktg, officers, monkeypatch):
    _refer(db, bjm, ktg, officers[0], run=False)
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    counts = relay(tenant_ids={bjm.id}, release=False)
    assert counts["relayed"] == 0 and counts["waiting"] >= 1
    assert _linked(db, ktg) == []  # the row waits in Banjarmasin's outbox
    monkeypatch.setitem(app.config, "JOBS_INLINE", True)  # the queue is back (here: jobs in-process)
    relay(tenant_ids={bjm.id})
    assert len(_linked(db, ktg)) == 1
