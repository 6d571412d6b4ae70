"""The OpenAPI 3.1 document of the REST API (app.api.rest), served at the platform URL /api/v1/openapi.json.

Written here as Python data and kept in step with the views by hand; tests/api/test_openapi.py validates the
document (openapi-spec-validator), checks real answers of every operation against it (jsonschema) and fuzzes
the API from it (schemathesis). Response objects are closed (``additionalProperties: false``): a field that
is not described here, such as a reporter's name, fails those tests.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.complaints.models import CLASSES, Privacy, Status
from app.complaints.workflow import TRANSITIONS

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

VERSION = "1.0.0"
DEADLINE_STATES = ("on_time", "due_soon", "overdue")
STAGES = ("verification", "coordination", "followup", "auto_close")


def _nullable(schema: dict) -> dict:
    if "type" not in schema and "enum" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict, required: list[str] | None = None, **extra) -> dict:
    return {"type": "object", "properties": properties, "required": required if required is not None
            else list(properties), "additionalProperties": False, **extra}


TIME = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601 with a Z suffix."}
TEXT = {"type": "string"}
CODE = {"type": "string", "description": "Tracking code, e.g. BJM-26-00123."}

_AGENCY = _closed({"code": TEXT, "short_name": TEXT, "name": TEXT})
_CATEGORY_REF = _closed({"code": TEXT, "name": {**TEXT, "description": "Indonesian name."}})
_LOCATION = _closed({"text": _nullable(TEXT), "latitude": _nullable({"type": "number"}),
                     "longitude": _nullable({"type": "number"})})

#: Always present in a complaint.
_SUMMARY_ALWAYS = {
    "code": CODE,
    "status": {"type": "string", "enum": list(Status.ALL)},
    "status_label": {**TEXT, "description": "The status in the request's language (?lang=id|en)."},
    "class": {"type": "string", "enum": list(CLASSES)},
    "category": _nullable(_ref("CategoryRef")),
    "privacy": {"type": "string", "enum": list(Privacy.ALL),
                "description": "public; anonim (the reporter's identity is hidden — it never appears in this API "
                               "anyway); rahasia (confidential: no title, description, location, tags, "
                               "follow-up text or event messages)."},
    "source": {**TEXT, "description": "Channel: web, sms, whatsapp, api, …"},
    "submitted_at": TIME,
    "verified_at": _nullable(TIME),
    "answered_at": _nullable(TIME),
    "closed_at": _nullable(TIME),
    "updated_at": TIME,
    "due_at": _nullable({**TIME, "description": "Deadline of the current stage; null when no clock runs."}),
    "deadline_stage": _nullable({"type": "string", "enum": list(STAGES)}),
    "deadline_state": _nullable({"type": "string", "enum": list(DEADLINE_STATES),
                                 "description": "Kept current by the periodic deadline sweep (every 15 minutes)."}),
    "agencies": {"type": "array", "items": TEXT, "description": "Short names of the agencies it is disposed to."},
    "version": {"type": "integer", "minimum": 1,
                "description": "Send it back as expected_version with a transition (optimistic locking)."},
}
#: Present unless the complaint is rahasia.
_SUMMARY_CONTENT = {
    "title": TEXT,
    "description": TEXT,
    "location": _ref("Location"),
    "tags": {"type": "array", "items": TEXT},
}
_EVENT = _closed({
    "kind": {**TEXT, "enum": sorted(TRANSITIONS)},
    "label": TEXT,
    "at": TIME,
    "actor": {"type": "string", "enum": ["citizen", "staff", "system"]},
    "from_status": _nullable({"type": "string", "enum": list(Status.ALL)}),
    "to_status": _nullable({"type": "string", "enum": list(Status.ALL)}),
    "message": {**TEXT, "description": "A message of the complaint unit (not for rahasia complaints; never the "
                                       "reporter's own words)."},
}, required=["kind", "label", "at", "actor", "from_status", "to_status"])
_FOLLOW_UP = _closed({"agency": _nullable(_ref("Agency")), "published_at": TIME,
                      "body": {**TEXT, "description": "Absent for rahasia complaints."}},
                     required=["agency", "published_at"])
_DETAIL_EXTRA = {
    "dispositions": {"type": "array", "items": _closed({"agency": _ref("Agency"), "since": TIME})},
    "merged_into": _nullable(CODE),
    "follow_ups": {"type": "array", "items": _ref("FollowUp")},
    "events": {"type": "array", "items": _ref("Event"),
               "description": "The public timeline: status changes, follow-ups published, messages to the reporter."},
}
_DETAIL_CONTENT = {**_SUMMARY_CONTENT, "refer_to": _nullable(TEXT)}

_ERROR = _closed({"error": _closed({
    "status": {"type": "integer"},
    "code": {"type": "string", "description": "unauthorized, forbidden, not_found, validation_failed, invalid_json, "
                                              "unsupported_media_type, illegal_transition, stale, rate_limited, …"},
    "message": {**TEXT, "description": "Translated (?lang=id|en)."},
    "fields": {"type": "object", "additionalProperties": TEXT,
               "description": "Per-field messages of a 400, e.g. {\"reporter.email\": \"…\"}."},
}, required=["status", "code", "message"])})

_LOCATION_IN = {"type": "object", "properties": {
    "text": {"type": "string", "maxLength": 300},
    "latitude": {"type": "number", "minimum": -11.5, "maximum": 6.5},
    "longitude": {"type": "number", "minimum": 94.5, "maximum": 141.5}}}
_SUBMIT = {
    "type": "object",
    "required": ["title", "description", "class"],
    "properties": {
        "title": {"type": "string", "minLength": 5, "maxLength": 200},
        "description": {"type": "string", "minLength": 20, "maxLength": 10000},
        "class": {"type": "string", "enum": list(CLASSES)},
        "category": {"type": "string", "description": "A category code from GET /categories."},
        "location": _LOCATION_IN,
        "privacy": {"type": "string", "enum": list(Privacy.ALL), "default": Privacy.PUBLIC},
        "reporter": {"type": "object", "description": "Who reported it (stored for the complaint unit and used to "
                                                      "send progress; never returned by this API).",
                     "properties": {"name": {"type": "string", "maxLength": 120},
                                    "email": {"type": "string", "format": "email", "maxLength": 255},
                                    "phone": {"type": "string", "pattern": r"^\+?[0-9][0-9 .\-]{6,20}[0-9]$"}}},
        "locale": {"type": "string", "enum": ["id", "en"],
                   "description": "Language of the messages to the reporter (default: the region's)."},
    },
}


def _action(name: str, description: str, properties: dict | None = None, required: list[str] | None = None) -> dict:
    return {"type": "object", "title": name, "description": description,
            "required": ["action", "expected_version", *(required or [])],
            "properties": {"action": {"const": name}, "expected_version": {"type": "integer"},
                           **(properties or {})}}


_MESSAGE = {"type": "string", "minLength": 1, "maxLength": 5000}
_TRANSITION = {
    "oneOf": [
        _action("verify", "Verify a submitted report; optionally set title, class, category, tags and privacy.",
                {"title": {"type": "string", "minLength": 5, "maxLength": 200},
                 "class": {"type": "string", "enum": list(CLASSES)}, "category": TEXT,
                 "tags": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 40}},
                 "privacy": {"type": "string", "enum": list(Privacy.ALL)}}),
        _action("hold", "Put a submitted report on hold (tunda), asking the reporter for information.",
                {"message": _MESSAGE}, ["message"]),
        _action("resume", "End a hold: verification continues."),
        _action("refer", "Not our authority (bukan wewenang): name the body with authority.",
                {"refer_to": {"type": "string", "minLength": 1, "maxLength": 200}, "message": _MESSAGE},
                ["refer_to"]),
        _action("archive", "Archive (spam, too vague, outside scope) with a reason.",
                {"reason": {"type": "string", "minLength": 1, "maxLength": 300}}, ["reason"]),
        _action("dispose", "Send a verified report to one or more agencies (codes from GET /agencies).",
                {"agencies": {"type": "array", "minItems": 1, "maxItems": 20,
                              "items": {"type": "string", "maxLength": 40}},
                 "instruction": {**_MESSAGE, "description": "An internal note for the agencies; never returned."}},
                ["agencies"]),
        _action("close", "Close an answered or disposed report.", {"message": _MESSAGE}),
        _action("reopen", "Reopen a closed report.", {"message": _MESSAGE}, ["message"]),
        _action("note", "An internal note (staff only; never returned by this API).", {"message": _MESSAGE},
                ["message"]),
    ],
    "discriminator": {"propertyName": "action"},
}

_LIST = _closed({
    "data": {"type": "array", "items": _ref("ComplaintSummary")},
    "meta": _closed({"total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
                     "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                     "pages": {"type": "integer", "minimum": 1}}),
    "links": _closed({"self": TEXT, "first": TEXT, "last": TEXT, "prev": _nullable(TEXT), "next": _nullable(TEXT)}),
})


def _schemas() -> dict:
    summary = {**_SUMMARY_ALWAYS, **_SUMMARY_CONTENT}
    detail = {**summary, **_DETAIL_EXTRA, **_DETAIL_CONTENT}
    return {
        "Error": _ERROR,
        "Agency": _AGENCY,
        "CategoryRef": _CATEGORY_REF,
        "Category": _closed({"code": TEXT, "name": TEXT, "name_en": TEXT, "default_agency": _nullable(TEXT)}),
        "Location": _LOCATION,
        "Event": _EVENT,
        "FollowUp": _FOLLOW_UP,
        "ComplaintSummary": _closed(summary, required=list(_SUMMARY_ALWAYS)),
        "ComplaintDetail": _closed(detail, required=[*_SUMMARY_ALWAYS, *_DETAIL_EXTRA]),
        "ComplaintList": _LIST,
        "ComplaintResponse": _closed({"data": _ref("ComplaintDetail")}),
        "SubmitComplaint": _SUBMIT,
        "Transition": _TRANSITION,
    }


def _error(description: str, headers: dict | None = None) -> dict:
    out = {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}
    if headers:
        out["headers"] = headers
    return out


_RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the window."},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in the window."},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "When the window resets (Unix time)."},
}
_COMMON_ERRORS = {
    "401": _error("No API key, an unknown or revoked key, or a key of another region.",
                  {"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "429": _error("Too many requests with this key (API_RATE_LIMIT per key).",
                  {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}),
    "503": _error("The region's service is suspended."),
}
_WRITE_ERRORS = {
    "403": _error("The key lacks the write permission."),
    "413": _error("The body is too large."),
    "415": _error("The body is not JSON."),
}


def _json_response(description: str, schema: str, headers: dict | None = None) -> dict:
    return {"description": description, "headers": {**_RATE_HEADERS, **(headers or {})},
            "content": {"application/json": {"schema": _ref(schema)}}}


def _data_of(description: str, item_schema: str) -> dict:
    return {"description": description, "headers": _RATE_HEADERS, "content": {"application/json": {"schema": _closed(
        {"data": {"type": "array", "items": _ref(item_schema)}})}}}


_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["id", "en"]},
         "description": "Language of messages and labels (default: the region's language)."}
_CODE_PARAM = {"name": "code", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,20}$"}, "description": "Tracking code."}


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


_LIST_PARAMS = [
    _query("status", {"type": "array", "items": {"type": "string", "enum": list(Status.ALL)}},
           "Statuses (repeat the parameter, or separate with commas).", style="form", explode=True),
    _query("class", {"type": "array", "items": {"type": "string", "enum": list(CLASSES)}},
           "Classes (repeatable or comma-separated).", style="form", explode=True),
    _query("category", {"type": "string", "maxLength": 40}, "A category code (GET /categories)."),
    _query("agency", {"type": "string", "maxLength": 40},
           "An agency code (GET /agencies): reports currently disposed to it."),
    _query("submitted_from", {"type": "string", "format": "date"},
           "Submitted on or after this day (the region's local date, inclusive)."),
    _query("submitted_to", {"type": "string", "format": "date"},
           "Submitted on or before this day (the region's local date, inclusive)."),
    _query("updated_since", {"type": "string", "format": "date-time"},
           "Changed at or after this instant (ISO 8601; without an offset it is read as UTC). Use the "
           "updated_at of the last report you saw to synchronise."),
    _query("deadline_state", {"type": "string", "enum": [*DEADLINE_STATES, "none"]},
           "on_time, due_soon, overdue, or none (no clock runs)."),
    _query("q", {"type": "string", "maxLength": 100},
           "Text in the code, title or description (rahasia reports match by code only)."),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number."),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}, "Reports per page."),
    _LANG,
]

DESCRIPTION = """\
The JSON API of one region (tenant) of Lapor Daerah, for its integrations: dashboards, ticket systems,
call centres. Every URL carries the region's slug: `/{tenant}/api/v1/…`.

**Keys.** The region's administrator makes keys at `/{tenant}/staff/api-keys/` (shown once). Send one as
`Authorization: Bearer lpr_…` (or `X-Api-Key`). A key works only in its own region. Scopes: `read` (lists,
reports, categories, agencies) and `write` (also submitting and transitions). Each key has its own rate limit
(`API_RATE_LIMIT`, default 300 per minute and 5000 per hour); past it the answer is 429 with `Retry-After`.

**Privacy (UU PDP).** No answer ever carries the reporter's name, email, phone or account, the private
tracking link, attachments or internal notes. For *rahasia* (confidential) reports the title, description,
location, tags, follow-up text and event messages are left out as well.

**Writes.** `POST /complaints` accepts an `Idempotency-Key` header: a retry with the same key answers the
first report (200, `Idempotent-Replayed: true`) instead of creating another (201). Transitions go through the
same state machine as the staff pages, acting as the complaint unit, named on the timeline by the key;
send the report's `version` as `expected_version`: 409 `stale` when it changed meanwhile, 409
`illegal_transition` when the action is not possible in the report's status.

**Errors** are `{"error": {"status", "code", "message", "fields"?}}`, messages in the request's language
(`?lang=id|en`). Times are UTC ISO 8601 with `Z`.
"""


def build_document() -> dict:
    """The OpenAPI 3.1 document as a dict."""
    read = [{"bearerAuth": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lapor Daerah REST API", "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/{tenant}/api/v1", "description": "One region's API",
                     "variables": {"tenant": {"default": "banjarmasin", "description": "The region's slug."}}}],
        "security": read,
        "tags": [{"name": "complaints"}, {"name": "reference data"}],
        "paths": {
            "/complaints": {
                "get": {
                    "operationId": "listComplaints", "tags": ["complaints"], "summary": "List reports",
                    "description": "Newest first. Scope: read.",
                    "parameters": _LIST_PARAMS,
                    "responses": {"200": _json_response("A page of reports.", "ComplaintList"),
                                  "400": _error("A filter or paging value is not valid (see fields)."),
                                  **_COMMON_ERRORS},
                },
                "post": {
                    "operationId": "submitComplaint", "tags": ["complaints"], "summary": "Submit a report",
                    "description": "Scope: write. The reporter (optional) is stored, never returned.",
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                    "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
                                    "description": "Makes retries safe: the same key answers the same report."},
                                   _LANG],
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": _ref("SubmitComplaint")}}},
                    "responses": {
                        "201": _json_response("Created.", "ComplaintResponse",
                                              {"Location": {"schema": {"type": "string"}}}),
                        "200": _json_response("A retry with a known Idempotency-Key: the first report.",
                                              "ComplaintResponse",
                                              {"Location": {"schema": {"type": "string"}},
                                               "Idempotent-Replayed": {"schema": {"type": "string"}}}),
                        "400": _error("Invalid input (see fields); nothing was written."),
                        **_COMMON_ERRORS, **_WRITE_ERRORS,
                    },
                },
            },
            "/complaints/{code}": {
                "get": {
                    "operationId": "getComplaint", "tags": ["complaints"], "summary": "One report",
                    "description": "With dispositions, published follow-ups and the public timeline. Scope: read.",
                    "parameters": [_CODE_PARAM, _LANG],
                    "responses": {"200": _json_response("The report.", "ComplaintResponse"),
                                  "404": _error("No report of this region has this code."), **_COMMON_ERRORS},
                },
            },
            "/complaints/{code}/transitions": {
                "post": {
                    "operationId": "transitionComplaint", "tags": ["complaints"],
                    "summary": "Move a report through the workflow",
                    "description": "Actions: verify, hold, resume, refer, archive, dispose, close, reopen, note. "
                                   "Scope: write.",
                    "parameters": [_CODE_PARAM, _LANG],
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": _ref("Transition")}}},
                    "responses": {
                        "200": _json_response("The report after the transition (with its new version).",
                                              "ComplaintResponse"),
                        "400": _error("Invalid input (see fields); nothing was written."),
                        "404": _error("No report of this region has this code."),
                        "409": _error("code stale: the report changed since expected_version; code "
                                      "illegal_transition: the action is not possible now."),
                        **_COMMON_ERRORS, **_WRITE_ERRORS,
                    },
                },
            },
            "/categories": {
                "get": {
                    "operationId": "listCategories", "tags": ["reference data"], "summary": "Active categories",
                    "parameters": [_LANG],
                    "responses": {"200": _data_of("The region's active categories.", "Category"),
                                  **_COMMON_ERRORS},
                },
            },
            "/agencies": {
                "get": {
                    "operationId": "listAgencies", "tags": ["reference data"], "summary": "Active agencies",
                    "parameters": [_LANG],
                    "responses": {"200": _data_of("The region's active agencies (OPD).", "Agency"),
                                  **_COMMON_ERRORS},
                },
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "lpr_<prefix>_<secret>",
                                               "description": "An API key of the region."}},
            "schemas": _schemas(),
        },
    }


_DOCUMENT = build_document()


@bp.get("/openapi.json")
def document():
    """The OpenAPI document (public: it describes the API, no region's data)."""
    response = jsonify(_DOCUMENT)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # API explorers load it from other origins
    return response
