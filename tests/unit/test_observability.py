"""Nothing personal reaches Sentry or the logs (UU PDP 27/2022)."""

import logging

import sentry_sdk

from app.observability import TenantLogFilter, init_sentry, scrub_event

# Kept away from the raising frame: Sentry sends a few source lines around it (code, not data).
NAME, PHONE, EMAIL = "Siti Norhayati", "081234567", "siti@contoh.id"


def test_scrub_event_drops_bodies_cookies_user_and_local_variables():
    event = {
        "request": {"data": {"reporter_name": "Siti"}, "cookies": {"session": "x"}, "query_string": "t=secret",
                    "headers": {"Cookie": "session=x", "User-Agent": "UA", "X-Forwarded-For": "10.0.0.1"}},
        "user": {"email": "siti@contoh.id", "ip_address": "10.0.0.1"},
        "extra": {"email": "siti@contoh.id", "complaint_id": 12},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"phone": "0812"}}]}}]},
    }
    out = scrub_event(event)
    assert "data" not in out["request"] and "cookies" not in out["request"] and "query_string" not in out["request"]
    assert out["request"]["headers"] == {"User-Agent": "UA"}
    assert "user" not in out
    assert out["extra"] == {"email": "[scrubbed]", "complaint_id": 12}
    assert "vars" not in out["exception"]["values"][0]["stacktrace"]["frames"][0]


def test_sentry_event_sent_from_a_request_carries_tenant_tag_and_no_personal_data(app, tenants, client):
    captured = []

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            captured.extend(item.payload.json for item in envelope.items if item.payload.json)

    app.config["SENTRY_DSN"] = "https://public@127.0.0.1/1"
    try:
        assert init_sentry(app)
        client_opts = sentry_sdk.get_client().options
        assert client_opts["data_collection"]["user_info"] is False
        assert client_opts["data_collection"]["http_bodies"] == []
        sentry_sdk.get_client().transport = Capture(client_opts)
        with app.test_request_context(f"/banjarmasin/?email={EMAIL}", method="POST",
                                      data={"reporter_name": NAME, "reporter_phone": PHONE}):
            from flask import g

            g.tenant = tenants[0]
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                sentry_sdk.capture_exception()
        sentry_sdk.flush()
    finally:
        app.config["SENTRY_DSN"] = None
        sentry_sdk.init(dsn=None)
    assert captured, "no event captured"
    text = repr(captured)
    assert NAME not in text and PHONE not in text and EMAIL not in text
    assert captured[0]["tags"]["tenant"] == "banjarmasin"


def test_log_records_are_stamped_with_the_tenant(app, bjm):
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "complaint %s submitted", ("BJM-26-00001",), None)
    with app.test_request_context("/"):
        from flask import g

        g.tenant = bjm
        assert TenantLogFilter().filter(record)
    assert record.tenant == "banjarmasin"
