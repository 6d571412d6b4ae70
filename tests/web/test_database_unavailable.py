"""A lost database connection answers with a translated 503 page, never a stack trace; other database
errors stay 500s (tests/faults cuts a real PostgreSQL connection; this runs on both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from app.complaints import views_public

TRACE = ("Traceback", "OperationalError", "connection refused", 'File "')


def _fail_with(monkeypatch, exc: Exception) -> None:
    def boom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(views_public.reports, "service_standard", boom)


@pytest.mark.parametrize(("query", "headers", "lang", "heading"), [
    ("", {}, "id", "Layanan sementara tidak tersedia"),
    ("?lang=en", {}, "en", "Service temporarily unavailable"),
    ("", {"Accept-Language": "en-GB,en;q=0.8"}, "en", "Service temporarily unavailable"),
])
def test_an_unreachable_database_gives_a_translated_503(app, client, bjm, monkeypatch, query, headers, lang, heading):
    _fail_with(monkeypatch, OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused")))
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get(f"/{bjm.slug}/lapor{query}", headers=headers)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "30" and resp.headers["Cache-Control"] == "no-store"
    assert heading in resp.text and f'lang="{lang}"' in resp.text
    assert not any(t in resp.text for t in TRACE)


def test_other_database_errors_are_not_disguised_as_an_outage(app, client, bjm, monkeypatch):
    _fail_with(monkeypatch, IntegrityError("INSERT", {}, Exception("duplicate key")))
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get(f"/{bjm.slug}/lapor")
    assert resp.status_code == 500
    assert "Layanan sementara tidak tersedia" not in resp.text


def test_a_write_refused_by_a_server_still_read_only_during_a_failover_is_an_outage(app, client, bjm, monkeypatch):
    # Patroni's /primary answers 200 as soon as the new leader holds the key, a moment before its
    # promotion ends: writes routed there meanwhile fail with SQLSTATE 25006 (make test-cluster saw 41).
    from psycopg.errors import ReadOnlySqlTransaction
    from sqlalchemy.exc import InternalError

    _fail_with(monkeypatch, InternalError("UPDATE code_counter", {}, ReadOnlySqlTransaction(
        "cannot execute UPDATE in a read-only transaction")))
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = client.get(f"/{bjm.slug}/lapor")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert "Layanan sementara tidak tersedia" in resp.text
