"""In a real browser (issue 17): a duplicate is suggested on the report page, compared side by side and merged in
one click; then the agency's liaison sends the report back ("outside our remit") and the complaint unit finds it
under "sent back" and re-disposes it to another agency. Desktop and phone (390 px) screenshots in
screenshots/sendback/; axe-core checks every page (tests/e2e/conftest.py)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from app.demo import DEMO_PASSWORD
from tests.e2e.conftest import SCREENSHOTS, Actor

pytestmark = pytest.mark.e2e

T = "banjarmasin"
SHOTS = SCREENSHOTS / "sendback"
# Jalan Kayu Tangi, Banjarmasin; the second citizen stands ~15 m further north.
LAT, LON = -3.2982, 114.5921
EXPLANATION = "Jalan ini jalan nasional; pemeliharaannya kewenangan Balai Pelaksanaan Jalan Nasional, bukan Dinas PUPR."
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _submit(page: Page, t, title: str, description: str, name: str, lat: float, privacy: str) -> str:
    page.goto(f"/{T}/lapor")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", description)
    page.locator("input[name=complaint_class][value=pengaduan]").check()
    page.select_option("select[name=category_id]", label="Jalan dan Jembatan")
    coords = page.locator("details.coords")
    if coords.count() and coords.get_attribute("open") is None:
        coords.locator("summary").click()
    page.fill("#latitude", f"{lat:.6f}")
    page.fill("#longitude", f"{LON:.6f}")
    page.fill("input[name=reporter_name]", name)
    page.fill("input[name=reporter_email]", f"{name.split()[0].lower()}.{uuid.uuid4().hex[:6]}@example.com")
    page.locator(f"input[name=privacy][value={privacy}]").check()
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/lapor/diterima/"))
    return page.url.split("/lapor/diterima/")[1].split("?")[0]


def _sign_in(actor: Actor, t, email: str) -> None:
    page = actor.page
    page.goto(actor.url("login"))
    page.get_by_label(t("Email"), exact=True).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    expect(page.locator("a.notifications-link")).to_be_visible()


def _open(page: Page, code: str) -> None:
    page.goto(f"/{T}/staff/complaints?q={code}")
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.locator("h1")).to_be_visible()


def _panel(page: Page, label: str):
    summary = page.locator("details.action > summary", has_text=label).first
    details = summary.locator("xpath=..")
    if details.get_attribute("open") is None:
        summary.click()
    return details


def _flash(page: Page, text: str) -> None:
    expect(page.locator(".flash.info")).to_contain_text(text)


def _both(actor: Actor, name: str) -> None:
    """Desktop and phone screenshots of the page shown now."""
    actor.step(f"{name}-desktop")
    actor.page.set_viewport_size(PHONE)
    actor.page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    actor.page.set_viewport_size(DESKTOP)


def test_duplicate_merged_then_liaison_sends_back_and_the_unit_re_disposes(browser, live_server, catalog):
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:5]
    citizen = Actor(browser, live_server.url, T, SHOTS, "citizen")
    first = _submit(citizen.page, t, f"Jalan berlubang besar di Kayu Tangi {run}",
                    "Lubang besar di tengah Jalan Kayu Tangi depan SDN 5, sudah dua minggu belum diperbaiki. "
                    "Motor sering terjatuh.", "Siti Norhayati", LAT, "public")
    second = _submit(citizen.page, t, f"Lubang besar di Jalan Kayu Tangi {run}",
                     "Ada lubang besar di Jalan Kayu Tangi dekat SDN 5, motor sering jatuh di malam hari.",
                     "Budi Santoso", LAT + 0.000135, "anonim")

    officer = Actor(browser, live_server.url, T, SHOTS, "officer")
    _sign_in(officer, t, "koordinator@banjarmasin.demo")
    opage = officer.page
    _open(opage, first)
    # The duplicate is suggested on the report page: code, status, how alike, how far.
    card = opage.locator("#duplicates")
    expect(card.get_by_role("heading", name=t("Possible duplicates"))).to_be_visible()
    item = card.locator("li", has=opage.get_by_role("link", name=second, exact=True))
    expect(item).to_have_count(1)
    expect(item).to_contain_text(" m")
    card.scroll_into_view_if_needed()
    _both(officer, "01-duplicate-suggested")

    # The inbox's "possible duplicates" list has both.
    opage.goto(f"/{T}/staff/complaints?only=duplicates&q={run}")
    expect(opage.locator("table.list")).to_contain_text(first)
    expect(opage.locator("table.list")).to_contain_text(second)
    _both(officer, "02-inbox-possible-duplicates")

    _open(opage, first)
    item = opage.locator("#duplicates li", has=opage.get_by_role("link", name=second, exact=True))
    item.get_by_role("link", name=re.compile(re.escape(t("Compare side by side")))).click()
    expect(opage.locator("h1")).to_have_text(t("Possible duplicate: compare the two reports"))
    expect(opage.locator(".side-by-side section")).to_have_count(2)
    expect(opage.locator(".side-by-side")).to_contain_text("SDN 5")
    expect(opage.locator("main")).not_to_contain_text("Budi Santoso")  # no reporter on the comparison
    _both(officer, "03-side-by-side")
    merge = opage.get_by_role("button", name=t("Merge %(dup)s into %(primary)s", dup=second, primary=first))
    merge.click()
    _flash(opage, t("The report is merged into the main report."))
    expect(opage.locator("#report-status")).to_have_text(t("Merged into another report"))
    officer.step("04-merged-desktop")

    # The unit verifies the main report and sends it to Dinas PUPR.
    _open(opage, first)
    expect(opage.locator("#duplicates").get_by_role("link", name=second, exact=True)).to_have_count(0)  # merged
    _panel(opage, t("Verify")).locator("button[type=submit]").click()
    _flash(opage, t("The report is verified."))
    form = _panel(opage, t("Send to agencies (disposition)"))
    form.locator("label.check", has_text="Pekerjaan Umum").locator("input").check()
    form.locator("button[type=submit]").click()
    _flash(opage, t("The report is sent to the agencies."))

    # Dinas PUPR's liaison: not ours, send it back with the reason.
    liaison = Actor(browser, live_server.url, T, SHOTS, "liaison")
    _sign_in(liaison, t, "pupr@banjarmasin.demo")
    lpage = liaison.page
    _open(lpage, first)
    panel = _panel(lpage, t("Send back to the complaint unit"))
    panel.get_by_label(t("Outside our remit")).check()
    panel.get_by_label(t("Explanation for the complaint unit")).fill(EXPLANATION)
    panel.scroll_into_view_if_needed()
    _both(liaison, "05-liaison-send-back-form")
    panel.get_by_role("button", name=t("Send back to the complaint unit")).click()
    _flash(lpage, t("The report is sent back to the complaint unit."))
    expect(lpage.locator("h1")).to_have_text(t("Inbox"))
    expect(lpage.locator("main")).not_to_contain_text(first)  # no longer the agency's
    liaison.step("06-liaison-after-send-back-desktop")

    # The unit: told, finds it under "sent back", sees why, re-disposes to Dishub.
    opage.goto(f"/{T}/staff/complaints?only=sent_back")
    expect(opage.locator("table.list")).to_contain_text(first)
    _both(officer, "07-inbox-sent-back")
    _open(opage, first)
    notice = opage.locator(".card.attention")
    expect(notice).to_contain_text(EXPLANATION)
    expect(notice).to_contain_text(t("Outside our remit"))
    expect(opage.locator("#report-status")).to_have_text(t("Verified"))
    expect(opage.locator("ol.timeline")).to_contain_text(t("Sent back to the complaint unit"))
    _both(officer, "08-unit-sees-why")
    form = _panel(opage, t("Send to agencies (disposition)"))
    form.locator("label.check", has_text="Perhubungan").locator("input").check()
    form.locator("button[type=submit]").click()
    _flash(opage, t("The report is sent to the agencies."))
    expect(opage.locator("#report-status")).to_have_text(t("In progress at the agency"))
    expect(opage.locator(".card.attention")).to_have_count(0)
    officer.step("09-re-disposed-desktop")
    opage.goto(f"/{T}/staff/complaints?only=sent_back")
    expect(opage.locator("main")).not_to_contain_text(first)

    # The reporter's tracking page never shows the internal send-back.
    citizen.page.goto(f"/{T}/lacak/{first}")
    expect(citizen.page.locator("main")).not_to_contain_text(EXPLANATION)
    citizen.step("10-citizen-tracking-desktop")
    for actor in (citizen, officer, liaison):
        actor.context.close()
