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


# ---------------------------------------------------------------- machine clients (issue 15 item 6)

def _database_down(app, monkeypatch) -> None:
    """Every query fails as a refused connection does (the tenant lookup of the URL is the first)."""
    from app.extensions import db

    def refused(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(db.session, "execute", refused)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def _outage_headers(resp) -> None:
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "30" and resp.headers["Cache-Control"] == "no-store"
    assert not any(t in resp.text for t in TRACE) and "<html" not in resp.text.lower()


@pytest.mark.parametrize("method", ["get", "post"])
def test_rest_api_gets_its_json_error_when_the_database_is_down(app, client, bjm, monkeypatch, method):
    _database_down(app, monkeypatch)
    resp = getattr(client, method)(f"/{bjm.slug}/api/v1/complaints", headers={"Authorization": "Bearer k"},
                                   json={} if method == "post" else None)
    _outage_headers(resp)
    assert resp.mimetype == "application/json"
    error = resp.get_json()["error"]
    assert error["status"] == 503 and error["code"] == "service_unavailable"
    assert "30" in error["message"]


@pytest.mark.parametrize(("prefix", "fmt"), [("/{slug}", "json"), ("/{slug}", "xml"), ("", "json"), ("", "xml")])
def test_open311_gets_its_json_or_xml_error_when_the_database_is_down(app, client, bjm, monkeypatch, prefix, fmt):
    import xml.etree.ElementTree as ET

    _database_down(app, monkeypatch)
    resp = client.get(f"{prefix.format(slug=bjm.slug)}/open311/v2/services.{fmt}?jurisdiction_id={bjm.slug}")
    _outage_headers(resp)
    if fmt == "json":
        assert resp.mimetype == "application/json"
        [error] = resp.get_json()
        assert error["code"] == 503 and error["description"]
    else:
        assert resp.mimetype == "text/xml"
        root = ET.fromstring(resp.data)  # noqa: S314 (our own app's answer)
        assert root.tag == "errors" and root.find("error/code").text == "503"


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_inbound_gateway_gets_json_or_text_when_the_database_is_down(app, client, bjm, monkeypatch, channel):
    _database_down(app, monkeypatch)
    message = {"message_id": "gw-1", "from": "+6281234567890", "text": "Lampu jalan padam sejak Senin malam"}
    resp = client.post(f"/{bjm.slug}/inbound/{channel}", json=message, headers={"Authorization": "Bearer t"})
    _outage_headers(resp)
    assert resp.mimetype == "application/json" and resp.get_json()["error"]
    resp = client.post(f"/{bjm.slug}/inbound/{channel}?format=text", json=message,
                       headers={"Authorization": "Bearer t"})
    _outage_headers(resp)
    assert resp.mimetype == "text/plain" and "30" in resp.text


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
