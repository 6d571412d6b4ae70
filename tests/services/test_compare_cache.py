"""The central comparison is computed once per period and shared through Redis."""

from __future__ import annotations

from datetime import date

import pytest

from app.central import comparison as reports
from tests.conftest import shared_cache


@pytest.fixture()
def redis_cache(app):
    yield from shared_cache(app, reports.COMPARE_CACHE_PREFIX, "COMPARE_CACHE_SECONDS", 300)


@pytest.mark.redis
def test_second_request_is_served_from_the_cache_and_refresh_recomputes(app, db, tenants, redis_cache, monkeypatch):
    calls = []
    real = reports.compare_regions
    monkeypatch.setattr(reports, "compare_regions", lambda *a, **k: calls.append(a) or real(*a, **k))
    start, end = date(2026, 1, 1), date(2026, 6, 30)
    first = reports.cached_comparison(start, end)
    second = reports.cached_comparison(start, end)
    assert len(calls) == 1 and [r.slug for r in first[0]] == [r.slug for r in second[0]]
    assert second[1] == first[1]
    reports.cached_comparison(start, end, refresh=True)
    assert len(calls) == 2


def test_without_redis_nothing_is_cached(app, db, tenants, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    calls = []
    real = reports.compare_regions
    monkeypatch.setattr(reports, "compare_regions", lambda *a, **k: calls.append(a) or real(*a, **k))
    reports.cached_comparison(date(2026, 1, 1), date(2026, 6, 30))
    reports.cached_comparison(date(2026, 1, 1), date(2026, 6, 30))
    assert len(calls) == 2
