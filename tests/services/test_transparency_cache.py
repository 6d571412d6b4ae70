"""The transparency page's aggregate figures are shared through Redis for a minute, per region and filter."""

from __future__ import annotations

import pytest

from app.complaints import transparency as reports
from app.tenancy.scope import tenant_scope
from tests.conftest import shared_cache
from tests.factories import submit_complaint


@pytest.fixture()
def figures_cache(app):
    yield from shared_cache(app, reports.FIGURES_CACHE_PREFIX, "TRANSPARENCY_CACHE_SECONDS", 60)


def counting(monkeypatch) -> list:
    calls: list = []
    real = reports.status_counts
    monkeypatch.setattr(reports, "status_counts", lambda: calls.append(1) or real())
    return calls


@pytest.mark.redis
def test_the_second_request_is_served_from_the_cache(app, db, bjm, figures_cache, monkeypatch):
    calls = counting(monkeypatch)
    with tenant_scope(bjm.id):
        submit_complaint(category="jalan")
        first = reports.public_figures(reports.PublicFilter(), bjm)
        second = reports.public_figures(reports.PublicFilter(), bjm)
        assert len(calls) == 1
        assert second == first and sum(first.counts.values()) >= 1
        reports.public_figures(reports.PublicFilter(status="submitted"), bjm)  # another filter, its own entry
        assert len(calls) == 2


@pytest.mark.redis
def test_each_region_has_its_own_figures(app, db, bjm, ktg, figures_cache, monkeypatch):
    with tenant_scope(bjm.id):
        for _ in range(3):
            submit_complaint(category="jalan")
        bjm_figures = reports.public_figures(reports.PublicFilter(), bjm)
    with tenant_scope(ktg.id):
        ktg_figures = reports.public_figures(reports.PublicFilter(), ktg)
        assert ktg_figures.counts == reports.status_counts()  # its own, not Banjarmasin's cached ones
    assert ktg_figures != bjm_figures
    keys = {k.decode() for k in figures_cache.scan_iter(f"{reports.FIGURES_CACHE_PREFIX}*")}
    assert {k.split(":")[3] for k in keys} == {str(bjm.id), str(ktg.id)}


@pytest.mark.redis
def test_the_page_shows_the_shared_figures(app, db, bjm, client, figures_cache):
    with tenant_scope(bjm.id):
        submit_complaint(category="jalan")
    first = client.get(f"/{bjm.slug}/transparansi")
    second = client.get(f"/{bjm.slug}/transparansi")
    assert first.status_code == second.status_code == 200
    assert figures_cache.exists(f'{reports.FIGURES_CACHE_PREFIX}{bjm.id}:{{}}')


def test_without_redis_the_figures_are_computed_each_time(app, db, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "TRANSPARENCY_CACHE_SECONDS", 60)
    calls = counting(monkeypatch)
    with tenant_scope(bjm.id):
        reports.public_figures(reports.PublicFilter(), bjm)
        reports.public_figures(reports.PublicFilter(), bjm)
    assert len(calls) == 2
