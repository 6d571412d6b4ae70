"""In a real browser (issue 17, "no wrong door"): a citizen reports in Banjarmasin; Banjarmasin's complaint unit
finds it is Katingan's and refers it there on the platform; Katingan's unit sees where it came from and accepts
it; the citizen, still under the original Banjarmasin code, sees where the report went and its new code, on the
private link (desktop) and on the public page (phone), and finds the accepting step in the history.

The live server runs jobs in-process (JOBS_INLINE, as `make run` without Redis): the outbox row written with
the referral is relayed right after the request, so the linked report exists when the next page loads.
Screenshots: screenshots/referral/.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from app.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

KTG_NAME = "Pemerintah Kabupaten Katingan"
BJM_NAME = "Pemerintah Kota Banjarmasin"


def _login(page: Page, slug: str, email: str) -> None:
    page.goto(f"/{slug}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("a.notifications-link")).to_be_visible()


def _open(page: Page, slug: str, code: str) -> None:
    page.goto(f"/{slug}/staff/complaints?q={code}")
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.locator("h1")).to_be_visible()


def _action_form(page: Page, key: str):
    form = page.locator(f"form[action$='/{key}']")
    details = form.locator("xpath=ancestor::details[1]")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return form


def test_referred_from_banjarmasin_accepted_in_katingan_and_tracked_under_the_original_code(
        actors, browser, live_server, clean_screenshots, catalog):
    clean_screenshots("referral")
    run = uuid.uuid4().hex[:6]
    title = f"Jembatan ulin putus di Tumbang Samba {run}"

    # 1. The citizen reports in Banjarmasin (by mistake: the bridge is in Katingan).
    citizen = actors("referral", "citizen")
    cpage = citizen.page
    cpage.goto("/banjarmasin/lapor")
    cpage.fill("input[name=title]", title)
    cpage.fill("textarea[name=description]",
               "Jembatan kayu ulin di jalan desa Tumbang Samba putus sejak banjir minggu lalu; warga menyeberang "
               "dengan perahu kecil.")
    cpage.locator("input[name=complaint_class]").first.check()
    cpage.fill("input[name=reporter_name]", "Rahmat Hidayat")
    cpage.fill("input[name=reporter_email]", f"rahmat.{run}@example.com")
    cpage.locator("input[name=privacy][value=public]").check()
    cpage.locator("input[name=consent]").check()
    cpage.locator("form button[type=submit]").last.click()
    cpage.wait_for_url(re.compile(r"/lapor/diterima/"))
    code = cpage.url.split("/lapor/diterima/")[1].split("?")[0]
    private_link = cpage.locator("#private-link").input_value().strip()
    assert f"/lacak/{code}?t=" in private_link and code.startswith("BJM-")

    # 2. Banjarmasin's unit refers it to Katingan, a region on the platform (its own region is not offered).
    bjm = actors("referral", "Banjarmasin officer")
    bpage = bjm.page
    _login(bpage, "banjarmasin", "koordinator@banjarmasin.demo")
    _open(bpage, "banjarmasin", code)
    form = _action_form(bpage, "refer")
    select = form.locator("select[name$=target_tenant_id]")
    assert KTG_NAME in select.inner_text() and BJM_NAME not in select.inner_text()
    select.select_option(label=KTG_NAME)
    form.locator("textarea[name$=message]").fill("Lokasi jembatan di Kabupaten Katingan; laporan kami rujuk ke sana.")
    bjm.step("01-banjarmasin-refer-form")
    form.locator("button[type=submit]").click()
    card = bpage.locator("#referral")
    expect(card).to_contain_text(KTG_NAME)
    new_code = card.locator(".code").inner_text().strip()
    assert new_code.startswith("KTG-"), new_code
    bjm.step("02-banjarmasin-referred")

    # 3. Katingan's unit sees the referred report and where it came from, and accepts it.
    ktg = actors("referral", "Katingan officer")
    kpage = ktg.page
    _login(kpage, "katingan", "koordinator@katingan.demo")
    _open(kpage, "katingan", new_code)
    expect(kpage.locator("#referral")).to_contain_text(BJM_NAME)
    expect(kpage.locator("#referral")).to_contain_text(code)
    assert kpage.locator("form[action$='/verify']").count() == 0  # nothing but the decision first
    ktg.step("03-katingan-incoming")
    _action_form(kpage, "accept-referral").locator("button[type=submit]").click()
    expect(kpage.locator(".flash")).to_be_visible()
    expect(kpage.locator("form[action$='/verify']")).to_have_count(1)  # now a normal new report
    ktg.step("04-katingan-accepted")

    # 4. The citizen follows the ORIGINAL code: where it went, the new code, the accepting step in the history.
    cpage.goto(private_link)
    expect(cpage.locator("h1")).to_have_text(code)
    box = cpage.locator("#referral")
    expect(box).to_contain_text(KTG_NAME)
    expect(box).to_contain_text(new_code)
    expect(cpage.locator(".timeline")).to_contain_text(catalog("Referral accepted"))
    citizen.step("05-citizen-private-link")
    link = box.locator(f"a[href$='/katingan/lacak/{new_code}']")
    expect(link).to_have_count(1)

    # The public page by code, on a phone: the same news, nothing scrolls sideways; the link leads to Katingan.
    phone = browser.new_context(base_url=live_server.url, locale="id-ID", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)
    try:
        p = phone.new_page()
        p.goto(f"/banjarmasin/lacak/{code}")
        expect(p.locator("#referral")).to_contain_text(new_code)
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the tracking page scrolls sideways on a phone ({width}px)"
        p.screenshot(path=str(citizen.shots / "06-citizen-public-phone.png"), full_page=True)
        p.locator("#referral a").click()
        p.wait_for_url(re.compile(rf"/katingan/lacak/{new_code}$"))
        expect(p.locator("h1")).to_have_text(new_code)
        p.screenshot(path=str(citizen.shots / "07-katingan-public-phone.png"), full_page=True)
    finally:
        phone.close()
