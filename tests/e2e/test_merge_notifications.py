"""In a real browser: a public report merged into a rahasia one, then the complaint unit acts on the
primary. The duplicate's reporter is told with a link to their OWN report only, whose page shows the
primary's public progress and nothing of the rahasia report; the disposed agency's liaison is emailed.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from app.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

T = "banjarmasin"


def _submit(page: Page, title: str, description: str, name: str, email: str, privacy: str) -> str:
    page.goto(f"/{T}/lapor")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=description]", description)
    page.locator("input[name=complaint_class]").first.check()
    page.fill("input[name=reporter_name]", name)
    page.fill("input[name=reporter_email]", email)
    page.locator(f"input[name=privacy][value={privacy}]").check()
    page.locator("input[name=consent]").check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/lapor/diterima/"))
    return page.url.split("/lapor/diterima/")[1].split("?")[0]


def _open(page: Page, code: str) -> None:
    page.goto(f"/{T}/staff/complaints?q={code}")
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.locator("h1")).to_be_visible()


def _action_form(page: Page, key: str):
    form = page.locator(f"form[action$='/{key}']")
    details = form.locator("xpath=ancestor::details[1]")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return form


def _outbox(page: Page, base_url: str) -> dict[str, list[str]]:
    page.goto(f"{base_url}/dev/outbox")
    out: dict[str, list[str]] = {}
    rows = page.locator("#tenant-messages tbody tr")
    for i in range(min(rows.count(), 60)):
        cells = rows.nth(i).locator("td")
        if cells.count() < 4:
            continue
        out.setdefault(cells.nth(2).inner_text().strip(), []).append(cells.nth(3).inner_text())
    return out


def test_merged_reporter_gets_only_their_own_link_and_the_liaison_is_told(live_server, browser):
    run = uuid.uuid4().hex[:6]
    secret_title = f"Pungutan liar di loket kelurahan {run}"
    secret_text = "Petugas loket meminta uang Rp50.000 untuk surat pengantar. Saya punya rekaman suaranya."
    rina, budi = f"rina.{run}@example.com", f"budi.{run}@example.com"
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(15_000)
    citizen = context.new_page()
    primary = _submit(citizen, secret_title, secret_text, "Rina Maulida", rina, "rahasia")
    duplicate = _submit(citizen, f"Biaya tambahan di loket kelurahan {run}",
                        "Di loket kelurahan warga diminta membayar untuk surat pengantar yang seharusnya gratis.",
                        "Budi Santoso", budi, "public")

    staff_context = browser.new_context(base_url=live_server.url, locale="id-ID")
    staff_context.set_default_timeout(15_000)
    officer = staff_context.new_page()
    officer.goto(f"/{T}/login")
    officer.fill("input[name=email]", "koordinator@banjarmasin.demo")
    officer.fill("input[name=password]", DEMO_PASSWORD)
    officer.locator("form button[type=submit]").last.click()
    expect(officer.locator("a.notifications-link")).to_be_visible()

    _open(officer, duplicate)
    form = _action_form(officer, "merge")
    form.locator("input[name$=primary_code]").fill(primary)
    form.locator("button[type=submit]").click()
    _open(officer, primary)
    _action_form(officer, "verify").locator("button[type=submit]").click()
    expect(officer.locator("form[action$='/dispose']")).to_have_count(1)
    form = _action_form(officer, "dispose")
    form.locator("label.check", has_text="Pekerjaan Umum").locator("input").check()
    form.locator("textarea[name$=instruction]").fill("Mohon klarifikasi petugas loket dan laporkan hasilnya.")
    form.locator("button[type=submit]").click()
    expect(officer.locator(".flash")).to_be_visible()

    messages = _outbox(officer, live_server.url)
    officer.screenshot(path=str(live_server.log.parent / "merge-outbox.png"))
    to_budi = messages.get(budi, [])
    assert len(to_budi) >= 2, messages.keys()  # the merge, then the primary's progress
    links = {m for text in to_budi for m in re.findall(r"https?://\S+", text)}
    assert links and all(f"/{T}/lacak/{duplicate}?t=" in link for link in links), links
    for text in to_budi:
        assert primary not in text or f"/lacak/{primary}" not in text
        assert secret_title not in text and "Rina" not in text
    # The agency's liaison is emailed about the disposition, without the reporter's identity.
    liaison = messages.get("pupr@banjarmasin.demo", [])
    assert any(primary in text and "klarifikasi" in text for text in liaison), messages.keys()
    assert not any("Rina" in text or rina in text for text in liaison)
    # Rina (the rahasia reporter) hears about her own report with her own link, Budi never gets it.
    assert all(f"/lacak/{primary}?t=" in text for text in messages.get(rina, [])[:1])

    citizen.goto(sorted(links)[0])
    expect(citizen.locator("h1")).to_have_text(duplicate)
    expect(citizen.locator("#merged")).to_contain_text(primary)
    page_text = citizen.content()
    assert secret_title not in page_text and "rekaman suaranya" not in page_text and "Rina" not in page_text
    # Nothing on the page acts on the primary: no reply, rating, information or reopen form.
    assert citizen.locator(f"form[action*='/lacak/{primary}']").count() == 0
    citizen.screenshot(path=str(live_server.log.parent / "merge-duplicate-page.png"), full_page=True)
    context.close()
    staff_context.close()
