"""Referral between regions through the pages: Banjarmasin's refer form offers Katingan, the linked report
arrives there (the outbox relays after the request), Katingan's unit accepts or declines it, and the citizen's
original tracking page says where the report went, with its new code."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.complaints import referrals
from app.complaints.models import Complaint, Status
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import fresh, hidden_version, login, make_staff, post_action, submit


@pytest.fixture()
def staff(app, bjm, ktg, make_user):
    bjm_officer, ktg_officer = make_staff(make_user, bjm, "officer"), make_staff(make_user, ktg, "officer")
    ktg_liaison = make_staff(make_user, ktg, "liaison", agency_code="pupr")
    return {"bjm": login(app, bjm, bjm_officer), "ktg": login(app, ktg, ktg_officer),
            "ktg_liaison": login(app, ktg, ktg_liaison)}


def _linked_id(db, ktg) -> int | None:
    db.session.expire_all()
    with tenant_scope(ktg.id):
        return db.session.execute(select(Complaint.id).filter_by(source=referrals.SOURCE)).scalar_one_or_none()


def _refer_through_the_page(db, bjm, ktg, client, privacy="public") -> tuple[Complaint, int]:
    c = submit(db, bjm, privacy=privacy)
    page = client.get(f"/banjarmasin/staff/complaints/{c.id}")
    assert page.status_code == 200
    resp = post_action(client, bjm, c.id, "refer", "refer", hidden_version(page.text, "refer"),
                       target_tenant_id=str(ktg.id), refer_to="", message="Ini wewenang Kabupaten Katingan.")
    assert resp.status_code == 302, resp.text[:500]
    linked_id = _linked_id(db, ktg)
    assert linked_id is not None  # the request's outbox row ran right after it (in-process jobs)
    return c, linked_id


def test_the_refer_form_lists_the_other_regions_and_still_takes_free_text(db, bjm, ktg, staff):
    c = submit(db, bjm)
    page = staff["bjm"].get(f"/banjarmasin/staff/complaints/{c.id}").text
    regions = re.search(r'<select[^>]*name="refer-target_tenant_id".*?</select>', page, re.S).group(0)
    assert f'<option value="{ktg.id}">{ktg.name}</option>' in regions
    assert f'value="{bjm.id}"' not in regions and bjm.name not in regions
    resp = post_action(staff["bjm"], bjm, c.id, "refer", "refer", hidden_version(page, "refer"),
                       target_tenant_id="", refer_to="Balai Besar Pelaksanaan Jalan Nasional Kalimantan Selatan")
    assert resp.status_code == 302
    c = fresh(db, bjm, c.id)
    assert c.status == Status.REFERRED and c.refer_to.startswith("Balai Besar")
    assert _linked_id(db, ktg) is None  # outside the platform: nothing crosses


def test_neither_a_region_nor_a_body_is_refused(db, bjm, staff):
    c = submit(db, bjm)
    page = staff["bjm"].get(f"/banjarmasin/staff/complaints/{c.id}").text
    resp = post_action(staff["bjm"], bjm, c.id, "refer", "refer", hidden_version(page, "refer"),
                       target_tenant_id="", refer_to="  ")
    assert resp.status_code == 400
    assert fresh(db, bjm, c.id).status == Status.SUBMITTED


def test_a_forged_region_id_is_refused(db, bjm, staff):
    c = submit(db, bjm)
    page = staff["bjm"].get(f"/banjarmasin/staff/complaints/{c.id}").text
    resp = post_action(staff["bjm"], bjm, c.id, "refer", "refer", hidden_version(page, "refer"),
                       target_tenant_id=str(bjm.id), refer_to="")
    assert resp.status_code == 400
    assert fresh(db, bjm, c.id).status == Status.SUBMITTED


def test_katingan_accepts_and_the_citizen_sees_where_it_went_under_the_original_code(client, db, bjm, ktg, staff):
    c, linked_id = _refer_through_the_page(db, bjm, ktg, staff["bjm"])
    page = staff["ktg"].get(f"/katingan/staff/complaints/{linked_id}")
    assert page.status_code == 200
    assert f"Dirujuk oleh {bjm.name}" in page.text and c.code in page.text
    assert f'action="/katingan/staff/complaints/{linked_id}/accept-referral"' in page.text
    assert f"/complaints/{linked_id}/verify" not in page.text  # nothing else before the decision

    # A liaison may not decide for the unit.
    liaison = post_action(staff["ktg_liaison"], ktg, linked_id, "accept-referral", "accept_referral",
                          hidden_version(page.text, "accept_referral"))
    assert liaison.status_code in (403, 404)
    resp = post_action(staff["ktg"], ktg, linked_id, "accept-referral", "accept_referral",
                       hidden_version(page.text, "accept_referral"))
    assert resp.status_code == 302
    linked = fresh(db, ktg, linked_id)
    assert not linked.awaiting_referral_decision and linked.due_stage == "verification"

    for url in (f"/banjarmasin/lacak/{c.code}", f"/banjarmasin/lacak/{c.code}?t={c.access_token}"):
        track = client.get(url).text
        assert f"Laporan Anda kini di {ktg.name}" in track, url
        assert linked.code in track
        box = track[track.find('id="referral"'):][:1500]
        assert f"/katingan/lacak/{linked.code}" in box, box
    private = client.get(f"/banjarmasin/lacak/{c.code}?t={c.access_token}").text
    assert "Rujukan diterima" in private  # the mirrored step in the history
    # Banjarmasin's staff page shows the same.
    assert linked.code in staff["bjm"].get(f"/banjarmasin/staff/complaints/{c.id}").text


def test_katingan_declines_with_a_reason_and_the_report_is_banjarmasins_again(client, db, bjm, ktg, staff):
    c, linked_id = _refer_through_the_page(db, bjm, ktg, staff["bjm"])
    page = staff["ktg"].get(f"/katingan/staff/complaints/{linked_id}").text
    empty = post_action(staff["ktg"], ktg, linked_id, "decline-referral", "decline_referral",
                        hidden_version(page, "decline_referral"), reason="")
    assert empty.status_code == 400
    resp = post_action(staff["ktg"], ktg, linked_id, "decline-referral", "decline_referral",
                       hidden_version(page, "decline_referral"), reason="Lokasinya di Kota Banjarmasin.")
    assert resp.status_code == 302
    assert fresh(db, bjm, c.id).status == Status.SUBMITTED
    detail = staff["bjm"].get(f"/banjarmasin/staff/complaints/{c.id}").text
    assert "Lokasinya di Kota Banjarmasin." in detail
    assert "/refer" in detail  # the unit may decide again
    track = client.get(f"/banjarmasin/lacak/{c.code}?t={c.access_token}").text
    assert "Laporan Anda kini di" not in track


def test_the_other_region_cannot_open_either_report_by_id(db, bjm, ktg, staff):
    c, linked_id = _refer_through_the_page(db, bjm, ktg, staff["bjm"])
    assert staff["ktg"].get(f"/katingan/staff/complaints/{c.id}").status_code == 404
    assert staff["bjm"].get(f"/banjarmasin/staff/complaints/{linked_id}").status_code == 404
    # Nor decide on it from the other region's URL.
    page = staff["ktg"].get(f"/katingan/staff/complaints/{linked_id}").text
    resp = post_action(staff["bjm"], bjm, linked_id, "accept-referral", "accept_referral",
                       hidden_version(page, "accept_referral"))
    assert resp.status_code == 404
    assert fresh(db, ktg, linked_id).awaiting_referral_decision


def test_the_receiving_unit_finds_referrals_to_decide_in_the_inbox(db, bjm, ktg, staff):
    c, linked_id = _refer_through_the_page(db, bjm, ktg, staff["bjm"])
    own = submit(db, ktg)  # Katingan's own report: not a referral
    listed = staff["ktg"].get("/katingan/staff/complaints?only=referrals").text
    assert f"/katingan/staff/complaints/{linked_id}" in listed and "perlu diputuskan" in listed
    assert f"/katingan/staff/complaints/{own.id}\"" not in listed
    page = staff["ktg"].get(f"/katingan/staff/complaints/{linked_id}").text
    assert "dirujuk oleh daerah lain: terima atau tolak" in page
    accept = post_action(staff["ktg"], ktg, linked_id, "accept-referral", "accept_referral",
                         hidden_version(page, "accept_referral"))
    assert accept.status_code == 302
    assert f"/katingan/staff/complaints/{linked_id}\"" not in staff["ktg"].get(
        "/katingan/staff/complaints?only=referrals").text
