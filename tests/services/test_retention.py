"""Retention (UU PDP): identities of reports ended longer ago than the region's retention_years are purged;
the statistics (app.central.comparison, the transparency figures) stay exactly the same; the purge is
idempotent and recorded; open reports and the other region are untouched.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.central import comparison as reports
from app.complaints import transparency as tenant_reports
from app.complaints.models import Attachment, Complaint, ComplaintEvent, Follower, Status
from app.notifications.models import Notification
from app.privacy import retention
from app.tenancy.files import TenantConfigError, load_tenant_config
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.compare_fixture import MONTHS, PERIOD, with_data
from tests.web.staff_support import png_bytes

REPO = Path(__file__).resolve().parents[2]
#: Five years after everything in the comparison fixture (closed in February and March 2026) ended.
LATER = datetime(2031, 6, 1, tzinfo=UTC)


@pytest.fixture()
def compare_data(db, bjm, ktg, make_user):
    yield from with_data(db, bjm, ktg, make_user)


def _figures(bjm, ktg) -> dict:
    """Every figure the comparison and the transparency page show."""
    reports.clear_peer_cache()
    out = {"compare": [asdict(r) for r in reports.compare_regions(*PERIOD)],
           "march": [asdict(r) for r in reports.compare_regions(datetime(2026, 3, 1).date(),
                                                                datetime(2026, 3, 31).date())],
           "trend": reports.monthly_trend([bjm.id, ktg.id], MONTHS),
           "aggregates": asdict(reports.tenant_aggregates("banjarmasin", *PERIOD))}
    for tenant in (bjm, ktg):
        with tenant_scope(tenant.id):
            out[tenant.slug] = (tenant_reports.status_counts(), tenant_reports.on_time_share())
    return out


def _identities(db, tenant) -> list[tuple]:
    with tenant_scope(tenant.id):
        return db.session.execute(select(Complaint.code, Complaint.status, Complaint.reporter_name,
                                         Complaint.reporter_email, Complaint.identity_purged_at)
                                  .order_by(Complaint.code)).all()


def _count(db, tenant, model, **filters) -> int:
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.count(model.id)).filter_by(**filters))


def test_purge_removes_identities_of_ended_reports_and_keeps_every_statistic(db, bjm, ktg, compare_data):
    before = _figures(bjm, ktg)
    assert retention.purge_all_tenants(now=LATER) == {"purged": 5, "attachments": 0}  # B1, B7, K1, K2, K3
    db.session.expire_all()
    assert _figures(bjm, ktg) == before  # counts, classes, deadlines, ratings: identical

    for tenant in (bjm, ktg):
        for code, status, name, email, purged_at in _identities(db, tenant):
            if status in Status.TERMINAL:  # B1, B7 closed; K1, K2 closed, K3 archived; B2 was reopened
                assert (name, email) == (None, None) and purged_at is not None, code
            else:
                assert (name, email) == ("Warga Uji", "warga@contoh.id") and purged_at is None, code
    with tenant_scope(bjm.id):
        ended = [c.id for c in db.session.execute(select(Complaint).where(Complaint.status.in_(Status.TERMINAL)))
                 .scalars()]
        assert not db.session.execute(select(Follower).where(Follower.complaint_id.in_(ended))).first()
        assert not db.session.execute(select(Notification).where(Notification.recipient == "warga@contoh.id",
                                                                 Notification.event_key.in_(
            [f"event:{i}" for i in db.session.execute(select(ComplaintEvent.id).where(
                ComplaintEvent.complaint_id.in_(ended))).scalars()]))).first()


def test_purge_is_idempotent_and_recorded_once(db, bjm, ktg, compare_data):
    retention.purge_all_tenants(now=LATER)
    events = _count(db, bjm, ComplaintEvent, kind="purge_identity")
    assert events == 2  # B1 and B7
    assert retention.purge_all_tenants(now=LATER) == {"purged": 0, "attachments": 0}
    assert _count(db, bjm, ComplaintEvent, kind="purge_identity") == events


def test_nothing_is_purged_before_the_retention_period_ends(db, bjm, ktg, compare_data):
    # B7 closed 3 March 2026: with 5 years it is kept until 3 March 2031.
    assert retention.purge_all_tenants(now=datetime(2031, 2, 1, tzinfo=UTC))["purged"] == 0
    assert retention.purge_all_tenants(now=datetime(2031, 3, 1, tzinfo=UTC))["purged"] == 4  # B1, K1, K2, K3


def test_retention_years_come_from_the_region_settings(db, bjm, ktg, compare_data):
    bjm.settings = {**bjm.settings, "retention_years": 10}
    db.session.commit()
    counts = retention.purge_all_tenants(now=LATER)
    assert counts["purged"] == 3  # Katingan only (5 years by the template)
    assert all(name is not None for _c, _s, name, _e, _p in _identities(db, bjm))


def test_purge_deletes_attachments_rows_and_files_but_keeps_the_report_text(db, bjm, make_user, storage_backend):
    from app.complaints import service
    from app.complaints.uploads import prepare_upload

    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id), frozen_time(datetime(2020, 1, 6, 2, tzinfo=UTC)):
        c, _ = service.submit_complaint(service.SubmitData(
            title="Foto jalan rusak", description="Jalan rusak parah di depan rumah saya sejak lama.",
            complaint_class="pengaduan", reporter_name="Ahmad", reporter_phone="081234567890",
            attachments=[prepare_upload("wajah-saya.png", png_bytes())]))
        service.archive(c, service.Actor.of(officer), "Di luar kewenangan")
        db.session.commit()
        key = db.session.execute(select(Attachment.storage_key)).scalar_one()
    assert storage_backend.exists(key)
    assert retention.purge_all_tenants(now=LATER, slug="banjarmasin") == {"purged": 1, "attachments": 1}
    assert not storage_backend.exists(key)
    assert _count(db, bjm, Attachment) == 0
    db.session.expire_all()
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c.id)
        assert (c.reporter_name, c.reporter_phone, c.title) == (None, None, "Foto jalan rusak")
        assert c.description.startswith("Jalan rusak")


def test_purge_clears_identity_values_kept_in_correction_events(db, bjm, make_user):
    from app.complaints import service
    from app.privacy import service as pdp

    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id), frozen_time(datetime(2020, 1, 6, 2, tzinfo=UTC)):
        c, _ = service.submit_complaint(service.SubmitData(
            title="Sampah menumpuk", description="Sampah menumpuk di pinggir sungai sejak sebulan.",
            complaint_class="pengaduan", reporter_name="Ahmad", reporter_email="ahmad@contoh.id"))
        pdp.correct_identity(c, service.Actor.of(officer), name="Ahmad Yani", email="ahmad@contoh.id", phone=None)
        service.archive(c, service.Actor.of(officer), "Duplikat")
        db.session.commit()
    retention.purge_all_tenants(now=LATER)
    db.session.expire_all()
    with tenant_scope(bjm.id):
        event = db.session.execute(select(ComplaintEvent).filter_by(kind="correct_identity")).scalar_one()
        assert "Ahmad" not in str(event.before) + str(event.after)


def test_cli_command_runs_the_purge(app, db, bjm, ktg, compare_data):
    result = app.test_cli_runner().invoke(args=["jobs", "purge-identities", "--tenant", "katingan"])
    assert result.exit_code == 0, result.output
    assert "'purged'" in result.output


def test_the_purge_is_scheduled_daily(monkeypatch):
    import runpy

    from croniter import croniter
    from rq import cron

    registered = []
    monkeypatch.setattr(cron, "register", lambda func, **kw: registered.append((func.__name__, kw)))
    runpy.run_path(str(REPO / "app" / "jobs" / "cron.py"))
    [(_name, kw)] = [r for r in registered if r[0] == "purge_identities"]
    assert kw["queue_name"] == "periodic" and croniter.is_valid(kw["cron"])


def test_retention_years_is_validated_in_the_tenant_files(tmp_path):
    import shutil

    shutil.copytree(REPO / "tenants", tmp_path / "tenants")
    path = tmp_path / "tenants" / "katingan" / "tenant.toml"
    path.write_text(path.read_text().replace("[settings]", "[settings]\nretention_years = 0", 1))
    with pytest.raises(TenantConfigError) as exc:
        load_tenant_config(tmp_path / "tenants", "katingan")
    assert exc.value.field == "settings.retention_years"
    assert load_tenant_config(REPO / "tenants", "katingan").settings["retention_years"] == 5
