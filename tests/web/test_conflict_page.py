"""The 409 conflict page (issue 17): who changed the report since the version the form was based on, what and
when (from the event log), the officer's own other tab named as such, and the text they typed given back."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.complaints import service
from app.complaints.workflow import TRANSITIONS, StaleComplaint
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import (
    REPORTER,
    fresh,
    hidden_version,
    login,
    make_staff,
    post_action,
    submit,
    verify_and_dispose,
)
from tests.web.test_staff_pages import translated

TYPED = "Mohon kirim foto lubang dari dekat, dan sebutkan nomor rumah terdekat."


def test_two_officers_the_second_sees_who_did_what_and_keeps_the_typed_text(app, db, bjm, make_user):
    c = submit(db, bjm)
    ani = make_staff(make_user, bjm, "officer", name="Ani Rahmawati")
    budi = make_staff(make_user, bjm, "officer", name="Budi Santoso")
    first, second = login(app, bjm, ani), login(app, bjm, budi)
    v = hidden_version(first.get(f"/{bjm.slug}/staff/complaints/{c.id}").text, "verify")
    assert hidden_version(second.get(f"/{bjm.slug}/staff/complaints/{c.id}").text, "hold") == v
    assert post_action(first, bjm, c.id, "verify", "verify", v, title="Lubang besar di Jalan Kayu Tangi II",
                       complaint_class="pengaduan").status_code == 302

    page = post_action(second, bjm, c.id, "hold", "hold", v, message=TYPED)
    assert page.status_code == 409
    assert translated(app, StaleComplaint().message) in page.text  # someone else: the plain message
    assert "Ani Rahmawati" in page.text
    assert translated(app, TRANSITIONS["verify"].label) in page.text  # what
    assert "Lubang besar di Jalan Kayu Tangi II" in page.text  # the title change, before → after
    assert TYPED in page.text and "readonly" in page.text  # nothing typed is lost
    assert translated(app, _l("You, in another tab or window")) not in page.text


def test_the_same_officer_in_another_tab_is_told_so(app, db, bjm, make_user):
    c = submit(db, bjm)
    ani = make_staff(make_user, bjm, "officer", name="Ani Rahmawati")
    browser = login(app, bjm, ani)
    tab_one = browser.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    tab_two = browser.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    v = hidden_version(tab_one, "verify")
    assert post_action(browser, bjm, c.id, "verify", "verify", v, title="Jalan berlubang di Kayu Tangi",
                       complaint_class="pengaduan").status_code == 302
    page = post_action(browser, bjm, c.id, "hold", "hold", hidden_version(tab_two, "hold"), message=TYPED)
    assert page.status_code == 409
    assert translated(app, StaleComplaint().message) not in page.text
    assert translated(app, _l("You, in another tab or window")) in page.text
    assert translated(app, TRANSITIONS["verify"].label) in page.text
    assert TYPED in page.text


def test_a_liaison_sees_who_closed_it_keeps_the_draft_and_nothing_of_an_anonymous_reporter(app, db, bjm,
                                                                                          make_user):
    officer = make_staff(make_user, bjm, "officer", name="Ani Rahmawati")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr", name="Citra Lestari")
    c = verify_and_dispose(db, bjm, submit(db, bjm, privacy="anonim"), officer)
    agent = login(app, bjm, liaison)
    page = agent.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    v = hidden_version(page, "followup")
    with tenant_scope(bjm.id):
        service.add_information(fresh(db, bjm, c.id), "Saya tambahkan: lubang makin lebar, nama saya "
                                + REPORTER["name"])
        service.close(fresh(db, bjm, c.id), service.Actor.of(officer), "Sudah diperbaiki.")
        db.session.commit()
    draft = "Tim PUPR sudah menambal lubang pada hari Senin pagi."
    resp = agent.post(f"/{bjm.slug}/staff/complaints/{c.id}/followup",
                      data={"followup-version": v, "followup-body": draft, "followup-send": "1"})
    assert resp.status_code == 409
    assert "Ani Rahmawati" in resp.text and translated(app, TRANSITIONS["close"].label) in resp.text
    assert draft in resp.text
    for personal in REPORTER.values():
        assert personal not in resp.text
