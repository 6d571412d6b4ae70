"""The JSON REST API for a region's integrations: /<slug>/api/v1/…

Authentication and scopes come from :mod:`app.api.auth` (a key of the region in ``Authorization: Bearer``),
the error shape from :mod:`app.api.errors`, what a complaint looks like from :mod:`app.api.present` (the same
privacy rules as webhooks). Writes go through the complaint service and its state machine, exactly as the
staff pages do: the API key acts as the complaint unit (role ``officer``) and is named on the event it
records, so the timeline shows which integration acted.

Transitions an integration may take (``POST /complaints/<code>/transitions``), see :data:`ACTIONS`:
verify, hold, resume, refer, archive, dispose, close, reopen and note. Follow-ups (drafted by an agency's
liaison and reviewed by the unit) and merges (which hand the reporter's contacts to another report) stay
with people on the staff pages.

Requests are parsed, and answers serialised, with the schemas of :mod:`app.api.schemas`, from which
:mod:`app.api.openapi` generates the OpenAPI document; a route added here needs its operation there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from app.agencies.models import Agency, Category
from app.api import errors, present, queries, schemas
from app.api.auth import require_key
from app.api.errors import ApiError
from app.complaints import access, service
from app.complaints.actions import available_actions
from app.complaints.models import Complaint, Privacy
from app.complaints.workflow import StaleComplaint, TransitionError
from app.extensions import csrf
from app.inputs import clean_text
from app.tenancy.resolve import TenantSuspended
from app.unit_of_work import UnitOfWork

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)

_IDEMPOTENCY_KEY = re.compile(schemas.IDEMPOTENCY_KEY_PATTERN)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers carry a region's complaints: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(TenantSuspended)
def _suspended(exc: TenantSuspended):
    return errors.error_response(503, "suspended", _("This region's service is suspended."))


def _json(data: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = jsonify(data)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _invalid(fields: dict) -> ApiError:
    return ApiError(400, "validation_failed", _("Some values are not valid; see “fields”."), fields)


# ---------------------------------------------------------------- the API key as actor


@dataclass(frozen=True)
class KeyPrincipal:
    """Stands in for a staff user when an API key acts: ``name`` becomes the event's actor label.

    ``id`` is None: the event's actor_id (a user) stays empty, and no migration is needed to name the key.
    """

    name: str
    role: str = "officer"
    id: None = None
    agency_id: None = None


def key_actor() -> service.Actor:
    key = g.api_key
    return service.Actor(role="officer", user=KeyPrincipal(name=f"API: {key.name} (lpr_{key.prefix})"))


# ---------------------------------------------------------------- input


def _cleaned(value):
    """JSON bodies bypass the form cleaning (app.inputs): drop control characters here too."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): _cleaned(v) for k, v in value.items()}
    return value


def _body() -> dict:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", _("Send the body as JSON (Content-Type: application/json)."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("The body must be a JSON object."))
    return _cleaned(data)


#: Service error keys → the API's field names.
_FIELD_NAMES = {"complaint_class": "class", "category_id": "category", "agency_ids": "agencies",
                "location_text": "location.text", "latitude": "location.latitude",
                "longitude": "location.longitude", "reporter_name": "reporter.name",
                "reporter_email": "reporter.email", "reporter_phone": "reporter.phone"}


def _service_fields(exc: service.ValidationError) -> dict:
    return {_FIELD_NAMES.get(k, k): str(v) for k, v in exc.errors.items()}


def _category_id(code: str | None, errors_: dict, name: str = "category") -> int | None:
    if code is None:
        return None
    cat_id = queries.active_category_id(code)
    if cat_id is None:
        errors_[name] = _("Choose a category from the list.")
    return cat_id


def _commit(work: Callable[[], object]):
    """Run ``work`` in one unit of work: committed once, rolled back on any error (the API maps errors)."""
    with UnitOfWork(catch=False):
        return work()


# ---------------------------------------------------------------- reading


@dataclass
class ListQuery:
    statuses: list[str]
    classes: list[str]
    category_id: int | None
    agency_id: int | None
    submitted_from: date | None
    submitted_to: date | None
    updated_since: datetime | None
    deadline_state: str | None
    q: str | None
    page: int
    per_page: int


def _multi(name: str) -> list[str]:
    """A repeatable parameter that may also be a comma-separated list."""
    return [part.strip() for value in request.args.getlist(name) for part in value.split(",") if part.strip()]


def _parse_list_query() -> ListQuery:
    raw = {**request.args.to_dict(), "status": _multi("status"), "class": _multi("class")}
    values, fields = schemas.load(schemas.ListQuerySchema, raw)

    def code_of(name: str, model) -> int | None:
        if (code := values.get(name)) is None:
            return None
        row_id = queries.id_by_code(model, code)
        if row_id is None:
            fields[name] = (_("Choose a category from the list.") if model is Category
                            else _("No agency has this code."))
        return row_id

    query = ListQuery(
        statuses=values.get("status") or [], classes=values.get("class") or [],
        category_id=code_of("category", Category), agency_id=code_of("agency", Agency),
        submitted_from=values.get("submitted_from"), submitted_to=values.get("submitted_to"),
        updated_since=values.get("updated_since"), deadline_state=values.get("deadline_state"), q=values.get("q"),
        page=values.get("page") or 1, per_page=values.get("per_page") or schemas.PER_PAGE,
    )
    if query.submitted_from and query.submitted_to and query.submitted_from > query.submitted_to:
        fields["submitted_to"] = _("The end date is before the start date.")
    if fields:
        raise _invalid(fields)
    return query


def _page_link(page: int, per_page: int) -> str:
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "per_page", "api_key")}
    return url_for(".list_complaints", page=page, per_page=per_page, _external=True, **args)


@bp.get("/complaints")
@csrf.exempt
@require_key("read")
def list_complaints():
    """Complaints of the region, newest first, filtered and paged."""
    query = _parse_list_query()
    rows, total = queries.complaint_page(queries.filtered_complaints(query, g.tenant.timezone), query.page,
                                         query.per_page)
    pages = max(1, -(-total // query.per_page))
    links = {"self": _page_link(query.page, query.per_page), "first": _page_link(1, query.per_page),
             "last": _page_link(pages, query.per_page),
             "prev": _page_link(query.page - 1, query.per_page) if query.page > 1 else None,
             "next": _page_link(query.page + 1, query.per_page) if query.page < pages else None}
    meta = {"total": total, "page": query.page, "per_page": query.per_page, "pages": pages}
    return _json(present.complaint_list(rows, meta, links))


def _detail_response(c: Complaint, status: int = 200, headers: dict | None = None) -> Response:
    actions = available_actions(c, key_actor(), only=ACTIONS)
    return _json(present.complaint_response(c, actions), status, headers)


@bp.get("/complaints/<code>")
@csrf.exempt
@require_key("read")
def complaint(code: str):
    """One complaint with its dispositions, published follow-ups and public timeline."""
    return _detail_response(access.access_complaint_by_code(code))


@bp.get("/categories")
@csrf.exempt
@require_key("read")
def categories():
    """The region's active categories (codes for filters and submissions)."""
    return _json(present.category_list(queries.active_categories()))


@bp.get("/agencies")
@csrf.exempt
@require_key("read")
def agencies():
    """The region's active agencies (codes for filters and dispositions)."""
    return _json(present.agency_list(queries.active_agencies()))


# ---------------------------------------------------------------- submitting


def submission_key(idempotency_key: str) -> str:
    """The complaint's submission_key for a client's Idempotency-Key: per API key, so two integrations
    choosing the same value never meet, and within the column's 64 characters whatever the key's length."""
    return service.derived_submission_key("api", g.api_key.prefix, idempotency_key)


def _submit_data(body: dict) -> service.SubmitData:
    values, fields = schemas.load(schemas.SubmitComplaintSchema, body)
    category_id = _category_id(values.get("category"), fields)
    loc, who = values.get("location") or {}, values.get("reporter") or {}
    email, phone = who.get("email"), who.get("phone")
    data = service.SubmitData(
        title=values.get("title") or "", description=values.get("description") or "",
        complaint_class=values.get("class") or "", category_id=category_id,
        location_text=loc.get("text"), latitude=loc.get("latitude"), longitude=loc.get("longitude"),
        privacy=values.get("privacy") or Privacy.PUBLIC, reporter_name=who.get("name"), reporter_email=email,
        reporter_phone=phone, source="api",
        locale=values.get("locale") or (g.tenant.locale if g.tenant.locale in schemas.LOCALES else "id"),
    )
    # The service's own rules (lengths, coordinates in Indonesia, email and phone…), reported together
    # with the API's; the service normalises the data it returns.
    try:
        data = service.validate_submission(data)
    except service.ValidationError as exc:
        fields = {**_service_fields(exc), **fields}
    if fields:
        raise _invalid(fields)
    return data


@bp.post("/complaints")
@csrf.exempt
@require_key("write")
def submit():
    """Submit a complaint; a repeated Idempotency-Key returns the first one (200) and creates nothing."""
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise _invalid({"Idempotency-Key": _("Use 1 to 255 printable characters without spaces.")})
    body = _body()
    if idempotency_key is not None:
        existing = queries.complaint_by_submission_key(submission_key(idempotency_key))
        if existing is not None:  # a retry: answer as the first time, even if this body differs
            return _detail_response(existing, 200, {"Idempotent-Replayed": "true", "Location": _location(existing)})
    data = _submit_data(body)
    data.submission_key = submission_key(idempotency_key) if idempotency_key is not None else None
    try:
        c, created = _commit(lambda: service.submit_complaint(data, actor=key_actor()))
    except service.ValidationError as exc:
        raise _invalid(_service_fields(exc)) from None
    headers = {"Location": _location(c)}
    if not created:  # the same key arrived twice at once
        headers["Idempotent-Replayed"] = "true"
    return _detail_response(c, 201 if created else 200, headers)


def _location(c: Complaint) -> str:
    return url_for(".complaint", code=c.code, _external=True)


# ---------------------------------------------------------------- transitions


#: A handler gets the complaint, the values of its body (parsed by schemas.ACTION_INPUTS[action]), the field
#: errors so far (to add its own), the actor and the expected version; it answers the service call to make.
Handler = Callable[[Complaint, dict, dict, service.Actor, int], Callable[[], object]]


def _verify(c: Complaint, v: dict, errors_: dict, actor: service.Actor, version: int):
    category_id = _category_id(v.get("category"), errors_)
    privacy = v.get("privacy")
    anonymous = confidential = None
    if privacy == Privacy.PUBLIC:
        anonymous, confidential = False, False
    elif privacy == Privacy.ANONYMOUS:
        anonymous, confidential = True, False
    elif privacy == Privacy.CONFIDENTIAL:
        confidential = True
    return lambda: service.verify(c, actor, title=v.get("title"), complaint_class=v.get("class"),
                                  category_id=category_id, tags=v.get("tags"), anonymous=anonymous,
                                  confidential=confidential, expected_version=version)


def _hold(c, v, errors_, actor, version):
    return lambda: service.hold(c, actor, v.get("message") or "", expected_version=version)


def _resume(c, v, errors_, actor, version):
    return lambda: service.resume(c, actor, expected_version=version)


def _refer(c, v, errors_, actor, version):
    return lambda: service.refer(c, actor, v.get("refer_to") or "", v.get("message"), expected_version=version)


def _archive(c, v, errors_, actor, version):
    return lambda: service.archive(c, actor, v.get("reason") or "", expected_version=version)


def _dispose(c, v, errors_, actor, version):
    codes = v.get("agencies") or []
    ids = []
    if codes:
        found = queries.active_agency_ids(codes)
        missing = [code for code in codes if code not in found]
        if missing:
            errors_["agencies"] = _("No active agency has the code “%(code)s”.", code=missing[0])
        ids = [found[code] for code in codes if code in found]
    elif "agencies" not in errors_:
        errors_["agencies"] = _("Choose at least one agency.")
    return lambda: service.dispose(c, actor, ids, v.get("instruction"), expected_version=version)


def _close(c, v, errors_, actor, version):
    return lambda: service.close(c, actor, v.get("message"), expected_version=version, reason=v.get("reason"))


def _reopen(c, v, errors_, actor, version):
    return lambda: service.reopen(c, actor, v.get("message") or "", expected_version=version)


def _note(c, v, errors_, actor, version):
    return lambda: service.note(c, actor, v.get("message") or "")  # changes nothing: the version was checked above


#: action → handler of its values; the service and workflow.check decide whether it is allowed now.
ACTIONS: dict[str, Handler] = {
    "verify": _verify, "hold": _hold, "resume": _resume, "refer": _refer, "archive": _archive,
    "dispose": _dispose, "close": _close, "reopen": _reopen, "note": _note,
}


@bp.post("/complaints/<code>/transitions")
@csrf.exempt
@require_key("write")
def transition(code: str):
    """Move a complaint through the workflow, as the complaint unit would on the staff pages."""
    c = access.access_complaint_by_code(code)  # first: another region's code is a 404 whatever the body
    body = _body()
    head, errors_ = schemas.load(schemas.TransitionInputSchema, body)
    action, version = head.get("action"), head.get("expected_version")
    call = None
    if action is not None:
        values, action_errors = schemas.load(schemas.ACTION_INPUTS[action], body)
        errors_ = {**action_errors, **errors_}
        call = ACTIONS[action](c, values, errors_, key_actor(), version)
    if errors_ or call is None or version is None:
        raise _invalid(errors_)

    def work():
        if version != c.version:
            raise StaleComplaint()
        call()

    try:
        _commit(work)
    except service.ValidationError as exc:
        raise _invalid(_service_fields(exc)) from None
    except (StaleComplaint, StaleDataError):
        raise ApiError(409, "stale", str(StaleComplaint().message)) from None
    except TransitionError as exc:
        raise ApiError(409, "illegal_transition", str(exc.message)) from None
    return _detail_response(c)
