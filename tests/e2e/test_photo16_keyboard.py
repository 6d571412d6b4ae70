"""The report form with the keyboard only: Tab, Shift+Tab, Space, Enter and typing reach every field
needed and send the report (WCAG 2.1.1). The skip link comes first and leads into the main content.

The walk reads which element has the focus after each Tab and acts on the known fields only, so
controls added to the form later (a map, a nearby-reports panel) are simply tabbed past."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

TYPED = {
    "title": "Saluran air tersumbat di gang mesjid",
    "description": "Saluran air di gang samping mesjid tersumbat sampah sejak minggu lalu; air meluap saat hujan.",
    "location_text": "Gang Mesjid, RT 04",
    "reporter_name": "Dewi Lestari",
    "reporter_email": "dewi.keyboard@example.com",
}
SPACE = {"complaint_class-0", "privacy-0", "consent"}


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {id: e.id || '', tag: e.tagName.toLowerCase(), type: e.type || '', text: (e.innerText || '').trim(),
                cls: e.className || ''}; }""")


def test_the_report_form_can_be_filled_and_sent_with_the_keyboard_only(browser, live_server, catalog):
    t = catalog
    context = browser.new_context(base_url=live_server.url, locale="id-ID", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/banjarmasin/lapor")
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Send a report"))

        # The skip link is the first stop, visible when focused, and takes the focus into <main>.
        page.keyboard.press("Tab")
        first = focused(page)
        assert first["cls"] == "skip-link" and first["text"] == t("Skip to main content"), first
        expect(page.locator(".skip-link")).to_be_in_viewport()
        page.keyboard.press("Enter")
        assert page.url.endswith("#main")
        assert focused(page)["id"] == "main"

        done: set[str] = set()
        for _ in range(120):
            page.keyboard.press("Tab")
            el = focused(page)
            if el["id"] in TYPED and el["id"] not in done:
                page.keyboard.type(TYPED[el["id"]])
                done.add(el["id"])
                if el["id"] == "description":
                    # One step back with Shift+Tab: the title kept what was typed.
                    page.keyboard.press("Shift+Tab")
                    assert focused(page)["id"] == "title"
                    expect(page.locator("#title")).to_have_value(TYPED["title"])
                    page.keyboard.press("Tab")
                    assert focused(page)["id"] == "description"
            elif el["id"] in SPACE and el["id"] not in done:
                page.keyboard.press("Space")
                expect(page.locator(f"#{el['id']}")).to_be_checked()
                done.add(el["id"])
            elif el["tag"] == "button" and el["type"] == "submit" and el["text"] == t("Send report"):
                break
        else:
            pytest.fail(f"the send button was not reached with Tab; filled: {sorted(done)}")
        assert done == set(TYPED) | SPACE, f"not reached with Tab: {sorted(set(TYPED) | SPACE - done)}"
        SCREENSHOTS.joinpath("photo16").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "photo16" / "keyboard-before-send.png"), full_page=True)

        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
        expect(page).to_have_url(re.compile(r"/banjarmasin/lapor/diterima/"))
        # The private link and the copy button are reachable too.
        for _ in range(30):
            page.keyboard.press("Tab")
            el = focused(page)
            if el["tag"] == "button" and el["text"] == t("Copy link"):
                break
        else:
            pytest.fail("the copy button was not reached with Tab")
    finally:
        context.close()
