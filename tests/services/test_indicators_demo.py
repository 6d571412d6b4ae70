"""The demo seed (`make run`) has enough peer regions for the staff dashboard's peer panel to show numbers,
keeps Banjarmasin and Katingan as they were, and marks each extra region's go-live test report."""

from __future__ import annotations

from sqlalchemy import func, select

from app.central import comparison as reports
from app.complaints.models import Complaint
from app.demo import EXTRA_REGIONS
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope


def test_demo_regions_give_the_peer_panel_numbers(app, db, demo_data):
    printed = "\n".join(demo_data)
    for region in EXTRA_REGIONS:
        assert region.officer[0] in printed and f"/{region.slug}/" in printed
    tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
    for slug in ("banjarmasin", "katingan"):
        with tenant_scope(tenants[slug].id):
            assert db.session.scalar(select(func.count(Complaint.id))) == 200  # as before
    reports.clear_peer_cache()
    period = reports.default_period()
    rows = reports.compare_regions(*period)
    assert {r.slug for r in reports.eligible_peers(rows)} == {"banjarmasin", "katingan", "palangkaraya", "banjar"}
    newest = next(r for r in rows if r.slug == "pulangpisau")
    assert newest.received < 20  # live 12 days: no peer yet
    assert newest.score is None  # and no score: fewer than 10 reports
    assert all(r.score is not None for r in rows if r.slug != "pulangpisau")
    with tenant_scope(tenants["banjarmasin"].id):
        bench = reports.peer_benchmark(tenants["banjarmasin"].id)
    assert bench.peers == 4 >= bench.min_peers
    for key in ("score", "received", "verified_share", "followup_share", "median_first_response_days"):
        assert bench.medians[key] is not None, key
    for region in EXTRA_REGIONS:
        with tenant_scope(tenants[region.slug].id):
            tests = db.session.scalars(select(Complaint).where(Complaint.is_test.is_(True))).all()
            total = db.session.scalar(select(func.count(Complaint.id)))
        assert len(tests) == 1 and total == region.complaints + 1
        row = next(r for r in rows if r.slug == region.slug)
        assert row.received <= region.complaints  # the test report is not counted
    reports.clear_peer_cache()
