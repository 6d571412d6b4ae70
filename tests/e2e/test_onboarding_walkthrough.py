"""A new regency joins in a real browser, and the central administrator compares regions.

The official of Kabupaten Kapuas applies → the central administrator approves, starting from
Banjarmasin's set-up → the official follows the emailed invitation (read from the development
outbox), sets a password and works through the onboarding checklist; before go-live the public
portal accepts nothing, after it a citizen can report → the central administrator compares
regions. Screenshots go to screenshots/onboarding/; any browser error fails the step.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_walkthrough import DEMO_PASSWORD, enter_second_factor

pytestmark = pytest.mark.e2e

SLUG = "kapuas"
OFFICIAL = "organisasi@kapuaskab.go.id"
NEW_PASSWORD = "kapuas-kuat-2026!"  # noqa: S105 (set by the test itself)


def central_sign_in(actor, t) -> None:
    page = actor.page
    page.goto("/central/login")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.get_by_label(t("Email"), exact=True).fill("pusat@lapor.demo")
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    enter_second_factor(actor, t, "pusat@lapor.demo")
    expect(page).to_have_url(re.compile(r"/central/$"))


def invitation_link(page: Page, base_url: str) -> str:
    """The set-password link emailed to the official (read from the development outbox)."""
    page.goto("/dev/outbox")
    rows = page.locator("tbody tr").filter(has_text=OFFICIAL)
    expect(rows.first).to_be_visible()
    text = "\n".join(rows.all_inner_texts())
    links = re.findall(rf"{re.escape(base_url)}/{SLUG}/password/reset/[\w.\-]+", text)
    assert links, text
    return links[0]


def test_a_regency_signs_up_goes_live_and_is_compared(live_server, actors, catalog, clean_screenshots):
    t = catalog
    clean_screenshots("onboarding")

    # 1. The official applies on the platform's sign-up page ------------------------------------
    official = actors("onboarding", "official")
    page = official.page
    page.goto("/daftar")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Apply to join the platform"))
    page.get_by_label(t("Official name of the government")).fill("Pemerintah Kabupaten Kapuas")
    page.get_by_label(t("Type of region")).select_option("kabupaten")
    page.get_by_label(t("Province")).fill("Kalimantan Tengah")
    page.get_by_label(t("Kemendagri region code")).fill("62.03")
    page.get_by_label(t("Population")).fill("410000")
    page.get_by_label(t("Time zone")).select_option("Asia/Pontianak")
    page.get_by_label(t("Responsible official: name")).fill("Rahmawati Saputri")
    page.get_by_label(t("Position"), exact=True).fill("Kepala Bagian Organisasi")
    page.get_by_label(t("Official email")).fill(OFFICIAL)
    page.get_by_label(t("Phone number")).fill("0813 4567 8901")
    page.get_by_label(t("Desired web address")).fill(SLUG)
    official.step("01-apply-filled")
    page.get_by_role("button", name=t("Send the application")).click()
    expect(page).to_have_url(re.compile(r"/daftar/terima-kasih"))
    official.step("02-application-received")

    # Not a region yet: its address is unknown.
    assert page.request.get(f"/{SLUG}/").status == 404

    # 2. The central administrator approves, starting from Banjarmasin's set-up ------------------
    central = actors("onboarding", "central")
    cpage = central.page
    central_sign_in(central, t)
    central.step("03-central-console")
    cpage.goto("/central/applications/")
    cpage.get_by_role("link", name="Pemerintah Kabupaten Kapuas").click()
    expect(cpage.get_by_role("heading", level=1)).to_have_text("Pemerintah Kabupaten Kapuas")
    source = cpage.get_by_label(t("Start from"))
    source.select_option(source.locator("option", has_text="Banjarmasin").get_attribute("value"))
    central.step("04-central-application")
    cpage.get_by_role("button", name=t("Approve and set up the region")).click()
    expect(cpage.locator(".flash")).to_be_visible()
    central.step("05-central-approved")

    # Before go-live the public portal says so and accepts nothing.
    citizen = actors("onboarding", "citizen")
    resp = citizen.page.goto(f"/{SLUG}/lapor")
    assert resp is not None and resp.status == 503  # deliberate: "not open yet", with a page that says so
    citizen.errors.entries[:] = [e for e in citizen.errors.entries if f"/{SLUG}/lapor" not in e]
    expect(citizen.page.locator("html")).to_have_attribute("lang", "id")
    expect(citizen.page.locator("form[method=post] input[type=file]")).to_have_count(0)
    citizen.step("06-portal-not-open-yet")

    # 3. The official follows the invitation and sets a password ---------------------------------
    page.goto(invitation_link(page, live_server.url))
    page.get_by_label(t("New password")).fill(NEW_PASSWORD)
    page.get_by_label(t("Repeat the password")).fill(NEW_PASSWORD)
    official.step("07-set-password")
    page.get_by_role("button", name=t("Save the new password")).click()
    expect(page).to_have_url(re.compile(rf"/{SLUG}/login"))
    page.get_by_label(t("Email"), exact=True).fill(OFFICIAL)
    page.get_by_label(t("Password"), exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    # A tenant administrator must enrol a second factor before anything else.
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Set up two-factor authentication"))
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label(t("Code"), exact=True).fill(pyotp.TOTP(secret).now())
    official.step("08a-second-factor-enrolment")
    page.get_by_role("button", name=t("Turn on"), exact=True).click()
    official.step("08b-recovery-codes")
    page.goto(f"/{SLUG}/staff/onboarding/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Setting up the service"))
    official.step("08-checklist-start")

    # 4. The checklist links to the settings pages: branding, deadlines, a liaison, a test complaint, go-live.
    checklist = f"/{SLUG}/staff/onboarding/"
    page.locator("#step-branding a").click()
    page.get_by_label(t("Name of the service shown to citizens")).fill("Lapor Kapuas")
    page.get_by_role("button", name=t("Save the branding")).click()
    expect(page.locator(".flash").first).to_be_visible()
    official.step("09-settings-branding")
    page.goto(checklist)
    expect(page.locator("#step-branding")).to_have_class(re.compile(r"\bdone\b"))
    page.get_by_role("button", name=t("These are correct")).click()
    expect(page.locator("#step-deadlines")).to_have_class(re.compile(r"\bdone\b"))
    page.locator("#step-staff a").click()
    page.get_by_label(t("Name"), exact=True).fill("Admin PUPR Kapuas")
    page.get_by_label(t("Email"), exact=True).fill("pupr@kapuaskab.go.id")
    page.get_by_label(t("Role"), exact=True).select_option("liaison")
    page.get_by_label(t("Agency (for a liaison)")).select_option(index=1)
    page.get_by_role("button", name=t("Send the invitation")).click()
    expect(page.locator("table")).to_contain_text("pupr@kapuaskab.go.id")
    official.step("10-settings-staff-invited")
    page.goto(checklist)
    expect(page.locator("#step-staff")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator("#step-agencies")).to_have_class(re.compile(r"\bdone\b"))
    official.step("11-checklist-progress")

    page.get_by_role("link", name=t("Send a test report")).click()
    page.get_by_label(t("Short title")).fill("Uji coba: lampu jalan mati")
    page.get_by_label(t("What happened?")).fill("Laporan uji coba sebelum layanan dibuka untuk umum.")
    page.locator("input[name=complaint_class]").first.check()
    page.get_by_label(t("Your name")).fill("Petugas Uji")
    page.get_by_label(t("Email"), exact=True).fill("uji@kapuaskab.go.id")
    page.get_by_label(t("Public"), exact=True).check()
    page.get_by_label(t("I have read and accept the terms of use.")).check()
    page.get_by_role("button", name=t("Send report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
    official.step("12-test-complaint")

    page.goto(checklist)
    expect(page.locator("#step-test_complaint")).to_have_class(re.compile(r"\bdone\b"))
    # What came from Banjarmasin is confirmed group by group (renamed to Kapuas, without its local holidays).
    expect(page.locator("#copied")).to_contain_text("Kabupaten Kapuas")
    while page.locator("#copied form button").count():
        page.locator("#copied form button").first.click()
    expect(page.locator("#step-copied")).to_have_class(re.compile(r"\bdone\b"))
    page.get_by_role("button", name=t("Go live"), exact=True).click()
    expect(page.locator("#step-go_live")).to_have_class(re.compile(r"\bdone\b"))
    official.step("13-live")

    # After go-live a citizen can report.
    citizen.page.goto(f"/{SLUG}/lapor")
    expect(citizen.page.get_by_role("heading", level=1)).to_have_text(t("Send a report"))
    citizen.step("14-portal-open")

    # 5. The central administrator compares the regions ------------------------------------------
    cpage.goto("/central/compare")
    expect(cpage.get_by_role("heading", level=1)).to_have_text(t("Cross-region comparison"))
    table = cpage.locator("table").first
    for name in ("Banjarmasin", "Katingan", "Kapuas"):
        expect(table).to_contain_text(name)
    central.step("15-compare")
    cpage.get_by_role("link", name=re.compile("Banjarmasin")).first.click()
    expect(cpage.get_by_role("heading", level=1)).to_contain_text("Banjarmasin")
    central.step("16-compare-drill-down")
