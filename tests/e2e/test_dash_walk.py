"""In a real browser: the complaint unit signs in, sees the dashboard's charts (desktop and a 390 px phone),
filters the inbox, downloads the filtered list as Excel and the file holds exactly the filtered reports
(opened with openpyxl). Screenshots in screenshots/dash/."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

T = "banjarmasin"
DEMO_PASSWORD = "demo-lapor-2026"  # noqa: S105 (the printed demo password, see app/demo.py)
PHONE = {"width": 390, "height": 844}


def _sign_in(actor, email: str, t) -> None:
    page = actor.page
    page.goto(actor.url("login"))
    page.get_by_label(t("Email"), exact=True).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))


def _fits(page, selector: str) -> None:
    """The element neither overflows itself nor reaches past the screen's right edge."""
    box = page.locator(selector).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], (selector, box)
    scroll, client = page.eval_on_selector(selector, "e => [e.scrollWidth, e.clientWidth]")
    assert scroll <= client + 1, (selector, scroll, client)


def test_unit_sees_charts_filters_the_inbox_and_downloads_the_excel(actors, catalog, tmp_path):
    t = catalog
    shots = SCREENSHOTS / "dash"
    shots.mkdir(parents=True, exist_ok=True)
    officer = actors(T, "officer")
    officer.shots = shots
    page = officer.page
    _sign_in(officer, f"koordinator@{T}.demo", t)

    # The dashboard: five charts, each an image with a title and a text alternative, and its table.
    figures = page.locator("#figures")
    expect(figures).to_be_visible()
    for key in ("weekly", "category", "agency", "ontime", "satisfaction"):
        chart = page.locator(f"svg#chart-{key}")
        expect(chart).to_be_visible()
        assert chart.get_attribute("role") == "img"
        assert (chart.locator("desc").text_content() or "").strip()
    weekly_rows = page.locator("#figure-weekly details table tbody tr")
    expect(weekly_rows).to_have_count(12)
    page.locator("#figure-ontime details summary").click()
    expect(page.locator("#figure-ontime details table")).to_be_visible()
    figures.scroll_into_view_if_needed()
    officer.step("dash-01-dashboard-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("svg#chart-weekly")).to_be_visible()
    _fits(page, "#figures")
    for key in ("weekly", "category", "agency", "ontime", "satisfaction"):
        _fits(page, f"svg#chart-{key}")  # each chart shrinks into the card on a phone
    page.locator("#figures").scroll_into_view_if_needed()
    officer.step("dash-02-dashboard-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The inbox, filtered to complaints (pengaduan) sorted oldest first.
    page.goto(officer.url("staff/complaints"))
    page.locator("form.filters select[name=class]").select_option("pengaduan")
    page.locator("form.filters select[name=sort]").select_option("oldest")
    page.get_by_role("button", name=t("Filter"), exact=True).click()
    expect(page).to_have_url(re.compile(r"class=pengaduan"))
    export = page.locator("#export")
    found = int(export.get_attribute("data-total"))
    first_page = [c.strip() for c in page.locator("table.list tbody td.code a").all_inner_texts()]
    assert 0 < len(first_page) <= found
    expect(export.locator('input[type=hidden][name="class"]')).to_have_value("pengaduan")
    officer.step("dash-03-inbox-filtered-with-export")

    with page.expect_download() as info:
        export.locator("button[value=xlsx]").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    ws = load_workbook(path).active
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(rows) == found, (len(rows), found)
    assert [r[0] for r in rows[:len(first_page)]] == first_page  # same reports, same order as the inbox
    klass = t("Complaint (pengaduan)")
    assert {r[3] for r in rows} == {klass}
    assert len(ws[1]) == 13  # no identity unless asked for

    # With the reporters' identity (the unit only): three more columns.
    export.locator("input[name=identity]").check()
    with page.expect_download() as info:
        export.locator("button[value=xlsx]").click()
    path2 = tmp_path / ("identity-" + info.value.suggested_filename)
    info.value.save_as(path2)
    ws2 = load_workbook(path2).active
    assert len(ws2[1]) == 16 and ws2.max_row - 1 == found

    page.set_viewport_size(PHONE)
    page.reload()
    _fits(page, "#export")
    page.locator("#export").scroll_into_view_if_needed()
    officer.step("dash-04-inbox-export-phone")
