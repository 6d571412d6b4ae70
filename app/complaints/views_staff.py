"""Staff pages: the complaint unit's inbox and actions, and the agency liaison's work.

Every action: parse the form, call ONE service function with the signed-in actor in one unit of work
(``app.unit_of_work``), flash, redirect to the report. Bad input re-renders the report with the errors
(400); an action that is not possible now, or a report changed meanwhile, answers 409 with the reason
and a link to reload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import Gone, NotFound

from app.accounts.access import roles_required, staff_required
from app.accounts.models import Role
from app.agencies.models import Agency, Category
from app.complaints import access, actions, duplicates, exports, inbox, referrals, service, test_marker, workflow
from app.complaints import forms as f
from app.complaints import response_templates as rt
from app.complaints.models import CLASSES, Complaint, FollowUp, FollowUpStatus, Status, Visibility
from app.complaints.uploads import attachment_response, read_attachment, read_thumbnail, thumbnail_response
from app.inputs import page_number
from app.privacy import forms as privacy_forms
from app.tenancy.models import utcnow
from app.unit_of_work import unit_of_work

bp = Blueprint("complaints_staff", __name__, url_prefix="/staff")

unit_required = roles_required(*Role.UNIT)

FOLLOWUP_LABELS = {
    FollowUpStatus.DRAFT: _l("Draft"),
    FollowUpStatus.SUBMITTED: _l("Sent for review"),
    FollowUpStatus.RETURNED: _l("Returned to the agency"),
    FollowUpStatus.PUBLISHED: _l("Published"),
}
FIELD_LABELS = {
    "status": _l("Status"),
    "title": _l("Title"),
    "complaint_class": _l("Class"),
    "category_id": _l("Category"),
    "tags": _l("Tags"),
    "anonymous": _l("Anonymous"),
    "confidential": _l("Confidential"),
}
ACTION_LABELS = {
    "verify": _l("Verify"),
    "edit": _l("Edit details"),
    "hold": _l("Put on hold: ask for information"),
    "resume": _l("Resume verification"),
    "refer": _l("Refer: not our authority"),
    "archive": _l("Archive"),
    "dispose": _l("Send to agencies (disposition)"),
    "note": _l("Add an internal note"),
    "public_reply": _l("Send a message to the reporter"),
    "followup": _l("Write the follow-up"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
    "merge": _l("Merge into another report"),
    "accept_referral": _l("Accept the referral"),
    "decline_referral": _l("Decline the referral"),
    "send_back": _l("Send back to the complaint unit"),
}
#: Forms of the report page, keyed by their prefix (= the action they perform).
FORMS: dict[str, type[FlaskForm]] = {
    "verify": f.VerifyForm,
    "edit": f.EditForm,
    "hold": f.HoldForm,
    "resume": f.ResumeForm,
    "refer": f.ReferForm,
    "archive": f.ArchiveForm,
    "dispose": f.DisposeForm,
    "note": f.NoteForm,
    "public_reply": f.PublicReplyForm,
    "followup": f.FollowUpForm,
    "return_followup": f.ReturnFollowUpForm,
    "publish_followup": f.PublishFollowUpForm,
    "close": f.CloseForm,
    "reopen": f.ReopenForm,
    "merge": f.MergeForm,
    "accept_referral": f.AcceptReferralForm,
    "decline_referral": f.DeclineReferralForm,
    "send_back": f.SendBackForm,
}
#: Workflow action(s) that make a form appear.
FORM_ACTIONS = {"followup": ("draft_followup", "submit_followup")}


# ---------------------------------------------------------------- helpers

@bp.app_context_processor
def _labels() -> dict:
    return {"status_label": workflow.status_label, "class_label": inbox.class_label,
            "stage_label": inbox.stage_label, "event_label": workflow.event_label}


def _user():
    return current_user._get_current_object()


def _actor() -> service.Actor:
    return service.Actor.of(_user())


def _locale() -> str:
    return str(get_locale() or "id")


def _categories() -> list[Category]:
    return inbox.categories_by_code()


def _agencies(active_only: bool = True) -> list[Agency]:
    return inbox.agencies_by_short_name(active_only)


def _category_choices(include_inactive_id: int | None = None) -> list[tuple]:
    loc = _locale()
    rows = [c for c in _categories() if c.active or c.id == include_inactive_id]
    return [("", "—")] + [(c.id, c.label(loc)) for c in rows]


def _class_choices() -> list[tuple]:
    return [(k, inbox.class_label(k)) for k in CLASSES]


def _detail_url(c_id: int) -> str:
    # Absolute endpoint: the personal-data actions (privacy blueprint) answer conflicts through here too.
    return url_for("tenant.complaints_staff.detail", complaint_id=c_id)


def _own_followup(c: Complaint, agency_id: int | None) -> FollowUp | None:
    if agency_id is None:
        return None
    for fu in inbox.followups(c, _user()):
        if fu.agency_id == agency_id and fu.status != FollowUpStatus.PUBLISHED:
            return fu
    return None


def _active_dispositions(c: Complaint) -> list:
    return [d for d in c.dispositions if d.active]


def _build_form(key: str, c: Complaint, display: bool, fu: FollowUp | None = None) -> FlaskForm:
    """The form ``key`` with its choices; with ``display`` it is pre-filled from the report and not
    bound to the request (a posted form takes everything, the version included, from the post)."""
    prefix = key if fu is None else f"{key}-{fu.id}"
    data: dict = {}
    if display:
        data["version"] = c.version
        if key in ("verify", "edit"):
            data.update(title=c.title, complaint_class=c.complaint_class, category_id=c.category_id,
                        tags=", ".join(c.tags or []), anonymous=c.anonymous, confidential=c.confidential)
        elif key == "publish_followup" and fu is not None:
            data["body"] = fu.body
        elif key == "followup":
            agency_id = _user().agency_id if _user().role == Role.LIAISON else None
            active = _active_dispositions(c)
            if agency_id is None and len(active) == 1:
                agency_id = active[0].agency_id
            own = _own_followup(c, agency_id)
            data.update(agency_id=agency_id, body=own.body if own else "")
    form = FORMS[key](prefix=prefix, formdata=None, data=data) if display else FORMS[key](prefix=prefix)
    if key in ("verify", "edit"):
        form.complaint_class.choices = _class_choices()
        form.category_id.choices = _category_choices(c.category_id)
    elif key == "dispose":
        holding = {d.agency_id for d in _active_dispositions(c)}
        form.agency_ids.choices = [(a.id, a.name) for a in _agencies() if a.id not in holding]
    elif key == "refer":
        # The platform's other live regions (app.complaints.referrals); empty: a body outside the platform.
        form.target_tenant_id.choices = [("", _("— none: a body outside the platform —"))] + [
            (t.id, t.name) for t in referrals.regions_to_refer_to()]
    elif key == "send_back":
        form.reason.choices = [(k, str(v)) for k, v in service.SEND_BACK_REASONS.items()]
    elif key == "public_reply":
        form.template_id.choices = [("", "—")] + [(t.id, t.title) for t in rt.list_templates(active_only=True)]
    elif key == "followup":
        # A follow-up sent for review is the complaint unit's to publish or return; it cannot be edited meanwhile.
        in_review = {fu.agency_id for fu in inbox.followups(c, _user()) if fu.status == FollowUpStatus.SUBMITTED}
        form.agency_id.choices = [(d.agency_id, d.agency.short_name) for d in _active_dispositions(c)
                                  if d.agency_id not in in_review]
    return form


def _forms_for(c: Complaint, failed: dict | None = None) -> tuple[dict, dict, tuple | None]:
    """Forms for the actions available now (app.complaints.actions), per-follow-up review forms
    ({follow-up id: {key: form}}) and the test-report mark's (action, form) or None; a failed form keeps its
    input. One :func:`actions.available_actions` answer serves them all."""
    failed = failed or {}
    available = actions.available_actions(c, _user())
    names = {a.action for a in available if a.followup_id is None}
    if "edit" in failed and "verify" in names:
        names.add("edit")  # the failed edit stays on the page with its errors
    forms = {key: failed.get(key) or _build_form(key, c, display=True)
             for key in FORMS if names & set(FORM_ACTIONS.get(key, (key,)))}
    if "close" in forms:
        close_requires = next((a.requires for a in available if a.action == "close"), ())
        if "reason" in close_requires:
            forms["close"].reason.flags.required = True
        else:
            del forms["close"]["reason"]  # asked for only while the reporter's objection is unanswered
    per_followup: dict[int, list[str]] = {}
    for a in available:
        if a.followup_id is not None:
            per_followup.setdefault(a.followup_id, []).append(a.action)
    review: dict[int, dict] = {}
    for fu in inbox.visible_followups(c, _user()):
        if fu.status != FollowUpStatus.PUBLISHED:
            review[fu.id] = {key: failed.get(f"{key}-{fu.id}") or _build_form(key, c, True, fu)
                             for key in per_followup.get(fu.id, ())}
    return forms, review, test_marker.form_for(c, available)


def _change_value(key: str, value, categories: dict) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "status":
        return workflow.status_label(value)
    if key == "complaint_class":
        return inbox.class_label(value)
    if key == "category_id":
        return categories.get(value, str(value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _field_changes(events, categories: dict) -> dict:
    """{event id: [(field label, before, after)]} for the events that edit the report's details."""
    changes = {}
    for ev in events:
        if ev.kind in ("verify", "edit"):
            keys = [k for k in (ev.after or {}) if (ev.before or {}).get(k) != ev.after.get(k)]
            changes[ev.id] = [(str(FIELD_LABELS.get(k, k)), _change_value(k, (ev.before or {}).get(k), categories),
                               _change_value(k, ev.after.get(k), categories)) for k in keys]
    return changes


def render_detail(c: Complaint, failed: dict | None = None, status: int = 200):
    user = _user()
    loc = _locale()
    categories = {cat.id: cat.label(loc) for cat in _categories()}
    atts = access.attachments(c, user)
    by_event: dict = {}
    for att in atts:
        by_event.setdefault(att.event_id, []).append(att)
    events = access.timeline(c, for_staff=True)
    changes = _field_changes(events, categories)
    forms, review, test_mark = _forms_for(c, failed)
    merged_into = None
    if c.merged_into_id:
        try:
            merged_into = access.access_complaint(c.merged_into_id, user)
        except NotFound:
            merged_into = None
    templates = rt.list_templates(active_only=True) if "public_reply" in forms else []
    sent_back = None
    if c.sent_back_at is not None and c.is_open and access.is_unit(user):
        sent_back = next((ev for ev in reversed(events) if ev.kind == "send_back"), None)
    pdp_forms = privacy_forms.staff_forms(c, failed) if access.is_unit(user) else {}
    return render_template(
        "complaints/staff/detail.html", c=c, reporter=access.reporter_view(c, user), attachments=atts,
        attachments_by_event=by_event, events=events, changes=changes, forms=forms, review=review,
        followups=inbox.followups(c, user),
        dispositions=c.dispositions, category=categories.get(c.category_id), badge=inbox.deadline_badge(c, g.tenant),
        stage=inbox.stage_label(c.due_stage), templates=templates, merged_into=merged_into,
        followup_labels=FOLLOWUP_LABELS, is_unit=access.is_unit(user), Visibility=Visibility,
        action_labels=ACTION_LABELS, templates_json={str(t.id): t.body for t in templates}, pdp_forms=pdp_forms,
        referral=referrals.staff_view(c),
        duplicate_candidates=duplicates.candidates(c, user), sent_back=sent_back,
        send_back_reason=service.send_back_reason_label, test_mark=test_mark,
    ), status


#: Form fields whose typed text the conflict page gives back.
TYPED_FIELDS = ("StringField", "TextAreaField")


def conflict_page(complaint_id: int, message, form: FlaskForm | None = None) -> tuple[str, int]:
    """The 409 page: the action is not possible now (or the report changed meanwhile), with a reload link.

    With the posted ``form``: who changed the report since the version the form was based on, what and when
    (the event log; the officer's own other tab or window named as such), and the text they had typed, to
    copy. Only labels and field changes of the events are shown, never their messages: nothing of the
    reporter reaches a liaison here."""
    user = _user()
    try:
        c = access.access_complaint(complaint_id, user)  # as committed now (the failed work was rolled back)
    except NotFound:
        c = None  # no longer this user's to see (e.g. the disposition was withdrawn): the typed text stays
    seen = _version(form) if form is not None and hasattr(form, "version") else None
    since = access.events_since(c, seen) if c is not None and seen is not None and 0 < seen < c.version else []
    categories = {cat.id: cat.label(_locale()) for cat in _categories()} if since else {}
    field_changes = _field_changes(since, categories)
    changes = []
    for ev in since:
        mine = ev.actor_type == "staff" and ev.actor_id is not None and ev.actor_id == user.id
        who = (_("You, in another tab or window") if mine else ev.actor_label
               or (_("The reporter") if ev.actor_type == "citizen" else _("The system")))
        changes.append({"at": ev.at, "who": who, "mine": mine, "what": workflow.event_label(ev.kind),
                        "fields": field_changes.get(ev.id, [])})
    if changes and all(ch["mine"] for ch in changes):  # not "someone else": the officer's own other tab
        message = _("You changed this report yourself meanwhile, in another tab or window. Reload it and try "
                    "again.")
    typed = []
    if form is not None:
        typed = [(fld.label.text, fld.data) for fld in form
                 if fld.type in TYPED_FIELDS and isinstance(fld.data, str) and fld.data.strip()]
    return render_template("complaints/staff/conflict.html", message=str(message), changes=changes, typed=typed,
                           reload_url=_detail_url(complaint_id)), 409


def perform(complaint_id: int, key: str, call: Callable[[Complaint, FlaskForm], object], success,
            followup_id: int | None = None, form: FlaskForm | None = None,
            next_url: Callable[[], str] | None = None):
    """Validate the posted form ``key`` (or the given ``form``), run ``call`` (one service function) in one unit
    of work, redirect to the report (or to ``next_url()``). Bad input re-renders the report (400); a conflict
    answers 409."""
    c = access.access_complaint(complaint_id, _user())
    fu = None
    if followup_id is not None:
        fu = inbox.followup(c, _user(), followup_id)
        if fu is None:
            abort(404)
    if form is None:
        form = _build_form(key, c, display=False, fu=fu)
    prefix = form._prefix.rstrip("-")
    if not form.validate_on_submit():
        return render_detail(c, failed={prefix: form}, status=400)
    with unit_of_work(form) as work:
        call(c, form)
    if work.invalid:
        c = access.access_complaint(complaint_id, _user())
        return render_detail(c, failed={prefix: form}, status=400)
    if work.conflict:
        return conflict_page(complaint_id, work.failure.message, form)
    flash(str(success), "info")
    return redirect(next_url() if next_url else _detail_url(complaint_id))


def _version(form: FlaskForm) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return -1  # a tampered version never matches: the report is treated as changed


# ---------------------------------------------------------------- inbox and report

def _filter_form(formdata=None) -> f.InboxFilterForm:
    """The inbox filters from the query string (or, for an export, from the posted form)."""
    form = f.InboxFilterForm(formdata=request.args if formdata is None else formdata)
    any_ = ("", _("All"))
    form.status.choices = [any_] + [(s, workflow.status_label(s)) for s in Status.ALL]
    form.complaint_class.choices = [any_] + _class_choices()
    form.category_id.choices = [("", _("All"))] + _category_choices()[1:]
    form.agency_id.choices = [("", _("All"))] + [(a.id, a.short_name) for a in _agencies(active_only=False)]
    form.deadline.choices = [any_] + [(k, str(v)) for k, v in inbox.DEADLINE_FILTERS.items()]
    form.sort.choices = [(k, str(v)) for k, v in inbox.SORTS.items()]
    lists = inbox.LIST_FILTERS if access.is_unit(_user()) else {"duplicates": inbox.LIST_FILTERS["duplicates"]}
    form.only.choices = [any_] + [(k, str(v)) for k, v in lists.items()]
    form.validate()
    return form


def _filters(form: f.InboxFilterForm) -> inbox.InboxFilters:
    def ok(field):
        return None if field.errors else (field.data or None)

    return inbox.InboxFilters(
        status=ok(form.status), complaint_class=ok(form.complaint_class), category_id=ok(form.category_id),
        agency_id=ok(form.agency_id), deadline=ok(form.deadline), date_from=ok(form.date_from),
        date_to=ok(form.date_to), q=ok(form.q), sort=ok(form.sort) or "newest",
        page=request.args.get("page", 1, type=page_number), only=ok(form.only),
    )


@bp.get("/complaints")
@staff_required
def inbox_list():
    """The inbox: the reports this user may see, filtered, sorted and paginated."""
    form = _filter_form()
    filters = _filters(form)
    now = utcnow()
    if filters.q:
        counts, page = inbox.search_page(_user(), filters, now)
    else:
        counts = inbox.status_counts(_user(), filters, now)
        page = inbox.paginate(_user(), filters, now, counts=counts)
    badges = {c.id: inbox.deadline_badge(c, g.tenant, now) for c in page.items}
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    html = render_template(
        "complaints/staff/inbox.html", form=form, filters=filters, page=page, counts=counts, badges=badges,
        statuses=Status.ALL, args=args, args_without_status={k: v for k, v in args.items() if k != "status"},
        locale=_locale(), export_form=f.ExportForm(formdata=None), export_fields=_export_fields(form),
        inline_max=exports.inline_max_rows(), may_export_identity=access.is_unit(_user()),
    )
    # A refused filter is shown at its field and left out of the list; the status says it was refused.
    return html, 400 if form.errors else 200


def _export_fields(form: f.InboxFilterForm) -> dict[str, str]:
    """The inbox's accepted filters as the export form's hidden fields (a refused one is left out, as in the list)."""
    fields = {}
    for fld in form:
        if fld.name == "csrf_token" or fld.errors or fld.data in (None, ""):
            continue
        fields[fld.name] = fld.data.isoformat() if isinstance(fld.data, date) else str(fld.data)
    return fields


# ---------------------------------------------------------------- exports (app.complaints.exports)


@bp.post("/complaints/export")
@staff_required
def export():
    """Export the inbox's list with its filters: a small list downloads at once, a large one becomes a job."""
    form = _filter_form(request.form)
    export_form = f.ExportForm()
    if form.errors or not export_form.validate_on_submit():
        flash(_("The export could not be made: check the filters."), "error")
        return redirect(url_for(".inbox_list"), 303)
    with unit_of_work() as work:
        started = exports.start_export(_user(), _filters(form), export_form.fmt.data, export_form.identity.data,
                                       _locale())
    if work.failed:
        return work.flash_and_redirect(url_for(".inbox_list"))
    if started.data is None:
        return redirect(url_for(".export_status", export_id=started.export.id), 303)
    return _file_response(started.data, started.export)


def _file_response(data: bytes, export) -> Response:
    resp = Response(data, mimetype=export.content_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/exports/<int:export_id>")
@staff_required
def export_status(export_id: int):
    """Progress of the user's own background export (refreshes itself until done), then its download link."""
    item = exports.access_export(export_id, _user())
    progress = exports.progress_of(item)
    ready = progress.status == exports.ExportStatus.DONE and item.storage_key
    token = exports.download_token(item) if ready else None
    html = render_template("complaints/staff/export_status.html", item=item, progress=progress, token=token,
                           statuses=exports.ExportStatus)
    resp = Response(html)
    if progress.status == exports.ExportStatus.QUEUED:
        resp.headers["Refresh"] = "3"  # no JavaScript needed: the browser reloads the page
    return resp


@bp.get("/exports/file/<token>")
@staff_required
def export_download(token: str) -> Response:
    """The file of a background export, through its signed link: only its user, only before it expires."""
    with unit_of_work(catch=False):  # an expired link deletes its file: that is committed
        try:
            item, data = exports.open_download(token, _user())
        except Gone:
            expired = True
        else:
            expired = False
    if expired:
        return render_template("complaints/staff/export_status.html", item=None, progress=None, token=None,
                               statuses=exports.ExportStatus), 410
    return _file_response(data, item)


@bp.get("/complaints/<int:complaint_id>")
@staff_required
def detail(complaint_id: int):
    """One report: details, reporter (as far as this user may see), timeline, follow-ups, actions."""
    return render_detail(access.access_complaint(complaint_id, _user()))


@bp.get("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@staff_required
def attachment(complaint_id: int, attachment_id: int) -> Response:
    """Download an attachment this user may see (photos of anonymous reports stay with the unit)."""
    c = access.access_complaint(complaint_id, _user())
    att = access.access_attachment(attachment_id, c, _user())
    try:
        data = read_attachment(att)
    except FileNotFoundError:
        abort(404)
    return attachment_response(att, data, att.filename, "private, no-store")


@bp.get("/complaints/<int:complaint_id>/attachments/<int:attachment_id>/thumbnail")
@staff_required
def attachment_thumbnail(complaint_id: int, attachment_id: int) -> Response:
    """A photo's thumbnail, to exactly the staff who may open the photo itself."""
    c = access.access_complaint(complaint_id, _user())
    att = access.access_attachment(attachment_id, c, _user())
    try:
        data = read_thumbnail(att)
    except FileNotFoundError:
        abort(404)
    return thumbnail_response(att, data, "private, no-store")


@bp.get("/complaints/<int:complaint_id>/duplicates/<int:other_id>")
@staff_required
def duplicate_preview(complaint_id: int, other_id: int):
    """Two reports side by side (title, description, location, time, category, status, photos), with a one-click
    merge either way for the complaint unit. Both must be visible to the user; no reporter identity is shown."""
    user = _user()
    c = access.access_complaint(complaint_id, user)
    other = access.access_complaint(other_id, user)
    if c.id == other.id:
        abort(404)
    loc = _locale()
    categories = {cat.id: cat.label(loc) for cat in _categories()}
    sides = [{"c": x, "category": categories.get(x.category_id),
              "photos": [a for a in access.attachments(x, user) if a.thumb_key]} for x in (c, other)]
    merges = []
    if access.is_unit(user):
        # The newer report usually joins the older one: offer that first.
        pairs = sorted([(c, other), (other, c)], key=lambda p: p[0].submitted_at, reverse=True)
        for dup, primary in pairs:
            if any(a.action == "merge" for a in actions.available_actions(dup, user)) and primary.is_open:
                merges.append({"dup": dup, "primary": primary})
    return render_template("complaints/staff/duplicate_preview.html", c=c, other=other, sides=sides,
                           comparison=duplicates.compare(c, other), merges=merges)


# ---------------------------------------------------------------- actions of the complaint unit

@bp.post("/complaints/<int:complaint_id>/verify")
@unit_required
def verify(complaint_id: int):
    """Verify: title, class, category, tags and privacy flags."""
    def call(c, form):
        return service.verify(
            c, _actor(), title=form.title.data, complaint_class=form.complaint_class.data,
            category_id=form.category_id.data, tags=form.tag_list(), anonymous=form.anonymous.data,
            confidential=form.confidential.data, expected_version=_version(form))

    return perform(complaint_id, "verify", call, _l("The report is verified."))


@bp.post("/complaints/<int:complaint_id>/edit")
@unit_required
def edit(complaint_id: int):
    """Edit the classification after verification."""
    def call(c, form):
        return service.edit(
            c, _actor(), expected_version=_version(form), title=form.title.data,
            complaint_class=form.complaint_class.data, category_id=form.category_id.data, tags=form.tag_list(),
            anonymous=form.anonymous.data, confidential=form.confidential.data)

    return perform(complaint_id, "edit", call, _l("The changes are saved."))


@bp.post("/complaints/<int:complaint_id>/hold")
@unit_required
def hold(complaint_id: int):
    """Put on hold (tunda) and ask the reporter for the missing information."""
    return perform(complaint_id, "hold", lambda c, form: service.hold(
        c, _actor(), form.message.data, expected_version=_version(form)),
        _l("The report is on hold; the reporter was asked for more information."))


@bp.post("/complaints/<int:complaint_id>/resume")
@unit_required
def resume(complaint_id: int):
    """End a hold: verification continues."""
    return perform(complaint_id, "resume", lambda c, form: service.resume(
        c, _actor(), expected_version=_version(form)), _l("Verification continues."))


@bp.post("/complaints/<int:complaint_id>/refer")
@unit_required
def refer(complaint_id: int):
    """Not our authority: refer to another region on the platform, or to a body outside it."""
    return perform(complaint_id, "refer", lambda c, form: referrals.refer(
        c, _actor(), form.target_tenant_id.data, form.refer_to.data, form.message.data,
        expected_version=_version(form)), _l("The report is referred to the body with authority."))


@bp.post("/complaints/<int:complaint_id>/accept-referral")
@unit_required
def accept_referral(complaint_id: int):
    """Accept a report another region referred here: it is handled here as a new report."""
    return perform(complaint_id, "accept_referral", lambda c, form: referrals.accept(
        c, _actor(), expected_version=_version(form)), _l("The referral is accepted: verify the report now."))


@bp.post("/complaints/<int:complaint_id>/decline-referral")
@unit_required
def decline_referral(complaint_id: int):
    """Decline a report another region referred here, with a reason: it goes back to that region."""
    return perform(complaint_id, "decline_referral", lambda c, form: referrals.decline(
        c, _actor(), form.reason.data, expected_version=_version(form)),
        _l("The referral is declined; the report goes back to the referring region."))


@bp.post("/complaints/<int:complaint_id>/archive")
@unit_required
def archive(complaint_id: int):
    """Archive with a reason."""
    return perform(complaint_id, "archive", lambda c, form: service.archive(
        c, _actor(), form.reason.data, expected_version=_version(form)), _l("The report is archived."))


@bp.post("/complaints/<int:complaint_id>/dispose")
@unit_required
def dispose(complaint_id: int):
    """Send to one or more agencies (disposisi)."""
    return perform(complaint_id, "dispose", lambda c, form: service.dispose(
        c, _actor(), form.agency_ids.data, (form.instruction.data or "").strip() or None,
        expected_version=_version(form)), _l("The report is sent to the agencies."))


@bp.post("/complaints/<int:complaint_id>/public-reply")
@unit_required
def public_reply(complaint_id: int):
    """A message to the reporter; an empty message sends the chosen template's text."""
    def call(c, form):
        message = (form.message.data or "").strip()
        if not message and form.template_id.data:
            try:
                message = rt.access_template(form.template_id.data, active_only=True).body
            except NotFound:
                raise service.ValidationError({"template_id": _l("Choose a template from the list.")}) from None
        return service.public_reply(c, _actor(), message)

    return perform(complaint_id, "public_reply", call, _l("The message is sent to the reporter."))


@bp.post("/complaints/<int:complaint_id>/followups/<int:followup_id>/return")
@unit_required
def return_followup(complaint_id: int, followup_id: int):
    """Send a follow-up back to the agency with a remark."""
    return perform(complaint_id, "return_followup", lambda c, form: service.return_followup(
        c, _actor(), followup_id, form.remark.data), _l("The follow-up is returned to the agency."),
        followup_id=followup_id)


@bp.post("/complaints/<int:complaint_id>/followups/<int:followup_id>/publish")
@unit_required
def publish_followup(complaint_id: int, followup_id: int):
    """Publish a follow-up to the reporter (optionally corrected)."""
    return perform(complaint_id, "publish_followup", lambda c, form: service.publish_followup(
        c, _actor(), followup_id, form.body.data, expected_version=_version(form)),
        _l("The follow-up is published to the reporter."), followup_id=followup_id)


@bp.post("/complaints/<int:complaint_id>/close")
@unit_required
def close(complaint_id: int):
    """Close the report."""
    return perform(complaint_id, "close", lambda c, form: service.close(
        c, _actor(), form.message.data, expected_version=_version(form), reason=form.reason.data),
        _l("The report is closed."))


@bp.post("/complaints/<int:complaint_id>/reopen")
@unit_required
def reopen(complaint_id: int):
    """Reopen a closed report."""
    return perform(complaint_id, "reopen", lambda c, form: service.reopen(
        c, _actor(), form.reason.data, expected_version=_version(form)), _l("The report is reopened."))


@bp.post("/complaints/<int:complaint_id>/merge")
@unit_required
def merge(complaint_id: int):
    """Merge this report, a duplicate, into the report with the given tracking code."""
    def call(c, form):
        try:
            primary = access.access_complaint_by_code(form.primary_code.data)
            primary = access.access_complaint(primary.id, _user())
        except NotFound:
            raise service.ValidationError({"primary_code": _l("No report has this tracking code.")}) from None
        return service.merge(c, primary, _actor(), expected_version=_version(form))

    return perform(complaint_id, "merge", call, _l("The report is merged into the main report."))


@bp.post("/complaints/<int:complaint_id>/mark-test")
@unit_required
def mark_test(complaint_id: int):
    """Mark the report as a test report: left out of every statistic."""
    return _set_test_mark(complaint_id, True)


@bp.post("/complaints/<int:complaint_id>/unmark-test")
@unit_required
def unmark_test(complaint_id: int):
    """Count the report in the statistics again."""
    return _set_test_mark(complaint_id, False)


def _set_test_mark(complaint_id: int, on: bool):
    form = test_marker.MarkTestForm(prefix=test_marker.PREFIX)
    return perform(complaint_id, test_marker.PREFIX, lambda c, form: service.mark_test(
        c, _actor(), on, form.reason.data, expected_version=_version(form)),
        _l("The report is marked as a test report and left out of the statistics.") if on
        else _l("The report counts in the statistics again."), form=form)



# ---------------------------------------------------------------- actions of an agency's liaison

@bp.post("/complaints/<int:complaint_id>/send-back")
@staff_required
def send_back(complaint_id: int):
    """Return the agency's disposition to the complaint unit with a reason and an explanation (liaisons only)."""
    if _user().role != Role.LIAISON:
        access.access_complaint(complaint_id, _user())  # an unknown or another region's report: 404 first
        abort(403)
    def call(c, form):
        return service.send_back(c, _actor(), form.reason.data, form.message.data, expected_version=_version(form))

    def next_url() -> str:
        try:  # still visible when another disposition of the agency remains; else back to the inbox
            access.access_complaint(complaint_id, _user())
        except NotFound:
            return url_for(".inbox_list")
        return _detail_url(complaint_id)

    return perform(complaint_id, "send_back", call, _l("The report is sent back to the complaint unit."),
                   next_url=next_url)


# ---------------------------------------------------------------- actions of all staff

@bp.post("/complaints/<int:complaint_id>/note")
@staff_required
def note(complaint_id: int):
    """An internal note (staff only)."""
    return perform(complaint_id, "note", lambda c, form: service.note(c, _actor(), form.message.data),
                    _l("The internal note is added."))


@bp.post("/complaints/<int:complaint_id>/followup")
@staff_required
def followup(complaint_id: int):
    """Write the agency's follow-up: save a draft or send it for review."""
    def call(c, form):
        return service.save_followup_draft(c, _actor(), form.body.data, agency_id=form.agency_id.data,
                                           submit=bool(form.send.data))

    sent = request.form.get("followup-send")
    return perform(complaint_id, "followup", call,
                    _l("The follow-up is sent for review.") if sent else _l("The draft is saved."))


# ---------------------------------------------------------------- response templates

@bp.get("/templates")
@unit_required
def templates():
    """The complaint unit's answer templates."""
    return render_template("complaints/staff/templates.html", rows=rt.list_templates())


@bp.route("/templates/new", methods=["GET", "POST"])
@unit_required
def template_new():
    """Add an answer template."""
    form = f.ResponseTemplateForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            rt.create_template(form.title.data, form.body.data, form.active.data)
        if work.ok:
            flash(_("The template is saved."), "info")
            return redirect(url_for(".templates"))
    status = 400 if form.is_submitted() else 200
    return render_template("complaints/staff/template_form.html", form=form, row=None), status


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@unit_required
def template_edit(template_id: int):
    """Change an answer template."""
    row = rt.access_template(template_id)
    form = f.ResponseTemplateForm(obj=row)
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            rt.update_template(row, form.title.data, form.body.data, form.active.data)
        if work.ok:
            flash(_("The template is saved."), "info")
            return redirect(url_for(".templates"))
    status = 400 if form.is_submitted() else 200
    return render_template("complaints/staff/template_form.html", form=form, row=row), status


@bp.post("/templates/<int:template_id>/active")
@unit_required
def template_active(template_id: int):
    """Stop offering a template (or offer it again)."""
    row = rt.access_template(template_id)
    active = request.form.get("active") == "1"
    with unit_of_work(catch=False):
        rt.set_template_active(row, active)
    flash(_("The template is offered again.") if active else _("The template is no longer offered."), "info")
    return redirect(url_for(".templates"))
