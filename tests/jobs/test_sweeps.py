"""`jobs/sweeps.sweep_all_tenants`: the periodic sweep over every region (each in its own scope and
transaction). Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL under row-level security."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency
from app.jobs import sweeps
from app.tenancy.models import TenantStatus
from app.tenancy.scope import current_tenant_id, tenant_scope
from tests.factories import make


@pytest.fixture()
def steps(monkeypatch):
    """Replace the registered steps by the test's own (the list is restored afterwards); returns the
    list of (step, region slug, bound tenant id) calls."""
    calls: list[tuple[str, str, int | None]] = []
    monkeypatch.setattr(sweeps, "SWEEPS", [])
    return calls


def _agencies(db, tenant, prefix: str) -> int:
    with tenant_scope(tenant.id):
        db.session.expire_all()
        return db.session.scalar(select(func.count(Agency.id)).where(Agency.code.startswith(prefix)))


def _writer(calls, name: str, fail_for: str | None = None):
    """A step that writes one row in the region it runs for (and counts it), failing for ``fail_for``."""

    def step(tenant):
        calls.append((name, tenant.slug, current_tenant_id()))
        make(Agency, code=f"{name}-{tenant.slug}")
        if tenant.slug == fail_for:
            raise RuntimeError(f"{name} broke for {tenant.slug}")
        return {name: 1}

    step.__name__ = name
    return step


def test_every_active_region_is_swept_in_its_own_scope_and_a_suspended_one_is_skipped(db, tenants, steps):
    bjm, ktg = tenants
    ktg.status = TenantStatus.SUSPENDED
    db.session.commit()
    sweeps.SWEEPS.append(_writer(steps, "sweepa"))

    totals = sweeps.sweep_all_tenants()

    assert steps == [("sweepa", "banjarmasin", bjm.id)]  # bound to the region it sweeps
    assert totals == {"sweepa": 1}
    assert _agencies(db, bjm, "sweepa") == 1
    assert _agencies(db, ktg, "sweepa") == 0  # the suspended region: nothing ran, nothing written


def test_a_pending_region_is_not_swept_either(db, tenants, steps):
    bjm, ktg = tenants
    bjm.status = TenantStatus.PENDING
    db.session.commit()
    sweeps.SWEEPS.append(_writer(steps, "sweepa"))

    assert sweeps.sweep_all_tenants() == {"sweepa": 1}
    assert [slug for _, slug, _ in steps] == ["katingan"]


def test_one_failing_region_does_not_stop_the_others(db, tenants, steps, caplog):
    bjm, ktg = tenants
    sweeps.SWEEPS.extend([_writer(steps, "sweepa", fail_for="banjarmasin"), _writer(steps, "sweepb")])

    with caplog.at_level(logging.ERROR, logger="app.jobs.sweeps"):
        totals = sweeps.sweep_all_tenants()

    # Every step ran for every region: the failure skipped neither the next step nor the next region.
    assert sorted((name, slug) for name, slug, _ in steps) == [
        ("sweepa", "banjarmasin"), ("sweepa", "katingan"), ("sweepb", "banjarmasin"), ("sweepb", "katingan")]
    assert totals == {"sweepa": 1, "sweepb": 2}  # the failed step's counts are not added
    # The failed step's write was rolled back; everything else was committed.
    assert _agencies(db, bjm, "sweepa") == 0
    assert _agencies(db, bjm, "sweepb") == 1
    assert _agencies(db, ktg, "sweepa") == 1 and _agencies(db, ktg, "sweepb") == 1
    failures = [r for r in caplog.records if r.name == "app.jobs.sweeps"]
    assert len(failures) == 1 and "banjarmasin" in failures[0].getMessage()
    assert failures[0].exc_info and "sweepa broke for banjarmasin" in str(failures[0].exc_info[1])


def test_the_registered_steps_run_over_both_demo_regions_without_error(db, tenants, caplog):
    """The real steps (escalations of overdue reports, …) on two regions with nothing to do."""
    with caplog.at_level(logging.ERROR, logger="app.jobs.sweeps"):
        totals = sweeps.sweep_all_tenants()
    assert sweeps.SWEEPS, "no sweep step is registered"
    assert isinstance(totals, dict)
    assert not [r for r in caplog.records if r.name == "app.jobs.sweeps"]
