"""Who sees which report, and whose identity, on the staff pages: every role × privacy × region.

UU PDP and DOMAIN.md "Anonymity": the complaint unit always sees the reporter; a liaison sees the
reporter only of public reports disposed to their agency; another agency, another region and
visitors see nothing (404 or the sign-in page, never the data).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.complaints import access, service
from app.complaints.models import ComplaintEvent, Visibility
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import REPORTER, fresh, login, make_staff, submit, verify_and_dispose

ROLES = ("officer", "tenant_admin", "liaison_disposed", "liaison_other_agency", "officer_other_tenant", "visitor")
PRIVACY = ("public", "anonim", "rahasia")
HOMES = ("banjarmasin", "katingan")

#: role → (inbox, detail, attachment) status codes on the home region's URLs, for a public report.
EXPECTED = {
    "officer": (200, 200, 200),
    "tenant_admin": (200, 200, 200),
    "liaison_disposed": (200, 200, 200),
    "liaison_other_agency": (200, 404, 404),
    "officer_other_tenant": (302, 302, 302),  # not signed in there: the login loader refuses them
    "visitor": (302, 302, 302),
}


def sees_identity(role: str, privacy: str) -> bool:
    return role in ("officer", "tenant_admin") or (role == "liaison_disposed" and privacy == "public")


@pytest.fixture()
def world(app, db, tenants, make_user, request):
    home_slug, privacy = request.param
    home, other = tenants if home_slug == "banjarmasin" else tenants[::-1]
    officer = make_staff(make_user, home, "officer", name="Petugas Unit")
    c = submit(db, home, privacy=privacy, with_photo=True)
    c = verify_and_dispose(db, home, c, officer, "pupr")
    with tenant_scope(home.id):
        att_id = access.attachments(fresh(db, home, c.id), officer)[0].id
    return {"home": home, "other": other, "privacy": privacy, "c": c, "att_id": att_id, "officer": officer}


def browser_for(app, make_user, world, role):
    home, other = world["home"], world["other"]
    if role == "visitor":
        return app.test_client(), None
    if role == "officer":
        return login(app, home, world["officer"]), world["officer"]
    if role == "officer_other_tenant":
        user = make_staff(make_user, other, "officer")
        return login(app, other, user), user
    agency = {"liaison_disposed": "pupr", "liaison_other_agency": "dishub"}.get(role)
    user = make_staff(make_user, home, "liaison" if agency else role, agency_code=agency)
    return login(app, home, user), user


def identity_strings_in(html: str) -> list[str]:
    return [v for v in REPORTER.values() if v in html]


@pytest.mark.parametrize("world", [(h, p) for h in HOMES for p in PRIVACY], indirect=True,
                         ids=[f"{h}-{p}" for h in HOMES for p in PRIVACY])
@pytest.mark.parametrize("role", ROLES)
def test_visibility_matrix(app, db, make_user, world, role):
    home, c = world["home"], world["c"]
    browser, _user = browser_for(app, make_user, world, role)
    base = f"/{home.slug}/staff/complaints"
    inbox = browser.get(base)
    detail = browser.get(f"{base}/{c.id}")
    photo = browser.get(f"{base}/{c.id}/attachments/{world['att_id']}")
    want_inbox, want_detail, want_photo = EXPECTED[role]
    if role == "liaison_disposed" and world["privacy"] != "public":
        want_photo = 404  # a photo can identify an anonymous reporter
    assert (inbox.status_code, detail.status_code, photo.status_code) == (want_inbox, want_detail, want_photo)

    # The list never names the reporter; it lists the report only for those who may handle it.
    assert identity_strings_in(inbox.text) == []
    assert (c.code in inbox.text) == (role in ("officer", "tenant_admin", "liaison_disposed"))

    shown = identity_strings_in(detail.text)
    if sees_identity(role, world["privacy"]):
        assert shown == list(REPORTER.values())
    else:
        assert shown == []
    if role == "liaison_disposed" and world["privacy"] != "public":
        assert "foto-lokasi.png" not in detail.text
        assert str(access.HIDDEN) in detail.text or "Identity withheld" in detail.text
    if want_photo == 200:
        assert photo.data.startswith(b"\x89PNG")
    if want_detail == 302:
        assert "/login" in detail.headers["Location"]
        assert identity_strings_in(photo.text) == []


@pytest.mark.parametrize("world", [("banjarmasin", "public"), ("katingan", "anonim")], indirect=True,
                         ids=["banjarmasin-public", "katingan-anonim"])
def test_an_officer_of_another_region_gets_404_for_its_ids_in_their_own_region(app, db, make_user, world):
    other, c = world["other"], world["c"]
    browser, _user = browser_for(app, make_user, world, "officer_other_tenant")
    base = f"/{other.slug}/staff/complaints"
    inbox = browser.get(base)
    assert inbox.status_code == 200 and c.code not in inbox.text
    assert browser.get(f"{base}/{c.id}").status_code == 404
    assert browser.get(f"{base}/{c.id}/attachments/{world['att_id']}").status_code == 404
    resp = browser.post(f"{base}/{c.id}/note", data={"note-version": str(c.version), "note-message": "Halo"})
    assert resp.status_code == 404
    assert '<td class="code">' not in browser.get(f"{base}?q={c.code}").text  # the search box echoes the code


@pytest.mark.parametrize("world", [("banjarmasin", "anonim")], indirect=True, ids=["banjarmasin-anonim"])
def test_a_citizen_account_is_refused_the_staff_pages(app, db, make_user, world):
    home, c = world["home"], world["c"]
    citizen = make_staff(make_user, home, "citizen")
    browser = login(app, home, citizen)
    assert browser.get(f"/{home.slug}/staff/complaints").status_code == 403
    assert browser.get(f"/{home.slug}/staff/complaints/{c.id}").status_code == 403


@pytest.mark.parametrize("world", [("banjarmasin", "public")], indirect=True, ids=["banjarmasin-public"])
def test_internal_notes_are_marked_for_staff_and_never_reach_the_citizen(app, db, world):
    home, c, officer = world["home"], world["c"], world["officer"]
    secret = "Catatan internal: pelapor pernah melapor hal serupa."
    unit = login(app, home, officer)
    resp = unit.post(f"/{home.slug}/staff/complaints/{c.id}/note",
                     data={"note-version": str(fresh(db, home, c.id).version), "note-message": secret})
    assert resp.status_code == 302
    page = unit.get(f"/{home.slug}/staff/complaints/{c.id}").text
    assert secret in page
    assert 'class="badge internal"' in page
    with tenant_scope(home.id):
        ev = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id, kind="note")).scalar_one()
        assert ev.visibility == Visibility.INTERNAL
        c = fresh(db, home, c.id)
        assert all(e.message != secret for e in access.timeline(c, for_staff=False))
        code, token = c.code, c.access_token
    tracking = [r.rule for r in app.url_map.iter_rules() if "/lacak/" in r.rule]
    if tracking:  # the citizen's tracking page, once it exists
        resp = app.test_client().get(f"/{home.slug}/lacak/{code}?t={token}")
        assert resp.status_code in (200, 302)
        assert secret not in resp.text


@pytest.mark.parametrize("world", [("banjarmasin", "rahasia")], indirect=True, ids=["banjarmasin-rahasia"])
def test_a_liaison_who_answers_still_never_sees_a_confidential_reporter(app, db, make_user, world):
    home, c = world["home"], world["c"]
    liaison = make_staff(make_user, home, "liaison", agency_code="pupr")
    with tenant_scope(home.id):
        service.save_followup_draft(fresh(db, home, c.id), service.Actor.of(liaison), "Sudah ditindaklanjuti.",
                                    submit=True)
        db.session.commit()
        assert db.session.get(User, liaison.id).agency_id is not None
    page = login(app, home, liaison).get(f"/{home.slug}/staff/complaints/{c.id}").text
    assert "Sudah ditindaklanjuti." in page
    assert identity_strings_in(page) == []
