"""``available_actions(complaint, actor)``: per role and status, the answer the staff page renders (its action
forms), the reporter's page offers, and the REST API can take."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.api.rest import ACTIONS as REST_ACTIONS
from app.api.rest import KeyPrincipal
from app.complaints import service
from app.complaints.actions import Available, available_actions
from app.complaints.models import Complaint, FollowUp
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import agency_id, fresh, login, make_staff, submit

#: Every unit state also offers "mark_test" (none of these reports is marked as a test report).
UNIT = {
    "submitted": {"mark_test", "verify", "hold", "refer", "archive", "public_reply", "note", "merge"},
    "on_hold": {"mark_test", "edit", "resume", "refer", "archive", "public_reply", "note", "merge"},
    "verified": {"mark_test", "edit", "refer", "archive", "dispose", "public_reply", "note", "merge"},
    "restricted": {"mark_test", "edit", "refer", "archive", "public_reply", "note"},  # UU PDP: no dispose/merge
    "disposed": {"mark_test", "edit", "dispose", "draft_followup", "submit_followup", "public_reply", "note", "close",
                 "merge"},
    "in_review": {"mark_test", "edit", "dispose", "publish_followup#", "return_followup#", "public_reply", "note",
                  "close", "merge"},
    "answered": {"mark_test", "public_reply", "note", "close", "merge"},
    "closed": {"mark_test", "note", "reopen"},
    "referred": {"mark_test", "note"},
    "archived": {"mark_test", "note"},
    "merged": {"mark_test", "note"},
}
#: A liaison sees only reports disposed to their agency; a follow-up under review cannot be rewritten (nor the
#: report sent back meanwhile).
LIAISON = {
    "disposed": {"draft_followup", "submit_followup", "note", "send_back"},
    "in_review": {"note"},
    "answered": {"note"},
    "closed": {"note"},
}
CITIZEN = {
    "submitted": {"add_info"}, "on_hold": {"add_info"}, "verified": {"add_info"}, "restricted": {"add_info"},
    "disposed": {"add_info"},
    "in_review": {"add_info"}, "answered": {"add_info", "citizen_reply", "rate"}, "closed": {"reopen"},
    "referred": set(), "archived": set(), "merged": set(),
}


def _states(db, bjm, officer, liaison) -> dict[str, int]:
    """One report in every state (as complaint ids), made through the service."""
    unit, agent = service.Actor.of(officer), service.Actor.of(liaison)
    ids = {}
    with tenant_scope(bjm.id):
        pupr = agency_id(db, bjm, "pupr")
        for name in UNIT:
            c = db.session.get(Complaint, submit(db, bjm).id)
            if name == "on_hold":
                service.hold(c, unit, "Mohon kirim foto lokasi.")
            if name in ("verified", "restricted", "disposed", "in_review", "answered", "closed"):
                service.verify(c, unit)
            if name == "restricted":
                c.processing_restricted = True
            if name in ("disposed", "in_review", "answered", "closed"):
                service.dispose(c, unit, [pupr])
            if name in ("in_review", "answered"):
                fu = service.save_followup_draft(c, agent, "Sudah kami tambal minggu ini.", submit=True)
                if name == "answered":
                    service.publish_followup(c, unit, fu.id)
            if name == "closed":
                service.close(c, unit)
            if name == "referred":
                service.refer(c, unit, "Balai Jalan Nasional")
            if name == "archived":
                service.archive(c, unit, "Iklan")
            if name == "merged":
                service.merge(c, db.session.get(Complaint, submit(db, bjm).id), unit)
            db.session.commit()
            ids[name] = c.id
    return ids


def _names(available: list[Available]) -> set[str]:
    return {a.action + ("#" if a.followup_id is not None else "") for a in available}


#: The staff page's form URLs (after /staff/complaints/<id>/) → the actions they take.
def _page_actions(html: str, slug: str, c_id: int) -> set[str]:
    out = set()
    for path in re.findall(rf'action="/{slug}/staff/complaints/{c_id}/([^"]+)"', html):
        if path.startswith("personal-data/"):
            continue  # the privacy package's forms
        m = re.fullmatch(r"followups/\d+/(publish|return)", path)
        if m:
            out.add(f"{m.group(1)}_followup#")
        elif path == "followup":
            out |= {"draft_followup", "submit_followup"}
        else:
            out.add(path.replace("-", "_"))
    return out


@pytest.mark.parametrize("role", ["officer", "tenant_admin", "liaison"])
def test_available_actions_per_role_and_status_are_what_the_staff_page_renders(app, db, bjm, make_user, role):
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")
    user = {"officer": officer, "liaison": liaison}.get(role) or make_staff(make_user, bjm, role)
    ids = _states(db, bjm, officer, liaison)
    expected = LIAISON if role == "liaison" else UNIT
    browser = login(app, bjm, user)
    for state, c_id in ids.items():
        page = browser.get(f"/{bjm.slug}/staff/complaints/{c_id}")
        if state not in expected:
            assert page.status_code == 404, state  # not the liaison's agency's report
            continue
        assert page.status_code == 200, state
        c = fresh(db, bjm, c_id)
        with tenant_scope(bjm.id):
            answer = _names(available_actions(c, user))
            assert answer == _names(available_actions(c, service.Actor.of(user)))  # a user or an actor
        assert answer == expected[state], state
        assert _page_actions(page.text, bjm.slug, c_id) == answer, state


def test_available_actions_of_the_reporter_are_the_forms_of_the_tracking_page(app, db, bjm, make_user):
    from app.complaints import views_public

    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")
    ids = _states(db, bjm, officer, liaison)
    page_keys = {"info": "add_info", "reply": "citizen_reply", "rate": "rate", "reopen": "reopen"}
    for state, c_id in ids.items():
        c = fresh(db, bjm, c_id)
        with tenant_scope(bjm.id), app.test_request_context():
            answer = _names(available_actions(c, service.CITIZEN))
            page = {page_keys[k] for k in views_public._action_forms(c)}
        assert answer == CITIZEN[state], state
        assert page == answer, state


def test_the_rest_apis_actions_are_the_units_within_what_the_api_offers(db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")
    ids = _states(db, bjm, officer, liaison)
    key_actor = service.Actor(role="officer", user=KeyPrincipal(name="API: test"))
    for state, c_id in ids.items():
        c = fresh(db, bjm, c_id)
        with tenant_scope(bjm.id):
            answer = available_actions(c, key_actor, only=REST_ACTIONS)
        assert _names(answer) == UNIT[state] & set(REST_ACTIONS), state
        assert all(a.as_dict() == {"action": a.action, "followup_id": None} for a in answer)


def test_a_followup_action_names_its_followup(db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")
    c = fresh(db, bjm, _states(db, bjm, officer, liaison)["in_review"])
    with tenant_scope(bjm.id):
        fu_id = db.session.execute(select(FollowUp.id).filter_by(complaint_id=c.id)).scalar_one()
        review = [a for a in available_actions(c, officer) if a.followup_id is not None]
    assert [a.as_dict() for a in review] == [{"action": "publish_followup", "followup_id": fu_id},
                                             {"action": "return_followup", "followup_id": fu_id}]
