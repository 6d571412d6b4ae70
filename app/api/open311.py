"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2): a region's categories as services and
its complaints as service requests, in JSON and XML.

Two doors to the same views:

- per region, ``/<slug>/open311/v2/…`` (blueprint ``tenant.open311``, the tenant bound from the path);
- platform, ``/open311/v2/…?jurisdiction_id=<slug>`` (blueprint ``open311_platform``): the named region,
  if active and live, is bound for the request; a missing one is a 400, an unknown one a 404.

Mapping: ``service_code`` is a category code; ``service_request_id`` the tracking code; ``status`` is
``open`` for every status before the end (submitted, on hold, verified, disposed, answered) and
``closed`` for closed, referred, archived and merged, with the translated status in ``status_notes`` (and
a short public note for the closed ones); ``expected_datetime`` is the current stage's deadline;
``agency_responsible`` the agencies the report is disposed to. Times are ISO 8601 in the region's zone.

Privacy (UU PDP), as the public tracking page and the webhooks (``app.integrations.webhooks``):

- no answer ever carries the reporter's identity or contact details, whatever the report's privacy;
- a *rahasia* (confidential) report shows no content: no description, address, coordinates or media;
- without an API key (the public), content shows only once the complaint unit has verified the report,
  as on the tracking page (codes are sequential); with a key of the region (its own integration, as
  trusted as a webhook receiver), content of non-confidential reports shows from the start;
- ``media_url`` points at the report's first public photo, which exists only for public (neither
  anonymous nor confidential) verified reports.

Writes (``POST requests``) need a key with the ``write`` permission (``api_key`` field, or the
``Authorization: Bearer`` / ``X-Api-Key`` header) and create the complaint at once through
``complaints.service.submit_complaint`` (source ``open311``): the answer carries the
``service_request_id`` and also a ``token`` that ``GET tokens/<token>`` resolves, for clients that
expect one. A posted ``media_url`` is not fetched: it is kept as an internal note for the complaint unit.
"""

from __future__ import annotations

import json
import math
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, NotFound

from app.agencies.models import Category
from app.api import queries
from app.api.auth import presented_key, require_key
from app.api.errors import ApiError, http_error_parts
from app.complaints import access, service, workflow
from app.complaints import transparency as reports
from app.complaints.models import Complaint, Privacy, Status
from app.extensions import csrf
from app.inputs import OutOfRange, date_range_message, parse_datetime
from app.tenancy.models import TenantStatus, utcnow
from app.tenancy.resolve import TenantSuspended
from app.tenancy.scope import bind_tenant
from app.unit_of_work import UnitOfWork

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
platform_bp = Blueprint("open311_platform", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
FMT = "<any(json, xml):fmt>"
#: GeoReport v2: at most 1000 requests per answer, and a date range of at most 90 days (the default).
MAX_RESULTS = 1000
RANGE = timedelta(days=90)
MAX_DESCRIPTION = 4000
#: Posted requests are found again by ``tokens/<token>``: the token is stored as the submission key.
SUBMISSION_PREFIX = "open311:"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_SLUG = re.compile(r"[\w\-]{1,63}", re.ASCII)
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,60})\](\[\])?$")
DEFAULT_CLASS = "pengaduan"

CLOSED_NOTES = {
    Status.CLOSED: _l("The agency's follow-up was published and the report is closed."),
    Status.REFERRED: _l("This is not the region's authority: the report was referred to the body that has it."),
    Status.ARCHIVED: _l("The report was archived without follow-up (for example a duplicate, too vague or outside "
                        "the scope of the service)."),
    Status.MERGED: _l("The report was merged into another report about the same matter."),
}
#: Where a field of the complaint service's validation errors comes from in an Open311 POST.
FIELD_NAMES = {"title": "attribute[title]", "description": "description",
               "complaint_class": "attribute[complaint_class]", "privacy": "attribute[privacy]",
               "category_id": "service_code", "latitude": "lat", "longitude": "long",
               "location_text": "address_string", "reporter_name": "first_name and last_name",
               "reporter_email": "email", "reporter_phone": "phone"}


class Open311Error(Exception):
    """An answer in the GeoReport v2 error format: one ``error`` per description, all with ``status``."""

    def __init__(self, status: int, *descriptions):
        super().__init__(status)
        self.status = status
        self.descriptions = [str(d) for d in descriptions] or [""]


# ---------------------------------------------------------------- answers in JSON or XML

#: XML element of one entry of a list, by the list's element name.
_ITEM_NAMES = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _fmt() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in CONTENT_TYPES:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, _ITEM_NAMES.get(name, "item"), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data, item: str | None = None) -> bytes:
    """``data`` (a dict, or a list of dicts named ``item``) under ``<root>``, UTF-8 with its declaration."""
    top = ET.Element(root)
    for key, value in (data.items() if item is None else ((item, entry) for entry in data)):
        _append(top, key, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def _answer(data, root: str, item: str | None = None, status: int = 200) -> Response:
    fmt = _fmt()
    if fmt == "xml":
        body = to_xml(root, data, item)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, status=status, content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8")
    if getattr(g, "api_key", None) is not None:
        response.headers["Cache-Control"] = "private, no-store"  # keyed answers may hold unverified content
    return response


def _errors(status: int, descriptions: list[str], headers: dict | None = None) -> Response:
    response = _answer([{"code": status, "description": d} for d in descriptions], "errors", "error", status)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def errors_answer(status: int, descriptions: list[str], headers: dict | None = None) -> Response:
    """An error answer in the GeoReport v2 format (JSON or XML as the URL asks) for callers outside this
    module (the application's database-unavailable handler)."""
    return _errors(status, descriptions, headers)


def _on_open311_error(exc: Open311Error) -> Response:
    return _errors(exc.status, exc.descriptions)


def _on_api_error(exc: ApiError) -> Response:
    if exc.status == 401:  # GeoReport v2: "403 - api_key was not provided or is invalid"
        if presented_key() is None:
            return _errors(403, [_("api_key was not provided.")])
        return _errors(403, [_("api_key is not valid for this region, or it was revoked.")])
    return _errors(exc.status, [str(exc.message)], exc.headers)


def on_http_error(exc: HTTPException) -> Response:
    """A Werkzeug error (404, 405, 429…) in the specification's error format."""
    status, message, headers = http_error_parts(exc)
    return _errors(status, [message], headers)


def _on_suspended(exc: TenantSuspended) -> Response:
    return _errors(503, [_("The service of %(tenant)s is suspended for now.", tenant=exc.tenant.name)],
                   {"Retry-After": "3600"})


for _blueprint in (bp, platform_bp):
    _blueprint.register_error_handler(Open311Error, _on_open311_error)
    _blueprint.register_error_handler(ApiError, _on_api_error)
    _blueprint.register_error_handler(TenantSuspended, _on_suspended)
    # By code too: the application's HTML handlers for these codes would win over a class handler.
    for _code in (400, 401, 403, 404, 405, 409, 413, 429):
        _blueprint.register_error_handler(_code, on_http_error)
    _blueprint.register_error_handler(HTTPException, on_http_error)


# ---------------------------------------------------------------- the region of the request


@bp.before_request
def _check_jurisdiction() -> None:
    """On a region's own URL a jurisdiction_id is optional, but must name that region."""
    given = (request.values.get("jurisdiction_id") or "").strip()
    if given and given != g.tenant.slug:
        raise Open311Error(404, _("jurisdiction_id provided was not found."))


@platform_bp.before_request
def _bind_jurisdiction() -> None:
    """The platform door: jurisdiction_id names the region (active and live only); bind it for the request."""
    slug = (request.values.get("jurisdiction_id") or "").strip()
    if not slug:
        raise Open311Error(400, _("jurisdiction_id was not provided: it names the region, for example "
                                  "“banjarmasin”."))
    tenant = None
    if _SLUG.fullmatch(slug):
        tenant = queries.tenant_by_slug(slug)
    if tenant is None or tenant.status != TenantStatus.ACTIVE or not tenant.live:
        raise Open311Error(404, _("jurisdiction_id provided was not found."))
    g.tenant = tenant
    g._tenant_token = bind_tenant(tenant.id)  # released by the tenancy teardown, as for /<slug>/ URLs


def _route(rule: str, **options):
    """Register the view on both doors."""

    def decorator(view):
        bp.add_url_rule(rule, view_func=view, **options)
        platform_bp.add_url_rule(rule, view_func=view, **options)
        return view

    return decorator


def _platform() -> bool:
    return (request.blueprint or "") == platform_bp.name


def _root_url() -> str:
    """The base URL of this door (the ``url`` of the discovery's endpoint)."""
    if _platform():
        url = url_for("open311_platform.services", fmt="json", _external=True)
    else:
        url = url_for("tenant.open311.services", tenant=g.tenant.slug, fmt="json", _external=True)
    return url.rsplit("/services.json", 1)[0]


def _locale() -> str:
    return str(get_locale() or "id")


def _iso(value: datetime | None) -> str | None:
    """ISO 8601 with the offset of the region's zone, e.g. 2026-03-17T15:00:00+08:00."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(g.tenant.timezone)).isoformat(timespec="seconds")


# ---------------------------------------------------------------- discovery and services


def _changeset() -> datetime:
    """When the services last changed: the last category or deadline edit, else the region's start."""
    return queries.services_changed_at() or g.tenant.created_at or utcnow()


@_route(f"/discovery.{FMT}")
def discovery(fmt: str):
    """Service discovery: where the endpoint is, its formats, whom to ask for a key."""
    tenant = g.tenant
    changeset = _iso(_changeset())
    home = url_for("tenant.public.home", tenant=tenant.slug, _external=True)
    data = {
        "changeset": changeset,
        "contact": _("%(unit)s: %(url)s", unit=(tenant.settings or {}).get("sender_name") or tenant.name, url=home),
        "key_service": _("API keys are made by the region's administrator on the staff page %(url)s.",
                         url=url_for("tenant.api_keys.index", tenant=tenant.slug, _external=True)),
        "endpoints": [{"specification": SPECIFICATION, "url": _root_url(), "changeset": changeset,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }
    return _answer(data, "discovery")


def _classes() -> list[str]:
    """The kinds of report a citizen may send in this region (as on the web form)."""
    standard = reports.service_standard(g.tenant)
    return [k for k in reports.CITIZEN_CLASSES if standard.followup_days(k) is not None]


def _default_class(classes: list[str]) -> str:
    return DEFAULT_CLASS if DEFAULT_CLASS in classes else classes[0]


def _service(category: Category, locale: str) -> dict:
    agency = category.default_agency
    name = category.label(locale)
    return {
        "service_code": category.code,
        "service_name": name,
        "description": _("%(category)s; handled first by %(agency)s.", category=name, agency=agency.name)
        if agency is not None else name,
        "metadata": True,  # the definition offers the kind of report, its privacy and a title
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(n for n in (category.name_id, category.name_en) if n)),
        "group": agency.short_name if agency is not None else "",
    }


@_route(f"/services.{FMT}")
def services(fmt: str):
    """The region's active categories."""
    locale = _locale()
    return _answer([_service(c, locale) for c in reports.active_categories()], "services", "service")


def _attribute_definitions(locale: str) -> list[dict]:
    classes = _classes()
    return [
        {"variable": True, "code": "complaint_class", "datatype": "singlevaluelist", "required": False,
         "datatype_description": _("One of the keys; “%(default)s” when left out.", default=_default_class(classes)),
         "order": 1, "description": _("Kind of report"),
         "values": [{"key": k, "name": reports.class_label(g.tenant, k, locale)} for k in classes]},
        {"variable": True, "code": "privacy", "datatype": "singlevaluelist", "required": False,
         "datatype_description": _("“anonim”: the reporter's identity is hidden outside the complaint unit; "
                                   "“rahasia”: the report itself is not public; “public” when left out."),
         "order": 2, "description": _("Who may see the report"),
         "values": [{"key": Privacy.PUBLIC, "name": _("Public")}, {"key": Privacy.ANONYMOUS, "name": _("Anonymous")},
                    {"key": Privacy.CONFIDENTIAL, "name": _("Confidential")}]},
        {"variable": True, "code": "title", "datatype": "string", "required": False,
         "datatype_description": _("5 to 200 characters; taken from the description when left out."),
         "order": 3, "description": _("Short title"), "values": []},
    ]


def _category(code: str | None, active_only: bool = True) -> Category | None:
    code = (code or "").strip()
    if not code or len(code) > 40:
        return None
    return queries.category_by_code(code, active_only)


@_route(f"/services/<service_code>.{FMT}")
def service_definition(service_code: str, fmt: str):
    """The attributes a request of this service may carry (all optional)."""
    category = _category(service_code)
    if category is None:
        raise Open311Error(404, _("service_code provided was not found."))
    return _answer({"service_code": category.code, "attributes": _attribute_definitions(_locale())},
                   "service_definition")


# ---------------------------------------------------------------- service requests: reading


def _status_notes(c: Complaint, merged_code: str | None) -> str:
    label = workflow.status_label(c.status)
    if c.status == Status.MERGED and merged_code:
        note = _("Merged into report %(code)s; follow that report.", code=merged_code)
    elif c.status == Status.REFERRED and c.refer_to and not c.confidential:
        note = _("Not the region's authority: referred to %(body)s.", body=c.refer_to)
    else:
        note = CLOSED_NOTES.get(c.status)
    return f"{label}. {note}" if note else label


def _shows_content(c: Complaint, keyed: bool) -> bool:
    """Content (description, place, media) of a report: never for rahasia; for the public once verified."""
    return not c.confidential and (keyed or c.verified_at is not None)


def serialize_requests(complaints: list[Complaint], keyed: bool) -> list[dict]:
    """The service requests as GeoReport v2 lists them (see the module docstring for what is withheld)."""
    locale = _locale()
    photos = queries.public_photo_ids([c.id for c in complaints
                                       if c.privacy == Privacy.PUBLIC and c.verified_at is not None])
    merged = queries.codes_by_id({c.merged_into_id for c in complaints
                                  if c.status == Status.MERGED and c.merged_into_id})
    out = []
    for c in complaints:
        agencies = [d.agency.name for d in c.dispositions if d.active and d.agency is not None]
        data = {
            "service_request_id": c.code,
            "status": "open" if c.status in Status.OPEN else "closed",
            "status_notes": _status_notes(c, merged.get(c.merged_into_id)),
            "service_name": c.category.label(locale) if c.category is not None else None,
            "service_code": c.category.code if c.category is not None else None,
            "agency_responsible": ", ".join(agencies) or None,
            "requested_datetime": _iso(c.submitted_at),
            "updated_datetime": _iso(c.updated_at),
            "expected_datetime": _iso(c.due_at) if c.is_open else None,
        }
        if _shows_content(c, keyed):
            photo = photos.get(c.id)
            data.update(
                description=c.description, address=c.location_text, address_id=None, zipcode=None,
                lat=c.latitude, long=c.longitude,
                media_url=url_for("tenant.complaints_public.attachment", tenant=g.tenant.slug, code=c.code,
                                  att_id=photo, _external=True) if photo else None,
            )
        out.append(data)
    return out


def _split(name: str) -> list[str]:
    return [part.strip() for part in (request.args.get(name) or "").split(",") if part.strip()]


def _parse_time(name: str) -> datetime | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if "T" in raw:  # an unencoded "+08:00" arrives as " 08:00"
        raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw)
    try:
        return parse_datetime(raw, ZoneInfo(g.tenant.timezone))  # no zone given: the region's local time
    except OutOfRange:
        raise Open311Error(400, f"{name}: {date_range_message()}") from None
    except ValueError:
        raise Open311Error(400, _("%(name)s is not a date and time in ISO 8601, for example "
                                  "2026-03-01T00:00:00+08:00.", name=name)) from None


def _filters(stmt):
    """GeoReport v2 filters: service_code, status, start_date/end_date (the last 90 days by default)."""
    codes = _split("service_code")
    if codes:
        found = queries.category_ids(codes[:100])
        unknown = [code for code in codes if code not in found]
        if unknown or len(codes) > 100:
            raise Open311Error(400, _("service_code provided was not found: %(codes)s",
                                      codes=", ".join(unknown[:10])))
        stmt = stmt.where(Complaint.category_id.in_(found.values()))
    statuses = {s.lower() for s in _split("status")}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed (or both, comma separated)."))
    if statuses == {"open"}:
        stmt = stmt.where(Complaint.status.in_(Status.OPEN))
    elif statuses == {"closed"}:
        stmt = stmt.where(Complaint.status.in_(Status.TERMINAL))
    start, end = _parse_time("start_date"), _parse_time("end_date")
    if start is None and end is None:
        return stmt.where(Complaint.submitted_at >= utcnow() - RANGE)
    start = start or end - RANGE
    end = end or start + RANGE
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > RANGE:
        raise Open311Error(400, _("The range from start_date to end_date may span at most 90 days."))
    return stmt.where(Complaint.submitted_at >= start, Complaint.submitted_at <= end)


@_route(f"/requests.{FMT}", methods=["GET"])
@require_key("read", optional=True)
def list_requests(fmt: str):
    """Service requests, newest first: by service_request_id (overrides every other filter), or filtered."""
    ids = _split("service_request_id")
    stmt = queries.open311_requests()
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, _("Ask for at most %(n)s service_request_id at once.", n=MAX_RESULTS))
        stmt = stmt.where(Complaint.code.in_([i.upper() for i in ids if len(i) <= 20]))
    else:
        stmt = _filters(stmt)
    complaints = queries.newest(stmt, MAX_RESULTS)
    return _answer(serialize_requests(complaints, keyed=g.api_key is not None), "service_requests", "request")


@_route(f"/requests/<service_request_id>.{FMT}")
@require_key("read", optional=True)
def get_request(service_request_id: str, fmt: str):
    """One service request by its tracking code."""
    try:
        c = access.access_complaint_by_code(service_request_id)
    except NotFound:
        raise Open311Error(404, _("service_request_id provided was not found.")) from None
    return _answer(serialize_requests([c], keyed=g.api_key is not None), "service_requests", "request")


@_route(f"/tokens/<token>.{FMT}")
@require_key("read", optional=True)
def token(token: str, fmt: str):
    """The service_request_id of a token from a POST (requests are created at once, so it always has one)."""
    c = None
    if _TOKEN.fullmatch(token):
        c = queries.complaint_by_submission_key(SUBMISSION_PREFIX + token)
    if c is None:
        raise Open311Error(404, _("token provided was not found."))
    return _answer([{"service_request_id": c.code, "token": token}], "service_requests", "request")


# ---------------------------------------------------------------- service requests: creating


def _posted_attributes() -> dict[str, str]:
    out = {}
    for key in request.form:
        match = _ATTRIBUTE.match(key)
        if match:
            values = [v.strip() for v in request.form.getlist(key) if v.strip()]
            if values:
                out[match.group(1)] = values[0]
    return out


def _coordinate(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Open311Error(400, _("%(name)s must be a number in decimal degrees.", name=name))
    return value


def _title_from(description: str, category: Category, locale: str) -> str:
    """A title for the complaint unit's list: the description's first sentence, else the service's name."""
    first = re.split(r"(?<=[.!?])\s|\n", description.strip(), maxsplit=1)[0].strip()
    if len(first) > 100:
        first = first[:99].rstrip() + "…"
    return first if len(first) >= 5 else category.label(locale)


def _posted_category(problems: list) -> Category | None:
    code = (request.form.get("service_code") or "").strip()
    category = _category(code) if code else None
    if not code:
        problems.append(_("service_code was not provided."))
    elif category is None:
        problems.append(_("service_code provided was not found."))
    return category


def _posted_location(problems: list) -> tuple[str, float | None, float | None]:
    """The address (with its address_id) and the coordinates; one of them is required."""
    lat, lng = _coordinate("lat"), _coordinate("long")
    address = (request.form.get("address_string") or "").strip()
    address_id = (request.form.get("address_id") or "").strip()
    if (lat is None) != (lng is None):
        problems.append(_("lat and long must be given together."))
    if lat is None and not address and not address_id:
        problems.append(_("A location is required: lat and long, address_string or address_id."))
    location = f"{address} [address_id {address_id}]".strip() if address_id else address
    return location, lat, lng


def _posted_class(attributes: dict, problems: list) -> str:
    """The kind of report: one the region offers its citizens (the service knows only the platform's)."""
    classes = _classes()
    complaint_class = attributes.get("complaint_class") or _default_class(classes)
    if complaint_class not in classes:
        problems.append(_("attribute[complaint_class] must be one of: %(keys)s.", keys=", ".join(classes)))
    return complaint_class


def _posted_media_url(problems: list) -> str | None:
    media_url = (request.form.get("media_url") or "").strip() or None
    if media_url is not None:
        parts = urlsplit(media_url)
        if len(media_url) > 500 or parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(_("media_url must be a full http(s) address."))
    return media_url


def _submit_data(locale: str) -> tuple[service.SubmitData, str | None]:
    """The complaint to create from the posted form (checked and normalised by the complaint service), and
    the posted media_url; a 400 with every problem for what cannot be used."""
    form, problems = request.form, []
    category = _posted_category(problems)
    location, lat, lng = _posted_location(problems)
    description = (form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(_("description may have at most %(n)s characters.", n=MAX_DESCRIPTION))
    attributes = _posted_attributes()
    complaint_class = _posted_class(attributes, problems)
    media_url = _posted_media_url(problems)
    name = " ".join(p for p in ((form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()) if p)
    title = attributes.get("title") or (_title_from(description, category, locale) if category else "")
    data = service.SubmitData(
        title=title, description=description, complaint_class=complaint_class,
        category_id=category.id if category else None, location_text=location or None, latitude=lat,
        longitude=lng, privacy=attributes.get("privacy") or Privacy.PUBLIC, reporter_name=name or None,
        reporter_email=form.get("email"), reporter_phone=form.get("phone"), locale=locale,
        submission_key=SUBMISSION_PREFIX + uuid.uuid4().hex, source="open311",
    )
    try:
        data = service.validate_submission(data)
    except service.ValidationError as exc:
        # The kind of report was checked against the region's own list above; without a service there
        # is no title to derive, and the service_code problem says why.
        problems.extend(_service_problems(exc, skip={"complaint_class"} if category else {"complaint_class", "title"}))
    if problems:
        raise Open311Error(400, *problems)
    return data, media_url


def _service_problems(exc: service.ValidationError, skip: set[str] = frozenset()) -> list[str]:
    """The service's field errors as GeoReport descriptions, "<posted field>: <message>"."""
    return [f"{FIELD_NAMES.get(k, k)}: {v}" for k, v in exc.errors.items() if k not in skip]


@_route(f"/requests.{FMT}", methods=["POST"])
@csrf.exempt
@require_key("write")
def create_request(fmt: str):
    """Create a service request (form-encoded, as GeoReport v2 posts): the complaint exists at once."""
    if not g.tenant.live:
        raise Open311Error(503, _("%(tenant)s does not accept reports yet.", tenant=g.tenant.name))
    locale = _locale()
    data, media_url = _submit_data(locale)
    with UnitOfWork(catch=False):  # committed once; rolled back on any error (the 400 included)
        try:
            complaint, _created = service.submit_complaint(data)
        except service.ValidationError as exc:
            raise Open311Error(400, *_service_problems(exc)) from None
        if media_url:
            # Not fetched (no request to third-party hosts); the complaint unit sees the link on the timeline.
            service.record_event(complaint, service.SYSTEM, "note",
                                 message=_("Media link sent with the Open311 request: %(url)s", url=media_url))
        code, token_value = complaint.code, data.submission_key.removeprefix(SUBMISSION_PREFIX)
        notice = _("Keep the tracking code %(code)s. The complaint unit verifies the report within %(days)s "
                   "working days.", code=code, days=reports.service_standard(g.tenant).verification)
    return _answer([{"service_request_id": code, "service_notice": notice, "account_id": None,
                     "token": token_value}], "service_requests", "request", status=201)
