"""Honest central indicators on the pages: the comparison ranks by the performance score by default, the
"how we compute" page states every formula and weight, and the complaint unit marks a test report on the
staff report page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.services import create_platform_admin
from app.central import comparison as reports
from app.complaints.models import Complaint, ComplaintEvent
from app.tenancy.scope import tenant_scope
from tests.compare_fixture import PERIOD, Story, at, with_data
from tests.conftest import central_login

PERIOD_ARGS = f"start={PERIOD[0].isoformat()}&end={PERIOD[1].isoformat()}"
ADMIN_PASSWORD = "central-password-1"


@pytest.fixture()
def compare_data(db, bjm, ktg, make_user):
    yield from with_data(db, bjm, ktg, make_user)


@pytest.fixture()
def central(app, db, client):
    create_platform_admin("pusat@lapor.example", "Admin Pusat", ADMIN_PASSWORD)
    db.session.commit()
    assert central_login(client, "pusat@lapor.example", ADMIN_PASSWORD).status_code == 302
    return client


def test_the_comparison_ranks_by_the_performance_score_by_default(central, compare_data):
    html = central.get(f"/central/compare?{PERIOD_ARGS}&lang=en").text
    # Katingan (score 89) before Banjarmasin (52), though both received 4 reports.
    assert html.index("Pemerintah Kabupaten Katingan") < html.index("Pemerintah Kota Banjarmasin")
    assert 'aria-sort="descending"' in html and "Performance score (0–100)" in html
    assert 'data-key="received"' in html  # volume stays a column
    assert "/central/indicators" in html  # "how we compute" is linked
    by_volume = central.get(f"/central/compare?{PERIOD_ARGS}&sort=received&lang=en")
    assert by_volume.status_code == 200


def test_how_we_compute_states_every_formula_and_the_configured_weights(app, central, monkeypatch):
    monkeypatch.setitem(app.config, "PEER_MIN_REPORTS", 25)
    html = central.get("/central/indicators?lang=en").text
    for ind in reports.INDICATORS:
        assert f'id="formula-{ind.key}"' in html, ind.key
    assert "Verified within the deadline ÷ (verified + still awaiting verification" in html
    assert "Late is late" in html and "test reports" in html
    # Weights as shares of their sum: 25/25/15/15/10/10 of 100.
    weights = dict(re.findall(r'id="weight-(\w+)">([^<]+)<', html))
    assert weights == {"verified_share": "25 %", "followup_share": "25 %", "median_first_response_days": "15 %",
                       "oldest_open_days": "15 %", "reopen_rate": "10 %", "avg_rating": "10 %"}
    assert "at least 25 real reports" in html and "at least 30 days" in html
    monkeypatch.setitem(app.config, "COMPARE_SCORE", {"avg_rating": {"weight": 0}})
    html = central.get("/central/indicators?lang=en").text
    weights = dict(re.findall(r'id="weight-(\w+)">([^<]+)<', html))
    assert "avg_rating" not in weights and weights["verified_share"] == "27.8 %"  # 25 / 90


def test_the_how_we_compute_page_is_for_central_administrators(app, bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "tenant_admin"))
    resp = client.get("/central/indicators")
    assert resp.status_code in (302, 403)


def test_the_complaint_unit_marks_a_test_report_on_the_report_page(db, bjm, make_user, login_as):
    officer = make_user(bjm, "officer")
    story = Story(db, bjm, officer, at(2026, 2, 2, 1), "Laporan uji coba dari petugas")
    client = login_as(bjm, officer)
    page = client.get(f"/banjarmasin/staff/complaints/{story.id}?lang=en").text
    assert 'id="test-report"' in page and "Mark as a test report" in page
    with tenant_scope(bjm.id):
        version = db.session.get(Complaint, story.id).version
    resp = client.post(f"/banjarmasin/staff/complaints/{story.id}/mark-test",
                       data={"test_mark-version": str(version),
                             "test_mark-reason": "Uji coba formulir"})
    assert resp.status_code == 302
    db.session.expire_all()
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, story.id)
        assert c.is_test is True
        event = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id, kind="mark_test")).scalar_one()
        assert event.message == "Uji coba formulir" and event.visibility == "internal"
        version = c.version
    page = client.get(f"/banjarmasin/staff/complaints/{story.id}?lang=en").text
    assert "Count it in the statistics again" in page and "Marked as a test report" in page
    # A stale form (an older version) is a conflict, not a silent change.
    stale = client.post(f"/banjarmasin/staff/complaints/{story.id}/unmark-test",
                        data={"test_mark-version": str(version - 1)})
    assert stale.status_code == 409


def test_an_agency_liaison_cannot_mark_a_test_report(db, bjm, make_user, login_as):
    officer = make_user(bjm, "officer")
    story = Story(db, bjm, officer, at(2026, 2, 2, 1), "Laporan untuk dinas").verify(at(2026, 2, 2, 2)).dispose(
        at(2026, 2, 2, 3))
    client = login_as(bjm, make_user(bjm, "liaison", agency_code="pupr"))
    page = client.get(f"/banjarmasin/staff/complaints/{story.id}?lang=en")
    assert page.status_code == 200 and 'id="test-report"' not in page.text
    resp = client.post(f"/banjarmasin/staff/complaints/{story.id}/mark-test",
                       data={"test_mark-version": "1"})
    assert resp.status_code == 403
    with tenant_scope(bjm.id):
        assert db.session.get(Complaint, story.id).is_test is False
