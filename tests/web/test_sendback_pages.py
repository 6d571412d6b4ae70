"""Send back and duplicate candidates on the staff pages (issue 17): the liaison's form, the unit's view of a
sent-back report, the "sent back" and "possible duplicates" inbox lists, the side-by-side page and its merge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from app.complaints import service
from app.complaints.models import Status
from app.jobs.outbox import relay
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

EXPLANATION = "Saluran ini milik Balai Wilayah Sungai, bukan kewenangan Dinas PUPR Kota."


def test_a_liaison_sends_back_and_the_unit_sees_why(app, db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr", name="Rahmat PUPR")
    c = verify_and_dispose(db, bjm, submit(db, bjm, privacy="anonim"), officer)
    browser = login(app, bjm, liaison)
    page = browser.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    assert translated(app, service.SEND_BACK_REASONS["outside_remit"]) in page
    version = hidden_version(page, "send_back")

    refused = post_action(browser, bjm, c.id, "send-back", "send_back", version, message="")
    assert refused.status_code == 400 and fresh(db, bjm, c.id).status == Status.DISPOSED

    done = post_action(browser, bjm, c.id, "send-back", "send_back", version, reason="outside_remit",
                       message=EXPLANATION)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/{bjm.slug}/staff/complaints")
    assert browser.get(f"/{bjm.slug}/staff/complaints/{c.id}").status_code == 404  # no longer the agency's
    assert fresh(db, bjm, c.id).status == Status.VERIFIED

    unit = login(app, bjm, officer)
    detail = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    assert EXPLANATION in detail and "Rahmat PUPR" in detail
    assert translated(app, service.SEND_BACK_REASONS["outside_remit"]) in detail
    listed = unit.get(f"/{bjm.slug}/staff/complaints?only=sent_back").text
    assert c.code in listed

    public = app.test_client().get(f"/{bjm.slug}/lacak/{c.code}?t={c.access_token}").text
    assert EXPLANATION not in public and "Rahmat PUPR" not in public


def test_only_a_liaison_of_an_agency_holding_the_report_may_send_it_back(app, db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    other = make_staff(make_user, bjm, "liaison", agency_code="dishub")
    c = verify_and_dispose(db, bjm, submit(db, bjm), officer)
    version = fresh(db, bjm, c.id).version
    resp = post_action(login(app, bjm, other), bjm, c.id, "send-back", "send_back", version,
                       reason="wrong_agency", message=EXPLANATION)
    assert resp.status_code == 404
    resp = post_action(login(app, bjm, officer), bjm, c.id, "send-back", "send_back", version,
                       reason="wrong_agency", message=EXPLANATION)
    assert resp.status_code == 403
    assert fresh(db, bjm, c.id).status == Status.DISPOSED


def test_a_duplicate_is_suggested_compared_side_by_side_and_merged(app, db, bjm, make_user):
    officer = make_staff(make_user, bjm, "officer")
    now = datetime.now(UTC) - timedelta(hours=1)
    first = submit(db, bjm, when=now, category="jalan", latitude=-3.2982, longitude=114.5921,
                   title="Jalan berlubang di Kayu Tangi",
                   description="Lubang besar di tengah jalan Kayu Tangi depan SDN 5, belum diperbaiki.")
    second = submit(db, bjm, when=now + timedelta(minutes=1), category="jalan", latitude=-3.29806,
                    longitude=114.5921, privacy="anonim", title="Lubang besar di Jalan Kayu Tangi",
                    description="Ada lubang besar di jalan Kayu Tangi dekat SDN 5, motor sering jatuh.",
                    reporter_name="Budi Santoso Wijaya", reporter_email="budi.wijaya@contoh.id")
    relay()  # the submissions' jobs store the candidate pairs the inbox filter reads
    unit = login(app, bjm, officer)
    detail = unit.get(f"/{bjm.slug}/staff/complaints/{first.id}").text
    assert second.code in detail and f"/staff/complaints/{first.id}/duplicates/{second.id}" in detail
    listed = unit.get(f"/{bjm.slug}/staff/complaints?only=duplicates").text
    assert first.code in listed and second.code in listed

    preview = unit.get(f"/{bjm.slug}/staff/complaints/{first.id}/duplicates/{second.id}")
    assert preview.status_code == 200
    html = preview.text
    assert first.title in html and second.title in html and "SDN 5" in html
    for identity in ("Budi Santoso", "budi.wijaya", REPORTER["name"], REPORTER["email"]):
        assert identity not in html  # the side-by-side page shows no reporter at all
    # The newer report is offered to join the older one first.
    assert html.index(f'action="/{bjm.slug}/staff/complaints/{second.id}/merge"') < html.index(
        f'action="/{bjm.slug}/staff/complaints/{first.id}/merge"')
    version = re.search(r'name="merge-version" value="(\d+)"', html).group(1)
    resp = unit.post(f"/{bjm.slug}/staff/complaints/{second.id}/merge", data={
        "merge-version": version, "merge-primary_code": first.code})
    assert resp.status_code == 302
    merged = fresh(db, bjm, second.id)
    assert merged.status == Status.MERGED and merged.merged_into_id == first.id
    assert f"/duplicates/{second.id}" not in unit.get(f"/{bjm.slug}/staff/complaints/{first.id}").text


def test_the_side_by_side_page_needs_both_reports_visible(app, db, bjm, ktg, make_user):
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")
    mine = verify_and_dispose(db, bjm, submit(db, bjm, category="jalan"), officer)
    theirs = verify_and_dispose(db, bjm, submit(db, bjm, category="jalan"), officer, agency_code="dishub")
    elsewhere = submit(db, ktg, category="jalan")
    browser = login(app, bjm, liaison)
    assert browser.get(f"/{bjm.slug}/staff/complaints/{mine.id}/duplicates/{theirs.id}").status_code == 404
    unit = login(app, bjm, officer)
    assert unit.get(f"/{bjm.slug}/staff/complaints/{mine.id}/duplicates/{theirs.id}").status_code == 200
    assert unit.get(f"/{bjm.slug}/staff/complaints/{mine.id}/duplicates/{elsewhere.id}").status_code == 404
    page = browser.get(f"/{bjm.slug}/staff/complaints/{mine.id}").text
    assert theirs.code not in page  # a liaison is never shown a candidate outside their agency
