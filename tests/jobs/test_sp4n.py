"""The SP4N-LAPOR! bridge against a stand-in national server (a real HTTP server in a thread that keeps
what it receives and serves statuses): push once on verification, pull each change once, per tenant.
"""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from app.complaints import service
from app.complaints.models import Complaint, ComplaintEvent, Privacy
from app.integrations import sp4n
from app.integrations.models import BridgeItem, BridgeLink
from app.jobs.outbox import OutboxMessage, relay
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint
from tests.local_http import LocalServer

TOKENS = {"banjarmasin": "tok-bjm", "katingan": "tok-ktg"}


class StandIn:
    """The national system's state: reports by id, idempotency keys, statuses and follow-ups."""

    def __init__(self):
        self.reports: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        self.fail_next = 0
        self.lock = threading.Lock()
        self.server = LocalServer(self.handle)

    def handle(self, method, path, headers, body):
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in TOKENS.values():
            return 401, {"error": "unauthorized"}
        if self.fail_next:
            self.fail_next -= 1
            return 503, {"error": "maintenance"}
        if method == "POST" and path == "/api/reports":
            key = f"{token}:{headers['Idempotency-Key']}"
            if key not in self.keys:
                ext_id = f"LAPOR-{len(self.reports) + 1:04d}"
                self.reports[ext_id] = {"id": ext_id, "token": token, "sent": json.loads(body), "status": "diterima",
                                        "follow_ups": []}
                self.keys[key] = ext_id
            return 201, {"id": self.keys[key]}
        if method == "GET" and path.startswith("/api/reports?"):  # the settings page's "test connection"
            return 200, {"items": []}
        if method == "GET" and path.startswith("/api/reports/"):
            report = self.reports.get(path.rsplit("/", 1)[1])
            if report is None or report["token"] != token:
                return 404, {"error": "not found"}
            return 200, {"id": report["id"], "status": report["status"], "follow_ups": report["follow_ups"]}
        return 404, {"error": "no such endpoint"}

    def posts(self):
        return [r for r in self.server.requests if r.method == "POST"]


@pytest.fixture()
def national(app, monkeypatch):
    standin = StandIn()
    monkeypatch.setitem(app.config, "SP4N_TOKENS", dict(TOKENS))
    monkeypatch.setitem(app.config, "SP4N_BASE_URL", None)
    with standin.server:
        yield standin


def bridge_on(db, tenant, base_url):
    with tenant_scope(tenant.id):
        tenant.settings = {**tenant.settings, "sp4n": {"enabled": True, "base_url": base_url + "/api"}}
        db.session.commit()


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer")


def submit_and_verify(db, tenant, user, privacy=Privacy.PUBLIC, title="Drainase tersumbat di Jl. Pramuka",
                      is_test=False):
    with tenant_scope(tenant.id):
        c, _ = submit_complaint(
            title=title, description="Saluran air tersumbat sampah sehingga jalan tergenang setiap hujan.",
            privacy=privacy, reporter_name="Muhammad Rizky", reporter_email="rizky@contoh.id",
            reporter_phone="081355512345", commit=False)
        if is_test:
            service.mark_test(c, service.Actor.of(user), True, "Uji coba formulir")
        service.verify(c, service.Actor.of(user))
        db.session.commit()
        return c.id, c.code


def links(db, tenant):
    with tenant_scope(tenant.id):
        db.session.expire_all()
        return [(link.complaint_id, link.external_id, link.external_status)
                for link in db.session.scalars(select(BridgeLink).order_by(BridgeLink.id))]


def events(db, tenant, complaint_id, prefix="sp4n_"):
    with tenant_scope(tenant.id):
        db.session.expire_all()
        return [(e.kind, e.message) for e in db.session.scalars(
            select(ComplaintEvent).filter_by(complaint_id=complaint_id).order_by(ComplaintEvent.id))
            if e.kind.startswith(prefix)]


def test_a_verified_complaint_is_pushed_once_and_its_external_id_recorded(app, db, bjm, officer, national):
    bridge_on(db, bjm, national.server.url)
    c_id, code = submit_and_verify(db, bjm, officer)
    relay()
    (post,) = national.posts()
    assert post.headers["Authorization"] == "Bearer tok-bjm"
    assert post.headers["Idempotency-Key"] == f"banjarmasin:{code}"
    sent = post.json()
    assert sent["reference"] == code and sent["privacy"] == "public" and sent["complaint_class"] == "pengaduan"
    body = post.body.decode()
    # The whole number, not a prefix: a prefix can occur by chance in a timestamp or a UUID.
    assert "Rizky" not in body and "81355512345" not in body and "contoh.id" not in body
    assert links(db, bjm) == [(c_id, "LAPOR-0001", None)]
    assert events(db, bjm, c_id) == [("sp4n_push", None)]
    with tenant_scope(bjm.id):
        assert sp4n.push(tenant_id=bjm.id, complaint_id=c_id) == "already"
        assert sp4n.queue_push(db.session.get(Complaint, c_id)) is False
    assert len(national.posts()) == 1


def test_a_test_report_never_reaches_the_national_system(app, db, bjm, officer, national):
    bridge_on(db, bjm, national.server.url)
    c_id, _ = submit_and_verify(db, bjm, officer, is_test=True)
    relay()
    assert national.posts() == [] and links(db, bjm) == []
    # Marked as a test report after the push was queued: the job leaves it too.
    other_id, _ = submit_and_verify(db, bjm, officer)
    with tenant_scope(bjm.id):
        other = db.session.get(Complaint, other_id)
        service.mark_test(other, service.Actor.of(officer), True)
        db.session.commit()
    relay()
    assert national.posts() == [] and links(db, bjm) == []


def test_a_push_repeated_after_a_crash_returns_the_same_external_record(app, db, bjm, officer, national):
    """The national system stored the report but we crashed before recording its id: the retry's
    idempotency key makes the national system answer with the first record instead of a second one."""
    bridge_on(db, bjm, national.server.url)
    c_id, code = submit_and_verify(db, bjm, officer)
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, c_id)
        first = sp4n.adapter_for(bjm).push(sp4n.report_for(c), idempotency_key=f"banjarmasin:{code}")
    relay()
    assert len(national.posts()) == 2 and len(national.reports) == 1
    assert links(db, bjm) == [(c_id, first, None)]


def test_a_loopback_bridge_address_is_refused_unless_allowed(app, db, bjm, officer, national, monkeypatch):
    """The bridge's base URL (tenant.toml) goes through the same SSRF guard as webhooks (issue 15 item 4)."""
    monkeypatch.setitem(app.config, "SP4N_ALLOW_PRIVATE_HOSTS", False)
    bridge_on(db, bjm, national.server.url)
    submit_and_verify(db, bjm, officer)
    assert relay()["failed"] == 1
    assert national.server.requests == [] and links(db, bjm) == []
    monkeypatch.setitem(app.config, "SP4N_ALLOW_PRIVATE_HOSTS", True)
    assert relay()["ran"] == 1 and len(national.posts()) == 1


def test_a_failed_push_waits_in_the_outbox_and_goes_through_later(app, db, bjm, officer, national):
    bridge_on(db, bjm, national.server.url)
    national.fail_next = 1
    c_id, _ = submit_and_verify(db, bjm, officer)
    assert relay()["failed"] == 1
    assert links(db, bjm) == [] and national.reports == {}
    assert relay()["ran"] == 1
    assert links(db, bjm) == [(c_id, "LAPOR-0001", None)]


def test_rahasia_and_anonim_complaints_are_pushed_with_their_flag_and_without_identity(app, db, bjm, officer,
                                                                                        national):
    bridge_on(db, bjm, national.server.url)
    submit_and_verify(db, bjm, officer, privacy=Privacy.CONFIDENTIAL)
    submit_and_verify(db, bjm, officer, privacy=Privacy.ANONYMOUS, title="Pungutan liar di pelabuhan")
    relay()
    assert sorted(p.json()["privacy"] for p in national.posts()) == ["anonim", "rahasia"]
    assert not any("Rizky" in p.body.decode() for p in national.posts())


def test_pull_records_each_status_change_and_follow_up_once(app, db, bjm, officer, national):
    bridge_on(db, bjm, national.server.url)
    c_id, _ = submit_and_verify(db, bjm, officer)
    relay()
    report = national.reports["LAPOR-0001"]
    report["status"] = "proses"
    report["follow_ups"].append({"id": "TL-1", "body": "Sudah diteruskan ke Dinas PUPR.", "agency": "PUPR",
                                 "published_at": "2026-11-28T10:00:00+08:00"})
    assert sp4n.pull_all_tenants() == {"pulled": 1, "status_changes": 1, "follow_ups": 1, "errors": 0}
    assert sp4n.pull_all_tenants() == {"pulled": 1, "status_changes": 0, "follow_ups": 0, "errors": 0}
    report["status"] = "selesai"
    report["follow_ups"].append({"id": "TL-2", "body": "Saluran sudah dibersihkan.", "agency": "PUPR"})
    assert sp4n.pull_all_tenants()["follow_ups"] == 1
    assert sp4n.pull_all_tenants()["follow_ups"] == 0
    assert events(db, bjm, c_id) == [
        ("sp4n_push", None), ("sp4n_status", "proses"), ("sp4n_followup", "Sudah diteruskan ke Dinas PUPR."),
        ("sp4n_status", "selesai"), ("sp4n_followup", "Saluran sudah dibersihkan.")]
    assert links(db, bjm) == [(c_id, "LAPOR-0001", "selesai")]
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(BridgeItem.id))) == 2
        assert db.session.get(Complaint, c_id).status == "verified"  # our state machine is not driven remotely


def test_pull_counts_an_unreachable_national_system_and_changes_nothing(app, db, bjm, officer, national):
    bridge_on(db, bjm, national.server.url)
    c_id, _ = submit_and_verify(db, bjm, officer)
    relay()
    national.fail_next = 1
    assert sp4n.pull_all_tenants()["errors"] == 1
    assert events(db, bjm, c_id) == [("sp4n_push", None)]


def test_without_the_bridge_switched_on_or_without_a_token_nothing_is_queued(app, db, bjm, officer, national,
                                                                             monkeypatch):
    submit_and_verify(db, bjm, officer)
    bridge_on(db, bjm, national.server.url)
    monkeypatch.setitem(app.config, "SP4N_TOKENS", {"katingan": "tok-ktg"})
    submit_and_verify(db, bjm, officer, title="Parkir liar di Jl. Lambung Mangkurat")
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(OutboxMessage.id)).filter_by(job="sp4n.push")) == 0
    relay()
    assert national.server.requests == [] and sp4n.pull_all_tenants() == {}


def test_each_region_pushes_with_its_own_token_and_pulls_only_its_own_links(app, db, bjm, ktg, officer, make_user,
                                                                            national):
    bridge_on(db, bjm, national.server.url)
    bridge_on(db, ktg, national.server.url)
    bjm_c, _ = submit_and_verify(db, bjm, officer)
    ktg_c, _ = submit_and_verify(db, ktg, make_user(ktg, "officer"), title="Jembatan kayu rusak di Kasongan")
    relay()
    assert sorted((p.headers["Authorization"], p.json()["reference"][:3]) for p in national.posts()) == [
        ("Bearer tok-bjm", "BJM"), ("Bearer tok-ktg", "KTG")]
    bjm_ext, ktg_ext = links(db, bjm)[0][1], links(db, ktg)[0][1]
    assert national.reports[ktg_ext]["token"] == "tok-ktg"
    national.reports[bjm_ext]["follow_ups"].append({"id": "TL-9", "body": "Untuk Banjarmasin saja."})
    sp4n.pull_all_tenants()
    assert ("sp4n_followup", "Untuk Banjarmasin saja.") in events(db, bjm, bjm_c)
    assert events(db, ktg, ktg_c) == [("sp4n_push", None), ("sp4n_status", "diterima")]
    with tenant_scope(ktg.id):
        # A Katingan job given Banjarmasin's complaint id finds nothing and pushes nothing.
        assert sp4n.push(tenant_id=ktg.id, complaint_id=bjm_c) == "missing"
    assert len(national.posts()) == 2


def test_the_periodic_pull_is_registered_with_rq_cron(app):
    from rq import cron

    import app.jobs.cron  # noqa: F401  (registers the schedule)

    entries = {d["func"].__name__: d for d in cron._job_data_registry}
    assert entries["pull_sp4n"]["interval"] == 600 and entries["pull_sp4n"]["queue_name"] == "periodic"


def test_a_bad_base_url_in_tenant_toml_is_an_error_naming_the_field(tmp_path):
    import shutil
    from pathlib import Path

    from app.tenancy.files import TenantConfigError, load_tenant_config

    repo = Path(__file__).resolve().parents[2] / "tenants"
    shutil.copytree(repo, tmp_path / "tenants")
    path = tmp_path / "tenants" / "katingan" / "tenant.toml"
    path.write_text(path.read_text() + '\n[settings.sp4n]\nenabled = true\nbase_url = "ftp://lapor.go.id"\n')
    with pytest.raises(TenantConfigError, match="settings.sp4n.base_url"):
        load_tenant_config(tmp_path / "tenants", "katingan")
