"""`flask demo seed` (what `make run` runs) with the regions someone has in tenants/."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import func, select

from app.accounts.models import User
from app.complaints.models import Complaint
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope

TENANTS = Path(__file__).resolve().parents[2] / "tenants"


def test_demo_seed_skips_the_demo_data_of_a_region_without_demo_staff(app, db, demo_data, tmp_path, monkeypatch):
    # A third region added to tenants/ (here Kapuas, copied from Katingan) has no demo staff: the seed
    # once crashed on it (no officer to act for) and `make run` failed for anyone who added a region.
    # It runs again on the demo database seeded once per run (demo_data): `make run` re-seeds an existing
    # database the same way, and the seed is idempotent.
    tenants_dir = tmp_path / "tenants"
    shutil.copytree(TENANTS, tenants_dir)
    shutil.copytree(tenants_dir / "katingan", tenants_dir / "kapuas")
    toml = tenants_dir / "kapuas" / "tenant.toml"
    toml.write_text(toml.read_text().replace('"katingan"', '"kapuas"').replace('"62.06"', '"62.03"')
                    .replace('"KTG"', '"KPS"').replace("Katingan", "Kapuas"))
    monkeypatch.setitem(app.config, "TENANTS_DIR", str(tenants_dir))

    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "kapuas      no demo staff" in result.output and "/kapuas/" in result.output
    kapuas = db.session.scalars(select(Tenant).filter_by(slug="kapuas")).one()
    with tenant_scope(kapuas.id):
        assert db.session.scalar(select(func.count(Complaint.id))) == 0
        assert db.session.scalar(select(func.count(User.id))) == 0
    bjm = db.session.scalars(select(Tenant).filter_by(slug="banjarmasin")).one()
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(Complaint.id))) > 0
