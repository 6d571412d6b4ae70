"""The workflow table drives the status: every transition's ``target`` is set by ``workflow.apply``, and the
service functions set no status by hand."""

import ast
import inspect
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import referrals, service, workflow
from app.complaints.models import Complaint, Status
from app.jobs.outbox import relay
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope

RECEIVED = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)

PAIRS = [(t.action, source) for t in workflow.TRANSITIONS.values() for source in (t.sources or (None,))]


@pytest.mark.parametrize(("action", "source"), PAIRS, ids=[f"{a}-from-{s}" for a, s in PAIRS])
def test_apply_sets_the_target_of_every_transition_in_the_table(action, source):
    t = workflow.TRANSITIONS[action]
    c = SimpleNamespace(status=source)
    before = workflow.apply(c, t)
    assert before == {"status": source}
    assert c.status == (t.target if t.target is not None else source)
    c = SimpleNamespace(status=source)
    workflow.apply(c, action)  # by name, too
    assert c.status == (t.target if t.target is not None else source)


def test_no_service_function_sets_a_status_by_hand():
    """Only workflow.apply assigns ``<complaint>.status``; follow-ups keep their own status field."""
    tree = ast.parse(inspect.getsource(service) + "\n" + inspect.getsource(referrals))
    assigned = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                owner = target.value.id if isinstance(target.value, ast.Name) else ast.dump(target.value)
                assigned.append(owner)
        if isinstance(node, ast.keyword) and node.arg == "status" and isinstance(node.value, ast.Attribute):
            assert not (isinstance(node.value.value, ast.Name) and node.value.value.id == "Status"), \
                "a complaint is created without a status: workflow.apply sets it"
    assert set(assigned) <= {"fu"}, assigned
    assert not hasattr(service, "_set_status")


def _agency(db, code):
    return db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()


def _submit(db):
    data = service.SubmitData(title="Jalan berlubang di Kayu Tangi", complaint_class="pengaduan",
                              description="Lubang besar di tengah jalan, sudah dua minggu tidak diperbaiki.",
                              reporter_email="siti@contoh.id")
    with frozen_time(RECEIVED):
        c, _ = service.submit_complaint(data)
    return c


def test_every_status_change_of_the_service_goes_through_apply_with_the_tables_target(db, bjm, ktg, make_user,
                                                                                     monkeypatch):
    """Drive every transition that has a target through the real service; each one calls workflow.apply and
    leaves the complaint in the table's target."""
    officer = make_user(bjm, "officer")
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    ktg_officer = make_user(ktg, "officer")
    applied: list[tuple[str, str]] = []
    real_apply = workflow.apply

    def spy(c, transition):
        t = workflow.TRANSITIONS[transition] if isinstance(transition, str) else transition
        before = real_apply(c, transition)
        applied.append((t.action, c.status))
        return before

    monkeypatch.setattr(workflow, "apply", spy)
    unit = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        pupr = _agency(db, "pupr")
        c = _submit(db)
        with frozen_time(RECEIVED + timedelta(hours=1)):
            service.hold(c, unit, "Mohon kirim foto lokasi.")
            service.resume(c, unit)
            service.verify(c, unit)
            service.dispose(c, unit, [pupr])
            fu = service.save_followup_draft(c, service.Actor.of(liaison), "Sudah kami tambal minggu ini.",
                                             submit=True)
            service.publish_followup(c, unit, fu.id)
            service.citizen_reply(c, "Belum, lubangnya masih ada di sana.")
            service.close(c, unit, reason="Dicek ke lokasi: lubang sudah ditambal.")  # the objection is unanswered
            service.reopen(c, unit, "Warga melapor lubangnya muncul lagi.")
            fu2 = service.save_followup_draft(c, service.Actor.of(liaison), "Sudah ditambal ulang.", submit=True)
            service.publish_followup(c, unit, fu2.id)
        assert service.auto_close(c, now=c.due_at + timedelta(seconds=1)) is not None
        referred, archived, duplicate, primary = (_submit(db) for _ in range(4))
        service.refer(referred, unit, "Balai Jalan Nasional")
        service.archive(archived, unit, "Iklan")
        service.merge(duplicate, primary, unit)
        sent_back = _submit(db)
        service.verify(sent_back, unit)
        service.dispose(sent_back, unit, [pupr])
        service.send_back(sent_back, service.Actor.of(liaison), "wrong_agency", "Bukan kewenangan Dinas PUPR.")
        assert sent_back.status == Status.VERIFIED
        db.session.commit()
        assert db.session.get(Complaint, c.id).status == Status.CLOSED
        # Referral to another region on the platform, declined there (app.complaints.referrals and its jobs).
        referrals.refer(_submit(db), unit, ktg.id, None)
        db.session.commit()
    relay(tenant_ids={bjm.id})  # receive_referral, in Katingan
    with tenant_scope(ktg.id):
        linked = db.session.execute(select(Complaint).filter_by(source=referrals.SOURCE)).scalar_one()
        referrals.decline(linked, service.Actor.of(ktg_officer), "Bukan wilayah Katingan.")
        db.session.commit()
    relay(tenant_ids={ktg.id})  # referral_declined, back in Banjarmasin

    for action, status in applied:
        assert status == workflow.TRANSITIONS[action].target, action
    with_target = {a for a, t in workflow.TRANSITIONS.items() if t.target is not None}
    assert {a for a, _ in applied} == with_target
