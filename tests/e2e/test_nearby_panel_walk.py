""""Is this already reported?" in a real browser: on the report form, a place near an open public demo
report lists it in the panel, with its page and a "follow" link; nothing is shown without JavaScript.

Screenshots: screenshots/near16/nearby-desktop.png and nearby-phone.png.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "near16"


def _open_public_report(live_server, slug: str) -> dict:
    """An open, verified, non-confidential demo report of ``slug`` with a pin, sent in the last 25 days
    (read from the server's own database: the demo data is random, its counts are not assumed)."""
    db = live_server.log.parent / "e2e.db"
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT c.code, c.title, c.latitude, c.longitude, c.submitted_at, c.reporter_name, c.anonymous "
            "FROM complaint c JOIN tenant t ON t.id = c.tenant_id WHERE t.slug = ? "
            "AND c.status IN ('verified', 'disposed', 'answered') AND c.confidential = 0 "
            "AND c.verified_at IS NOT NULL AND c.merged_into_id IS NULL AND c.latitude IS NOT NULL "
            "ORDER BY c.anonymous DESC, c.submitted_at DESC", (slug,)).fetchall()
    since = datetime.now(UTC) - timedelta(days=25)
    for row in rows:
        sent = datetime.fromisoformat(row["submitted_at"])
        if (sent if sent.tzinfo else sent.replace(tzinfo=UTC)) >= since:
            return dict(row)
    pytest.fail(f"no open public demo report with a pin in {slug}")


def _fill_place(page, report: dict) -> None:
    coords = page.locator("details.coords")
    if coords.count() and not coords.get_attribute("open"):
        coords.locator("summary").click()
    # About 30 m north-east of the report, as a citizen standing beside it would.
    page.fill("#latitude", f"{report['latitude'] + 0.0002:.6f}")
    page.fill("#longitude", f"{report['longitude'] + 0.0002:.6f}")


@pytest.mark.parametrize("slug", ["banjarmasin", "katingan"])
def test_the_form_shows_open_reports_near_the_chosen_place(slug, browser, live_server, catalog):
    t = catalog
    report = _open_public_report(live_server, slug)
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for name, options in (("desktop", {"viewport": {"width": 1280, "height": 900}}),
                          ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                                     "has_touch": True, "device_scale_factor": 2})):
        context = browser.new_context(base_url=live_server.url, locale="id-ID", **options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"/{slug}/lapor")
        panel = page.locator("#nearby")
        expect(panel).to_be_hidden()
        page.fill("#title", report["title"].split(" di ")[0])
        _fill_place(page, report)
        expect(panel).to_be_visible()
        expect(panel.get_by_role("heading", name=t("Is there already a similar report nearby?"))).to_be_visible()
        item = panel.locator("li", has=page.locator(f"a[href='/{slug}/lacak/{report['code']}']"))
        expect(item).to_have_count(1)
        expect(item.locator(f"a[href='/{slug}/lacak/{report['code']}/ikuti']")).to_have_text(
            t("Follow this report"))
        expect(item).to_contain_text(" m")
        expect(page.locator("[data-nearby-live]")).not_to_be_empty()
        if report["anonymous"] and report["reporter_name"]:
            expect(panel).not_to_contain_text(report["reporter_name"])
        item.scroll_into_view_if_needed()
        panel.screenshot(path=str(SHOTS / f"nearby-{slug}-{name}-panel.png"))
        page.screenshot(path=str(SHOTS / f"nearby-{slug}-{name}.png"), full_page=True)
        # Clearing the place hides the panel again.
        page.fill("#latitude", "")
        expect(panel).to_be_hidden()
        # The map picker (issue 16) announces a placed pin with a "location:changed" event.
        page.evaluate("""([lat, lng]) => document.dispatchEvent(
            new CustomEvent("location:changed", {detail: {lat: lat, lng: lng}}))""",
                      [report["latitude"] - 0.0001, report["longitude"]])
        expect(item).to_have_count(1)
        expect(panel).to_be_visible()
        context.close()
    assert not errors, errors


def test_without_javascript_no_panel_is_shown(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="id-ID", java_script_enabled=False)
    page = context.new_page()
    page.goto("/banjarmasin/lapor")
    expect(page.locator("#nearby")).to_be_hidden()
    expect(page.locator("#latitude")).to_be_attached()
    context.close()
