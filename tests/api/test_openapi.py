"""The OpenAPI document: served at a stable platform URL, valid OpenAPI 3.1, in step with the routes, and
true of real answers (jsonschema on every operation's answers; schemathesis fuzzing from the document)."""

from __future__ import annotations

import contextvars
import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from schemathesis.specs.openapi.formats import unregister_string_format

from tests.api.support import REPORTER, act, agency_id, auth, make_key, publish_followup, submit
from tests.api.test_rest import SUBMISSION

DOC_URL = "/api/v1/openapi.json"
BASE = "/banjarmasin/api/v1"


@pytest.fixture(scope="module")
def document(app):
    resp = app.test_client().get(DOC_URL)
    assert resp.status_code == 200
    return resp.json


def test_the_document_is_served_at_a_stable_platform_url_and_is_valid_openapi_3_1(client, document):
    validate_openapi(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == "/{tenant}/api/v1"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    resp = client.get(DOC_URL)
    assert resp.headers["Access-Control-Allow-Origin"] == "*" and "public" in resp.headers["Cache-Control"]


def test_the_document_is_also_served_on_a_regions_own_domain(app, db, client, bjm):
    from app.tenancy.models import TenantDomain

    db.session.add(TenantDomain(tenant_id=bjm.id, host="lapor.contoh-kota.go.id"))
    db.session.commit()
    app.wsgi_app.invalidate()
    try:
        resp = client.get(DOC_URL, headers={"Host": "lapor.contoh-kota.go.id"})
        assert resp.status_code == 200 and resp.json["openapi"].startswith("3.1")
        # …while the API itself is the region's, at the root of its domain.
        token = make_key(db, bjm)
        resp = client.get("/api/v1/agencies", headers={"Host": "lapor.contoh-kota.go.id", **auth(token)})
        assert resp.status_code == 200 and resp.json["data"]
    finally:
        app.wsgi_app.invalidate()


def _documented(document) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}


def test_every_api_route_is_documented_and_every_documented_operation_exists(app, document):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("tenant.api."):
            path = rule.rule.removeprefix("/<tenant>/api/v1").replace("<code>", "{code}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == _documented(document)


# ------------------------------------------------------------------ real answers against the document


class Checker:
    """Validates answers against the document's response schemas and remembers what it covered."""

    def __init__(self, document):
        self.document, self.covered = document, set()

    def __call__(self, path: str, method: str, resp, status: int | None = None) -> dict:
        if status is not None:
            assert resp.status_code == status, resp.get_data(as_text=True)[:500]
        responses = self.document["paths"][path][method.lower()]["responses"]
        assert str(resp.status_code) in responses, f"{method} {path}: {resp.status_code} is not documented"
        spec = responses[str(resp.status_code)]
        schema = {**spec["content"]["application/json"]["schema"], "components": self.document["components"]}
        Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(resp.json)
        for header in spec.get("headers", {}):
            if header in ("Location", "Idempotent-Replayed"):
                assert header in resp.headers, f"{method} {path}: header {header} missing"
        self.covered.add((path, method.upper(), resp.status_code))
        return resp.json


def test_real_answers_of_every_operation_conform_to_the_document(client, db, bjm, make_user, document):
    check = Checker(document)
    token, read_token = make_key(db, bjm), make_key(db, bjm, ("read",))
    h = auth(token)
    public = submit(db, bjm)
    secret = submit(db, bjm, privacy="rahasia", location_text="Jl. Melati")
    held = submit(db, bjm, privacy="anonim")
    for code in (public, secret):
        act(db, bjm, code, make_user, "verify", tags=["lampu"])
        act(db, bjm, code, make_user, "dispose", agency_ids=[agency_id(db, bjm, "pupr")])
    act(db, bjm, held, make_user, "hold", message="Mohon kirim foto lokasi.")
    publish_followup(db, bjm, public, make_user, "Lampu sudah diganti.")

    listing = check("/complaints", "get", client.get(f"{BASE}/complaints?per_page=2", headers=h), 200)
    assert listing["meta"]["total"] == 3 and listing["links"]["next"]
    check("/complaints", "get", client.get(f"{BASE}/complaints?status=disposed&q=lampu", headers=h), 200)
    check("/complaints", "get", client.get(f"{BASE}/complaints?status=nope", headers=h), 400)
    check("/complaints", "get", client.get(f"{BASE}/complaints"), 401)
    for code in (public, secret, held):
        check("/complaints/{code}", "get", client.get(f"{BASE}/complaints/{code}", headers=h), 200)
    check("/complaints/{code}", "get", client.get(f"{BASE}/complaints/BJM-00-00000", headers=h), 404)
    check("/categories", "get", client.get(f"{BASE}/categories", headers=h), 200)
    check("/agencies", "get", client.get(f"{BASE}/agencies", headers=h), 200)

    url = f"{BASE}/complaints"
    created = check("/complaints", "post", client.post(url, json=SUBMISSION, headers={**h, "Idempotency-Key": "a"}),
                    201)
    check("/complaints", "post", client.post(url, json=SUBMISSION, headers={**h, "Idempotency-Key": "a"}), 200)
    check("/complaints", "post", client.post(url, json={"title": 1}, headers=h), 400)
    check("/complaints", "post", client.post(url, data="x", headers=h), 415)
    check("/complaints", "post", client.post(url, json=SUBMISSION, headers=auth(read_token)), 403)

    code = created["data"]["code"]
    turl = f"{BASE}/complaints/{code}/transitions"
    version = created["data"]["version"]
    done = check("/complaints/{code}/transitions", "post",
                 client.post(turl, json={"action": "verify", "expected_version": version}, headers=h), 200)
    path = "/complaints/{code}/transitions"
    check(path, "post", client.post(turl, json={"action": "verify", "expected_version": version}, headers=h), 409)
    check(path, "post", client.post(turl, json={"action": "hold", "expected_version": done["data"]["version"],
                                                "message": "Foto?"}, headers=h), 409)
    check(path, "post", client.post(turl, json={"action": "dispose"}, headers=h), 400)
    check(path, "post", client.post(f"{BASE}/complaints/BJM-00-00000/transitions", json={}, headers=h), 404)

    documented_success = {(p, m, int(s)) for p, ops in document["paths"].items() for m, op in ops.items()
                          for s in op["responses"] if s.startswith("2")}
    documented_success = {(p, m.upper(), s) for p, m, s in documented_success}
    assert documented_success <= check.covered, documented_success - check.covered
    text = " ".join(str(x) for x in check.covered)
    assert REPORTER["name"] not in text


def test_the_rate_limit_answer_conforms_to_the_document(api_limited_app, document):
    app, first, _second = api_limited_app
    client = app.test_client()
    for _ in range(3):
        client.get(f"{BASE}/agencies", headers=auth(first))
    resp = client.get(f"{BASE}/complaints", headers=auth(first))
    assert Checker(document)("/complaints", "get", resp, 429)["error"]["code"] == "rate_limited"


# ------------------------------------------------------------------ property-based fuzzing (schemathesis)


class _PerRequestContext:
    """Each request in a fresh context (g, session, bound tenant), as tests/conftest.py's client does."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return contextvars.Context().run(self.app, environ, start_response)


def test_fuzzing_from_the_document_finds_no_server_error_and_no_undocumented_answer(app, db, bjm, make_user):
    """schemathesis generates valid and invalid requests for every operation from the document (20 of each
    per operation, derandomized for CI); every answer must be a non-5xx, documented status and match its schema."""
    import schemathesis

    token = make_key(db, bjm)
    code = submit(db, bjm)
    act(db, bjm, code, make_user, "verify")
    # Dates and times at the ends of the calendar as often as ordinary ones (years 1 and 9999 once made 500s).
    schemathesis.openapi.format("date", st.one_of(st.sampled_from(BOUNDARY_DATES), st.dates().map(date.isoformat)))
    schemathesis.openapi.format("date-time", st.one_of(
        st.sampled_from(BOUNDARY_TIMES), st.datetimes().map(lambda t: t.isoformat() + "Z")))
    try:
        _fuzz(app, token, code, calls := {"n": 0, "boundary": 0})
    finally:
        unregister_string_format("date")
        unregister_string_format("date-time")
    assert calls["n"] >= 6 * 2 * 5
    assert calls["boundary"] > 0  # the boundary dates were really sent


#: Dates and times at and beyond the ends of what the API takes (1900-01-01…2999-12-31).
BOUNDARY_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "2999-12-31", "3000-01-01"]
BOUNDARY_TIMES = ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                  "9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z"]


def _fuzz(app, token: str, code: str, calls: dict) -> None:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_wsgi(DOC_URL, _PerRequestContext(app))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6

    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
        # The code of a report that exists, so the workflow itself is exercised (404s are tested above).
        path_parameters = {"code": code} if "{code}" in operation.path else None

        @settings(max_examples=20, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
        def run(case):
            # identity: the WSGI transport does not undo Flask-Compress's encoding.
            response = case.call(headers={**auth(token), "Accept-Encoding": "identity"})
            calls["n"] += 1
            if any(str(v).startswith(("0001-", "9999-")) for v in (case.query or {}).values()):
                calls["boundary"] += 1
            case.validate_response(response, checks=checks)

        run()
