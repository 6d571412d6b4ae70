"""Citizen pages of a region: submit, track, reply, rate, reopen, transparency.

Each POST parses a form, calls ONE service function in one unit of work (``app.unit_of_work``), flashes and
redirects. The private
tracking link (code + secret token) is what lets a citizen act; the code alone only shows the status.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound
from wtforms.fields.choices import SelectChoice

from app.accounts.access import signed_in_citizen
from app.accounts.models import Role
from app.complaints import access, links, nearby, referrals, service, workflow
from app.complaints import forms as f
from app.complaints import transparency as reports
from app.complaints.area import area_of
from app.complaints.models import Attachment, Complaint, Privacy, Status
from app.complaints.uploads import (
    MAX_FILES,
    UploadError,
    attachment_response,
    prepare_uploads,
    public_photos,
    read_attachment,
    read_thumbnail,
    thumbnail_response,
)
from app.deadlines.calendar import calendar_for_tenant
from app.extensions import limiter
from app.i18n import format_dt
from app.inputs import page_number
from app.myreports import following
from app.onboarding.access import portal_closed
from app.tenancy.models import utcnow
from app.unit_of_work import attach_errors, unit_of_work
from app.web_security import private_response

bp = Blueprint("complaints_public", __name__)

SUBMISSION_KEY = re.compile(r"^[0-9a-f]{32}$")
CODE_SHAPE = re.compile(r"^[A-Z]{2,5}-[0-9]{2}-[0-9]{4,6}$")

DEADLINE_LABELS = {
    "on_time": _l("On schedule"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
}


#: Reports from one address to one region when neither SUBMIT_RATE_LIMIT nor the region's tenant.toml
#: (settings.rate_limits.submit) says otherwise. Generous: a mobile carrier's CGNAT puts many citizens
#: behind one address, and a report is seldom sent twice a minute by one person.
DEFAULT_SUBMIT_LIMIT = "10 per minute;60 per hour"


def _rate_settings() -> dict:
    tenant = getattr(g, "tenant", None)
    return ((tenant.settings or {}).get("rate_limits") or {}) if tenant is not None else {}


def _submit_limit() -> str:
    """SUBMIT_RATE_LIMIT (a platform-wide override, e.g. for load tests), else the region's own limit."""
    return (current_app.config.get("SUBMIT_RATE_LIMIT") or _rate_settings().get("submit")
            or DEFAULT_SUBMIT_LIMIT)


def submit_key() -> str:
    """One counter per region and client address: a busy address in one region does not block another."""
    tenant = getattr(g, "tenant", None)
    return f"{tenant.id if tenant is not None else '-'}:{get_remote_address()}"


def _submit_exempt() -> bool:
    """A front desk is not limited: a signed-in staff member of this region typing reports for walk-in
    citizens, or an address in the region's trusted networks (settings.rate_limits.trusted_networks)."""
    tenant = getattr(g, "tenant", None)
    if tenant is None:
        return False
    if (current_user.is_authenticated and getattr(current_user, "role", None) in Role.STAFF
            and getattr(current_user, "tenant_id", None) == tenant.id):
        return True
    networks = _rate_settings().get("trusted_networks") or []
    try:
        address = ipaddress.ip_address(get_remote_address() or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def _submit_limited(limit) -> Response:
    """Past the limit the report is not lost: the form comes back with everything typed (files must be
    chosen again) and when to send it, with 429 and Retry-After."""
    wait = max(1, math.ceil(limit.reset_at - time.time()))
    form = f.SubmitForm()
    _setup_submit_form(form)
    if not SUBMISSION_KEY.match(form.submission_key.data or ""):
        form.submission_key.data = uuid.uuid4().hex
    posted_files = [fs for fs in request.files.getlist(form.attachments.name) if fs and fs.filename]
    message = _("Many reports were sent from your network in a short time, so this report was not sent yet. "
                "Everything you typed is still below: please send it again %(when)s.",
                when=format_timedelta(timedelta(seconds=wait), add_direction=True))
    response = _render_submit(form, 429, files_dropped=bool(posted_files), limited=message)
    response.headers["Retry-After"] = str(wait)
    return response


def _action_limit() -> str:
    return current_app.config.get("CITIZEN_ACTION_RATE_LIMIT", "10 per minute;60 per hour")


def _lookup_limit() -> str:
    # Codes are sequential: slow down anyone walking through them.
    return current_app.config.get("TRACK_RATE_LIMIT", "60 per minute;600 per hour")


def _thumbnail_limit() -> str:
    # A transparency page shows a thumbnail per report; only a known code with a right id answers.
    return current_app.config.get("THUMBNAIL_RATE_LIMIT", "300 per minute;3000 per hour")


def _locale() -> str:
    return str(get_locale() or "id")


@bp.app_template_global()
def service_standard(tenant) -> reports.ServiceStandard:
    """The region's working-day deadlines, for help texts (home page, report form)."""
    return reports.service_standard(tenant)


@bp.app_template_global()
def complaint_class_label(key: str | None) -> str:
    """The current tenant's name for a complaint class, in the active language."""
    return reports.class_label(g.tenant, key, _locale())


@bp.app_template_global()
def example_tracking_code(tenant) -> str:
    """A tracking code of the current local year, e.g. BJM-26-00001 (placeholders and help texts)."""
    year = calendar_for_tenant(tenant).local_date(utcnow()).year
    return f"{tenant.code_prefix}-{year % 100:02d}-00001"



# ---------------------------------------------------------------- submit


def _setup_submit_form(form: f.SubmitForm) -> None:
    locale = _locale()
    standard = reports.service_standard(g.tenant)
    form.complaint_class.choices = [
        SelectChoice(key, reports.class_label(g.tenant, key, locale)) for key in reports.CITIZEN_CLASSES
        if standard.followup_days(key) is not None
    ]
    form.category_id.choices = [SelectChoice("", _("— Not sure —"))] + [
        SelectChoice(c.id, c.label(locale)) for c in reports.active_categories()]
    form.privacy.choices = [SelectChoice(Privacy.PUBLIC, _("Public")), SelectChoice(Privacy.ANONYMOUS, _("Anonymous")),
                            SelectChoice(Privacy.CONFIDENTIAL, _("Confidential"))]


def _coordinate(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        return None


def _prepare_files(files: list) -> tuple[list, list[str]]:
    """Check and clean uploaded files; returns (prepared, error messages naming the file)."""
    files = [fs for fs in files if fs and fs.filename]
    if len(files) > MAX_FILES:
        return [], [_("Attach at most %(n)s files.", n=MAX_FILES)]
    prepared, errors = [], []
    for fs in files:
        try:
            prepared.extend(prepare_uploads([fs]))
        except UploadError as exc:
            errors.append(_("%(file)s: %(reason)s", file=fs.filename, reason=exc.message))
    return prepared, errors


def _submit_data(form: f.SubmitForm, uploads: list) -> service.SubmitData:
    citizen = signed_in_citizen()
    key = form.submission_key.data or ""
    return service.SubmitData(
        title=form.title.data or "",
        description=form.description.data or "",
        complaint_class=form.complaint_class.data or "",
        category_id=form.category_id.data,
        location_text=form.location_text.data or None,
        latitude=_coordinate(form.latitude.data),
        longitude=_coordinate(form.longitude.data),
        privacy=form.privacy.data or Privacy.PUBLIC,
        reporter_name=form.reporter_name.data or None,
        reporter_email=form.reporter_email.data or None,
        reporter_phone=form.reporter_phone.data or None,
        reporter_user_id=citizen.id if citizen is not None else None,
        locale=_locale(),
        submission_key=key if SUBMISSION_KEY.match(key) else None,
        source="web",
        attachments=uploads,
    )


def _add_errors(form: FlaskForm, errors: dict) -> None:
    """Put the service's translated errors at the form's fields (unknown keys at the title)."""
    attach_errors(form, errors, fallback="title")


def _render_submit(form: f.SubmitForm, status: int = 200, files_dropped: bool = False, limited: str | None = None):
    html = render_template("complaints/public/submit.html", form=form, citizen=signed_in_citizen(),
                           has_errors=any(fld.errors for fld in form),
                           standard=reports.service_standard(g.tenant), files_dropped=files_dropped,
                           limited=limited, area=area_of(g.tenant))
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # a "back" reloads the page with a fresh submission key
    return response


@bp.route("/lapor", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"], key_func=submit_key, exempt_when=_submit_exempt,
               on_breach=_submit_limited)
def submit():
    """Send a report (no account needed); answers with the tracking code."""
    if portal_closed():  # before go-live: a clear page, nothing created (staff may send a test report)
        return render_template("onboarding/not_open.html"), 503
    form = f.SubmitForm()
    _setup_submit_form(form)
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        citizen = signed_in_citizen()
        if citizen is not None:
            form.reporter_name.data = citizen.name
            form.reporter_email.data = citizen.email
            form.reporter_phone.data = getattr(citizen, "phone", None)
        return _render_submit(form)

    if form.hp_note.data:
        abort(400)  # a robot filled the hidden field: nothing is created
    if not SUBMISSION_KEY.match(form.submission_key.data or ""):
        form.submission_key.data = uuid.uuid4().hex
    form_ok = form.validate_on_submit()
    posted_files = [fs for fs in request.files.getlist(form.attachments.name) if fs and fs.filename]
    uploads, upload_errors = _prepare_files(posted_files)
    form.attachments.errors = list(upload_errors)
    data = _submit_data(form, uploads)
    if not form_ok or upload_errors:
        # Show every problem at once: the service's rules too, not only the form's.
        try:
            service.validate_submission(data)
        except service.ValidationError as exc:
            _add_errors(form, exc.errors)
        return _render_submit(form, 400, files_dropped=bool(posted_files))
    with unit_of_work(form, fallback="title") as work:
        complaint, _created = service.submit_complaint(data)
        code, token = complaint.code, complaint.access_token  # read before commit expires the row (no reload)
    if work.failed:
        return _render_submit(form, 400, files_dropped=bool(posted_files))
    return redirect(url_for(".received", code=code, t=token), 303)


def _nearby_limit() -> str:
    return current_app.config.get("NEARBY_RATE_LIMIT", "30 per minute;300 per hour")


def _follow_url(code: str) -> str:
    """Where a citizen follows a report instead of filing a new one."""
    return url_for(".follow", code=code)


def _nearby_bad(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/lapor/sekitar")
@limiter.limit(_nearby_limit, key_func=submit_key)
def nearby_reports():
    """"Is this already reported?": open public reports near a point, as JSON for the report form."""
    lat, lon = _coordinate(request.args.get("lat")), _coordinate(request.args.get("lon"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return _nearby_bad(_("Give the position as a latitude and a longitude in decimal degrees."))
    raw_category = (request.args.get("category") or "").strip()
    if raw_category and not raw_category.isdigit():
        return _nearby_bad(_("Unknown category."))
    title = (request.args.get("q") or "")[:200]
    if portal_closed():  # before go-live nothing is public
        found = []
    else:
        found = nearby.nearby_reports(lat, lon, category_id=int(raw_category) if raw_category else None,
                                      title=title, locale=_locale())
    response = jsonify({
        "reports": [r.public_dict(format_dt(r.submitted_at, g.tenant.timezone, with_time=False),
                                  url_for(".track", code=r.code), _follow_url(r.code)) for r in found],
        "radius_m": current_app.config.get("NEARBY_RADIUS_M", nearby.DEFAULT_RADIUS_M),
        "days": current_app.config.get("NEARBY_DAYS", nearby.DEFAULT_DAYS),
    })
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@bp.route("/lapor/diterima/<code>")
def received(code: str):
    """The confirmation: tracking code, private link and the current deadline."""
    c = access.access_complaint_by_code(code)
    token = request.args.get("t") or ""
    if not access.citizen_may_act(c, token):
        abort(404)
    link = url_for(".track", code=c.code, t=token, _external=True)
    html = render_template(
        "complaints/public/received.html", c=c, token=token, link=link,
        qr=links.qr_svg(link, _("QR code that opens your report")),
        confirmations=reports.confirmations(c), standard=reports.service_standard(g.tenant),
    )
    return private_response(make_response(html))


@bp.route("/ketentuan")
def terms():
    """Terms of use of the report form, in plain language."""
    return render_template("complaints/public/terms.html", standard=reports.service_standard(g.tenant))


# ---------------------------------------------------------------- track

@bp.route("/lacak")
@limiter.limit(_lookup_limit)
def track_lookup():
    """Find a report by its tracking code."""
    form = f.TrackForm(request.args)
    if "kode" not in request.args:
        return render_template("complaints/public/track_lookup.html", form=form)
    if form.validate():
        code = form.kode.data.upper().replace(" ", "")
        if CODE_SHAPE.match(code):
            try:
                c = access.access_complaint_by_code(code)
            except NotFound:
                pass
            else:
                return redirect(url_for(".track", code=c.code), 303)
        form.kode.errors.append(_("No report of %(tenant)s has this code. Check the code and try again.",
                                  tenant=g.tenant.name))
    return render_template("complaints/public/track_lookup.html", form=form), 404 if form.kode.data else 400


def _token_from(source) -> str | None:
    token = (source.get("t") or "").strip()
    return token or None


def _complaint_for(code: str, token: str | None, require_token: bool) -> Complaint:
    """The complaint by code; a given token must be right (the same 404 otherwise)."""
    c = access.access_complaint_by_code(code)
    if (token is not None or require_token) and not access.citizen_may_act(c, token):
        abort(404)
    return c


def _action_forms(c: Complaint, failed: dict | None = None) -> dict[str, FlaskForm]:
    """The citizen's forms for the actions possible now (a failed one keeps its input)."""
    failed = failed or {}
    allowed = set(workflow.allowed_actions(c.status, "citizen"))
    wanted: dict[str, type[FlaskForm]] = {}
    if "add_info" in allowed:
        wanted["info"] = f.AddInformationForm
    if "citizen_reply" in allowed:
        wanted["reply"] = f.CitizenReplyForm
    if "rate" in allowed and c.answered_at is not None and reports.current_rating(c) is None:
        wanted["rate"] = f.RatingForm
    if service.can_citizen_reopen(c):
        wanted["reopen"] = f.CitizenReopenForm
    return {key: failed.get(key) or cls(prefix=key, formdata=None) for key, cls in wanted.items()}


def _merged_progress(c: Complaint) -> dict | None:
    """For a merged duplicate: the primary's progress exactly as the public sees it by its code
    (status, deadline, public history; content and answers only when the public may see them).
    Never the primary's private link, its reporter's data or actions."""
    if c.merged_into_id is None:
        return None
    primary = reports.merged_primary(c)
    if primary is None:
        return None
    public_content = not primary.confidential and primary.verified_at is not None
    return {"c": primary, "show_content": public_content, "events": access.timeline(primary, for_staff=False),
            "answers": reports.published_followups([primary.id])[primary.id] if public_content else [],
            "badge": reports.deadline_badge(primary, g.tenant)}


def _render_track(c: Complaint, token: str | None, failed: dict | None = None, status: int = 200):
    private = token is not None
    # Codes are sequential: by code alone, content shows only once the complaint unit has verified
    # the report (it may still mark it rahasia then) and never for rahasia reports.
    show_content = private or (not c.confidential and c.verified_at is not None)
    events = access.timeline(c, for_staff=False)
    if private:
        attachments = access.attachments(c)
    elif c.privacy == Privacy.PUBLIC and show_content:
        attachments = access.attachments(c, public_only=True)
    else:
        attachments = []
    answers = reports.published_followups([c.id])[c.id] if show_content else []
    hold_request = None
    if c.status == Status.ON_HOLD:
        hold_request = next((e for e in reversed(events) if e.kind == "hold"), None)
    html = render_template(
        "complaints/public/track.html", c=c, token=token, private=private, show_content=show_content,
        merged=_merged_progress(c), referral=referrals.citizen_view(c),
        followable=not private and following.followable(c),
        events=events, attachments=attachments, answers=answers, hold_request=hold_request,
        badge=reports.deadline_badge(c, g.tenant), deadline_labels=DEADLINE_LABELS,
        forms=_action_forms(c, failed) if private else {},
        rating=reports.current_rating(c) if private else None,
        category=c.category.label(_locale()) if c.category is not None else None,
        status_label=workflow.status_label, event_label=workflow.event_label,
        data_owner=signed_in_citizen() is not None and c.reporter_user_id == signed_in_citizen().id,
    )
    response = make_response(html, status)
    return private_response(response) if private else response


@bp.route("/lacak/<code>")
@limiter.limit(_lookup_limit)
def track(code: str):
    """A report's progress: status and deadline for anyone with the code; everything with the private link."""
    token = _token_from(request.args)
    c = _complaint_for(code, token, require_token=False)
    if code != c.code:
        return redirect(url_for(".track", code=c.code, t=token), 301)
    return _render_track(c, token)


def _citizen_action(code: str, key: str, form_cls: type[FlaskForm],
                    run: Callable[[Complaint, FlaskForm], object], done: str):
    """Shared shape of the private-link actions: check the token, validate, call the service, commit."""
    token = _token_from(request.form)
    c = _complaint_for(code, token, require_token=True)
    back = url_for(".track", code=c.code, t=token)
    form = form_cls(prefix=key)
    if not form.validate_on_submit():
        return _render_track(c, token, failed={key: form}, status=400)
    with unit_of_work(form, fallback="title", stale_message=_(
            "Your report was changed meanwhile. Please look at it again and retry.")) as work:
        run(c, form)
    if work.conflict:
        return work.flash_and_redirect(back)
    if work.invalid:
        c = _complaint_for(code, token, require_token=True)
        return _render_track(c, token, failed={key: form}, status=400)
    flash(done, "info")
    return redirect(back, 303)


@bp.route("/lacak/<code>/informasi", methods=["POST"])
@limiter.limit(_action_limit)
def add_information(code: str):
    """The reporter adds information (and files) to an open report."""

    def run(c: Complaint, form: FlaskForm) -> None:
        uploads, errors = _prepare_files(request.files.getlist(form.attachments.name))
        if errors:
            raise service.ValidationError({"attachments": " ".join(errors)})
        service.add_information(c, form.message.data, uploads)

    return _citizen_action(code, "info", f.AddInformationForm, run, _("Thank you: your information was added."))


@bp.route("/lacak/<code>/balas", methods=["POST"])
@limiter.limit(_action_limit)
def reply(code: str):
    """The reporter answers the published follow-up; the agency takes the report up again."""
    return _citizen_action(code, "reply", f.CitizenReplyForm,
                           lambda c, form: service.citizen_reply(c, form.message.data),
                           _("Your reply was sent. The agency will answer again."))


@bp.route("/lacak/<code>/nilai", methods=["POST"])
@limiter.limit(_action_limit)
def rate(code: str):
    """The reporter rates the handling once per answer."""
    return _citizen_action(code, "rate", f.RatingForm,
                           lambda c, form: service.rate(c, form.score.data, form.comment.data),
                           _("Thank you for your rating."))


@bp.route("/lacak/<code>/buka-kembali", methods=["POST"])
@limiter.limit(_action_limit)
def reopen(code: str):
    """The reporter reopens a closed report within the region's window."""
    return _citizen_action(code, "reopen", f.CitizenReopenForm,
                           lambda c, form: service.reopen(c, service.CITIZEN, form.reason.data),
                           _("The report was reopened and goes back to the agency."))


def _visible_attachment(code: str, att_id: int) -> tuple[Attachment, str | None]:
    """The attachment and the private token: the reporter's own with the private link; public
    reports' public files otherwise (the one rule for originals and thumbnails)."""
    token = _token_from(request.args)
    c = _complaint_for(code, token, require_token=False)
    if token is not None:
        att = access.access_attachment(att_id, c)
    elif c.privacy == Privacy.PUBLIC and c.verified_at is not None:
        att = access.access_attachment(att_id, c, public_only=True)
    else:
        abort(404)
    return att, token


def _attachment_file(code: str, att_id: int, read: Callable, respond: Callable) -> Response:
    """One stored file of an attachment (the original or its thumbnail), to exactly the people who may open it:
    the reporter with the private link (never cached), anyone for a public report's public file."""
    att, token = _visible_attachment(code, att_id)
    try:
        data = read(att)
    except FileNotFoundError:
        abort(404)
    response = respond(att, data, "private, no-store" if token else "public, max-age=300")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


#: File name endings of the stored content types; the original file name stays with the staff (it can name
#: the reporter).
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


@bp.route("/lacak/<code>/lampiran/<int:att_id>")
@limiter.limit(_lookup_limit)
def attachment(code: str, att_id: int):
    """An attachment: the reporter's own with the private link; public reports' public files otherwise."""
    return _attachment_file(code, att_id, read_attachment, lambda att, data, cache: attachment_response(
        att, data, f"lampiran-{att.id}.{_EXTENSIONS.get(att.content_type, 'bin')}", cache))


@bp.route("/lacak/<code>/lampiran/<int:att_id>/kecil")
@limiter.limit(_thumbnail_limit)
def attachment_thumbnail(code: str, att_id: int):
    """A photo's thumbnail, to exactly the people who may open the photo itself."""
    return _attachment_file(code, att_id, read_thumbnail, thumbnail_response)


# ---------------------------------------------------------------- follow a public report


def _follow_limit() -> str:
    return current_app.config.get("FOLLOW_RATE_LIMIT", "5 per minute;20 per hour")


def _followable(code: str) -> Complaint:
    """A report the public may follow (what the public page shows in full); 404 for any other."""
    c = access.access_complaint_by_code(code)
    if not following.followable(c):
        abort(404)
    return c


def _render_follow(c: Complaint, form: FlaskForm, status: int = 200):
    html = render_template("complaints/public/follow.html", c=c, form=form, sent="terkirim" in request.args,
                           status_label=workflow.status_label, badge=reports.deadline_badge(c, g.tenant),
                           deadline_labels=DEADLINE_LABELS,
                           category=c.category.label(_locale()) if c.category is not None else None)
    return make_response(html, status)


@bp.route("/lacak/<code>/ikuti", methods=["GET", "POST"])
@limiter.limit(_follow_limit, methods=["POST"], key_func=submit_key)
def follow(code: str):
    """Follow a public report instead of filing the same one again: a confirmation link goes to the
    contact (the same answer whether or not it already follows)."""
    c = _followable(code)
    if code != c.code:
        return redirect(url_for(".follow", code=c.code), 301)
    form = f.ContactForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _render_follow(c, form, 200 if request.method == "GET" else 400)
    citizen = signed_in_citizen()
    with unit_of_work(form, fallback="contact") as work:
        following.request_follow(c, form.contact.data, _locale(), user_id=citizen.id if citizen else None)
    if work.failed:
        return _render_follow(c, form, 400)
    return redirect(url_for(".follow", code=c.code, terkirim=1), 303)


def _link_broken(heading, text, status: int = 404):
    html = render_template("message.html", heading=heading, text=text, back_url=url_for(".track_lookup"),
                           back_label=_("Track a report"))
    return private_response(make_response(html, status))


@bp.route("/lacak/<code>/ikuti/<token>", methods=["GET", "POST"])
@limiter.limit(_action_limit)
def follow_confirm(code: str, token: str):
    """The confirmation link: a button (a mail scanner opening the link confirms nothing), then the follow."""
    c = _followable(code)
    form = f.ConfirmForm()
    if request.method == "GET":
        if not following.follow_link_valid(c, token):
            return _link_broken(_l("This link does not work"),
                                _l("The link has expired or was already used. Ask again on the report's page."))
        html = render_template("complaints/public/follow_confirm.html", c=c, form=form, token=token)
        return private_response(make_response(html))
    if not form.validate_on_submit():
        abort(400)
    citizen = signed_in_citizen()
    with unit_of_work(catch=False) as work:
        done = following.confirm_follow(c, token, user_id=citizen.id if citizen else None)
        if not done:
            work.discard()
    if not done:
        return _link_broken(_l("This link does not work"),
                            _l("The link has expired or was already used. Ask again on the report's page."))
    flash(_("You now follow report %(code)s. Every message about it has a link to stop following.", code=c.code),
          "info")
    return redirect(url_for(".track", code=c.code), 303)


@bp.route("/berhenti-mengikuti/<token>", methods=["GET", "POST"])
@limiter.limit(_action_limit)
def unfollow(token: str):
    """The link in every message to a follower: one click, then a confirm button; no sign-in."""
    form = f.ConfirmForm()
    if request.method == "GET":
        c = following.report_of_unfollow_token(token)
        if c is None:
            return _link_broken(_l("You no longer follow this report"),
                                _l("This link was already used, or it is not a link of %(tenant)s.",
                                   tenant=g.tenant.name))
        html = render_template("complaints/public/unfollow.html", c=c, form=form, token=token)
        return private_response(make_response(html))
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(catch=False):
        removed = following.unfollow(token)
    return _link_broken(_l("You no longer follow this report"),
                        _l("You will receive no more messages about it."), 200 if removed else 404)


# ---------------------------------------------------------------- transparency

@bp.route("/transparansi")
def transparency():
    """Public reports of the region with their answers, and how many were handled in time; filterable by
    category, status and month (GET), with a map of the reports that have a position."""
    page = request.args.get("page", 1, type=page_number)
    categories = reports.active_categories()
    flt = reports.PublicFilter.parse(request.args, categories)
    result = reports.transparency_page(page, flt=flt, tenant=g.tenant)
    if page > 1 and page > result.pages:
        abort(404)
    figures = reports.public_figures(flt, g.tenant)
    return render_template(
        "complaints/public/transparency.html", result=result, counts=figures.counts,
        photos=public_photos([item.complaint for item in result.items]),
        share=figures.share, status_label=workflow.status_label, statuses=Status.ALL,
        flt=flt, categories=categories, months=reports.recent_months(g.tenant),
        listed_statuses=reports.LISTED_STATUSES, agencies=figures.agencies,
        area=area_of(g.tenant),
    )


@bp.route("/transparansi/peta.json")
def transparency_map():
    """The public map's pins (the same filters as the page): listed reports only, anonymous ones rounded."""
    flt = reports.PublicFilter.parse(request.args, reports.active_categories())
    points = reports.map_points(flt, g.tenant)
    for p in points:
        p["url"] = url_for(".track", code=p["code"])
        p["status"] = str(workflow.status_label(p["status"]))
    response = jsonify({"points": points})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
