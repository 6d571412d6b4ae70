"""Honest central indicators in a real browser, on the demo seed: the central administrator signs in, the
comparison is ranked by the performance score by default (best first), the "how we compute" page is one
link away; a region's officer sees the peer panel with numbers (the demo has enough peer regions); the
complaint unit of the newest demo region marks a report as a test report on the report page.

Screenshots (desktop 1280 px and phone 390 px): screenshots/indicators/*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.e2e.conftest import SCREENSHOTS
from tests.mfa_support import SECRETS, next_code, remember_secret

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "indicators"
PHONE = {"width": 390, "height": 844}


def _actor(actors, tenant: str, who: str):
    actor = actors(tenant, who)
    SHOTS.mkdir(parents=True, exist_ok=True)
    actor.shots = SHOTS
    return actor


def _both(actor, name: str) -> None:
    """A desktop and a phone screenshot of the page shown (each checked by axe-core)."""
    actor.step(f"{name}-desktop")
    actor.page.set_viewport_size(PHONE)
    actor.step(f"{name}-phone")
    actor.page.set_viewport_size({"width": 1280, "height": 900})


def _number(text: str) -> float:
    """A figure as the Indonesian pages print it (1.234,5)."""
    return float(text.split("(")[0].strip().replace(".", "").replace(",", ".").rstrip(" %"))


def test_central_comparison_ranks_by_the_score_and_the_peer_panel_has_numbers(live_server, actors, catalog):
    t = catalog
    for old in SHOTS.glob("*.png"):
        old.unlink()

    central = _actor(actors, "central", "central-admin")
    page = central.page
    page.goto("/central/login")
    page.get_by_label(t("Email"), exact=True).fill("pusat@lapor.demo")
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    if ("e2e", "pusat@lapor.demo") not in SECRETS:
        remember_secret("e2e", "pusat@lapor.demo", DEMO_TOTP_SECRET)
    page.get_by_label(t("Code"), exact=True).fill(next_code("e2e", "pusat@lapor.demo"))
    page.get_by_role("button", name=t("Continue"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Central console"))

    # 1. The comparison, as it opens: ranked by the performance score, best first; volume is a column.
    page.goto("/central/compare")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Cross-region comparison"))
    header = page.locator("th[aria-sort]")
    expect(header).to_have_count(1)
    expect(header).to_contain_text(t("Performance score (0–100)"))
    expect(header).to_have_attribute("aria-sort", "descending")
    cells = page.locator('td[data-key="score"]').all_inner_texts()
    scores = [_number(s) for s in cells if any(ch.isdigit() for ch in s)]
    assert len(scores) >= 4 and scores == sorted(scores, reverse=True), cells
    # Pulang Pisau, live 12 days with 6 reports, has no score (10 needed) and comes last.
    assert not any(ch.isdigit() for ch in cells[-1])
    expect(page.locator("tbody tr").last).to_contain_text("Pulang Pisau")
    assert page.locator('td[data-key="received"]').count() == len(cells)
    _both(central, "01-comparison-by-score")

    # 2. "How we compute" is one link away: every formula, the weights, the peer rules.
    page.get_by_role("link", name=t("How we compute the indicators"), exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("How we compute the indicators"))
    expect(page.locator("#formula-verified_share")).to_be_visible()
    expect(page.locator("#weight-verified_share")).to_have_text(re.compile(r"25\s*%"))
    _both(central, "02-how-we-compute")

    # 3. A region's officer: the peer panel shows the medians of the peer regions as numbers.
    officer = _actor(actors, "banjarmasin", "officer")
    opage = officer.page
    opage.goto("/banjarmasin/login")
    opage.get_by_label(t("Email"), exact=True).fill("koordinator@banjarmasin.demo")
    opage.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    opage.get_by_role("button", name=t("Sign in"), exact=True).click()
    expect(opage.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
    panel = opage.locator("#peer-benchmark")
    expect(panel).to_be_visible()
    for key in ("score", "received", "verified_share", "followup_share"):
        cell = panel.locator(f'td[data-median="{key}"]')
        expect(cell).to_have_text(re.compile(r"\d"))
    expect(panel).to_contain_text(t("%(n)s peer regions.", n=4))
    panel.scroll_into_view_if_needed()
    _both(officer, "03-peer-panel")

    # 4. The newest demo region (live 12 days, not yet a peer) marks a report as a test report.
    unit = _actor(actors, "pulangpisau", "officer")
    upage = unit.page
    upage.goto("/pulangpisau/login")
    upage.get_by_label(t("Email"), exact=True).fill("koordinator@pulangpisau.demo")
    upage.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    upage.get_by_role("button", name=t("Sign in"), exact=True).click()
    expect(upage.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
    upage.goto("/pulangpisau/staff/complaints")
    # Any report but the go-live test report the demo already marked.
    upage.locator("tbody tr").filter(has_not_text="uji coba").locator("td.code a").first.click()
    card = upage.locator("#test-report")
    expect(card).to_be_visible()
    card.get_by_text(t("Mark as a test report"), exact=True).first.click()
    card.get_by_role("button", name=t("Mark as a test report"), exact=True).click()
    expect(upage.locator("#test-report")).to_contain_text(t("test report"))
    expect(upage.locator("#test-report")).to_contain_text(t("Count it in the statistics again"))
    upage.locator("#test-report").scroll_into_view_if_needed()
    _both(unit, "04-marked-as-test")
