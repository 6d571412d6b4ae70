"""The region administrator's tools in a real browser (issue 17): the header navigation by role, the one staff
administration (invite, two-factor reset, deactivation) with one audit trail, and the SP4N-LAPOR! bridge settings
page whose "test connection" calls a real local HTTP server. Desktop and phone (390 px) screenshots go to
screenshots/admin/; axe-core checks every page visited.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.test_walkthrough import DEMO_PASSWORD, enter_second_factor
from tests.local_http import LocalServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
T = "banjarmasin"  # the region; actors are named "admin" for their screenshot folder only
TOKEN = "e2e-bridge-token-7788"  # noqa: S105 (the local stand-in's token)


def sign_in(actor, t, email: str) -> None:
    page = actor.page
    page.goto(f"/{T}/login")
    page.get_by_label(t("Email"), exact=True).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()


def header_link(page, t, msgid: str):
    return page.locator("ul.staff-nav.wide-only").get_by_role("link", name=t(msgid), exact=True)


def test_region_admin_administers_staff_and_the_bridge(live_server, actors, catalog, clean_screenshots):
    t = catalog
    clean_screenshots("admin")

    # An officer turns on two-factor authentication (and will lose the phone) ----------------------------
    officer = actors("admin", "officer")
    opage = officer.page
    sign_in(officer, t, "petugas@banjarmasin.demo")
    expect(opage.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
    nav = opage.locator("ul.staff-nav.wide-only")
    expect(nav.get_by_role("link", name=t("Administration"), exact=True)).to_have_count(0)  # not for officers
    expect(nav.get_by_role("link", name=t("Integrations"), exact=True)).to_have_count(0)
    officer.step("01-officer-header")
    opage.goto(f"/{T}/account/2fa/setup")
    secret = opage.locator("#totp-secret").inner_text().strip()
    opage.get_by_label(t("Code"), exact=True).fill(pyotp.TOTP(secret).now())
    opage.get_by_role("button", name=t("Turn on"), exact=True).click()
    expect(opage.get_by_role("heading", level=1)).to_be_visible()

    # The region administrator uses the header navigation -------------------------------------------------
    admin = actors("admin", "region-admin")
    page = admin.page
    sign_in(admin, t, "admin@banjarmasin.demo")
    enter_second_factor(admin, t, "admin@banjarmasin.demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
    expect(header_link(page, t, "Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator("main").get_by_role("link", name=t("Integrations"), exact=True)).to_have_count(0)
    admin.step("02-dashboard-header-desktop")
    header_link(page, t, "Inbox").click()
    expect(header_link(page, t, "Inbox")).to_have_attribute("aria-current", "page")
    # Keyboard: the skip link comes first, then the header links in order.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()

    # One staff administration: invite, reset a second factor, deactivate -----------------------------------
    header_link(page, t, "Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Settings of the service"))
    page.locator("ul.tabs").get_by_role("link", name=t("Staff"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Staff"))
    expect(header_link(page, t, "Administration")).to_have_attribute("aria-current", "page")
    page.get_by_label(t("Name"), exact=True).fill("Petugas Baru Walkthrough")
    page.get_by_label(t("Email"), exact=True).fill("baru.walk@banjarmasinkota.go.id")
    page.get_by_label(t("Role"), exact=True).select_option("officer")
    page.get_by_role("button", name=t("Send the invitation")).click()
    row = page.locator("tr", has_text="baru.walk@banjarmasinkota.go.id")
    expect(row.locator("td.account-status")).to_have_text(t("invited"))
    expect(row.get_by_role("button", name=t("Send again"))).to_be_visible()
    admin.step("03-staff-invited")

    officer_row = page.locator("tr", has_text="petugas@banjarmasin.demo")
    officer_row.get_by_role("button", name=t("Reset two-factor")).click()
    expect(page.locator(".flash").first).to_contain_text("Rahmadi Noor")
    expect(page.locator("tr", has_text="petugas@banjarmasin.demo")).not_to_contain_text(t("Reset two-factor"))
    admin.step("04-two-factor-reset")

    liaison_row = page.locator("tr", has_text="dinkes@banjarmasin.demo")
    liaison_row.get_by_role("button", name=t("Deactivate")).click()
    expect(page.locator("tr", has_text="dinkes@banjarmasin.demo").locator("td.account-status")).to_have_text(
        t("inactive"))
    admin.step("05-deactivated")

    # The officer's old session ended with the reset.
    officer.page.goto(f"/{T}/staff/")
    expect(officer.page).to_have_url(re.compile(r"/login"))

    # One audit trail: the invitation (set-up) and the reset and deactivation (accounts) together.
    page.locator("ul.tabs").get_by_role("link", name=t("Audit trail"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Audit trail"))
    trail = page.locator("table.audit")
    expect(trail).to_contain_text("staff.invited")
    expect(trail).to_contain_text("mfa.disabled")
    expect(trail).to_contain_text("user.deactivated")
    admin.step("06-one-audit-trail")
    # Leave the demo as it was for other walkthroughs.
    page.goto(f"/{T}/staff/settings/staff")
    page.locator("tr", has_text="dinkes@banjarmasin.demo").get_by_role(
        "button", name=t("Reactivate")).click()
    expect(page.locator("tr", has_text="dinkes@banjarmasin.demo").locator("td.account-status")).to_have_text(
        t("active"))

    # The SP4N-LAPOR! bridge settings and a real connection test ---------------------------------------------
    calls = []

    def national(method, path, headers, body):
        calls.append((method, path, headers.get("Authorization")))
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"error": "unauthorized"}
        return 200, {"items": []}

    with LocalServer(national) as server:
        header_link(page, t, "Integrations").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Integrations"))
        page.get_by_role("link", name=t("Bridge settings"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("SP4N-LAPOR! bridge"))
        admin.step("07-bridge-off")
        page.get_by_label(t("Bridge on: enter verified reports at SP4N-LAPOR! and fetch their progress")).check()
        page.get_by_label(t("Base address of the SP4N-LAPOR! API")).fill(server.url + "/api")
        page.get_by_label(t("New token")).fill(TOKEN)
        page.get_by_role("button", name=t("Save"), exact=True).click()
        expect(page.locator(".flash").first).to_be_visible()
        expect(page.locator("main")).not_to_contain_text(TOKEN)
        expect(page.locator("main")).to_contain_text("…7788")
        page.get_by_role("button", name=t("Test connection"), exact=True).click()
        expect(page.locator("#last-test")).to_contain_text(t("Works"))
        expect(page.locator("#bridge-state")).to_contain_text(t("On"))
        assert calls == [("GET", "/api/reports?limit=1", f"Bearer {TOKEN}")]
        admin.step("08-bridge-test-ok")

        page.get_by_label(t("New token")).fill("a-wrong-token")
        page.get_by_role("button", name=t("Save"), exact=True).click()
        page.get_by_role("button", name=t("Test connection"), exact=True).click()
        expect(page.locator("#last-test")).to_contain_text("HTTP 401")
        expect(page.locator("#bridge-errors")).to_contain_text("HTTP 401")
        admin.step("09-bridge-test-failed")

        # The same pages on a 390 px phone: the header collapses into a menu that needs no script.
        page.set_viewport_size(PHONE)
        expect(page.locator("ul.staff-nav.wide-only")).to_be_hidden()
        menu = page.locator("details.staff-menu")
        expect(menu).to_be_visible()
        admin.step("10-phone-bridge")
        menu.locator("summary").click()
        expect(menu.get_by_role("link", name=t("Integrations"), exact=True)).to_have_attribute(
            "aria-current", "page")
        admin.step("11-phone-menu-open")
        menu.get_by_role("link", name=t("Administration"), exact=True).click()
        page.locator("ul.tabs").get_by_role("link", name=t("Staff"), exact=True).click()
        admin.step("12-phone-staff")
        page.goto(f"/{T}/staff/")
        admin.step("13-phone-dashboard")
        page.set_viewport_size(DESKTOP)
        # Switched off again, so that later walkthroughs on the same demo push nothing to this stopped server.
        page.goto(f"/{T}/staff/integrations/sp4n")
        page.get_by_label(t("Bridge on: enter verified reports at SP4N-LAPOR! and fetch their progress")).uncheck()
        page.get_by_role("button", name=t("Save"), exact=True).click()
        expect(page.locator("#bridge-state")).to_contain_text(t("Off"))
