"""The REST API (/<slug>/api/v1): keys and scopes, filters and paging, detail, submitting with idempotency,
transitions through the state machine, privacy (UU PDP), the per-key rate limit and tenant isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.api import keys
from app.api.models import ApiKey
from app.api.rest import ACTIONS
from app.complaints import service
from app.complaints.models import Complaint, ComplaintEvent, Disposition, Status
from app.tenancy.scope import tenant_scope
from tests.api.support import REPORTER, act, agency_id, auth, make_key, publish_followup, submit

BASE = "/banjarmasin/api/v1"
# Tuesday 17 March 2026 15.00 WITA.
MARCH_17 = datetime(2026, 3, 17, 7, 0, tzinfo=UTC)


@pytest.fixture()
def token(db, bjm):
    return make_key(db, bjm, ("read", "write"), name="Dashboard Diskominfo")


@pytest.fixture()
def read_token(db, bjm):
    return make_key(db, bjm, ("read",), name="Papan informasi")


def _get(client, url, token, **kw):
    return client.get(url, headers=auth(token), **kw)


def _post(client, url, token, body, headers=None):
    return client.post(url, json=body, headers={**auth(token), **(headers or {})})


def _count(db, tenant, model=Complaint, **filters) -> int:
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.count(model.id)).filter_by(**filters))


def _version(db, tenant, code) -> int:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return db.session.execute(select(Complaint.version).filter_by(code=code)).scalar_one()


# ------------------------------------------------------------------ keys and scopes


def test_without_a_key_the_api_answers_401_in_json(client, bjm):
    resp = client.get(f"{BASE}/complaints")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized" and resp.json["error"]["status"] == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.headers["Cache-Control"] == "no-store"


def test_a_key_in_the_url_is_not_accepted(client, bjm, token):
    # URLs end up in access logs and proxies: the REST API reads keys from headers only
    assert client.get(f"{BASE}/categories?api_key={token}").status_code == 401
    assert client.get(f"{BASE}/categories", headers={"X-Api-Key": token}).status_code == 200


def test_a_revoked_key_answers_401(client, db, bjm, token):
    assert _get(client, f"{BASE}/categories", token).status_code == 200
    with tenant_scope(bjm.id):
        keys.revoke_key(db.session.execute(select(ApiKey)).scalar_one())
        db.session.commit()
    resp = _get(client, f"{BASE}/categories", token)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_a_read_key_cannot_write(client, db, bjm, read_token):
    code = submit(db, bjm)
    before = _count(db, bjm)
    resp = _post(client, f"{BASE}/complaints", read_token, {"title": "Jalan rusak parah", "class": "pengaduan",
                                                             "description": "Jalan rusak parah sejak bulan lalu."})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "forbidden"
    resp = _post(client, f"{BASE}/complaints/{code}/transitions", read_token,
                 {"action": "verify", "expected_version": 1})
    assert resp.status_code == 403
    assert _count(db, bjm) == before and _version(db, bjm, code) == 1
    assert _get(client, f"{BASE}/complaints/{code}", read_token).status_code == 200


def test_an_api_post_needs_no_csrf_token(app, client, db, bjm, token, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    resp = _post(client, f"{BASE}/complaints", token, {
        "title": "Drainase tersumbat", "class": "pengaduan",
        "description": "Saluran air tersumbat sampah, air meluap ke jalan setiap hujan."})
    assert resp.status_code == 201, resp.json


# ------------------------------------------------------------------ reference data


def test_categories_and_agencies_list_the_active_ones_with_codes(client, db, bjm, token):
    from app.agencies.models import Agency

    with tenant_scope(bjm.id):
        db.session.execute(select(Agency).filter_by(code="dinsos")).scalar_one().active = False
        db.session.commit()
    cats = _get(client, f"{BASE}/categories", token)
    assert cats.status_code == 200 and cats.headers["Cache-Control"] == "no-store"
    jalan = next(c for c in cats.json["data"] if c["code"] == "jalan")
    assert jalan["name"] and jalan["name_en"] and jalan["default_agency"] == "pupr"
    agencies = _get(client, f"{BASE}/agencies", token).json["data"]
    codes = {a["code"] for a in agencies}
    assert "pupr" in codes and "humpro" in codes and "dinsos" not in codes
    assert all(set(a) == {"code", "short_name", "name"} for a in agencies)


# ------------------------------------------------------------------ listing


def test_list_is_newest_first_with_total_and_page_links(client, db, bjm, token):
    codes = [submit(db, bjm, when=MARCH_17 + timedelta(hours=i)) for i in range(5)]
    resp = _get(client, f"{BASE}/complaints?per_page=2&status=submitted", token)
    assert resp.status_code == 200
    body = resp.json
    assert [c["code"] for c in body["data"]] == codes[::-1][:2]
    assert body["meta"] == {"total": 5, "page": 1, "per_page": 2, "pages": 3}
    assert body["links"]["prev"] is None and "page=2" in body["links"]["next"]
    assert body["links"]["self"].startswith("http") and "status=submitted" in body["links"]["next"]
    page3 = _get(client, body["links"]["last"], token).json
    assert [c["code"] for c in page3["data"]] == [codes[0]] and page3["links"]["next"] is None
    page2 = _get(client, body["links"]["next"], token).json
    assert [c["code"] for c in page2["data"]] == codes[::-1][2:4]
    assert "status=submitted" in page2["links"]["prev"]
    beyond = _get(client, f"{BASE}/complaints?page=9&per_page=2", token).json
    assert beyond["data"] == [] and beyond["meta"]["total"] == 5


def test_list_filters(client, db, bjm, make_user, token):
    old = submit(db, bjm, when=MARCH_17 - timedelta(days=30), complaint_class="aspirasi")
    verified = submit(db, bjm, when=MARCH_17)
    disposed = submit(db, bjm, when=MARCH_17 + timedelta(days=1), title="Parkir liar di depan sekolah")
    act(db, bjm, verified, make_user, "verify")
    act(db, bjm, disposed, make_user, "verify")
    act(db, bjm, disposed, make_user, "dispose", agency_ids=[agency_id(db, bjm, "dishub")])

    def codes(query: str) -> list[str]:
        resp = _get(client, f"{BASE}/complaints?{query}", token)
        assert resp.status_code == 200, resp.json
        return [c["code"] for c in resp.json["data"]]

    assert codes("status=verified") == [verified]
    assert codes("status=verified&status=disposed") == [disposed, verified]
    assert codes("status=submitted,disposed") == [disposed, old]
    assert codes("class=aspirasi") == [old]
    assert codes("agency=dishub") == [disposed]
    assert codes("agency=pupr") == []
    assert codes("submitted_from=2026-03-17&submitted_to=2026-03-17") == [verified]
    assert codes("submitted_to=2026-03-01") == [old]
    assert codes("q=parkir+liar") == [disposed]
    assert codes(f"q={old.lower()}") == [old]
    # The verification clock stops on hold: "none"; the others have a running clock.
    assert codes("deadline_state=none") == []
    act(db, bjm, old, make_user, "hold", message="Mohon lampirkan foto lokasi.")
    assert codes("deadline_state=none") == [old]
    with tenant_scope(bjm.id):
        c = db.session.execute(select(Complaint).filter_by(code=verified)).scalar_one()
        c.deadline_state = "overdue"
        db.session.commit()
    assert codes("deadline_state=overdue") == [verified]
    with tenant_scope(bjm.id):
        cut = db.session.execute(select(Complaint.updated_at).filter_by(code=disposed)).scalar_one()
    since = cut.isoformat().replace("+00:00", "Z")
    assert disposed in codes(f"updated_since={since.replace('+', '%2B')}")
    assert codes("updated_since=2999-01-01T00:00:00%2B08:00") == []
    with tenant_scope(bjm.id):
        cat = db.session.execute(select(Complaint.category_id).filter_by(code=verified)).scalar_one()
    assert cat is None and codes("category=jalan") == []


def test_category_filter_matches_the_category_code(client, db, bjm, token):
    from app.agencies.models import Category

    with tenant_scope(bjm.id):
        jalan = db.session.execute(select(Category.id).filter_by(code="jalan")).scalar_one()
    road = submit(db, bjm, category_id=jalan)
    submit(db, bjm)
    resp = _get(client, f"{BASE}/complaints?category=jalan", token).json
    assert [c["code"] for c in resp["data"]] == [road]
    assert resp["data"][0]["category"]["code"] == "jalan"


def test_bad_filter_values_answer_400_with_translated_field_messages(app, client, db, bjm, token):
    resp = _get(client, f"{BASE}/complaints?status=open&submitted_from=17-03-2026&per_page=500&agency=nope"
                        f"&deadline_state=late&updated_since=yesterday&category=nope&page=0", token)
    assert resp.status_code == 400
    err = resp.json["error"]
    assert err["code"] == "validation_failed"
    assert set(err["fields"]) == {"status", "submitted_from", "per_page", "agency", "deadline_state",
                                  "updated_since", "category", "page"}
    with app.test_request_context(), force_locale("id"):
        indonesian = gettext("Choose a category from the list.")
    assert err["fields"]["category"] == indonesian  # the region's language by default
    english = _get(client, f"{BASE}/complaints?status=open&category=nope&lang=en", token).json["error"]
    assert english["fields"]["category"] == "Choose a category from the list." != indonesian
    assert english["fields"]["status"].startswith("Unknown value “open”")
    reversed_dates = _get(client, f"{BASE}/complaints?submitted_from=2026-03-18&submitted_to=2026-03-17", token)
    assert reversed_dates.status_code == 400 and set(reversed_dates.json["error"]["fields"]) == {"submitted_to"}


# ------------------------------------------------------------------ detail


def test_detail_shows_the_public_timeline_dispositions_follow_ups_deadline_and_version(
        client, db, bjm, make_user, token):
    code = submit(db, bjm)
    act(db, bjm, code, make_user, "verify")
    act(db, bjm, code, make_user, "dispose", agency_ids=[agency_id(db, bjm, "pupr")],
        instruction="Mohon dicek dan diperbaiki minggu ini.")
    act(db, bjm, code, make_user, "note", message="Catatan internal: pelapor adalah ketua RT.")
    publish_followup(db, bjm, code, make_user, "Lampu sudah diganti oleh Dinas PUPR.")
    resp = _get(client, f"{BASE}/complaints/{code}", token)
    assert resp.status_code == 200
    data = resp.json["data"]
    assert data["code"] == code and data["status"] == "answered" and data["version"] == _version(db, bjm, code)
    assert data["title"] == "Lampu jalan padam di Jl. Veteran" and data["privacy"] == "public"
    assert data["agencies"] == ["PUPR"] or data["agencies"][0]
    assert data["dispositions"][0]["agency"]["code"] == "pupr"
    assert data["deadline_stage"] == "auto_close" and data["due_at"].endswith("Z")
    assert data["deadline_state"] in ("on_time", "due_soon", "overdue")
    assert data["follow_ups"] == [{"agency": data["dispositions"][0]["agency"], "body":
                                   "Lampu sudah diganti oleh Dinas PUPR.", "published_at": data["answered_at"]}]
    kinds = [e["kind"] for e in data["events"]]
    assert kinds == ["submit", "verify", "dispose", "publish_followup"]
    assert data["events"][1] == {**data["events"][1], "from_status": "submitted", "to_status": "verified",
                                 "actor": "staff"}
    text = resp.text
    for internal in ("Catatan internal", "Mohon dicek", "ketua RT"):
        assert internal not in text  # internal notes and instructions never leave the complaint unit
    assert "officer" not in json.dumps(data["events"])  # no staff names either


def test_detail_lists_the_transitions_the_key_may_take_now(client, db, bjm, make_user, token):
    """The REST detail answers "what can I do now" from the same available_actions as the staff page."""
    code = submit(db, bjm)
    fresh = _get(client, f"{BASE}/complaints/{code}", token).json["data"]["available_actions"]
    assert {"action": "verify", "followup_id": None} in fresh
    assert all(a["action"] != "close" for a in fresh)
    act(db, bjm, code, make_user, "verify")
    act(db, bjm, code, make_user, "dispose", agency_ids=[agency_id(db, bjm, "pupr")], instruction="Mohon dicek.")
    publish_followup(db, bjm, code, make_user, "Lampu sudah diganti oleh Dinas PUPR.")
    answered = _get(client, f"{BASE}/complaints/{code}", token).json["data"]["available_actions"]
    names = {a["action"] for a in answered}
    assert "close" in names and "verify" not in names
    # Every action offered is one the transitions endpoint accepts.
    assert names <= set(ACTIONS)


def test_detail_of_an_unknown_code_is_a_json_404(client, db, bjm, token):
    for code in ("BJM-26-99999", "not a code", "x" * 40):
        resp = _get(client, f"{BASE}/complaints/{code}", token)
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


# ------------------------------------------------------------------ submitting


SUBMISSION = {
    "title": "Sampah menumpuk di pasar",
    "description": "Sampah di Pasar Lama tidak diangkut sejak lima hari, baunya sampai ke rumah warga.",
    "class": "pengaduan", "category": "sampah", "privacy": "anonim",
    "location": {"text": "Pasar Lama, Banjarmasin Tengah", "latitude": -3.3186, "longitude": 114.5944},
    "reporter": REPORTER,
}


def test_submit_creates_a_complaint_through_the_service_and_an_idempotency_key_makes_retries_safe(
        client, db, bjm, token):
    headers = {"Idempotency-Key": "crm-ticket-4711"}
    first = _post(client, f"{BASE}/complaints", token, SUBMISSION, headers)
    assert first.status_code == 201, first.json
    data = first.json["data"]
    assert data["code"].startswith("BJM-") and data["status"] == "submitted" and data["source"] == "api"
    assert data["privacy"] == "anonim" and data["category"]["code"] == "sampah"
    assert data["location"]["latitude"] == -3.3186 and data["deadline_stage"] == "verification"
    assert first.headers["Location"].endswith(f"{BASE}/complaints/{data['code']}")
    again = _post(client, f"{BASE}/complaints", token, {**SUBMISSION, "title": "Sesuatu yang lain"}, headers)
    assert again.status_code == 200 and again.json["data"]["code"] == data["code"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(db, bjm) == 1
    other = _post(client, f"{BASE}/complaints", token, SUBMISSION, {"Idempotency-Key": "crm-ticket-4712"})
    assert other.status_code == 201 and other.json["data"]["code"] != data["code"]
    with tenant_scope(bjm.id):
        c = db.session.execute(select(Complaint).filter_by(code=data["code"])).scalar_one()
        assert c.reporter_name == REPORTER["name"] and c.reporter_email == REPORTER["email"]
        assert c.anonymous and c.source == "api"
        event = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id)).scalar_one()
        assert event.kind == "submit" and event.actor_label.startswith("API: Dashboard Diskominfo (lpr_")
        assert event.actor_id is None


def test_the_same_idempotency_key_of_another_api_key_is_another_submission(client, db, bjm, token):
    second = make_key(db, bjm, ("read", "write"), name="Call centre")
    headers = {"Idempotency-Key": "42"}
    a = _post(client, f"{BASE}/complaints", token, SUBMISSION, headers).json["data"]["code"]
    b = _post(client, f"{BASE}/complaints", second, SUBMISSION, headers).json["data"]["code"]
    assert a != b


def test_invalid_submissions_answer_400_with_fields_and_write_nothing(client, db, bjm, token):
    bad = {"title": "abc", "description": 12, "class": "keluhan", "category": "nope", "privacy": "secret",
           "location": {"latitude": 52.37, "longitude": "east"},
           "reporter": {"email": "not-an-email", "phone": "call me"}}
    resp = _post(client, f"{BASE}/complaints", token, bad, {"Idempotency-Key": "k-1"})
    assert resp.status_code == 400
    fields = resp.json["error"]["fields"]
    assert set(fields) == {"title", "description", "class", "category", "privacy", "location.latitude",
                           "location.longitude", "reporter.email", "reporter.phone"}
    assert _count(db, bjm) == 0
    assert _count(db, bjm, ComplaintEvent) == 0
    # The failed attempt did not use up the idempotency key.
    assert _post(client, f"{BASE}/complaints", token, SUBMISSION, {"Idempotency-Key": "k-1"}).status_code == 201
    assert _post(client, f"{BASE}/complaints", token, {}).status_code == 400


def test_a_body_that_is_not_a_json_object_is_refused(client, db, bjm, token):
    url = f"{BASE}/complaints"
    assert client.post(url, data="title=x", headers=auth(token)).status_code == 415
    resp = client.post(url, data="{not json", headers={**auth(token), "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_json"
    assert _post(client, url, token, ["a list"]).json["error"]["code"] == "invalid_json"
    bad_key = _post(client, url, token, SUBMISSION, {"Idempotency-Key": "has spaces"})
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json["error"]["fields"]
    assert _count(db, bjm) == 0


def test_control_characters_are_dropped_from_json_text(client, db, bjm, token):
    body = {**SUBMISSION, "title": "Sampah\x00 menumpuk\x07 di pasar"}
    resp = _post(client, f"{BASE}/complaints", token, body)
    assert resp.status_code == 201 and resp.json["data"]["title"] == "Sampah menumpuk di pasar"


# ------------------------------------------------------------------ transitions


def _transition(client, token, code, body):
    return _post(client, f"{BASE}/complaints/{code}/transitions", token, body)


def test_an_integration_verifies_disposes_and_closes_through_the_state_machine(client, db, bjm, token):
    code = submit(db, bjm)
    resp = _transition(client, token, code, {"action": "verify", "expected_version": 1, "category": "jalan",
                                             "class": "pengawasan", "tags": ["Lampu", "Pasar"]})
    assert resp.status_code == 200, resp.json
    data = resp.json["data"]
    assert data["status"] == "verified" and data["class"] == "pengawasan" and data["tags"] == ["lampu", "pasar"]
    # The version is opaque: it grows with every write of the report (one action may write it twice).
    assert data["version"] > 1 and data["deadline_stage"] == "coordination"
    resp = _transition(client, token, code, {"action": "dispose", "expected_version": data["version"],
                                             "agencies": ["pupr", "dishub"], "instruction": "Segera."})
    assert resp.status_code == 200, resp.json
    assert sorted(d["agency"]["code"] for d in resp.json["data"]["dispositions"]) == ["dishub", "pupr"]
    version = resp.json["data"]["version"]
    resp = _transition(client, token, code, {"action": "close", "expected_version": version,
                                             "message": "Sudah ditangani."})
    assert resp.status_code == 200 and resp.json["data"]["status"] == "closed"
    assert resp.json["data"]["events"][-1]["message"] == "Sudah ditangani."
    with tenant_scope(bjm.id):
        events = db.session.execute(select(ComplaintEvent).join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
                                    .where(Complaint.code == code, ComplaintEvent.kind != "submit")).scalars().all()
        assert {e.kind for e in events} >= {"verify", "dispose", "close", "note"}
        assert all(e.actor_label.startswith("API: Dashboard Diskominfo") for e in events)
        assert all(e.actor_type == "staff" and e.actor_id is None for e in events)


def test_hold_resume_refer_archive_reopen_and_note(client, db, bjm, token):
    code = submit(db, bjm)

    def do(body):
        resp = _transition(client, token, code, {**body, "expected_version": _version(db, bjm, code)})
        assert resp.status_code == 200, resp.json
        return resp.json["data"]

    assert do({"action": "hold", "message": "Mohon kirim foto."})["status"] == "on_hold"
    assert do({"action": "resume"})["status"] == "submitted"
    assert do({"action": "note", "message": "Dicek lewat telepon."})["status"] == "submitted"
    assert do({"action": "refer", "refer_to": "Balai Jalan Nasional"})["refer_to"] == "Balai Jalan Nasional"
    other = submit(db, bjm)
    code = other
    assert do({"action": "archive", "reason": "Laporan ganda."})["status"] == "archived"
    closed = submit(db, bjm)
    code = closed
    do({"action": "verify"})
    do({"action": "dispose", "agencies": ["pupr"]})
    do({"action": "close"})
    assert do({"action": "reopen", "message": "Lampu padam lagi."})["status"] == "disposed"


def test_an_illegal_transition_is_409_and_changes_nothing(client, db, bjm, token):
    code = submit(db, bjm)
    resp = _transition(client, token, code, {"action": "close", "expected_version": 1})
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "illegal_transition" and resp.json["error"]["message"]
    resp = _transition(client, token, code, {"action": "dispose", "expected_version": 1, "agencies": ["pupr"]})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "illegal_transition"
    assert _version(db, bjm, code) == 1
    assert _count(db, bjm, Disposition) == 0 and _count(db, bjm, ComplaintEvent) == 1


def test_a_stale_expected_version_is_409_stale(client, db, bjm, make_user, token):
    code = submit(db, bjm)
    act(db, bjm, code, make_user, "verify")  # someone else acted meanwhile: version 2
    resp = _transition(client, token, code, {"action": "dispose", "expected_version": 1, "agencies": ["pupr"]})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "stale"
    assert _count(db, bjm, Disposition) == 0
    resp = _transition(client, token, code, {"action": "note", "expected_version": 1, "message": "Catatan."})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "stale"


def test_transition_input_errors_are_400_and_write_nothing(client, db, bjm, make_user, token):
    code = submit(db, bjm)
    act(db, bjm, code, make_user, "verify")
    v = _version(db, bjm, code)
    cases = [
        ({"action": "fly", "expected_version": v}, {"action"}),
        ({"action": "dispose"}, {"expected_version", "agencies"}),
        ({"action": "dispose", "expected_version": str(v), "agencies": ["pupr"]}, {"expected_version"}),
        ({"action": "dispose", "expected_version": v, "agencies": ["pupr", "nope"]}, {"agencies"}),
        ({"action": "dispose", "expected_version": v, "agencies": []}, {"agencies"}),
        ({"action": "hold", "expected_version": v}, {"message"}),
        ({"expected_version": v}, {"action"}),
    ]
    for body, fields in cases:
        resp = _transition(client, token, code, body)
        assert resp.status_code == 400, (body, resp.json)
        assert set(resp.json["error"]["fields"]) == fields, (body, resp.json)
    assert _count(db, bjm, Disposition) == 0 and _version(db, bjm, code) == v


def test_a_service_validation_error_rolls_back_a_partly_applied_transition(client, db, bjm, token):
    code = submit(db, bjm)
    resp = _transition(client, token, code, {"action": "verify", "expected_version": 1, "title": "abc",
                                             "class": "aspirasi"})
    assert resp.status_code == 400 and set(resp.json["error"]["fields"]) == {"title"}
    db.session.expire_all()
    with tenant_scope(bjm.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        assert (c.status, c.complaint_class, c.version) == (Status.SUBMITTED, "pengaduan", 1)


# ------------------------------------------------------------------ privacy (UU PDP)


def _identity_absent(*texts: str) -> None:
    for text in texts:
        for value in (REPORTER["name"], "Rahmat", REPORTER["email"], "rahmat.hidayat", REPORTER["phone"],
                      "1234567890", "access_token", "reporter"):
            assert value not in text, f"{value!r} leaked"


def test_the_reporters_identity_never_appears_in_any_answer(client, db, bjm, make_user, token):
    public = submit(db, bjm)
    submit(db, bjm, privacy="anonim")
    submit(db, bjm, privacy="rahasia")
    act(db, bjm, public, make_user, "verify")
    with tenant_scope(bjm.id):
        c = db.session.execute(select(Complaint).filter_by(code=public)).scalar_one()
        service.add_information(c, f"Saya {REPORTER['name']}, hubungi {REPORTER['phone']}.")  # citizen's words
        db.session.commit()
    answers = [_get(client, f"{BASE}/complaints", token).text]
    with tenant_scope(bjm.id):
        codes = db.session.execute(select(Complaint.code)).scalars().all()
    answers += [_get(client, f"{BASE}/complaints/{code}", token).text for code in codes]
    answers.append(_post(client, f"{BASE}/complaints", token, SUBMISSION).text)
    answers.append(_post(client, f"{BASE}/complaints", token, {**SUBMISSION, "privacy": "public"}).text)
    answers.append(_transition(client, token, public, {"action": "dispose", "agencies": ["pupr"],
                                                        "expected_version": _version(db, bjm, public)}).text)
    assert json.loads(answers[-1])["data"]["status"] == "disposed"
    _identity_absent(*answers)


def test_a_rahasia_complaint_is_listed_without_its_content(client, db, bjm, make_user, token):
    code = submit(db, bjm, privacy="rahasia", location_text="Jl. Rahasia 7", title="Pungutan liar di kantor",
                  description="Petugas loket meminta uang tambahan untuk mempercepat pengurusan KTP.")
    act(db, bjm, code, make_user, "verify")
    act(db, bjm, code, make_user, "dispose", agency_ids=[agency_id(db, bjm, "pupr")])
    act(db, bjm, code, make_user, "public_reply", message="Kami sedang memeriksa loket tersebut.")
    publish_followup(db, bjm, code, make_user, "Petugas loket sudah diberi sanksi.")
    detail = _get(client, f"{BASE}/complaints/{code}", token)
    listing = _get(client, f"{BASE}/complaints", token)
    data = detail.json["data"]
    assert data["privacy"] == "rahasia" and data["status"] == "answered"
    for key in ("title", "description", "location", "tags", "refer_to"):
        assert key not in data and key not in listing.json["data"][0]
    assert data["follow_ups"] and "body" not in data["follow_ups"][0]
    assert all("message" not in e for e in data["events"])
    for secret in ("Pungutan", "loket", "KTP", "Rahasia 7", "sanksi", "memeriksa"):
        assert secret not in detail.text and secret not in listing.text
    # Its text cannot be found by searching either (a hit would reveal it); its code can.
    assert _get(client, f"{BASE}/complaints?q=loket", token).json["meta"]["total"] == 0
    assert _get(client, f"{BASE}/complaints?q={code}", token).json["meta"]["total"] == 1
    _identity_absent(detail.text, listing.text)


# ------------------------------------------------------------------ tenant isolation


def test_a_katingan_key_does_not_open_banjarmasin(client, db, bjm, ktg):
    code = submit(db, bjm)
    ktg_token = make_key(db, ktg)
    for url in (f"{BASE}/complaints", f"{BASE}/complaints/{code}", f"{BASE}/categories", f"{BASE}/agencies"):
        resp = _get(client, url, ktg_token)
        assert resp.status_code == 401, url
    resp = _transition(client, ktg_token, code, {"action": "verify", "expected_version": 1})
    assert resp.status_code == 401
    assert _version(db, bjm, code) == 1


def test_a_banjarmasin_code_is_not_found_in_katingan_even_with_a_valid_katingan_key(client, db, bjm, ktg):
    code = submit(db, bjm)
    ktg_code = submit(db, ktg)
    ktg_token = make_key(db, ktg)
    assert _get(client, f"/katingan/api/v1/complaints/{ktg_code}", ktg_token).status_code == 200
    resp = _get(client, f"/katingan/api/v1/complaints/{code}", ktg_token)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    resp = _post(client, f"/katingan/api/v1/complaints/{code}/transitions", ktg_token,
                 {"action": "verify", "expected_version": 1})
    assert resp.status_code == 404
    listing = _get(client, "/katingan/api/v1/complaints", ktg_token).json
    assert [c["code"] for c in listing["data"]] == [ktg_code]
    assert _get(client, f"/katingan/api/v1/complaints?q={code}", ktg_token).json["data"] == []
    assert _version(db, bjm, code) == 1


def test_a_submission_lands_in_the_keys_region_only(client, db, bjm, ktg):
    ktg_token = make_key(db, ktg)
    katingan = {**SUBMISSION, "category": "jalan",  # a pin inside Katingan's area (tenant.toml [settings.area])
                "location": {"text": "Jl. Tjilik Riwut, Kasongan", "latitude": -1.895, "longitude": 113.405}}
    resp = _post(client, "/katingan/api/v1/complaints", ktg_token, katingan)
    assert resp.status_code == 201 and resp.json["data"]["code"].startswith("KTG-")
    assert _count(db, ktg) == 1 and _count(db, bjm) == 0


def test_an_unknown_region_is_a_json_404(client, db, bjm, token):
    resp = _get(client, "/atlantis/api/v1/complaints", token)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


# ------------------------------------------------------------------ rate limit


def test_each_key_has_its_own_rate_limit_answered_429_in_json(api_limited_app):
    app, first, second = api_limited_app
    client = app.test_client()
    url = "/banjarmasin/api/v1/categories"
    assert [client.get(url, headers=auth(first)).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get(url, headers=auth(first))
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited" and limited.json["error"]["status"] == 429
    assert int(limited.headers["Retry-After"]) > 0 and limited.headers["Cache-Control"] == "no-store"
    assert client.get(url, headers=auth(second)).status_code == 200  # the other key has its own budget
    assert client.post("/banjarmasin/api/v1/complaints", json=SUBMISSION, headers=auth(first)).status_code == 429


def test_a_suspended_region_answers_503_in_json(client, db, bjm, token):
    from app.tenancy.models import TenantStatus

    bjm.status = TenantStatus.SUSPENDED
    db.session.commit()
    resp = _get(client, f"{BASE}/complaints", token)
    assert resp.status_code == 503 and resp.json["error"]["code"] == "suspended"
    assert resp.headers["Cache-Control"] == "no-store"


def test_unknown_api_urls_and_methods_answer_in_json_too(client, db, bjm, token):
    resp = _get(client, f"{BASE}/complaint", token)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    resp = client.delete(f"{BASE}/complaints", headers=auth(token))
    assert resp.status_code == 405 and resp.json["error"]["code"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]
    assert "<html" in client.get("/banjarmasin/no-such-page").text  # the rest of the site keeps its pages
