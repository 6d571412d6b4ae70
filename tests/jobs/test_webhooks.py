"""Webhooks against real local HTTP receivers: signed with the README's verification code, retried with
backoff (in-process and through real RQ on Redis), logged, private, and never across tenants.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import func, select

from app.complaints import service
from app.complaints.models import Privacy
from app.integrations import webhooks
from app.integrations.models import Webhook, WebhookAttempt, WebhookDelivery
from app.jobs.outbox import OutboxMessage, relay
from app.tenancy.scope import tenant_scope
from tests.conftest import login
from tests.factories import submit_complaint
from tests.jobs.test_outbox import rq_redis  # noqa: F401  (fixture: real Redis, RQ mode)
from tests.local_http import LocalServer

REPO = Path(__file__).resolve().parents[2]
ALL_EVENTS = ["complaint.created", "complaint.status_changed", "followup.published"]
REPORTER = {"reporter_name": "Siti Norhayati", "reporter_email": "siti.norhayati@contoh.id",
            "reporter_phone": "081234567890"}


def readme_verifier():
    """The verification function exactly as documented in README.md."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- webhook-verify -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its webhook verification snippet"
    namespace: dict = {}
    exec(compile(match.group(1), "README.md", "exec"), namespace)  # noqa: S102 (our own documentation)
    return namespace["verify_lapor_webhook"]


def ok_receiver():
    return LocalServer(lambda method, path, headers, body: (200, {"ok": True}))


def flaky_receiver(failures: int):
    calls = {"n": 0}

    def handle(method, path, headers, body):
        calls["n"] += 1
        return (500, {"error": "busy"}) if calls["n"] <= failures else (204, None)

    return LocalServer(handle)


def register(db, tenant, url, events=ALL_EVENTS):
    with tenant_scope(tenant.id):
        hook, secret = webhooks.create_webhook(url, events, "test receiver")
        db.session.commit()
        return hook.id, secret


def submit(db, tenant, privacy=Privacy.PUBLIC, **kw):
    kw.setdefault("title", "Lampu jalan padam di Jl. Veteran")
    kw.setdefault("description", "Sudah seminggu lampu jalan di depan pasar padam, rawan kecelakaan.")
    return submit_complaint(tenant, privacy=privacy, **{**REPORTER, **kw})[0].id


def deliveries(db, tenant):
    with tenant_scope(tenant.id):
        db.session.expire_all()
        return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


def attempts(db, tenant, delivery_id):
    with tenant_scope(tenant.id):
        return [(a.number, a.status_code, a.error) for a in db.session.scalars(
            select(WebhookAttempt).filter_by(delivery_id=delivery_id).order_by(WebhookAttempt.number))]


# ------------------------------------------------------------------ signed deliveries


def test_a_new_complaint_reaches_the_receiver_signed_and_the_readme_code_verifies_it(app, db, bjm):
    verify = readme_verifier()
    with ok_receiver() as receiver:
        _hook_id, secret = register(db, bjm, receiver.url + "/lapor")
        submit(db, bjm)
        relay()
    (req,) = receiver.requests
    assert req.method == "POST" and req.path == "/lapor"
    assert verify(secret, req.headers, req.body)
    assert not verify(secret + "x", req.headers, req.body)
    assert not verify(secret, req.headers, req.body.replace(b"Veteran", b"Veteram"))
    payload = req.json()
    assert payload["type"] == req.headers["X-Lapor-Event"] == "complaint.created"
    assert payload["id"] == req.headers["X-Lapor-Event-Id"]
    assert payload["tenant"] == "banjarmasin"
    assert payload["complaint"]["code"].startswith("BJM-") and payload["complaint"]["status"] == "submitted"
    assert payload["complaint"]["title"] == "Lampu jalan padam di Jl. Veteran"
    (d,) = deliveries(db, bjm)
    assert (d.status, d.attempts, d.last_status_code) == ("succeeded", 1, 200)
    with tenant_scope(bjm.id):
        stored = db.session.get(Webhook, d.webhook_id)
        assert secret not in json.dumps([stored.secret_nonce, stored.secret_hint, stored.url])


def test_an_old_or_replayed_timestamp_fails_verification(app, db, bjm):
    verify = readme_verifier()
    with ok_receiver() as receiver:
        _hook_id, secret = register(db, bjm, receiver.url)
        submit(db, bjm)
        relay()
    (req,) = receiver.requests
    old = str(int(req.headers["X-Lapor-Timestamp"]) - 3600)
    forged = {"X-Lapor-Timestamp": old, "X-Lapor-Signature": webhooks.sign(secret, old, req.body)}
    assert not verify(secret, forged, req.body)  # correctly signed, but an hour old


def test_status_change_and_published_follow_up_are_delivered_as_their_events(app, db, bjm, make_user):
    officer = make_user(bjm, "officer")
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url, events=["complaint.status_changed", "followup.published"])
        c_id = submit(db, bjm)
        with tenant_scope(bjm.id):
            from app.agencies.models import Agency
            from app.complaints.models import Complaint

            actor = service.Actor.of(officer)
            c = db.session.get(Complaint, c_id)
            service.verify(c, actor)
            pupr = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
            service.dispose(c, actor, [pupr])
            fu = service.save_followup_draft(c, actor, "Lampu sudah diganti oleh petugas PUPR.", agency_id=pupr,
                                             submit=True)
            service.publish_followup(c, actor, fu.id)
            db.session.commit()
        relay()
    got = [(r.json()["type"], r.json().get("change", {}).get("to")) for r in receiver.requests]
    assert sorted(got) == sorted([
        ("complaint.status_changed", "verified"), ("complaint.status_changed", "disposed"),
        ("complaint.status_changed", "answered"), ("followup.published", None)])
    published = next(r.json() for r in receiver.requests if r.json()["type"] == "followup.published")
    assert published["follow_up"]["body"] == "Lampu sudah diganti oleh petugas PUPR."
    assert published["complaint"]["agencies"] and published["complaint"]["status"] == "answered"
    verified = next(r.json() for r in receiver.requests if r.json().get("change", {}).get("to") == "verified")
    assert verified["change"] == {"action": "verify", "from": "submitted", "to": "verified"}


def test_nothing_is_recorded_when_no_webhook_wants_the_event_or_the_change_rolls_back(app, db, bjm):
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url, events=["followup.published"])
        submit(db, bjm)  # created: not subscribed
        with tenant_scope(bjm.id):
            service.submit_complaint(service.SubmitData(
                title="Laporan yang dibatalkan", description="Transaksi ini dibatalkan sebelum commit terjadi.",
                complaint_class="aspirasi"))
            db.session.rollback()
        relay()
    assert receiver.requests == [] and deliveries(db, bjm) == []


# ------------------------------------------------------------------ privacy


@pytest.mark.parametrize("privacy", [Privacy.PUBLIC, Privacy.ANONYMOUS, Privacy.CONFIDENTIAL])
def test_webhooks_never_carry_the_reporters_identity(app, db, bjm, privacy):
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url)
        submit(db, bjm, privacy=privacy)
        relay()
    (req,) = receiver.requests
    body = req.body.decode()
    for value in (*REPORTER.values(), "Siti", "81234567890", "access_token", "lacak"):
        assert value not in body, value
    complaint = req.json()["complaint"]
    assert complaint["privacy"] == privacy
    if privacy == Privacy.CONFIDENTIAL:
        assert not {"title", "description", "location"} & set(complaint)
        assert "Veteran" not in body and "pasar" not in body
    else:
        assert complaint["title"] and complaint["description"]


# ------------------------------------------------------------------ retries and the delivery log


def test_a_receiver_that_fails_twice_gets_the_same_event_a_third_time_in_process(app, db, bjm):
    verify = readme_verifier()
    with flaky_receiver(failures=2) as receiver:
        _hook_id, secret = register(db, bjm, receiver.url)
        submit(db, bjm)
        assert relay()["failed"] == 1
        (d,) = deliveries(db, bjm)
        assert (d.status, d.attempts, d.last_status_code, d.last_error) == ("retrying", 1, 500, "HTTP 500")
        assert d.next_attempt_at is not None
        assert relay()["failed"] == 1
        assert relay()["ran"] == 1
        assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}
    assert len(receiver.requests) == 3
    assert len({r.headers["X-Lapor-Event-Id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert all(verify(secret, r.headers, r.body) for r in receiver.requests)
    (d,) = deliveries(db, bjm)
    assert (d.status, d.attempts, d.last_status_code, d.next_attempt_at) == ("succeeded", 3, 204, None)
    assert attempts(db, bjm, d.id) == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 204, None)]


def test_an_unreachable_receiver_is_logged_and_given_up_after_the_last_attempt(app, db, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 2)
    with ok_receiver() as closed:
        url = closed.url  # the server stops at the end of the block: nothing listens there any more
    register(db, bjm, url)
    submit(db, bjm)
    relay()
    relay()
    (d,) = deliveries(db, bjm)
    assert (d.status, d.attempts, d.last_status_code) == ("failed", 2, None)
    assert "ConnectionRefusedError" in d.last_error or "URLError" in d.last_error
    assert relay() == {"relayed": 0, "ran": 0, "failed": 0, "waiting": 0}


def delivery_job_id(db, tenant) -> str:
    """The RQ job id of the (one) webhook delivery's outbox row."""
    with tenant_scope(tenant.id):
        row_id = db.session.execute(select(OutboxMessage.id).filter_by(job="webhooks.deliver")).scalar_one()
    return f"outbox-{row_id}"


@pytest.mark.redis
def test_through_rq_failed_deliveries_are_retried_with_exponential_backoff(app, db, bjm, rq_redis,  # noqa: F811
                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 2)
    verify = readme_verifier()
    queue = Queue("default", connection=rq_redis)
    scheduled = ScheduledJobRegistry(queue=queue)
    worker = SimpleWorker([queue], connection=rq_redis)
    with flaky_receiver(failures=2) as receiver:
        _hook_id, secret = register(db, bjm, receiver.url)
        submit(db, bjm, reporter_email=None, reporter_phone=None)  # no notifications: the delivery and the
        assert relay()["relayed"] == 2  # duplicate-candidate scan (app.complaints.duplicate_pairs)
        job_id = delivery_job_id(db, bjm)
        assert job_id in queue.job_ids
        assert queue.fetch_job(job_id).retry_intervals[:3] == [2, 4, 8]  # base · 2^n
        for pause in (2, 4):
            started = time.time()
            worker.work(burst=True)
            finished = time.time()
            assert queue.job_ids == []
            (when,) = [scheduled.get_scheduled_time(j) for j in scheduled.get_job_ids()]
            # Scheduled `pause` seconds after the failure, which happened while the worker ran
            # (RQ keeps whole seconds, so up to 1 s early); bounds by order, not by machine speed.
            assert started + pause - 1 <= when.timestamp() <= finished + pause, (pause, started, when, finished)
            time.sleep(max(when.timestamp() - time.time(), 0) + 0.1)
            scheduler = RQScheduler([queue], connection=rq_redis)  # what `rq worker --with-scheduler` runs
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
            scheduler.release_locks()
            assert queue.job_ids == [job_id]
        worker.work(burst=True)
    assert queue.fetch_job(job_id).return_value() == "done"
    assert len(receiver.requests) == 3 and all(verify(secret, r.headers, r.body) for r in receiver.requests)
    (d,) = deliveries(db, bjm)
    assert (d.status, d.attempts) == ("succeeded", 3)
    assert [a[1] for a in attempts(db, bjm, d.id)] == [500, 500, 204]


@pytest.mark.redis
def test_deliveries_wait_out_a_redis_outage(app, db, bjm, rq_redis):  # noqa: F811
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url)
        real_url = app.config["REDIS_URL"]
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
        try:
            submit(db, bjm, reporter_email=None, reporter_phone=None)
            assert relay()["waiting"] == 2  # the delivery and the duplicate-candidate scan
        finally:
            app.config["REDIS_URL"] = real_url
        assert deliveries(db, bjm)[0].status == "pending"
        assert relay()["relayed"] == 2
        SimpleWorker([Queue("default", connection=rq_redis)], connection=rq_redis).work(burst=True)
    assert len(receiver.requests) == 1 and deliveries(db, bjm)[0].status == "succeeded"


# ------------------------------------------------------------------ tenants


def test_a_tenants_webhooks_never_receive_another_tenants_events(app, db, bjm, ktg):
    with ok_receiver() as bjm_receiver, ok_receiver() as ktg_receiver:
        register(db, bjm, bjm_receiver.url)
        register(db, ktg, ktg_receiver.url)
        submit(db, bjm, title="Laporan dari Banjarmasin")
        submit(db, bjm, title="Laporan kedua Banjarmasin")
        submit(db, ktg, title="Laporan dari Katingan")
        relay()
    assert [r.json()["tenant"] for r in bjm_receiver.requests] == ["banjarmasin", "banjarmasin"]
    assert [r.json()["complaint"]["title"] for r in ktg_receiver.requests] == ["Laporan dari Katingan"]
    assert len(deliveries(db, bjm)) == 2 and len(deliveries(db, ktg)) == 1


def test_a_katingan_job_with_a_banjarmasin_delivery_id_sends_nothing(app, db, bjm, ktg):
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url)
        submit(db, bjm)
        (d,) = deliveries(db, bjm)
        with tenant_scope(ktg.id):
            assert webhooks.deliver(tenant_id=ktg.id, delivery_id=d.id) == "skip"
    assert receiver.requests == []
    assert deliveries(db, bjm)[0].attempts == 0


# ------------------------------------------------------------------ the administrator's pages


def test_the_tenant_admin_registers_a_webhook_sees_the_secret_once_and_reads_the_delivery_log(app, db, bjm,
                                                                                              make_user, client):
    admin = make_user(bjm, "tenant_admin")
    assert login(client, bjm, admin.email).status_code == 302
    assert client.get("/banjarmasin/staff/integrations/?lang=en").status_code == 200
    with flaky_receiver(failures=1) as receiver:
        resp = client.post("/banjarmasin/staff/integrations/webhooks/new",
                           data={"url": receiver.url + "/in", "description": "Dasbor kota", "events": ALL_EVENTS})
        assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
        secret = re.search(r'id="webhook-secret">(whsec_[\w-]+)<', resp.text).group(1)
        with tenant_scope(bjm.id):
            hook = db.session.scalars(select(Webhook)).one()
            assert webhooks.webhook_secret(hook) == secret
        page = client.get(f"/banjarmasin/staff/integrations/webhooks/{hook.id}?lang=en")
        assert page.status_code == 200 and secret not in page.text and secret[-4:] in page.text
        submit(db, bjm)
        relay()
        relay()
    log_page = client.get(f"/banjarmasin/staff/integrations/webhooks/{hook.id}?lang=en").text
    assert "HTTP 500" in log_page and "HTTP 204" in log_page and "Delivered" in log_page
    assert readme_verifier()(secret, receiver.requests[-1].headers, receiver.requests[-1].body)

    rotated = client.post(f"/banjarmasin/staff/integrations/webhooks/{hook.id}/secret")
    new_secret = re.search(r'id="webhook-secret">(whsec_[\w-]+)<', rotated.text).group(1)
    assert new_secret != secret
    client.post(f"/banjarmasin/staff/integrations/webhooks/{hook.id}/active", data={"active": "0"})
    with tenant_scope(bjm.id):
        db.session.expire_all()
        assert db.session.get(Webhook, hook.id).active is False


def test_a_bad_webhook_address_is_refused_with_the_reason(app, db, bjm, make_user, client):
    admin = make_user(bjm, "tenant_admin")
    login(client, bjm, admin.email)
    resp = client.post("/banjarmasin/staff/integrations/webhooks/new?lang=en",
                       data={"url": "ftp://contoh.id/x", "events": ["complaint.created"]})
    assert resp.status_code == 400 and "Enter a full http(s) address." in resp.text
    resp = client.post("/banjarmasin/staff/integrations/webhooks/new?lang=en", data={"url": "https://contoh.id/x"})
    assert resp.status_code == 400 and "Choose at least one event." in resp.text
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(Webhook.id))) == 0


@pytest.mark.parametrize("role", ["officer", "liaison"])
def test_only_the_tenant_admin_manages_webhooks(app, db, bjm, make_user, client, role):
    user = make_user(bjm, role)
    login(client, bjm, user.email)
    assert client.get("/banjarmasin/staff/integrations/").status_code == 403
    resp = client.post("/banjarmasin/staff/integrations/webhooks/new",
                       data={"url": "https://contoh.id/x", "events": ["complaint.created"]})
    assert resp.status_code == 403
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(Webhook.id))) == 0
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_private_addresses_are_refused_when_not_allowed(app, db, bjm, monkeypatch):
    with ok_receiver() as receiver:
        register(db, bjm, receiver.url)  # saved while allowed (as in development), then not allowed
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
        submit(db, bjm)
        relay()
    assert receiver.requests == []
    (d,) = deliveries(db, bjm)
    assert d.status == "retrying" and "not allowed" in d.last_error


def test_switching_a_webhook_off_cancels_waiting_deliveries_and_a_finished_one_can_be_sent_again(app, db, bjm,
                                                                                                 make_user, client):
    admin = make_user(bjm, "tenant_admin")
    login(client, bjm, admin.email)
    with flaky_receiver(failures=1) as receiver:
        hook_id, _secret = register(db, bjm, receiver.url)
        submit(db, bjm)
        relay()  # first attempt fails: the delivery waits for its retry
        assert deliveries(db, bjm)[0].status == "retrying"
        client.post(f"/banjarmasin/staff/integrations/webhooks/{hook_id}/active", data={"active": "0"})
        assert relay()["ran"] == 1  # the retry runs, finds the delivery cancelled and sends nothing
        (d,) = deliveries(db, bjm)
        assert d.status == "cancelled" and len(receiver.requests) == 1
        client.post(f"/banjarmasin/staff/integrations/webhooks/{hook_id}/active", data={"active": "1"})
        resp = client.post(f"/banjarmasin/staff/integrations/webhooks/{hook_id}/deliveries/{d.id}/redeliver")
        assert resp.status_code == 302
        relay()
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["X-Lapor-Event-Id"] == receiver.requests[1].headers["X-Lapor-Event-Id"]
    (d,) = deliveries(db, bjm)
    assert (d.status, d.attempts) == ("succeeded", 2)
    assert attempts(db, bjm, d.id) == [(1, 500, "HTTP 500"), (2, 204, None)]


# ------------------------------------------------------------------ server-side request forgery (issue 15 item 4)

PUBLIC_IP = "93.184.215.14"


def test_dns_rebinding_between_check_and_connection_never_reaches_loopback(app, db, bjm, monkeypatch):
    """The name answers a public address to the check and 127.0.0.1 afterwards: the delivery must go to the
    checked address (here refused by the sandbox's fake network), never to the loopback receiver."""
    import socket

    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    lookups: list[str] = []
    connections: list[tuple] = []

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        ip = PUBLIC_IP if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    def connect(address, *args, **kwargs):
        connections.append(address)
        if address[0] == PUBLIC_IP:
            raise ConnectionRefusedError("the test has no internet")
        return real_connect(address, *args, **kwargs)

    with ok_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        register(db, bjm, f"http://hooks.rebind.example:{port}/hook")
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        monkeypatch.setattr(socket, "create_connection", connect)
        submit(db, bjm)
        relay()
        monkeypatch.undo()
    assert receiver.requests == []
    assert lookups == ["hooks.rebind.example"]  # resolved once
    assert [a for a in connections if a[0] in ("127.0.0.1", "hooks.rebind.example")] == []
    assert (PUBLIC_IP, int(port)) in connections
    (d,) = deliveries(db, bjm)
    assert d.status == "retrying" and "the test has no internet" in d.last_error


def test_the_pinned_connection_keeps_the_host_name_in_the_host_header(app, db, bjm, monkeypatch):
    """Connecting to the checked address must not change what the receiver sees as the host."""
    import socket

    real_getaddrinfo = socket.getaddrinfo

    def named(host, port, *args, **kwargs):
        if host == "hooks.named.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", named)
    with ok_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        register(db, bjm, f"http://hooks.named.example:{port}/hook")  # private allowed: the test receiver
        submit(db, bjm)
        relay()
    (req,) = receiver.requests
    assert req.headers["Host"] == f"hooks.named.example:{port}"


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/",
                                 "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/", "http://10.1.2.3/",
                                 "http://[::1]:8080/", "http://0.0.0.0/", "http://[2002:7f00:1::]/",
                                 "http://[64:ff9b::a9fe:a9fe]/", "http://224.0.0.1/", "http://192.168.1.1/"])
def test_loopback_private_and_metadata_addresses_are_refused_when_saved(app, db, bjm, make_user, client,
                                                                        monkeypatch, url):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
    admin = make_user(bjm, "tenant_admin")
    login(client, bjm, admin.email)
    resp = client.post("/banjarmasin/staff/integrations/webhooks/new",
                       data={"url": url, "events": ["complaint.created"]})
    assert resp.status_code == 400
    assert "Alamat ini tidak dapat dijangkau dari internet" in resp.text
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(Webhook.id))) == 0
        with pytest.raises(webhooks.WebhookError):
            webhooks.create_webhook(url, ["complaint.created"])


def test_a_public_address_is_accepted_when_saved(app, db, bjm, monkeypatch):
    import socket

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port))])
    with tenant_scope(bjm.id):
        hook, _secret = webhooks.create_webhook("https://hooks.contoh.id/lapor", ["complaint.created"])
        assert hook.id


def test_a_name_with_any_private_address_is_refused(app, monkeypatch):
    import socket

    from app.integrations import outbound

    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))])
    with pytest.raises(outbound.DestinationRefused):
        outbound.check_url("https://mixed.example/")
    assert outbound.check_url("https://mixed.example/", allow_private=True) == PUBLIC_IP
