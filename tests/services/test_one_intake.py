"""One intake (issue 18): every channel hands its fields to the complaint service, which checks and
normalises them (app.contact), and renders the service's field errors in its own format.

- The same bad phone or email through the web form, REST, Open311 and the SMS/WhatsApp gateway gives that
  field's error in each channel's format, and writes nothing.
- One number in different spellings is one follower; the gateway finds a reporter stored in another spelling.
- The migration brings stored spellings into the same form and leaves what does not parse.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, text

from app.complaints import service
from app.complaints.models import Complaint, ComplaintEvent, Follower
from app.integrations import inbound
from app.integrations.models import InboundMessage
from app.privacy import service as pdp
from app.tenancy.scope import tenant_scope
from tests.api.support import auth, make_key
from tests.web.citizen_support import post_report

E164 = "+6281234567890"
DESCRIPTION = "Lampu jalan di Jl. Veteran depan pasar padam sejak Senin, mohon segera diperbaiki."
BAD = {"phone": "12345", "email": "bukan-email@"}


def _messages(msgid: str) -> set[str]:
    out = set()
    for locale in ("id", "en"):
        with force_locale(locale):
            out.add(gettext(msgid))
    return out


PHONE_MESSAGES = "Enter a phone number such as 0812 3456 7890."
EMAIL_MESSAGES = "Enter a valid email address."


def _written(db, tenant) -> tuple[int, int, int, int]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return tuple(db.session.scalar(select(func.count(m.id))) for m in (Complaint, ComplaintEvent, Follower,
                                                                              InboundMessage))


def _rest(client, token, email=None, phone=None):
    body = {"title": "Lampu jalan padam", "description": DESCRIPTION, "class": "pengaduan",
            "reporter": {"name": "Siti", **({"email": email} if email else {}), **({"phone": phone} if phone else {})}}
    return client.post("/banjarmasin/api/v1/complaints", json=body, headers=auth(token))


def _open311(client, token, email=None, phone=None):
    data = {"service_code": "jalan", "lat": "-3.3194", "long": "114.5908", "description": DESCRIPTION,
            "first_name": "Siti", "api_key": token, **({"email": email} if email else {}),
            **({"phone": phone} if phone else {})}
    return client.post("/banjarmasin/open311/v2/requests.json", data=data)


def _gateway(client, token, sender, message_id="gw-1", text_=DESCRIPTION):
    return client.post("/banjarmasin/inbound/sms", json={"message_id": message_id, "from": sender, "text": text_},
                       headers=auth(token))


@pytest.mark.parametrize("field", ["phone", "email"])
def test_the_same_bad_contact_is_refused_by_every_channel_in_its_own_format(app, db, bjm, client, field):
    expected = _messages(PHONE_MESSAGES if field == "phone" else EMAIL_MESSAGES)
    bad = {field: BAD[field]}
    key = make_key(db, bjm)

    web = post_report(client, bjm, **{f"reporter_{field}": BAD[field]})
    assert web.status_code == 400 and any(m in web.text for m in expected)

    rest = _rest(client, key, **bad)
    assert rest.status_code == 400
    assert rest.json["error"]["fields"][f"reporter.{field}"] in expected

    open311 = _open311(client, key, **bad)
    assert open311.status_code == 400
    assert [e["description"] for e in open311.get_json()] in ([f"{field}: {m}"] for m in expected)

    if field == "phone":  # the gateway knows only the sender's number
        with tenant_scope(bjm.id):
            gateway_token = inbound.create_token()
            db.session.commit()
        gateway = _gateway(client, gateway_token, BAD["phone"])
        assert gateway.status_code == 400 and gateway.get_json()["error"].startswith("from")
        assert any(m in gateway.get_json()["error"] for m in expected)

    assert _written(db, bjm) == (0, 0, 0, 0)


def test_every_channel_stores_the_contacts_in_one_form(app, db, bjm, client):
    key = make_key(db, bjm)
    assert post_report(client, bjm, reporter_phone="0812-3456-7890", reporter_email="Siti@Contoh.ID").status_code \
        == 303
    assert _rest(client, key, email="SITI@contoh.id", phone="+62 812 3456 7890").status_code == 201
    assert _open311(client, key, email="siti@CONTOH.id", phone="6281234567890").status_code == 201
    with tenant_scope(bjm.id):
        stored = db.session.execute(select(Complaint.reporter_email, Complaint.reporter_phone)).all()
        assert set(stored) == {("siti@contoh.id", E164)} and len(stored) == 3
        recipients = db.session.scalars(select(Follower.recipient).order_by(Follower.id)).all()
        assert set(recipients) == {"siti@contoh.id", E164}


def test_the_same_number_in_another_spelling_is_the_same_follower(app, db, bjm, make_user):
    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        c, _ = service.submit_complaint(service.SubmitData(
            title="Lampu jalan padam", description=DESCRIPTION, complaint_class="pengaduan",
            reporter_name="Siti", reporter_email="siti@contoh.id", reporter_phone="0812 3456 7890"))
        db.session.flush()
        # The unit "corrects" the identity with the same contacts spelled otherwise: nothing changes.
        assert pdp.correct_identity(c, service.Actor.of(officer), name="Siti", email="SITI@Contoh.id",
                                    phone="+62 812-3456-7890") is None
        pdp.correct_identity(c, service.Actor.of(officer), name="Siti Rahmah", email="siti@contoh.id",
                             phone="62 812 3456 7890")
        followers = db.session.execute(select(Follower.channel, Follower.recipient).filter_by(
            complaint_id=c.id).order_by(Follower.channel)).all()
        assert followers == [("email", "siti@contoh.id"), ("sms", E164)]
        assert c.reporter_phone == E164


@pytest.mark.parametrize("stored, sender", [("0812 3456 7890", "+62 812-3456-7890"),
                                            ("+6281234567890", "0812-3456-7890"), ("62 812 3456 7890", "081234567890")])
def test_a_gateway_message_finds_the_reporter_stored_in_another_spelling(app, db, bjm, client, stored, sender):
    with tenant_scope(bjm.id):
        c, _ = service.submit_complaint(service.SubmitData(
            title="Lampu jalan padam", description=DESCRIPTION, complaint_class="pengaduan", reporter_phone=stored))
        token = inbound.create_token()
        db.session.commit()
        code = c.code
    named = _gateway(client, token, sender, "gw-1", f"Tambahan untuk {code}: tiangnya juga miring.")
    assert named.status_code == 200 and named.get_json()["action"] == "appended"
    unnamed = _gateway(client, token, sender, "gw-2", "Sampai hari ini masih padam, tolong dicek.")
    assert unnamed.get_json()["action"] == "appended" and unnamed.get_json()["code"] == code
    with tenant_scope(bjm.id):
        assert set(db.session.scalars(select(InboundMessage.sender))) == {E164}


# ------------------------------------------------------------------ the migration


def _migration():
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "c5e1a7d3f9b2_contacts_e164.py"
    spec = importlib.util.spec_from_file_location("contacts_e164", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_normalises_stored_contacts_and_leaves_what_does_not_parse(app, db, bjm):
    with tenant_scope(bjm.id):
        a, _ = service.submit_complaint(service.SubmitData(
            title="Lampu jalan padam", description=DESCRIPTION, complaint_class="pengaduan",
            reporter_email="siti@contoh.id", reporter_phone=E164))
        b, _ = service.submit_complaint(service.SubmitData(
            title="Jalan berlubang", description=DESCRIPTION, complaint_class="pengaduan",
            reporter_email="budi@contoh.id"))
        db.session.flush()
        ids = (a.id, b.id)
        # Spellings as the adapters stored them before, a second follower of one number, and junk.
        db.session.execute(text("UPDATE complaint SET reporter_email = 'Siti@Contoh.ID', "
                                "reporter_phone = '0812-3456-7890' WHERE id = :k"), {"k": a.id})
        db.session.execute(text("UPDATE complaint SET reporter_email = 'budi at contoh', reporter_phone = "
                                "'hubungi RT 05' WHERE id = :k"), {"k": b.id})
        db.session.execute(text("UPDATE follower SET recipient = '081234567890' WHERE complaint_id = :k "
                                "AND channel = 'sms'"), {"k": a.id})
        db.session.add(Follower(complaint_id=a.id, channel="sms", recipient="+62 812 3456 7890",
                                origin_complaint_id=a.id))
        db.session.add(InboundMessage(channel="sms", gateway_message_id="old-1", sender="6281234567890",
                                      body="Lampu padam", action="rejected", reply="-"))
        db.session.commit()

    changed = _migration().normalize_stored_contacts(db.session.connection())
    assert changed["complaint"] == 1 and changed["follower"] >= 2 and changed["inbound_message"] == 1

    db.session.expire_all()
    with tenant_scope(bjm.id):
        rows = dict(db.session.execute(select(Complaint.id, Complaint.reporter_phone).where(
            Complaint.id.in_(ids))).all())
        assert rows == {a.id: E164, b.id: "hubungi RT 05"}
        emails = dict(db.session.execute(select(Complaint.id, Complaint.reporter_email).where(
            Complaint.id.in_(ids))).all())
        assert emails == {a.id: "siti@contoh.id", b.id: "budi at contoh"}
        followers = db.session.execute(select(Follower.channel, Follower.recipient).filter_by(
            complaint_id=a.id).order_by(Follower.channel)).all()
        assert followers == [("email", "siti@contoh.id"), ("sms", E164)]  # the copy is gone
        assert db.session.scalars(select(InboundMessage.sender)).all() == [E164]
