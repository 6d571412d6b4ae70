"""Nothing personal in logs or in Sentry (issue 6, UU PDP 27/2022), shown on the whole lifecycle.

Sentry runs with a transport that keeps events in memory (no network); every log record of every logger
is kept at DEBUG, SQL statements included. Three reports (public, anonymous, confidential) go through the
web forms with names, emails, phone numbers and a home address; the unit verifies and disposes, the
liaison answers, the unit publishes, the reporter rates and replies; and one request handler fails with
personal data in its local variables, so an event with a stack trace and breadcrumbs is sent. None of the
personal values may appear in any event or any log record.
"""

from __future__ import annotations

import logging
import re
import traceback

import pytest
import sentry_sdk
from sqlalchemy import select

from app.complaints.models import FollowUp
from app.observability import init_sentry
from app.tenancy.scope import tenant_scope
from tests.web.citizen_support import form_data, pin_of
from tests.web.staff_support import agency_id, hidden_version, login, make_staff, post_action

# Values that must never leave the process: one identity per report, and a home address.
PEOPLE = {
    "public": ("Rahmawati Kusumadewi", "rahmawati.kd@contoh.id", "+6281398765432"),
    "anonim": ("Bambang Sutrisnoputro", "bambang.sp@contoh.id", "+6282155501234"),
    "rahasia": ("Yuliana Marpaung", "yuli.marpaung@contoh.id", "+6285311122233"),
}
ADDRESS = "Jl. Melati Indah Gg. Mawar No. 17 RT 05"
SECRETS = [v for person in PEOPLE.values() for v in person] + [ADDRESS]
RECEIVED = re.compile(r"/lapor/diterima/([A-Z]{2,5}-\d{2}-\d{4,6})\?t=([^&]+)")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.name, str(record.msg), repr(record.args)]
        try:
            parts.append(record.getMessage())
        except Exception as exc:  # noqa: BLE001 (a bad format string is not our question here)
            parts.append(type(exc).__name__)
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        parts += [repr(v) for k, v in vars(record).items() if k not in logging.LogRecord.__dict__
                  and k not in {"msg", "args", "exc_info", "exc_text", "stack_info"}]
        self.texts.append("\n".join(parts))


@pytest.fixture()
def captured(app):
    """(sentry events, log texts) collected while the test runs; Sentry and log levels restored afterwards."""
    events: list = []

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.payload.json)

    handler = _Records()
    # Every logger at DEBUG, the ones that set their own level too (SQLAlchemy's SQL log included).
    loggers = [logging.getLogger()] + [lg for lg in logging.root.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger) and lg.level != logging.NOTSET]
    old_levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    logging.getLogger("app").addHandler(handler)  # "app" does not propagate to the root
    app.config["SENTRY_DSN"] = "https://public@127.0.0.1/1"
    try:
        assert init_sentry(app)
        sentry_sdk.get_client().transport = Capture(sentry_sdk.get_client().options)
        yield events, handler.texts
    finally:
        sentry_sdk.flush()
        app.config["SENTRY_DSN"] = None
        sentry_sdk.init(dsn=None)
        logging.getLogger().removeHandler(handler)
        logging.getLogger("app").removeHandler(handler)
        for lg, level in zip(loggers, old_levels, strict=True):
            lg.setLevel(level)


def _report(client, tenant, privacy: str) -> tuple[str, str]:
    name, email, phone = PEOPLE[privacy]
    resp = client.post(f"/{tenant.slug}/lapor", content_type="multipart/form-data", data=form_data(
        **pin_of(tenant.slug), privacy=privacy, reporter_name=name,
        reporter_email=email, reporter_phone=phone, location_text=ADDRESS))
    assert resp.status_code == 303, resp.text[:500]
    code, token = RECEIVED.search(resp.headers["Location"]).groups()
    assert client.get(resp.headers["Location"]).status_code == 200
    return code, token


def _complaint_id(db, tenant, code: str) -> int:
    from app.complaints.models import Complaint

    with tenant_scope(tenant.id):
        return db.session.execute(select(Complaint.id).filter_by(code=code)).scalar_one()


def test_the_whole_lifecycle_leaves_no_personal_data_in_logs_or_sentry(captured, app, db, bjm, client, make_user,
                                                                       monkeypatch):
    """``captured`` comes first: a connection decides at its start whether SQL is logged."""
    events, logs = captured
    officer = make_staff(make_user, bjm, "officer")
    liaison = make_staff(make_user, bjm, "liaison", agency_code="pupr")

    reports = {privacy: _report(client, bjm, privacy) for privacy in PEOPLE}
    code, token = reports["public"]
    assert client.get(f"/{bjm.slug}/lacak/{code}?t={token}").status_code == 200

    unit = login(app, bjm, officer)
    for privacy, (c_code, _) in reports.items():
        c_id = _complaint_id(db, bjm, c_code)
        page = unit.get(f"/{bjm.slug}/staff/complaints/{c_id}")
        assert page.status_code == 200 and PEOPLE[privacy][0] in page.text  # the unit sees who reported
        resp = post_action(unit, bjm, c_id, "verify", "verify", hidden_version(page.text, "verify"),
                           title="Jalan berlubang di depan rumah warga", complaint_class="pengaduan")
        assert resp.status_code == 302, resp.text[:300]
        page = unit.get(f"/{bjm.slug}/staff/complaints/{c_id}")
        resp = post_action(unit, bjm, c_id, "dispose", "dispose", hidden_version(page.text, "dispose"),
                           agency_ids=str(agency_id(db, bjm, "pupr")), instruction="Mohon segera ditinjau.")
        assert resp.status_code == 302, resp.text[:300]

    c_id = _complaint_id(db, bjm, code)
    agency = login(app, bjm, liaison)
    page = agency.get(f"/{bjm.slug}/staff/complaints/{c_id}")
    resp = post_action(agency, bjm, c_id, "followup", "followup", hidden_version(page.text, "followup"),
                       body="Tim PUPR telah menambal lubang pada hari Kamis.", send="1")
    assert resp.status_code == 302
    with tenant_scope(bjm.id):
        fu_id = db.session.execute(select(FollowUp.id).filter_by(complaint_id=c_id)).scalar_one()
    page = unit.get(f"/{bjm.slug}/staff/complaints/{c_id}")
    resp = post_action(unit, bjm, c_id, f"followups/{fu_id}/publish", f"publish_followup-{fu_id}",
                       hidden_version(page.text, f"publish_followup-{fu_id}"), body="")
    assert resp.status_code == 302

    assert client.post(f"/{bjm.slug}/lacak/{code}/nilai",
                       data={"t": token, "rate-score": "4", "rate-comment": "Cepat ditangani"}).status_code == 303
    assert client.post(f"/{bjm.slug}/lacak/{code}/balas",
                       data={"t": token, "reply-message": "Lubang di sebelahnya belum ditambal."}).status_code == 303
    assert client.get(f"/{bjm.slug}/transparansi").status_code == 200

    # A bug in a request handler, with the reporter's identity in its local variables.
    from app.complaints import access

    def failing_check(c, token_):
        identity = {"name": c.reporter_name, "email": c.reporter_email, "phone": c.reporter_phone}
        raise RuntimeError(f"forced failure for report {c.code} ({len(identity)} fields)")

    monkeypatch.setattr(access, "citizen_may_act", failing_check)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    anon_code, anon_token = reports["anonim"]
    resp = client.get(f"/{bjm.slug}/lapor/diterima/{anon_code}?t={anon_token}",
                      headers={"Cookie": f"reporter={PEOPLE['anonim'][1]}", "X-Forwarded-For": "10.1.2.3"})
    assert resp.status_code == 500
    sentry_sdk.flush()

    failures = [e for e in events if "forced failure" in repr(e)]
    assert failures, "no Sentry event for the failing request"
    frames = [f for e in failures for x in e["exception"]["values"]
              for f in (x.get("stacktrace") or {}).get("frames", [])]
    assert any(f.get("function") == "failing_check" for f in frames), "the event has no stack trace to check"
    assert any(e.get("breadcrumbs") for e in events), "the event carries no breadcrumbs to check"
    assert logs, "no log records captured"
    assert any("complaint_event" in text.lower() or "INSERT" in text for text in logs), "SQL was not logged"
    for secret in SECRETS:
        for event in events:
            assert secret.lower() not in repr(event).lower(), f"{secret!r} in a Sentry event"
        for text in logs:
            assert secret.lower() not in text.lower(), f"{secret!r} in a log record: {text[:800]}"
