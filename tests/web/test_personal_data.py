"""Data-subject rights (UU PDP 27/2022): the reporter sees their data and its processing trail through a
one-time link sent to the contact on file (or directly with their citizen account); the complaint unit
exports, corrects and restricts; liaisons and other regions can do none of it.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.complaints import access, service
from app.complaints.models import ComplaintEvent, Follower
from app.complaints.workflow import TransitionError
from app.notifications.models import Notification
from app.privacy import service as pdp
from app.privacy.models import DataAccessRequest
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import (
    REPORTER,
    agency_id,
    fresh,
    login,
    make_staff,
    post_action,
    submit,
    verify_and_dispose,
)


@pytest.fixture()
def world(app, db, bjm, ktg, make_user):
    officer = make_staff(make_user, bjm, "officer", name="Rahmat Hidayat")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr", name="Budi Penghubung")
    c = submit(db, bjm, with_photo=True)
    c = verify_and_dispose(db, bjm, c, officer, "pupr")
    return {"officer": officer, "liaison": liaison, "c": c}


def _events(db, tenant, c_id, kind):
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return list(db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c_id, kind=kind)).scalars())


def _link_from_outbox(db, tenant, channel="email") -> str:
    with tenant_scope(tenant.id):
        note = db.session.execute(select(Notification).where(Notification.body.contains("data-saya/buka"),
                                                             Notification.channel == channel)
                                  .order_by(Notification.id.desc())).scalars().first()
        assert note is not None, "no data link was sent"
        match = re.search(r"(/banjarmasin/lacak/[^\s]+/data-saya/buka\?k=[\w\-]+)", note.body)
        assert match, note.body
        return match.group(1)


def _request_link(client, tenant, c):
    return client.post(f"/{tenant.slug}/lacak/{c.code}/data-saya", data={"t": c.access_token})


# ------------------------------------------------------------------ the reporter


def test_reporter_gets_a_one_time_link_on_file_and_sees_data_and_trail(app, db, bjm, world):
    c, browser = world["c"], app.test_client()
    track = browser.get(f"/banjarmasin/lacak/{c.code}?t={c.access_token}")
    assert 'id="my-data"' in track.text
    resp = _request_link(browser, bjm, c)
    assert resp.status_code == 303
    assert "s***@contoh.id" in browser.get(resp.headers["Location"]).text  # told where, masked
    link = _link_from_outbox(db, bjm, "email")
    assert link == _link_from_outbox(db, bjm, "sms")  # the same link went to both contacts on file

    reader = app.test_client()  # e.g. the phone that received the SMS
    opened = reader.get(link)
    assert opened.status_code == 303 and "k=" not in opened.headers["Location"]
    page = reader.get(opened.headers["Location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert REPORTER["name"] in page.text and REPORTER["email"] in page.text
    doc = json.loads(reader.get(f"/banjarmasin/lacak/{c.code}/data-saya.json").data)
    assert doc["identity"] == {"name": REPORTER["name"], "email": REPORTER["email"], "phone": REPORTER["phone"],
                               "citizen_account": False, "removed_at": None}
    assert [a["file_name"] for a in doc["attachments"]] == ["foto-lokasi.png"]
    assert {x["channel"] for x in doc["contacts"]} == {"email", "sms"}
    steps = {s["action"]: s for s in doc["processing"]}
    assert steps["dispose"]["shared_with"], "a disposition names the agency the report went to"
    assert {"submit", "verify", "dispose", "data_request", "data_access"} <= set(steps)
    # Officers are named by role, never by their own name.
    assert world["officer"].name not in json.dumps(doc) and world["officer"].name not in page.text
    assert doc["messages_sent_to_you"], "the confirmation messages are part of the data"

    # One time only: the link does not open again, in any browser.
    again = app.test_client().get(link)
    assert again.status_code == 404 and REPORTER["email"] not in again.text
    assert len(_events(db, bjm, c.id, "data_access")) == 1


def test_dispose_trail_names_the_agency_it_was_shared_with(app, db, bjm, world):
    with tenant_scope(bjm.id):
        doc = pdp.personal_data(fresh(db, bjm, world["c"].id))
    dispose = next(s for s in doc["processing"] if s["action"] == "dispose")
    with tenant_scope(bjm.id):
        from app.agencies.models import Agency
        pupr = db.session.get(Agency, agency_id(db, bjm, "pupr"))
        assert dispose["shared_with"] == [pupr.short_name]


def test_expired_link_does_not_open(app, db, bjm, world):
    c = world["c"]
    _request_link(app.test_client(), bjm, c)
    link = _link_from_outbox(db, bjm)
    with tenant_scope(bjm.id):
        for req in db.session.execute(select(DataAccessRequest)).scalars():
            req.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    resp = app.test_client().get(link)
    assert resp.status_code == 404 and '<h1>' in resp.text and REPORTER["email"] not in resp.text


def test_code_alone_or_a_wrong_token_cannot_ask_for_the_data(app, db, bjm, world):
    c, browser = world["c"], app.test_client()
    assert browser.post(f"/banjarmasin/lacak/{c.code}/data-saya", data={}).status_code == 404
    assert browser.post(f"/banjarmasin/lacak/{c.code}/data-saya", data={"t": "wrong"}).status_code == 404
    assert 'id="my-data"' not in browser.get(f"/banjarmasin/lacak/{c.code}").text
    with tenant_scope(bjm.id):
        assert db.session.execute(select(DataAccessRequest)).first() is None


def test_data_page_without_a_grant_shows_nothing_personal(app, db, bjm, world):
    c = world["c"]
    for path in (f"/banjarmasin/lacak/{c.code}/data-saya", f"/banjarmasin/lacak/{c.code}/data-saya.json",
                 f"/banjarmasin/lacak/{c.code}/data-saya/buka?k=guessed"):
        resp = app.test_client().get(path)
        assert resp.status_code in (403, 404), path
        assert REPORTER["email"] not in resp.text and REPORTER["name"] not in resp.text


def test_requests_are_capped_per_day(app, db, bjm, world):
    c, browser = world["c"], app.test_client()
    for _ in range(pdp.MAX_REQUESTS_PER_DAY):
        assert _request_link(browser, bjm, c).status_code == 303
    page = browser.get(_request_link(browser, bjm, c).headers["Location"])
    assert 'class="flash error"' in page.text
    with tenant_scope(bjm.id):
        assert len(db.session.execute(select(DataAccessRequest)).all()) == pdp.MAX_REQUESTS_PER_DAY


def test_signed_in_citizen_opens_own_data_directly_and_nobody_elses(app, db, bjm, make_user):
    owner = make_user(bjm, "citizen", email="warga.satu@contoh.id")
    other = make_user(bjm, "citizen", email="warga.dua@contoh.id")
    c = submit(db, bjm, reporter_user_id=owner.id)
    mine = login(app, bjm, owner)
    assert "/data-saya\"" in mine.get(f"/banjarmasin/lacak/{c.code}").text.replace("/data-saya\" ", "/data-saya\"")
    page = mine.get(f"/banjarmasin/lacak/{c.code}/data-saya")
    assert page.status_code == 200 and REPORTER["email"] in page.text
    assert json.loads(mine.get(f"/banjarmasin/lacak/{c.code}/data-saya.json").data)["identity"]["citizen_account"]
    assert len(_events(db, bjm, c.id, "data_access")) == 1  # one per grant, not per page view
    theirs = login(app, bjm, other)
    resp = theirs.get(f"/banjarmasin/lacak/{c.code}/data-saya")
    assert resp.status_code == 403 and REPORTER["email"] not in resp.text


# ------------------------------------------------------------------ the complaint unit


def test_officer_exports_the_reporters_data_and_the_export_is_recorded(app, db, bjm, world):
    c = world["c"]
    resp = login(app, bjm, world["officer"]).get(f"/banjarmasin/staff/complaints/{c.id}/personal-data.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    doc = json.loads(resp.data)
    assert doc["identity"]["email"] == REPORTER["email"] and doc["report"]["code"] == c.code
    [event] = _events(db, bjm, c.id, "data_export")
    assert event.actor_id == world["officer"].id


@pytest.mark.parametrize("path", ["personal-data.json", "personal-data/correct", "personal-data/restrict"])
def test_liaison_can_neither_export_nor_correct_nor_restrict(app, db, bjm, world, path):
    c = world["c"]
    browser = login(app, bjm, world["liaison"])
    detail = browser.get(f"/banjarmasin/staff/complaints/{c.id}")
    assert detail.status_code == 200 and "personal-data" not in detail.text
    method = browser.get if path.endswith(".json") else browser.post
    resp = method(f"/banjarmasin/staff/complaints/{c.id}/{path}",
                  data={"pdp_correct-version": "9", "pdp_correct-reporter_name": "X", "pdp_restrict-reason": "x",
                        "pdp_restrict-version": "9", "pdp_restrict-on": "1"})
    assert resp.status_code == 403 and REPORTER["email"] not in resp.text
    after = fresh(db, bjm, c.id)
    assert (after.reporter_name, after.processing_restricted) == (REPORTER["name"], False)
    assert not _events(db, bjm, c.id, "data_export")


@pytest.mark.parametrize("path", ["personal-data.json", "personal-data/correct", "personal-data/restrict"])
def test_another_regions_officer_gets_404(app, db, bjm, ktg, make_user, world, path):
    c = world["c"]
    browser = login(app, ktg, make_staff(make_user, ktg, "officer"))
    method = browser.get if path.endswith(".json") else browser.post
    resp = method(f"/katingan/staff/complaints/{c.id}/{path}", data={})
    assert resp.status_code == 404 and REPORTER["email"] not in resp.text
    assert fresh(db, bjm, c.id).reporter_name == REPORTER["name"]


def test_a_correction_against_a_changed_report_is_a_409_conflict_page_not_a_500(app, db, bjm, world):
    # The conflict page's reload link was built with the privacy blueprint's (missing) "detail" endpoint.
    c = world["c"]
    browser = login(app, bjm, world["officer"])
    resp = post_action(browser, bjm, c.id, "personal-data/correct", "pdp_correct", "987654",
                       reporter_name="Siti Norhayati", reporter_email="siti.baru@contoh.id",
                       reporter_phone=REPORTER["phone"], reason="Permintaan pelapor lewat telepon, 3 Maret")
    assert resp.status_code == 409 and f"/banjarmasin/staff/complaints/{c.id}" in resp.text
    assert fresh(db, bjm, c.id).reporter_name == REPORTER["name"]


def test_officer_corrects_identity_with_an_audited_before_and_after(app, db, bjm, world):
    c = world["c"]
    browser = login(app, bjm, world["officer"])
    page = browser.get(f"/banjarmasin/staff/complaints/{c.id}")
    version = re.search(r'id="pdp_correct-version" name="pdp_correct-version" type="hidden" value="(\d+)"',
                        page.text).group(1)
    resp = post_action(browser, bjm, c.id, "personal-data/correct", "pdp_correct", version,
                       reporter_name="Siti Norhayati", reporter_email="siti.baru@contoh.id",
                       reporter_phone=REPORTER["phone"], reason="Permintaan pelapor lewat telepon, 3 Maret")
    assert resp.status_code == 302, resp.text[:500]
    after = fresh(db, bjm, c.id)
    assert (after.reporter_name, after.reporter_email) == ("Siti Norhayati", "siti.baru@contoh.id")
    [event] = _events(db, bjm, c.id, "correct_identity")
    assert event.before == {"reporter_name": REPORTER["name"], "reporter_email": REPORTER["email"]}
    assert event.after == {"reporter_name": "Siti Norhayati", "reporter_email": "siti.baru@contoh.id"}
    assert event.actor_id == world["officer"].id
    with tenant_scope(bjm.id):  # notifications follow the corrected address
        emails = db.session.execute(select(Follower.recipient).filter_by(complaint_id=c.id, channel="email")).all()
        assert [e for (e,) in emails] == ["siti.baru@contoh.id"]


def test_bad_correction_is_refused_with_a_message_and_changes_nothing(app, db, bjm, world):
    c = world["c"]
    browser = login(app, bjm, world["officer"])
    resp = post_action(browser, bjm, c.id, "personal-data/correct", "pdp_correct", fresh(db, bjm, c.id).version,
                       reporter_name="Siti", reporter_email="not-an-address", reporter_phone="")
    assert resp.status_code == 400 and 'class="errors"' in resp.text
    assert fresh(db, bjm, c.id).reporter_email == REPORTER["email"]
    assert not _events(db, bjm, c.id, "correct_identity")


def test_restriction_blocks_sharing_and_hides_the_identity_from_the_liaison(app, db, bjm, world):
    c, officer = world["c"], world["officer"]
    unit = login(app, bjm, officer)
    resp = unit.post(f"/banjarmasin/staff/complaints/{c.id}/personal-data/restrict",
                     data={"pdp_restrict-version": fresh(db, bjm, c.id).version, "pdp_restrict-on": "1",
                           "pdp_restrict-reason": "Permintaan pelapor, surat 3 Maret"})
    assert resp.status_code == 302, resp.text[:500]
    assert fresh(db, bjm, c.id).processing_restricted
    [event] = _events(db, bjm, c.id, "restrict")
    assert event.before == {"processing_restricted": False} and event.after == {"processing_restricted": True}

    # No further disposition: the form is gone and the service refuses.
    page = unit.get(f"/banjarmasin/staff/complaints/{c.id}")
    assert REPORTER["email"] in page.text  # the complaint unit still sees the identity
    assert "/dispose\"" not in page.text
    with tenant_scope(bjm.id):
        with pytest.raises(TransitionError):
            service.dispose(fresh(db, bjm, c.id), service.Actor.of(officer), [agency_id(db, bjm, "dishub")])
    # The liaison of the agency it was already disposed to no longer sees who reported it (nor the photo).
    liaison_page = login(app, bjm, world["liaison"]).get(f"/banjarmasin/staff/complaints/{c.id}")
    assert liaison_page.status_code == 200
    assert REPORTER["name"] not in liaison_page.text and REPORTER["email"] not in liaison_page.text
    assert "foto-lokasi.png" not in liaison_page.text
    with tenant_scope(bjm.id):
        assert access.public_reporter_name(fresh(db, bjm, c.id)) is None

    # Lifting it is audited too, and sharing works again.
    resp = unit.post(f"/banjarmasin/staff/complaints/{c.id}/personal-data/restrict",
                     data={"pdp_restrict-version": fresh(db, bjm, c.id).version, "pdp_restrict-on": "0",
                           "pdp_restrict-reason": "Pelapor mencabut permintaannya"})
    assert resp.status_code == 302
    assert not fresh(db, bjm, c.id).processing_restricted and len(_events(db, bjm, c.id, "unrestrict")) == 1


def test_restriction_needs_a_reason(app, db, bjm, world):
    c = world["c"]
    resp = login(app, bjm, world["officer"]).post(
        f"/banjarmasin/staff/complaints/{c.id}/personal-data/restrict",
        data={"pdp_restrict-version": fresh(db, bjm, c.id).version, "pdp_restrict-on": "1",
              "pdp_restrict-reason": ""})
    assert resp.status_code == 400 and 'class="errors"' in resp.text
    assert not fresh(db, bjm, c.id).processing_restricted


def test_data_of_an_ended_report_states_when_the_identity_will_be_removed(app, db, bjm, make_user):
    from tests.web.citizen_support import drive

    owner = make_user(bjm, "citizen", email="warga.tiga@contoh.id")
    officer = make_staff(make_user, bjm, "officer")
    c = drive(db, bjm, submit(db, bjm, reporter_user_id=owner.id), officer, "verify", "dispose", "publish", "close")
    browser = login(app, bjm, owner)
    page = browser.get(f"/banjarmasin/lacak/{c.code}/data-saya")
    assert page.status_code == 200
    doc = json.loads(browser.get(f"/banjarmasin/lacak/{c.code}/data-saya.json").data)
    assert doc["retention"]["years"] == 5
    due = doc["retention"]["identity_removal_due"]
    assert due and due[:4] == str(fresh(db, bjm, c.id).closed_at.year + 5)
    assert str(fresh(db, bjm, c.id).closed_at.year + 5) in page.text
    assert any(s["action"] == "publish_followup" for s in doc["processing"])
