"""The SMS/WhatsApp gateway endpoint: authenticated per tenant, idempotent, and answering with the code."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.complaints.models import Complaint, ComplaintEvent, Follower, Status
from app.integrations import inbound
from app.integrations.models import InboundMessage, InboundToken
from app.jobs.outbox import OutboxMessage
from app.notifications.models import Notification
from app.tenancy.models import frozen_time, utcnow
from app.tenancy.scope import tenant_scope
from tests.conftest import login

TEXT = "Lampu jalan di Jl. Veteran depan pasar padam sejak Senin, mohon segera diperbaiki."


def make_token(db, tenant) -> str:
    with tenant_scope(tenant.id):
        token = inbound.create_token()
        db.session.commit()
        return token


def post(client, tenant, token, channel="sms", **fields):
    body = {"message_id": "gw-1", "from": "081234567890", "text": TEXT, **fields}
    return client.post(f"/{tenant.slug}/inbound/{channel}", json=body,
                       headers={"Authorization": f"Bearer {token}"} if token else {})


def complaints(db, tenant):
    with tenant_scope(tenant.id):
        db.session.expire_all()
        return db.session.scalars(select(Complaint).order_by(Complaint.id)).all()


def count(db, tenant, model):
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.count(model.id)))


def test_a_message_becomes_a_complaint_and_the_reply_carries_the_tracking_code(app, db, bjm, client):
    token = make_token(db, bjm)
    resp = post(client, bjm, token)
    assert resp.status_code == 201
    answer = resp.get_json()
    (c,) = complaints(db, bjm)
    assert answer["action"] == "created" and answer["code"] == c.code and not answer["duplicate"]
    assert c.code in answer["reply"] and f"/banjarmasin/lacak/{c.code}" in answer["reply"]
    assert (c.source, c.reporter_phone, c.complaint_class, c.privacy) == ("sms", "+6281234567890", "pengaduan",
                                                                          "anonim")
    assert c.description == TEXT and c.title.startswith("Lampu jalan di Jl. Veteran")
    assert c.status == Status.SUBMITTED and c.due_at is not None
    with tenant_scope(bjm.id):
        assert db.session.scalars(select(Follower.recipient)).all() == ["+6281234567890"]
        # The reply is the acknowledgement: no second "received" SMS is queued.
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_a_resent_message_returns_the_first_answer_and_creates_nothing(app, db, bjm, client):
    token = make_token(db, bjm)
    first = post(client, bjm, token).get_json()
    again = post(client, bjm, token)
    assert again.status_code == 200
    assert again.get_json() == {**first, "duplicate": True}
    assert len(complaints(db, bjm)) == 1 and count(db, bjm, InboundMessage) == 1
    # The same id on the other channel is another message.
    assert post(client, bjm, token, channel="whatsapp", text=TEXT + " Juga lewat WA.").status_code == 200


def test_two_long_message_ids_sharing_a_64_character_prefix_are_two_reports(app, db, bjm, client):
    # WhatsApp ids (wamid.…) share long prefixes; the key once was the id cut to 64 characters, so the
    # second sender got the first reporter's code and private link, and their report was never stored.
    token = make_token(db, bjm)
    prefix = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDMEY0RjU2QTdCOEM5RDBFMUYyAA"
    assert len(prefix) >= 64
    first = post(client, bjm, token, channel="whatsapp", message_id=prefix + "AAA")
    second = post(client, bjm, token, channel="whatsapp", message_id=prefix + "BBB", **{"from": "0899000111"},
                  text="Jalan berlubang besar di Jl. Ahmad Yani km 3, sudah dua minggu tidak diperbaiki.")
    assert (first.status_code, second.status_code) == (201, 201)
    one, two = first.get_json(), second.get_json()
    assert not one["duplicate"] and not two["duplicate"] and one["code"] != two["code"]
    a, b = complaints(db, bjm)
    assert (a.code, a.reporter_phone) == (one["code"], "+6281234567890")
    assert (b.code, b.reporter_phone) == (two["code"], "+62899000111") and b.description.startswith("Jalan")
    # Each sender's reply carries the private link of their own report only.
    assert f"t={b.access_token}" in two["reply"] and a.access_token not in two["reply"]
    # A genuine re-delivery of the second message is the one answered as a duplicate.
    again = post(client, bjm, token, channel="whatsapp", message_id=prefix + "BBB", **{"from": "0899000111"},
                 text="Jalan berlubang besar di Jl. Ahmad Yani km 3, sudah dua minggu tidak diperbaiki.")
    assert again.status_code == 200 and again.get_json() == {**two, "duplicate": True}
    assert len(complaints(db, bjm)) == 2 and count(db, bjm, InboundMessage) == 2


def test_the_submission_key_hashes_the_whole_message_id():
    long_id = "x" * 119
    assert inbound.submission_key("sms", long_id + "a") != inbound.submission_key("sms", long_id + "b")
    assert inbound.submission_key("sms", "gw-1") != inbound.submission_key("whatsapp", "gw-1")
    assert len(inbound.submission_key("whatsapp", long_id)) == 64


def test_a_message_naming_the_senders_open_complaint_is_added_to_it(app, db, bjm, client):
    token = make_token(db, bjm)
    code = post(client, bjm, token, message_id="gw-1").get_json()["code"]
    post(client, bjm, token, message_id="gw-2", **{"from": "0899000111"},
         text="Jalan berlubang besar di Jl. Ahmad Yani km 3, sudah dua minggu.")
    resp = post(client, bjm, token, message_id="gw-3", **{"from": "+62 812-3456-7890"},
                text=f"Tambahan untuk {code.lower()}: tiangnya juga miring.")
    assert resp.status_code == 200
    assert resp.get_json()["action"] == "appended" and resp.get_json()["code"] == code
    assert code in resp.get_json()["reply"]
    assert len(complaints(db, bjm)) == 2
    with tenant_scope(bjm.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        kinds = db.session.scalars(select(ComplaintEvent.kind).filter_by(complaint_id=c.id)
                                   .order_by(ComplaintEvent.id)).all()
        assert kinds == ["submit", "add_info"]


def test_a_code_of_someone_elses_complaint_is_not_appended_to(app, db, bjm, client):
    token = make_token(db, bjm)
    code = post(client, bjm, token, message_id="gw-1").get_json()["code"]
    resp = post(client, bjm, token, message_id="gw-2", **{"from": "0899000111"},
                text=f"Saya juga melihat masalah {code}, lampu di gang sebelah juga padam.")
    assert resp.status_code == 201 and resp.get_json()["code"] != code
    with tenant_scope(bjm.id):
        first = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        assert db.session.scalar(select(func.count(ComplaintEvent.id)).filter_by(complaint_id=first.id)) == 1


def test_a_sender_with_one_recent_open_complaint_adds_to_it_without_the_code(app, db, bjm, client):
    token = make_token(db, bjm)
    code = post(client, bjm, token, message_id="gw-1").get_json()["code"]
    resp = post(client, bjm, token, message_id="gw-2", text="Sampai hari ini masih padam, tolong dicek.")
    assert resp.get_json()["action"] == "appended" and resp.get_json()["code"] == code


def test_an_old_open_complaint_does_not_catch_new_messages(app, db, bjm, client):
    token = make_token(db, bjm)
    with frozen_time(utcnow() - timedelta(days=30)):
        with tenant_scope(bjm.id):
            inbound.receive("sms", "gw-old", "081234567890", TEXT)
            db.session.commit()
    resp = post(client, bjm, token, message_id="gw-2", text="Ada pohon tumbang menutup jalan di Kayu Tangi.")
    assert resp.status_code == 201
    assert len(complaints(db, bjm)) == 2


def test_a_sender_with_two_open_complaints_gets_a_new_one_without_a_code(app, db, bjm, client):
    token = make_token(db, bjm)
    with tenant_scope(bjm.id):
        inbound.receive("sms", "gw-a", "081234567890", TEXT)
        from app.complaints import service

        service.submit_complaint(service.SubmitData(
            title="Laporan lewat web", description="Trotoar rusak di depan kantor kelurahan Sungai Miai.",
            complaint_class="pengaduan", reporter_phone="+6281234567890"))
        db.session.commit()
    resp = post(client, bjm, token, message_id="gw-2", text="Ada pohon tumbang menutup jalan di Kayu Tangi.")
    assert resp.get_json()["action"] == "created"
    assert len(complaints(db, bjm)) == 3


def test_a_too_short_message_is_answered_and_recorded_but_creates_nothing(app, db, bjm, client):
    token = make_token(db, bjm)
    resp = post(client, bjm, token, text="jalan rusak")
    assert resp.status_code == 200
    assert resp.get_json()["action"] == "rejected" and resp.get_json()["code"] is None
    assert "20" in resp.get_json()["reply"]
    assert complaints(db, bjm) == [] and count(db, bjm, InboundMessage) == 1


def test_plain_text_reply_for_gateways_that_want_it(app, db, bjm, client):
    token = make_token(db, bjm)
    resp = client.post("/banjarmasin/inbound/sms?format=text", data={"message_id": "f-1", "from": "081234567890",
                                                                     "text": TEXT},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201 and resp.mimetype == "text/plain"
    assert re.search(r"BJM-\d{2}-\d{5}", resp.text)


@pytest.mark.parametrize("fields, problem", [
    ({"message_id": ""}, "message_id"), ({"from": "bukan nomor"}, "from"), ({"text": ""}, "text")])
def test_malformed_messages_are_refused_and_write_nothing(app, db, bjm, client, fields, problem):
    token = make_token(db, bjm)
    resp = post(client, bjm, token, **fields)
    assert resp.status_code == 400 and problem in resp.get_json()["error"]
    assert complaints(db, bjm) == [] and count(db, bjm, InboundMessage) == 0


def test_category_class_and_privacy_come_from_the_tenant_settings(app, db, bjm, client):
    with tenant_scope(bjm.id):
        bjm.settings = {**bjm.settings, "inbound": {"complaint_class": "aspirasi", "category": "jalan",
                                                    "privacy": "public"}}
        db.session.commit()
    token = make_token(db, bjm)
    post(client, bjm, token)
    (c,) = complaints(db, bjm)
    with tenant_scope(bjm.id):
        assert (c.complaint_class, c.category.code, c.privacy) == ("aspirasi", "jalan", "public")


# ------------------------------------------------------------------ authentication and tenants


def test_a_missing_wrong_or_revoked_token_is_refused(app, db, bjm, client):
    assert post(client, bjm, None).status_code == 401
    old = make_token(db, bjm)
    new = make_token(db, bjm)  # a new token revokes the old one
    assert post(client, bjm, old).status_code == 401
    assert post(client, bjm, new + "x").status_code == 401
    assert complaints(db, bjm) == []
    assert post(client, bjm, new).status_code == 201
    with tenant_scope(bjm.id):
        inbound.revoke_tokens()
        db.session.commit()
    assert post(client, bjm, new, message_id="gw-9").status_code == 401


def test_the_token_is_stored_only_as_a_hash(app, db, bjm):
    token = make_token(db, bjm)
    with tenant_scope(bjm.id):
        row = db.session.scalars(select(InboundToken)).one()
        assert token not in (row.token_hash, row.token_hint) and row.token_hint == token[-4:]


def test_a_banjarmasin_gateway_token_cannot_create_in_katingan(app, db, bjm, ktg, client):
    bjm_token = make_token(db, bjm)
    make_token(db, ktg)
    assert post(client, ktg, bjm_token).status_code == 401
    assert complaints(db, ktg) == [] and count(db, ktg, InboundMessage) == 0
    assert post(client, bjm, bjm_token).status_code == 201
    assert len(complaints(db, bjm)) == 1 and complaints(db, ktg) == []


def test_the_same_message_id_in_two_tenants_is_two_messages(app, db, bjm, ktg, client):
    assert post(client, bjm, make_token(db, bjm)).get_json()["code"].startswith("BJM-")
    assert post(client, ktg, make_token(db, ktg)).get_json()["code"].startswith("KTG-")


def test_katingan_sender_is_never_appended_to_a_banjarmasin_complaint(app, db, bjm, ktg, client):
    code = post(client, bjm, make_token(db, bjm)).get_json()["code"]
    resp = post(client, ktg, make_token(db, ktg), message_id="gw-2", text=f"Tambahan untuk {code}: masih padam.")
    assert resp.status_code == 201 and resp.get_json()["code"].startswith("KTG-")


def test_the_tenant_admin_makes_a_token_that_is_shown_once(app, db, bjm, make_user, client):
    admin = make_user(bjm, "tenant_admin")
    login(client, bjm, admin.email)
    resp = client.post("/banjarmasin/staff/integrations/inbound/token")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="gateway-token">(gw_[\w-]+)<', resp.text).group(1)
    page = client.get("/banjarmasin/staff/integrations/?lang=en").text
    assert token not in page and token[-4:] in page and "/banjarmasin/inbound/sms" in page
    gateway = app.test_client()
    assert post(gateway, bjm, token).status_code == 201
    client.post("/banjarmasin/staff/integrations/inbound/revoke")
    assert post(gateway, bjm, token, message_id="gw-2").status_code == 401


def test_officers_cannot_make_gateway_tokens(app, db, bjm, make_user, client):
    officer = make_user(bjm, "officer")
    login(client, bjm, officer.email)
    assert client.post("/banjarmasin/staff/integrations/inbound/token").status_code == 403
    assert count(db, bjm, InboundToken) == 0
    assert count(db, bjm, OutboxMessage) == 0


def test_the_gateway_endpoint_needs_no_csrf_token_but_staff_forms_still_do(app, db, bjm, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = make_token(db, bjm)
    assert post(client, bjm, token).status_code == 201
    assert client.post("/banjarmasin/staff/integrations/inbound/token").status_code == 400
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(InboundToken.id))) == 1


def test_a_runaway_gateway_is_cut_off_with_429(limited_app):
    """The gateway endpoint has its own limit per address (the shared test app runs without limits)."""
    from app.extensions import db as _db
    from app.integrations.views import INBOUND_LIMIT
    from app.tenancy.models import Tenant

    allowed = int(INBOUND_LIMIT.split()[0])
    with limited_app.app_context():
        tenant = _db.session.scalar(select(Tenant).where(Tenant.slug == "banjarmasin"))
        token = make_token(_db, tenant)
        slug = tenant.slug
        _db.session.remove()
    tenant = SimpleNamespace(slug=slug)  # detached from the session; post() only needs the slug
    client = limited_app.test_client()
    codes = [post(client, tenant, token).status_code for _ in range(allowed)]
    assert codes[0] == 201 and set(codes[1:]) == {200}  # resends of one message: answered, not duplicated
    assert post(client, tenant, token, message_id="gw-2").status_code == 429
    # Another address (another gateway) is not affected.
    other = client.post(f"/{slug}/inbound/sms", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                        json={"message_id": "gw-3", "from": "081234567890", "text": TEXT},
                        headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 200  # appended to the sender's open complaint
