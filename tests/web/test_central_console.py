"""The central console: regions with status, go-live and activity; suspending and reactivating a region
(audited); what a suspension does to the public, to staff and to the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.accounts.services import create_platform_admin
from app.central import comparison as reports
from app.complaints.models import Complaint
from app.onboarding.models import TenantAuditEvent
from app.tenancy.models import Tenant, TenantStatus
from app.tenancy.scope import tenant_scope
from tests.conftest import central_login, login
from tests.web.staff_support import submit

ADMIN_PASSWORD = "central-admin-password-2026"


@pytest.fixture()
def central(app, db, tenants):
    create_platform_admin("pusat@lapor.example", "Administrator Pusat", ADMIN_PASSWORD)
    db.session.commit()
    client = app.test_client()
    resp = central_login(client, "pusat@lapor.example", ADMIN_PASSWORD)
    assert resp.status_code == 302, resp.text[:300]
    return client


def _reload(db, tenant) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, tenant.id)


def _audit(db, tenant) -> list[TenantAuditEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return list(db.session.scalars(select(TenantAuditEvent).order_by(TenantAuditEvent.id)))


def test_console_lists_regions_with_status_go_live_and_activity(app, db, bjm, ktg, central):
    now = datetime.now(UTC)
    submit(db, bjm, when=now - timedelta(days=2))
    submit(db, bjm, when=now - timedelta(hours=3))
    submit(db, bjm, when=now - timedelta(days=45))  # outside the 30 days
    ktg_row = _reload(db, ktg)
    ktg_row.go_live_at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    db.session.commit()

    activity = reports.tenant_activity()
    assert activity[bjm.id].complaints_30d == 2
    assert abs((activity[bjm.id].last_activity_at - (now - timedelta(hours=3))).total_seconds()) < 5
    assert ktg.id not in activity or activity[ktg.id].complaints_30d == 0

    page = central.get("/central/?lang=en")
    assert page.status_code == 200
    row = page.text.split('id="tenant-banjarmasin"')[1].split("</tr>")[0]
    assert "Pemerintah Kota Banjarmasin" in row and '<td class="num">2</td>' in row
    ktg_html = page.text.split('id="tenant-katingan"')[1].split("</tr>")[0]
    assert "2 Maret 2026" in ktg_html or "2 March 2026" in ktg_html
    assert 'href="/central/applications/"' in page.text and 'href="/central/compare"' in page.text


def test_console_and_status_changes_are_for_central_administrators_only(app, db, bjm, make_user, client):
    admin = make_user(bjm, Role.TENANT_ADMIN)
    assert login(client, bjm, admin.email).status_code == 302
    assert client.get("/central/").status_code == 302
    resp = client.post(f"/central/tenants/{bjm.id}/suspend", data={"reason": "Percobaan tanpa hak"})
    assert resp.status_code == 302 and "/central/login" in resp.headers["Location"]
    assert _reload(db, bjm).status == TenantStatus.ACTIVE
    assert _audit(db, bjm) == []


def test_suspending_needs_a_reason(app, db, bjm, central):
    assert central.post(f"/central/tenants/{bjm.id}/suspend", data={"reason": ""}).status_code == 303
    assert _reload(db, bjm).status == TenantStatus.ACTIVE
    assert _audit(db, bjm) == []


def test_a_suspended_region_says_so_keeps_its_data_and_lets_staff_read_but_not_act(app, db, bjm, ktg, central,
                                                                                   make_user):
    c = submit(db, bjm)
    officer = make_user(bjm, Role.OFFICER)
    resp = central.post(f"/central/tenants/{bjm.id}/suspend", data={"reason": "Kontrak layanan berakhir"})
    assert resp.status_code == 303
    assert _reload(db, bjm).status == TenantStatus.SUSPENDED
    [event] = _audit(db, bjm)
    assert event.kind == "tenant.suspended" and event.actor_label == "Administrator Pusat"
    assert event.before == {"status": "active"}
    assert event.after == {"status": "suspended", "reason": "Kontrak layanan berakhir"}
    assert "Kontrak layanan berakhir" in central.get("/central/").text

    public = app.test_client()
    for path in ("/banjarmasin/", "/banjarmasin/lapor", f"/banjarmasin/lacak/{c.code}"):
        resp = public.get(path)
        assert resp.status_code == 503 and "Pemerintah Kota Banjarmasin" in resp.text, path
    assert public.post("/banjarmasin/lapor", data={"title": "x"}).status_code == 503
    assert "Lapor Baiman" not in public.get("/").text  # the platform home no longer offers it
    assert app.test_client().get("/katingan/").status_code == 200  # the other region is untouched

    staff = app.test_client()
    assert login(staff, bjm, officer.email).status_code == 302
    dashboard = staff.get("/banjarmasin/staff/")
    assert dashboard.status_code == 200 and 'class="flash warning"' in dashboard.text
    assert staff.get(f"/banjarmasin/staff/complaints/{c.id}").status_code == 200
    refused = staff.post(f"/banjarmasin/staff/complaints/{c.id}/verify", data={"version": "1"})
    assert refused.status_code == 503
    assert 'href="/banjarmasin/staff/"' in refused.text  # the staff variant of the page
    with tenant_scope(bjm.id):
        assert db.session.get(Complaint, c.id).status == "submitted"
        assert db.session.scalar(select(func.count(Complaint.id))) == 1  # data kept

    resp = central.post(f"/central/tenants/{bjm.id}/reactivate", data={"reason": "Kontrak diperpanjang"})
    assert resp.status_code == 303
    assert _reload(db, bjm).status == TenantStatus.ACTIVE
    assert [e.kind for e in _audit(db, bjm)] == ["tenant.suspended", "tenant.reactivated"]
    assert public.get("/banjarmasin/").status_code == 200
    assert "Kontrak diperpanjang" in central.get("/central/").text
    assert _audit(db, ktg) == []


def test_only_active_regions_can_be_suspended_and_only_suspended_ones_reactivated(app, db, bjm, central):
    assert central.post(f"/central/tenants/{bjm.id}/reactivate", data={"reason": "Tidak perlu"}).status_code == 303
    assert _audit(db, bjm) == []
    assert central.post("/central/tenants/999999/suspend", data={"reason": "Tidak ada"}).status_code == 404


def test_the_platform_home_lists_only_live_active_regions(app, db, bjm, ktg, client):
    row = _reload(db, ktg)
    row.live = False  # still setting up
    db.session.commit()
    page = client.get("/")
    assert "Lapor Baiman" in page.text and "Lapor Katingan" not in page.text
