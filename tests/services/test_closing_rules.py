"""Closing rules (issue 17): a report whose reporter objected to the answer (replied after it, or reopened it)
is closed by staff only after a new public answer or with a recorded reason; never automatically meanwhile.
The service enforces it; ``available_actions`` says so (``requires``) to the staff page and the REST detail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.complaints import service
from app.complaints.actions import available_actions
from app.complaints.models import Complaint, ComplaintEvent, Status
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.api.support import auth, make_key
from tests.web.staff_support import agency_id, fresh, hidden_version, login, make_staff, post_action, submit

REPLY = "Jalannya masih berlubang, belum ada yang datang memperbaiki."


def _objected(db, bjm, officer, liaison) -> int:
    """A report answered once and then objected to by its reporter (citizen_reply): committed, its id."""
    unit, agent = service.Actor.of(officer), service.Actor.of(liaison)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, submit(db, bjm).id)
        service.verify(c, unit)
        service.dispose(c, unit, [agency_id(db, bjm, "pupr")])
        fu = service.save_followup_draft(c, agent, "Sudah kami tambal minggu ini.", submit=True)
        service.publish_followup(c, unit, fu.id)
        service.citizen_reply(c, REPLY)
        db.session.commit()
        return c.id


@pytest.fixture()
def people(bjm, make_user):
    return make_staff(make_user, bjm, "officer"), make_staff(make_user, bjm, "liaison", agency_code="pupr")


def _kinds(db, bjm, c_id) -> list[tuple[str, str | None, str]]:
    with tenant_scope(bjm.id):
        return [(e.kind, e.message, e.visibility) for e in db.session.execute(
            select(ComplaintEvent).filter_by(complaint_id=c_id).order_by(ComplaintEvent.id)).scalars()]


def test_close_is_refused_while_the_objection_is_unanswered_and_no_reason_is_given(db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        assert service.pending_objection(c).message == REPLY
        with pytest.raises(service.ValidationError) as err:
            service.close(c, service.Actor.of(officer), "Selesai.")
        assert "reason" in err.value.errors and "keberatan" in str(err.value.errors["reason"])  # translated (id)
        db.session.rollback()
    assert fresh(db, bjm, c_id).status == Status.DISPOSED


def test_close_with_a_reason_records_it_for_staff(db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        service.close(c, service.Actor.of(officer), "Selesai.", reason="Sudah dicek ke lokasi: jalan sudah baik.")
        db.session.commit()
    assert fresh(db, bjm, c_id).status == Status.CLOSED
    kinds = _kinds(db, bjm, c_id)
    assert kinds[-2:] == [("close_objection", "Sudah dicek ke lokasi: jalan sudah baik.", "internal"),
                          ("close", "Selesai.", "public")]


def test_close_is_allowed_after_a_new_public_answer(db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    unit = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        fu = service.save_followup_draft(c, service.Actor.of(liaison), "Tim sudah menambal ulang.", submit=True)
        service.publish_followup(c, unit, fu.id)
        assert service.pending_objection(c) is None
        service.close(c, unit)
        db.session.commit()
    assert fresh(db, bjm, c_id).status == Status.CLOSED
    assert "close_objection" not in {k for k, _m, _v in _kinds(db, bjm, c_id)}


def test_a_message_to_the_reporter_answers_the_objection_and_a_reopen_by_the_reporter_is_one(db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    unit = service.Actor.of(officer)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        service.public_reply(c, unit, "Kami jadwalkan pengecekan ulang besok.")
        assert service.pending_objection(c) is None
        service.close(c, unit)
        c.closed_at = utcnow()
        service.reopen(c, service.CITIZEN, "Masih berlubang.")
        assert service.pending_objection(c).kind == "reopen"
        available = {a.action: a for a in available_actions(c, officer)}
        assert available["close"].requires == ("reason",)
        db.session.rollback()


def test_available_actions_and_the_staff_page_ask_for_the_reason(app, db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    browser = login(app, bjm, officer)
    page = browser.get(f"/{bjm.slug}/staff/complaints/{c_id}")
    assert 'name="close-reason"' in page.text
    version = hidden_version(page.text, "close")
    resp = post_action(browser, bjm, c_id, "close", "close", version, message="Selesai.")
    assert resp.status_code == 400 and "Pelapor menyatakan keberatan atas jawaban" in resp.text
    assert fresh(db, bjm, c_id).status == Status.DISPOSED
    resp = post_action(browser, bjm, c_id, "close", "close", version, message="Selesai.",
                       reason="Pelapor tidak bisa dihubungi; lokasi sudah diperbaiki.")
    assert resp.status_code == 302
    page = browser.get(f"/{bjm.slug}/staff/complaints/{c_id}")
    assert "Pelapor tidak bisa dihubungi; lokasi sudah diperbaiki." in page.text  # in the staff history
    # The reporter's tracking page never shows the internal reason.
    with tenant_scope(bjm.id):
        public = [e.message for e in db.session.execute(select(ComplaintEvent).filter_by(
            complaint_id=c_id, visibility="public")).scalars()]
    assert "Pelapor tidak bisa dihubungi; lokasi sudah diperbaiki." not in public
    assert 'name="close-reason"' not in browser.get(f"/{bjm.slug}/staff/complaints/{c_id}").text


def test_a_plain_answered_report_asks_for_no_reason(app, db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        fu = service.save_followup_draft(c, service.Actor.of(liaison), "Tim sudah menambal ulang.", submit=True)
        service.publish_followup(c, service.Actor.of(officer), fu.id)
        db.session.commit()
    page = login(app, bjm, officer).get(f"/{bjm.slug}/staff/complaints/{c_id}")
    assert f'action="/banjarmasin/staff/complaints/{c_id}/close"' in page.text
    assert 'name="close-reason"' not in page.text


def test_rest_close_needs_the_reason_the_detail_announces(client, db, bjm, people):
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    token = make_key(db, bjm, ("read", "write"), name="Dashboard Diskominfo")
    c = fresh(db, bjm, c_id)
    base = f"/{bjm.slug}/api/v1/complaints/{c.code}"
    detail = client.get(base, headers=auth(token)).json["data"]
    assert {"action": "close", "followup_id": None, "requires": ["reason"]} in detail["available_actions"]
    resp = client.post(f"{base}/transitions", headers=auth(token),
                       json={"action": "close", "expected_version": detail["version"], "message": "Selesai."})
    # The API answers every invalid input alike: 400 validation_failed naming the field (not a 409: the
    # transition is possible, it lacks its reason).
    assert resp.status_code == 400, resp.json
    assert resp.json["error"]["code"] == "validation_failed" and "reason" in resp.json["error"]["fields"]
    assert fresh(db, bjm, c_id).status == Status.DISPOSED
    resp = client.post(f"{base}/transitions", headers=auth(token),
                       json={"action": "close", "expected_version": detail["version"], "message": "Selesai.",
                             "reason": "Sudah diverifikasi di lapangan."})
    assert resp.status_code == 200, resp.json
    assert resp.json["data"]["status"] == "closed"
    assert "Sudah diverifikasi di lapangan." not in resp.text  # internal: never returned
    assert ("close_objection", "Sudah diverifikasi di lapangan.", "internal") in _kinds(db, bjm, c_id)


def test_no_automatic_close_while_an_objection_is_unanswered(db, bjm, people):
    """The sweep closes only ANSWERED reports; an objection makes it DISPOSED again, and auto_close checks it
    itself too (a reporter's objection is never closed by the clock)."""
    officer, liaison = people
    c_id = _objected(db, bjm, officer, liaison)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        later = utcnow() + timedelta(days=60)
        assert service.auto_close(c, later) is None  # DISPOSED after the reply
        c.due_at = utcnow()
        c.status = Status.ANSWERED  # even if it were answered-looking, the pending objection wins
        assert service.auto_close(c, later) is None
        db.session.rollback()
