"""The REST API's schemas (app.api.schemas): one per resource, used to parse requests, to serialise answers
and to generate the OpenAPI document. Real answers round-trip through them; answers are closed; requests are
type-checked with one translated message per field; the document takes every schema from that module; and a
bad request is answered exactly as before the schemas came (the bodies below were recorded from that code)."""

from __future__ import annotations

import inspect

import pytest
from marshmallow import Schema, ValidationError

from app.api import rest, schemas
from tests.api.support import act, agency_id, auth, make_key, publish_followup, submit
from tests.api.test_rest import SUBMISSION

BASE = "/banjarmasin/api/v1"


def _round_trip(schema: Schema, data: dict) -> None:
    assert schema.dump(schema.load(data)) == data


def test_real_answers_round_trip_through_their_schemas(client, db, bjm, make_user):
    h = auth(make_key(db, bjm))
    public = submit(db, bjm, location_text="Jl. Veteran", latitude=-3.32, longitude=114.59)
    secret = submit(db, bjm, privacy="rahasia")
    for code in (public, secret):
        act(db, bjm, code, make_user, "verify", tags=["lampu"])
        act(db, bjm, code, make_user, "dispose", agency_ids=[agency_id(db, bjm, "pupr")])
    publish_followup(db, bjm, public, make_user, "Lampu sudah diganti.")

    listing = client.get(f"{BASE}/complaints", headers=h).json
    assert len(listing["data"]) == 2
    _round_trip(schemas.ComplaintListSchema(), listing)
    for code in (public, secret):
        detail = client.get(f"{BASE}/complaints/{code}", headers=h).json
        _round_trip(schemas.ComplaintResponseSchema(), detail)
    assert detail["data"]["follow_ups"] == [] and "title" not in detail["data"]  # the rahasia one, last
    public_detail = client.get(f"{BASE}/complaints/{public}", headers=h).json["data"]
    assert public_detail["follow_ups"][0]["body"] and public_detail["events"]
    core = {name: value for name, value in public_detail.items() if name in schemas.ComplaintCoreSchema().fields
            or name == "class"}
    _round_trip(schemas.ComplaintCoreSchema(), core)
    _round_trip(schemas.CategoryListSchema(), client.get(f"{BASE}/categories", headers=h).json)
    _round_trip(schemas.AgencyListSchema(), client.get(f"{BASE}/agencies", headers=h).json)
    _round_trip(schemas.ErrorSchema(), client.get(f"{BASE}/complaints?status=nope", headers=h).json)
    _round_trip(schemas.ErrorSchema(), client.get(f"{BASE}/complaints").json)


def test_answers_are_closed_an_undeclared_field_fails(client, db, bjm):
    h = auth(make_key(db, bjm))
    code = submit(db, bjm)
    detail = client.get(f"{BASE}/complaints/{code}", headers=h).json
    detail["data"]["reporter_name"] = "Rahmat"
    with pytest.raises(ValidationError) as exc:
        schemas.ComplaintResponseSchema().load(detail)
    assert "reporter_name" in exc.value.messages["data"]


def test_request_schemas_round_trip(app):
    bodies = {
        schemas.SubmitComplaintSchema: SUBMISSION,
        schemas.TransitionInputSchema: {"action": "hold", "expected_version": 3},
        schemas.ACTION_INPUTS["verify"]: {"action": "verify", "expected_version": 1, "title": "Lampu padam",
                                          "class": "aspirasi", "category": "jalan", "tags": ["a", "b"],
                                          "privacy": "rahasia"},
        schemas.ACTION_INPUTS["dispose"]: {"action": "dispose", "expected_version": 2, "agencies": ["pupr"],
                                           "instruction": "Segera."},
        schemas.ACTION_INPUTS["refer"]: {"action": "refer", "expected_version": 2, "refer_to": "Balai Wilayah",
                                         "message": "Bukan wewenang kota."},
        schemas.ACTION_INPUTS["archive"]: {"action": "archive", "expected_version": 2, "reason": "Spam"},
        schemas.ACTION_INPUTS["resume"]: {"action": "resume", "expected_version": 2},
    }
    with app.test_request_context():
        for schema_class, body in bodies.items():
            values, errors = schemas.load(schema_class, {**body, "unknown": "ignored"})
            assert errors == {} and values == body, schema_class
            assert schema_class().load(schema_class().dump(values)) == values
        values, errors = schemas.load(schemas.ListQuerySchema, {"status": ["disposed"], "page": "2", "q": " x "})
        assert errors == {} and (values["status"], values["page"], values["q"]) == (["disposed"], 2, "x")


def test_parsing_type_checks_with_one_message_per_dotted_field(app):
    body = {"title": "  ", "description": 12, "class": "keluhan", "location": {"latitude": True, "text": "x" * 301},
            "reporter": "me", "locale": None}
    with app.test_request_context("/?lang=en"):
        values, errors = schemas.load(schemas.SubmitComplaintSchema, body)
    assert errors == {
        "title": "This field is required.", "description": "Give text here.",
        "class": "Use one of: aspirasi, informasi, pengaduan, pengawasan.",
        "location.latitude": "Give a number here.", "location.text": "At most 300 characters.",
        "reporter": "Give an object here.",
    }
    assert values["locale"] is None and "title" not in values and "category" not in values


def test_every_action_has_a_schema_and_every_schema_an_action():
    assert set(schemas.ACTION_INPUTS) == set(rest.ACTIONS)


def _schema_names() -> set[str]:
    classes = [obj for obj in vars(schemas).values()
               if inspect.isclass(obj) and issubclass(obj, Schema) and obj.__module__ == schemas.__name__]
    return {cls.__name__.removesuffix("Schema") for cls in [*classes, *schemas.ACTION_INPUTS.values()]}


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_the_document_lists_every_route_of_rest_with_its_schemas_from_the_schemas_module(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    components = document["components"]["schemas"]
    action_names = {cls.__name__.removesuffix("Schema") for cls in schemas.ACTION_INPUTS.values()}
    # Every component is a schema of app.api.schemas, except the union of the actions' bodies.
    assert set(components) - {"Transition"} <= _schema_names()
    assert _refs(components["Transition"]["oneOf"]) == action_names

    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("tenant.api.") and rule.endpoint.removeprefix("tenant.api.") in vars(rest):
            path = rule.rule.removeprefix("/<tenant>/api/v1").replace("<code>", "{code}")
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routes) == 6
    for path, method in routes:
        operation = document["paths"][path][method]
        for status, response in operation["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            assert set(schema) == {"$ref"} and _refs(schema) <= _schema_names(), (path, method, status)
            if status.startswith("2"):
                assert _refs(schema) <= {"ComplaintList", "ComplaintResponse", "CategoryList", "AgencyList"}
            else:
                assert _refs(schema) == {"Error"}
        if method == "post":
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert _refs(body) <= _schema_names() | {"Transition"}
        # The parameters are the fields of the query, path and header schemas.
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "lang" in names
        if path == "/complaints" and method == "get":
            assert names - {"lang"} == {f.data_key or n for n, f in schemas.ListQuerySchema().fields.items()}


# ------------------------------------------------------------------ bad requests: the same bodies as before

#: Recorded from the hand-written parser before app.api.schemas (?lang=en).
BAD_SUBMISSION = {"title": "abc", "description": 12, "class": "keluhan", "category": "nope", "privacy": "secret",
                  "location": {"latitude": 52.37, "longitude": "east", "text": ""},
                  "reporter": {"email": "not-an-email", "phone": "call me", "name": ["x"]}, "locale": "fr"}
#: The fields of each answer (all of them 400 validation_failed, as before).
BAD_SUBMISSION_FIELDS = {
    "category": "Choose a category from the list.",
    "class": "Use one of: aspirasi, informasi, pengaduan, pengawasan.",
    "description": "Give text here.",
    "locale": "Use one of: id, en.",
    "location.latitude": "The map pin is outside Indonesia.",
    "location.longitude": "Give a number here.",
    "privacy": "Use one of: public, anonim, rahasia.",
    "reporter.email": "Enter a valid email address.",
    "reporter.name": "Give text here.",
    "reporter.phone": "Enter a phone number such as 0812 3456 7890.",
    "title": "Write a short title (at least 5 characters).",
}
BAD_TRANSITIONS = [
    {"action": "fly", "expected_version": "1"},
    {"action": "dispose", "expected_version": True, "agencies": ["pupr", 3]},
    {"action": "dispose", "expected_version": 1, "agencies": ["pupr", "nope"], "instruction": 5},
    {"action": "verify", "expected_version": 1, "tags": "lampu", "privacy": "x", "category": "nope"},
    {"action": "refer", "expected_version": 1, "refer_to": " "},
    {"action": "hold"},
    {},
]
BAD_TRANSITION_FIELDS = [
    {
        "action": "Use one of: verify, hold, resume, refer, archive, dispose, close, reopen, note.",
        "expected_version": "Give a whole number here.",
    },
    {
        "agencies": "Give a list of at most 20 texts.",
        "expected_version": "Give a whole number here.",
    },
    {
        "agencies": "No active agency has the code “nope”.",
        "instruction": "Give text here.",
    },
    {
        "category": "Choose a category from the list.",
        "privacy": "Use one of: public, anonim, rahasia.",
        "tags": "Give a list of at most 20 texts.",
    },
    {
        "refer_to": "This field is required.",
    },
    {
        "expected_version": "This field is required.",
        "message": "This field is required.",
    },
    {
        "action": "This field is required.",
        "expected_version": "This field is required.",
    },
]
BAD_QUERIES = ["status=nope,closed&class=x&category=nope&agency=nope&submitted_from=2026-13-01"
               "&submitted_to=1800-01-01&updated_since=yesterday&deadline_state=late&page=0&per_page=101",
               "submitted_from=2026-03-02&submitted_to=2026-03-01&page=x"]
BAD_QUERY_FIELDS = [
    {
        "agency": "No agency has this code.",
        "category": "Choose a category from the list.",
        "class": "Unknown value “x”; use one of: aspirasi, informasi, pengaduan, pengawasan.",
        "deadline_state": "Unknown value “late”; use one of: on_time, due_soon, overdue, none.",
        "page": "Give a whole number from 1 to 100000.",
        "per_page": "Give a whole number from 1 to 100.",
        "status": ("Unknown value “nope”; use one of: submitted, on_hold, verified, "
                   "disposed, answered, closed, referred, archived, merged."),
        "submitted_from": "Give a date as YYYY-MM-DD.",
        "submitted_to": "Give a date between 1900-01-01 and 2999-12-31.",
        "updated_since": "Give a date and time as ISO 8601, e.g. 2026-03-17T08:00:00Z.",
    },
    {
        "page": "Give a whole number from 1 to 100000.",
        "submitted_to": "The end date is before the start date.",
    },
]


def test_a_bad_request_gets_the_same_400_body_as_before(client, db, bjm, make_user):
    h = {**auth(make_key(db, bjm)), "Accept-Language": "en"}
    code = submit(db, bjm)
    resp = client.post(f"{BASE}/complaints?lang=en", json=BAD_SUBMISSION, headers=h)
    answers = {"submission": [resp.status_code, resp.json]}
    answers["transitions"] = []
    for body in BAD_TRANSITIONS:
        resp = client.post(f"{BASE}/complaints/{code}/transitions?lang=en", json=body, headers=h)
        answers["transitions"].append([resp.status_code, resp.json])
    answers["queries"] = []
    for query in BAD_QUERIES:
        resp = client.get(f"{BASE}/complaints?lang=en&{query}", headers=h)
        answers["queries"].append([resp.status_code, resp.json])

    def answer(fields: dict) -> list:
        return [400, {"error": {"status": 400, "code": "validation_failed",
                                "message": "Some values are not valid; see “fields”.", "fields": fields}}]

    assert answers == {"submission": answer(BAD_SUBMISSION_FIELDS),
                       "transitions": [answer(fields) for fields in BAD_TRANSITION_FIELDS],
                       "queries": [answer(fields) for fields in BAD_QUERY_FIELDS]}
