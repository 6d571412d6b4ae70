"""Delivery adapters against real local servers: an SMTP server and an HTTP SMS gateway."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.notifications import channels
from app.notifications.models import Notification
from app.notifications.service import queue_message, send_notification
from app.tenancy.scope import tenant_scope


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture()
def smtp_server(app):
    inbox = _Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_USE_TLS=False)
    yield inbox
    app.config.update(old)
    controller.stop()


@pytest.fixture()
def sms_gateway(app):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers.get("Authorization"), json.loads(body)))
            self.send_response(200 if received[-1][1]["to"] != "000" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    old = {k: app.config[k] for k in ("SMS_GATEWAY_URL", "SMS_GATEWAY_TOKEN")}
    app.config.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{server.server_port}/send", SMS_GATEWAY_TOKEN="tok")
    yield received
    app.config.update(old)
    server.shutdown()
    server.server_close()


def test_email_goes_through_smtp_with_the_tenants_sender_name_and_only_once(app, db, bjm, smtp_server):
    with tenant_scope(bjm.id):
        note = queue_message("test:1", "email", "warga@contoh.id", "complaint_received",
                             {"code": "BJM-26-00001", "title": "Jalan rusak", "link": "http://x/1"}, locale="id")
        db.session.commit()  # relay runs inline after commit only in requests; run the job directly
        assert send_notification(tenant_id=bjm.id, notification_id=note.id) == "smtp"
        assert send_notification(tenant_id=bjm.id, notification_id=note.id) == "skip"
    assert len(smtp_server.messages) == 1
    rcpt, content = smtp_server.messages[0]
    assert rcpt == ["warga@contoh.id"]
    assert "Lapor Baiman" in content and "BJM-26-00001" in content


def test_sms_goes_to_the_http_gateway_with_the_bearer_token(app, db, bjm, sms_gateway):
    with tenant_scope(bjm.id):
        note = queue_message("test:2", "sms", "081234567890", "status_changed",
                             {"code": "BJM-26-00002", "status": "Terverifikasi", "link": "http://x/2"}, locale="id")
        assert send_notification(tenant_id=bjm.id, notification_id=note.id) == "http"
        assert db.session.get(Notification, note.id).status == "sent"
    assert sms_gateway == [("Bearer tok", {"to": "081234567890", "message": sms_gateway[0][1]["message"],
                                           "sender": bjm.settings["sender_name"]})]
    assert "BJM-26-00002" in sms_gateway[0][1]["message"]


def test_a_gateway_error_marks_the_message_failed_and_raises_for_a_retry(app, db, bjm, sms_gateway):
    with tenant_scope(bjm.id):
        note = queue_message("test:3", "sms", "000", "status_changed", {"code": "X"}, locale="id")
        with pytest.raises(channels.DeliveryError):
            send_notification(tenant_id=bjm.id, notification_id=note.id)
        row = db.session.execute(select(Notification).filter_by(event_key="test:3")).scalar_one()
        assert row.status == "failed" and row.attempts == 1


def test_messages_use_the_recipients_language(app, db, ktg):
    with tenant_scope(ktg.id):
        en = queue_message("test:4", "email", "a@contoh.id", "complaint_received", {"code": "KTG-26-00001"}, "en")
        idn = queue_message("test:4", "email", "b@contoh.id", "complaint_received", {"code": "KTG-26-00001"}, "id")
    assert en.subject == "Report KTG-26-00001 received"
    assert idn.subject == "Laporan KTG-26-00001 telah kami terima"
    assert "Lapor Katingan" in idn.body
