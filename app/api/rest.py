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

The OpenAPI document describing all of this is :mod:`app.api.openapi`; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.agencies.models import Agency, Category
from app.api import errors, present
from app.api.auth import require_key
from app.api.errors import ApiError
from app.complaints import access, service
from app.complaints.inbox import local_day_bounds
from app.complaints.models import CLASSES, Complaint, Disposition, Privacy, Status
from app.complaints.workflow import StaleComplaint, TransitionError
from app.extensions import csrf, db
from app.inputs import OutOfRange, clean_text, date_range_message, parse_date, parse_datetime
from app.tenancy.resolve import TenantSuspended

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)

PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
DEADLINE_STATES = ("on_time", "due_soon", "overdue", "none")
LOCALES = ("id", "en")
#: Idempotency-Key: printable ASCII without spaces, as most clients generate (UUIDs, hashes, ids).
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


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


class Fields:
    """Reads typed values from a JSON object, collecting one translated message per bad field."""

    def __init__(self, data: dict, prefix: str = ""):
        self.data, self.prefix = data, prefix
        self.errors: dict[str, str] = {}

    def _error(self, name: str, message: str) -> None:
        self.errors.setdefault(self.prefix + name, message)

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._error(name, _("This field is required."))
            return None
        if not isinstance(value, str):
            self._error(name, _("Give text here."))
            return None
        value = value.strip()
        if max_len is not None and len(value) > max_len:
            self._error(name, _("At most %(n)s characters.", n=max_len))
            return None
        return value

    def choice(self, name: str, choices, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in choices:
            self._error(name, _("Use one of: %(values)s.", values=", ".join(choices)))
            return None
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self._error(name, _("This field is required."))
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._error(name, _("Give a whole number here."))
            return None
        return value

    def number(self, name: str) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
            self._error(name, _("Give a number here."))
            return None
        return float(value)

    def text_list(self, name: str, *, required: bool = False, max_items: int = 20,
                  max_len: int = 100) -> list[str] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self._error(name, _("This field is required."))
            return None
        if (not isinstance(value, list) or len(value) > max_items
                or not all(isinstance(v, str) and len(v) <= max_len for v in value)):
            self._error(name, _("Give a list of at most %(n)s texts.", n=max_items))
            return None
        return [v.strip() for v in value if v.strip()]

    def obj(self, name: str) -> Fields | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self._error(name, _("Give an object here."))
            return None
        nested = Fields(value, prefix=f"{self.prefix}{name}.")
        nested.errors = self.errors  # one error map for the whole body
        return nested


#: Service error keys → the API's field names.
_FIELD_NAMES = {"complaint_class": "class", "category_id": "category", "agency_ids": "agencies",
                "location_text": "location.text", "latitude": "location.latitude",
                "longitude": "location.longitude", "reporter_name": "reporter.name",
                "reporter_email": "reporter.email", "reporter_phone": "reporter.phone"}


def _service_fields(exc: service.ValidationError) -> dict:
    return {_FIELD_NAMES.get(k, k): str(v) for k, v in exc.errors.items()}


def _category_id(code: str | None, fields: Fields, name: str = "category") -> int | None:
    if code is None:
        return None
    cat_id = db.session.execute(select(Category.id).where(Category.code == code, Category.active.is_(True))
                                ).scalar_one_or_none()
    if cat_id is None:
        fields.errors[name] = _("Choose a category from the list.")
    return cat_id


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
    args, fields = request.args, {}

    def values_of(name: str, allowed) -> list[str]:
        values = _multi(name)
        bad = [v for v in values if v not in allowed]
        if bad:
            fields[name] = _("Unknown value “%(value)s”; use one of: %(values)s.", value=bad[0][:40],
                             values=", ".join(allowed))
        return values

    def code_of(name: str, model) -> int | None:
        code = (args.get(name) or "").strip()
        if not code:
            return None
        row_id = db.session.execute(select(model.id).where(model.code == code[:40])).scalar_one_or_none()
        if row_id is None:
            fields[name] = (_("Choose a category from the list.") if model is Category
                            else _("No agency has this code."))
        return row_id

    def day(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return parse_date(value)
        except OutOfRange:
            fields[name] = date_range_message()
        except ValueError:
            fields[name] = _("Give a date as YYYY-MM-DD.")
        return None

    def integer(name: str, default: int, low: int, high: int) -> int:
        value = (args.get(name) or "").strip()
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            fields[name] = _("Give a whole number from %(low)s to %(high)s.", low=low, high=high)
            return default
        return number

    updated_since = None
    if (raw := (args.get("updated_since") or "").strip()):
        try:
            updated_since = parse_datetime(raw, UTC)  # documented: without an offset the time is UTC
        except OutOfRange:
            fields["updated_since"] = date_range_message()
        except ValueError:
            fields["updated_since"] = _("Give a date and time as ISO 8601, e.g. 2026-03-17T08:00:00Z.")
    deadline = (args.get("deadline_state") or "").strip() or None
    if deadline is not None and deadline not in DEADLINE_STATES:
        fields["deadline_state"] = _("Unknown value “%(value)s”; use one of: %(values)s.", value=deadline[:40],
                                     values=", ".join(DEADLINE_STATES))
    query = ListQuery(
        statuses=values_of("status", Status.ALL), classes=values_of("class", CLASSES),
        category_id=code_of("category", Category), agency_id=code_of("agency", Agency),
        submitted_from=day("submitted_from"), submitted_to=day("submitted_to"), updated_since=updated_since,
        deadline_state=deadline, q=(args.get("q") or "").strip()[:100] or None,
        page=integer("page", 1, 1, MAX_PAGE), per_page=integer("per_page", PER_PAGE, 1, MAX_PER_PAGE),
    )
    if query.submitted_from and query.submitted_to and query.submitted_from > query.submitted_to:
        fields["submitted_to"] = _("The end date is before the start date.")
    if fields:
        raise _invalid(fields)
    return query


def _filtered(query: ListQuery):
    tenant = g.tenant
    stmt = select(Complaint)
    if query.statuses:
        stmt = stmt.where(Complaint.status.in_(query.statuses))
    if query.classes:
        stmt = stmt.where(Complaint.complaint_class.in_(query.classes))
    if query.category_id:
        stmt = stmt.where(Complaint.category_id == query.category_id)
    if query.agency_id:
        stmt = stmt.where(exists().where(
            Disposition.complaint_id == Complaint.id, Disposition.tenant_id == Complaint.tenant_id,
            Disposition.agency_id == query.agency_id, Disposition.active.is_(True)))
    if query.submitted_from:
        stmt = stmt.where(Complaint.submitted_at >= local_day_bounds(query.submitted_from, tenant.timezone)[0])
    if query.submitted_to:
        stmt = stmt.where(Complaint.submitted_at < local_day_bounds(query.submitted_to, tenant.timezone)[1])
    if query.updated_since:
        stmt = stmt.where(Complaint.updated_at >= query.updated_since)
    if query.deadline_state == "none":
        stmt = stmt.where(Complaint.due_at.is_(None))
    elif query.deadline_state:
        # The stored state, kept current by the periodic deadline sweep: the same value the answer shows.
        stmt = stmt.where(Complaint.due_at.is_not(None), Complaint.deadline_state == query.deadline_state)
    if query.q:
        pattern = "%" + query.q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        # The text of a rahasia report is not the integration's to see, so it cannot be searched either
        # (a match would reveal it); its code can.
        stmt = stmt.where(or_(
            Complaint.code.ilike(pattern, escape="/"),
            and_(not_(Complaint.confidential), or_(Complaint.title.ilike(pattern, escape="/"),
                                                   Complaint.description.ilike(pattern, escape="/"))),
        ))
    return stmt


def _page_link(page: int, per_page: int) -> str:
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "per_page", "api_key")}
    return url_for(".list_complaints", page=page, per_page=per_page, _external=True, **args)


@bp.get("/complaints")
@csrf.exempt
@require_key("read")
def list_complaints():
    """Complaints of the region, newest first, filtered and paged."""
    query = _parse_list_query()
    stmt = _filtered(query)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(db.session.execute(
        stmt.order_by(Complaint.submitted_at.desc(), Complaint.id.desc())
        .limit(query.per_page).offset((query.page - 1) * query.per_page)).scalars())
    pages = max(1, -(-total // query.per_page))
    links = {"self": _page_link(query.page, query.per_page), "first": _page_link(1, query.per_page),
             "last": _page_link(pages, query.per_page),
             "prev": _page_link(query.page - 1, query.per_page) if query.page > 1 else None,
             "next": _page_link(query.page + 1, query.per_page) if query.page < pages else None}
    return _json({"data": present.complaint_summaries(rows),
                  "meta": {"total": total, "page": query.page, "per_page": query.per_page, "pages": pages},
                  "links": links})


def _detail_response(c: Complaint, status: int = 200, headers: dict | None = None) -> Response:
    return _json({"data": present.complaint_detail(c)}, status, headers)


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
    stmt = (select(Category).where(Category.active.is_(True)).options(selectinload(Category.default_agency))
            .order_by(Category.name_id, Category.id))
    return _json({"data": [present.category_resource(c) for c in db.session.execute(stmt).scalars()]})


@bp.get("/agencies")
@csrf.exempt
@require_key("read")
def agencies():
    """The region's active agencies (codes for filters and dispositions)."""
    stmt = select(Agency).where(Agency.active.is_(True)).order_by(Agency.name, Agency.id)
    return _json({"data": [present.agency_resource(a) for a in db.session.execute(stmt).scalars()]})


# ---------------------------------------------------------------- submitting


def submission_key(idempotency_key: str) -> str:
    """The complaint's submission_key for a client's Idempotency-Key: per API key, so two integrations
    choosing the same value never meet, and within the column's 64 characters whatever the key's length."""
    return service.derived_submission_key("api", g.api_key.prefix, idempotency_key)


def _submit_data(body: dict) -> service.SubmitData:
    f = Fields(body)
    title = f.text("title", required=True, max_len=200)
    description = f.text("description", required=True, max_len=10_000)
    complaint_class = f.choice("class", CLASSES, required=True)
    category_id = _category_id(f.text("category", max_len=40), f)
    privacy = f.choice("privacy", Privacy.ALL) or Privacy.PUBLIC
    locale = f.choice("locale", LOCALES) or (g.tenant.locale if g.tenant.locale in LOCALES else "id")
    location_text = latitude = longitude = None
    if (loc := f.obj("location")) is not None:
        location_text = loc.text("text", max_len=300)
        latitude, longitude = loc.number("latitude"), loc.number("longitude")
    name = email = phone = None
    if (who := f.obj("reporter")) is not None:
        name = who.text("name", max_len=120)
        email = who.text("email", max_len=255)
        phone = who.text("phone", max_len=30)
    data = service.SubmitData(
        title=title or "", description=description or "", complaint_class=complaint_class or "",
        category_id=category_id, location_text=location_text, latitude=latitude, longitude=longitude,
        privacy=privacy, reporter_name=name, reporter_email=email, reporter_phone=phone, locale=locale,
        source="api",
    )
    # The service's own rules (lengths, coordinates in Indonesia, email and phone…), reported together
    # with the API's; the service normalises the data it returns.
    try:
        data = service.validate_submission(data)
    except service.ValidationError as exc:
        f.errors = {**_service_fields(exc), **f.errors}
    if f.errors:
        raise _invalid(f.errors)
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
        existing = db.session.execute(select(Complaint).filter_by(
            submission_key=submission_key(idempotency_key))).scalar_one_or_none()
        if existing is not None:  # a retry: answer as the first time, even if this body differs
            return _detail_response(existing, 200, {"Idempotent-Replayed": "true", "Location": _location(existing)})
    data = _submit_data(body)
    data.submission_key = submission_key(idempotency_key) if idempotency_key is not None else None
    try:
        c, created = service.submit_complaint(data, actor=key_actor())
        db.session.commit()
    except service.ValidationError as exc:
        db.session.rollback()
        raise _invalid(_service_fields(exc)) from None
    headers = {"Location": _location(c)}
    if not created:  # the same key arrived twice at once
        headers["Idempotent-Replayed"] = "true"
    return _detail_response(c, 201 if created else 200, headers)


def _location(c: Complaint) -> str:
    return url_for(".complaint", code=c.code, _external=True)


# ---------------------------------------------------------------- transitions


Handler = Callable[[Complaint, Fields, service.Actor, int], Callable[[], object]]


def _verify(c: Complaint, f: Fields, actor: service.Actor, version: int):
    title = f.text("title", max_len=200)
    complaint_class = f.choice("class", CLASSES)
    category_id = _category_id(f.text("category", max_len=40), f)
    tags = f.text_list("tags", max_len=40)
    privacy = f.choice("privacy", Privacy.ALL)
    anonymous = confidential = None
    if privacy == Privacy.PUBLIC:
        anonymous, confidential = False, False
    elif privacy == Privacy.ANONYMOUS:
        anonymous, confidential = True, False
    elif privacy == Privacy.CONFIDENTIAL:
        confidential = True
    return lambda: service.verify(c, actor, title=title, complaint_class=complaint_class, category_id=category_id,
                                  tags=tags, anonymous=anonymous, confidential=confidential,
                                  expected_version=version)


def _hold(c, f, actor, version):
    message = f.text("message", required=True, max_len=5000)
    return lambda: service.hold(c, actor, message or "", expected_version=version)


def _resume(c, f, actor, version):
    return lambda: service.resume(c, actor, expected_version=version)


def _refer(c, f, actor, version):
    body = f.text("refer_to", required=True, max_len=200)
    message = f.text("message", max_len=5000)
    return lambda: service.refer(c, actor, body or "", message, expected_version=version)


def _archive(c, f, actor, version):
    reason = f.text("reason", required=True, max_len=300)
    return lambda: service.archive(c, actor, reason or "", expected_version=version)


def _dispose(c, f, actor, version):
    codes = f.text_list("agencies", required=True, max_len=40) or []
    instruction = f.text("instruction", max_len=5000)
    ids = []
    if codes:
        found = dict(db.session.execute(select(Agency.code, Agency.id).where(
            Agency.code.in_(codes), Agency.active.is_(True))).all())
        missing = [code for code in codes if code not in found]
        if missing:
            f.errors["agencies"] = _("No active agency has the code “%(code)s”.", code=missing[0])
        ids = [found[code] for code in codes if code in found]
    elif "agencies" not in f.errors:
        f.errors["agencies"] = _("Choose at least one agency.")
    return lambda: service.dispose(c, actor, ids, instruction, expected_version=version)


def _close(c, f, actor, version):
    message = f.text("message", max_len=5000)
    return lambda: service.close(c, actor, message, expected_version=version)


def _reopen(c, f, actor, version):
    message = f.text("message", required=True, max_len=5000)
    return lambda: service.reopen(c, actor, message or "", expected_version=version)


def _note(c, f, actor, version):
    message = f.text("message", required=True, max_len=5000)
    return lambda: service.note(c, actor, message or "")  # changes nothing: the version was checked above


#: action → handler reading its fields; the service and workflow.check decide whether it is allowed now.
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
    f = Fields(_body())
    action = f.choice("action", tuple(ACTIONS), required=True)
    version = f.integer("expected_version", required=True)
    call = ACTIONS[action](c, f, key_actor(), version) if action is not None else None
    if f.errors or call is None or version is None:
        raise _invalid(f.errors)
    try:
        if version != c.version:
            raise StaleComplaint()
        call()
        db.session.commit()
    except service.ValidationError as exc:
        db.session.rollback()
        raise _invalid(_service_fields(exc)) from None
    except (StaleComplaint, StaleDataError):
        db.session.rollback()
        raise ApiError(409, "stale", str(StaleComplaint().message)) from None
    except TransitionError as exc:
        db.session.rollback()
        raise ApiError(409, "illegal_transition", str(exc.message)) from None
    return _detail_response(c)
