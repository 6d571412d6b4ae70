"""In a real browser: a citizen follows a public report from its follow page and confirms through the
message in the development outbox, then registers, files a report, and finds both under "Laporan saya"
(phone and desktop screenshots in screenshots/banjarmasin/)."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

T = "banjarmasin"
PASSWORD = "Warga-Kota-Seribu-Sungai-2026"


def _outbox_body(page, base_url: str, recipient: str, contains: str) -> str:
    page.goto(f"{base_url}/dev/outbox")
    rows = page.locator("#tenant-messages tbody tr")
    for i in range(min(rows.count(), 80)):
        cells = rows.nth(i).locator("td")
        if cells.count() >= 4 and cells.nth(2).inner_text().strip() == recipient:
            body = cells.nth(3).inner_text()
            if contains in body:
                return body
    raise AssertionError(f"no message for the citizen containing {contains!r}")


def test_follow_confirm_register_file_and_see_my_reports(actors, live_server, browser):
    citizen = actors(T, "citizen")
    page = citizen.page
    email = f"warga-{uuid.uuid4().hex[:8]}@contoh.id"

    # A public report of the region, as listed on the transparency page.
    page.goto(citizen.url("transparansi"))
    hrefs = page.eval_on_selector_all("a[href*='/lacak/']", "els => els.map(e => e.getAttribute('href'))")
    code = next(m.group(1) for h in hrefs if (m := re.search(r"/lacak/([A-Z]+-\d{2}-\d+)", h or "")))

    page.goto(citizen.url(f"lacak/{code}/ikuti"))
    expect(page.locator("h1")).to_contain_text(code)
    citizen.step("mine16-follow-page")
    page.fill("input[name=contact]", email)
    page.locator("#follow form button[type=submit]").click()
    expect(page.locator("#follow .flash.info")).to_be_visible()
    citizen.step("mine16-follow-sent")

    body = _outbox_body(page, live_server.url, email, f"/lacak/{code}/ikuti/")
    link = re.search(r"https?://\S+/ikuti/\S+", body).group(0)
    page.goto(link)
    citizen.step("mine16-follow-confirm")
    page.locator("main form button[type=submit], form button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"/lacak/{code}$"))
    expect(page.locator(".flash.info").first).to_contain_text(code)

    # Register (signed in at once), file a report, see "Laporan saya".
    page.goto(citizen.url("register"))
    page.fill("input[name=name]", "Warga Uji Banjarmasin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    page.goto(citizen.url("lapor"))
    page.fill("input[name=title]", "Drainase tersumbat di Jl. Pramuka")
    page.fill("textarea[name=description]", "Saluran air tersumbat sampah sehingga jalan tergenang setiap hujan.")
    page.locator("input[name=complaint_class]").first.check()
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/lapor/diterima/"))
    mine = page.url.split("/lapor/diterima/")[1].split("?")[0]

    page.get_by_role("link", name=re.compile("Laporan saya|My reports")).first.click()
    page.wait_for_url(re.compile(r"/laporan-saya$"))
    expect(page.locator(f"#report-{mine}")).to_be_visible()
    expect(page.locator(f"#report-{mine} a[href*='?t=']")).to_have_count(1)
    citizen.step("mine16-my-reports-desktop")

    # The report followed without signing in comes with the one-time link sent to the address.
    page.fill("#tautan input[name=contact]", email)
    page.locator("#tautan form button[type=submit]").click()
    expect(page.locator("#tautan .flash.info")).to_be_visible()
    body = _outbox_body(page, live_server.url, email, "/laporan-saya/tautan/")
    page.goto(re.search(r"https?://\S+/laporan-saya/tautan/\S+", body).group(0))
    page.locator("main form button[type=submit], form button[type=submit]").last.click()
    expect(page.locator(f"#report-{code}")).to_be_visible()
    expect(page.locator(f"#report-{mine}")).to_be_visible()
    citizen.step("mine16-one-time-link-list")

    phone = browser.new_context(base_url=live_server.url, locale="id-ID", viewport={"width": 390, "height": 844},
                                storage_state=citizen.context.storage_state())
    try:
        p = phone.new_page()
        p.goto(citizen.url("laporan-saya"))
        expect(p.locator(f"#report-{mine}")).to_be_visible()
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the list scrolls sideways on a phone ({width}px)"
        p.screenshot(path=str(citizen.shots / "mine16-my-reports-phone.png"), full_page=True)
    finally:
        phone.close()
