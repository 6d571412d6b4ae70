"""Tenant settings pages (tenant administrators only): branding, agencies and liaisons, categories and
routing, deadlines and local holidays, staff, and the audit trail of every change.

Each POST: form → one service call in one unit of work (``app.unit_of_work``) → redirect. The onboarding
checklist links here. The staff page is the one place where staff accounts are administered.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.accounts import services as accounts
from app.accounts.access import roles_required
from app.accounts.audit import action_label, detail_text
from app.accounts.forms import StaffRoleForm
from app.accounts.models import Role, User
from app.complaints.inbox import class_label
from app.complaints.models import CLASSES
from app.i18n import role_label
from app.inputs import page_number
from app.onboarding import forms as onboarding_forms
from app.onboarding import service as onboarding
from app.onboarding.views import invite_link
from app.settings import forms as f
from app.settings import service
from app.storage import storage
from app.unit_of_work import transactional, unit_of_work

bp = Blueprint("settings", __name__, url_prefix="/staff/settings", template_folder="templates")
#: The logo is public (shown on the region's pages): its own blueprint so the admin-only guard stays simple.
public_bp = Blueprint("branding", __name__)

admin_required = roles_required(Role.TENANT_ADMIN)


#: Audit event kinds → what the change log says (the raw kind is shown beside it).
AUDIT_LABELS = {
    "tenant.provisioned": _l("Region set up"),
    "tenant.went_live": _l("Service opened to the public"),
    "tenant.suspended": _l("Region suspended by the central administrator"),
    "tenant.reactivated": _l("Region reactivated by the central administrator"),
    "branding.updated": _l("Branding changed"),
    "branding.logo_updated": _l("Logo uploaded"),
    "branding.logo_removed": _l("Logo removed"),
    "agency.created": _l("Agency added"),
    "agency.updated": _l("Agency changed"),
    "liaison.assigned": _l("Liaison assigned"),
    "category.created": _l("Category added"),
    "category.updated": _l("Category changed"),
    "settings.deadlines_confirmed": _l("Deadlines confirmed"),
    "settings.deadlines_updated": _l("Deadlines changed"),
    "settings.holiday_added": _l("Local holiday added"),
    "settings.holiday_removed": _l("Local holiday removed"),
    "staff.invited": _l("Staff member invited"),
    "staff.invitation_resent": _l("Invitation sent again"),
    "staff.invitation_revoked": _l("Invitation withdrawn"),
    "clone.item_confirmed": _l("Copied set-up confirmed"),
    "bridge.updated": _l("SP4N-LAPOR! bridge settings changed"),
    "bridge.tested": _l("SP4N-LAPOR! connection tested"),
    "staff.deactivated": _l("Staff account deactivated"),
    "staff.activated": _l("Staff account reactivated"),
    "api_key.created": _l("API key made"),
    "api_key.revoked": _l("API key revoked"),
}


@bp.app_template_global()
def audit_label(kind: str) -> str:
    return str(AUDIT_LABELS.get(kind, kind))


def _invite_form() -> onboarding_forms.InviteForm:
    form = onboarding_forms.InviteForm(prefix="invite")
    form.role.choices = [SelectChoice(Role.LIAISON, _("Agency liaison")),
                         SelectChoice(Role.OFFICER, _("Complaint unit officer")),
                         SelectChoice(Role.TENANT_ADMIN, _("Administrator"))]
    form.agency_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(a.id), a.name) for a in service.active_agencies()]
    return form


def _branding_form() -> onboarding_forms.BrandingForm:
    t = g.tenant
    return onboarding_forms.BrandingForm(prefix="branding", data={
        "service_name": t.service_name or t.name, "tagline": (t.branding or {}).get("tagline", ""),
        "primary_color": (t.branding or {}).get("primary_color", "#0b5394")})


def _actor():
    return current_user._get_current_object()


def _done(message: str, endpoint: str, **values):
    flash(message, "info")
    return redirect(url_for(endpoint, **values), 303)


@bp.route("/")
@admin_required
def index():
    """Overview of the settings sections."""
    return render_template("settings/index.html", steps={s.key: s for s in onboarding.checklist(g.tenant)})


# ---------------------------------------------------------------- branding

def _render_branding(branding=None, logo=None, status: int = 200):
    return render_template("settings/branding.html", branding=branding or _branding_form(),
                           logo=logo or f.LogoForm(prefix="logo"), button=onboarding_forms.EmptyForm(),
                           has_logo=service.logo_file(g.tenant) is not None), status


@bp.route("/branding", methods=["GET", "POST"])
@admin_required
def branding():
    """Name shown to citizens, tagline and colour."""
    if request.method == "GET":
        return _render_branding()
    form = onboarding_forms.BrandingForm(prefix="branding")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            onboarding.update_branding(g.tenant, _actor(), form.service_name.data, form.tagline.data or "",
                                       form.primary_color.data)
        if work.ok:
            return _done(_("Branding saved."), ".branding")
    return _render_branding(branding=form, status=400)


@bp.route("/branding/logo", methods=["POST"])
@admin_required
def logo():
    """Upload a new logo (checked by its content, metadata stripped)."""
    form = f.LogoForm(prefix="logo")
    if form.validate_on_submit():
        upload = form.logo.data
        if not upload or not getattr(upload, "filename", ""):
            form.logo.errors = [*form.logo.errors, _("Choose an image file.")]
        else:
            with unit_of_work(form) as work:
                service.save_logo(g.tenant, _actor(), upload.filename, upload.read(service.LOGO_MAX_BYTES + 1))
            if work.ok:
                return _done(_("The logo has been saved."), ".branding")
    return _render_branding(logo=form, status=400)


@bp.route("/branding/logo/remove", methods=["POST"])
@admin_required
@transactional
def remove_logo():
    """Go back to the name only."""
    if not onboarding_forms.EmptyForm().validate_on_submit():
        abort(400)
    service.remove_logo(g.tenant, _actor())
    return _done(_("The logo has been removed."), ".branding")


@public_bp.route("/logo")
def logo_image():
    """The region's logo (public: it appears on every page of the region)."""
    found = service.logo_file(g.tenant)
    if found is None:
        abort(404)
    key, content_type = found
    try:
        data = storage().get(key)  # at most 1 MB
    except FileNotFoundError:
        abort(404)
    resp = Response(data, mimetype=content_type)
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# ---------------------------------------------------------------- agencies and liaisons

@bp.route("/agencies", methods=["GET", "POST"])
@admin_required
def agencies():
    """Agencies (OPD) with their liaisons; add an agency."""
    form = f.AgencyForm(prefix="agency")
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with unit_of_work(form) as work:
                agency = service.create_agency(g.tenant, _actor(), form.code.data, form.name.data,
                                               form.short_name.data or "")
            if work.ok:
                return _done(_("The agency has been added."), ".agency", agency_id=agency.id)
        status = 400
    return render_template("settings/agencies.html", rows=service.agencies(), form=form,
                           liaisons=service.liaisons_by_agency(), routed=service.categories_by_agency()), status


def _agency_or_404(agency_id: int):
    agency = service.agency_or_none(agency_id)
    if agency is None:
        abort(404)
    return agency


def _liaison_form(agency) -> f.LiaisonForm:
    form = f.LiaisonForm(prefix="liaison")
    form.user_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), f"{u.name} · {role_label(u.role)}"
                     + (f" ({u.agency.short_name})" if u.role == Role.LIAISON and u.agency else ""))
        for u in service.staff_users()
        if u.active and u.role in Role.HANDLERS and u.agency_id != agency.id]
    return form


def _render_agency(agency, form=None, liaison=None, status: int = 200):
    if form is None:
        form = f.AgencyEditForm(prefix="edit", data={"name": agency.name, "short_name": agency.short_name,
                                                     "active": agency.active})
    return render_template("settings/agency.html", agency=agency, form=form,
                           liaison=liaison or _liaison_form(agency),
                           liaisons=service.liaisons_by_agency().get(agency.id, []),
                           routed=service.categories_by_agency().get(agency.id, 0)), status


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@admin_required
def agency(agency_id: int):
    """Rename, deactivate or reactivate one agency."""
    agency = _agency_or_404(agency_id)
    if request.method == "GET":
        return _render_agency(agency)
    form = f.AgencyEditForm(prefix="edit")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            service.update_agency(g.tenant, _actor(), agency, form.name.data, form.short_name.data or "",
                                  form.active.data)
        if work.failed:
            agency = _agency_or_404(agency_id)
        else:
            return _done(_("The agency has been saved."), ".agency", agency_id=agency.id)
    return _render_agency(agency, form=form, status=400)


@bp.route("/agencies/<int:agency_id>/liaison", methods=["POST"])
@admin_required
def assign_liaison(agency_id: int):
    """Make an officer or another agency's liaison this agency's liaison."""
    agency = _agency_or_404(agency_id)
    form = _liaison_form(agency)
    if form.validate_on_submit():
        user = service.staff_user_or_none(form.user_id.data) if form.user_id.data else None
        if user is None:
            form.user_id.errors = [_("Choose an active officer or liaison.")]
        else:
            with unit_of_work(form) as work:
                service.assign_liaison(g.tenant, _actor(), agency, user)
            if work.failed:
                agency = _agency_or_404(agency_id)
            else:
                return _done(_("%(name)s is now a liaison of %(agency)s.", name=user.name, agency=agency.short_name),
                             ".agency", agency_id=agency.id)
    return _render_agency(agency, liaison=form, status=400)


# ---------------------------------------------------------------- categories and routing

def _agency_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("— none (the complaint unit decides) —"))] + [
        SelectChoice(str(a.id), a.name) for a in service.active_agencies()]


@bp.route("/categories", methods=["GET", "POST"])
@admin_required
def categories():
    """Categories with their default agency; add a category."""
    form = f.CategoryForm(prefix="category")
    form.default_agency_id.choices = _agency_choices()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            with unit_of_work(form) as work:
                cat = service.create_category(g.tenant, _actor(), form.code.data, form.name_id.data,
                                              form.name_en.data or "", form.default_agency_id.data)
            if work.ok:
                return _done(_("The category has been added."), ".category", category_id=cat.id)
        status = 400
    return render_template("settings/categories.html", rows=service.categories(), form=form), status


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@admin_required
def category(category_id: int):
    """Rename, re-route, deactivate or reactivate one category."""
    cat = service.category_or_none(category_id)
    if cat is None:
        abort(404)
    if request.method == "GET":
        form = f.CategoryEditForm(prefix="edit", data={
            "name_id": cat.name_id, "name_en": cat.name_en, "active": cat.active,
            "default_agency_id": cat.default_agency_id})
        form.default_agency_id.choices = _agency_choices()
        return render_template("settings/category.html", cat=cat, form=form)
    form = f.CategoryEditForm(prefix="edit")
    form.default_agency_id.choices = _agency_choices()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            service.update_category(g.tenant, _actor(), cat, form.name_id.data, form.name_en.data or "",
                                    form.default_agency_id.data, form.active.data)
        if work.failed:
            cat = service.category_or_none(category_id)
        else:
            return _done(_("The category has been saved."), ".category", category_id=cat.id)
    return render_template("settings/category.html", cat=cat, form=form), 400


# ---------------------------------------------------------------- deadlines and local holidays

def _deadlines_form() -> f.DeadlinesForm:
    d = service.current_deadlines(g.tenant)
    data = {"verification": d.verification, "coordination": d.coordination, "auto_close": d.auto_close,
            "due_soon": d.due_soon, "reopen_window": d.reopen_window,
            **{f"followup_{code}": d.followup.get(code) for code in CLASSES}}
    return f.DeadlinesForm(prefix="deadlines", data=data)


def _render_deadlines(form=None, holiday=None, status: int = 200):
    return render_template("settings/deadlines.html", form=form or _deadlines_form(),
                           holiday=holiday or f.HolidayForm(prefix="holiday"), remove=f.HolidayRemoveForm(),
                           holidays=(g.tenant.settings or {}).get("local_holidays", []),
                           classes=[(code, class_label(code)) for code in CLASSES],
                           confirm=onboarding_forms.EmptyForm()), status


@bp.route("/deadlines", methods=["GET", "POST"])
@admin_required
def deadlines():
    """Working-day deadlines per stage and per class."""
    if request.method == "GET":
        return _render_deadlines()
    form = f.DeadlinesForm(prefix="deadlines")
    if form.validate_on_submit():
        values = service.DeadlineSettings(
            verification=form.verification.data, coordination=form.coordination.data,
            auto_close=form.auto_close.data, due_soon=form.due_soon.data, reopen_window=form.reopen_window.data,
            followup={code: getattr(form, f"followup_{code}").data for code in CLASSES})
        with unit_of_work(form) as work:
            service.update_deadlines(g.tenant, _actor(), values)
        if work.ok:
            return _done(_("The deadlines have been saved. They apply to stages that start from now on."),
                         ".deadlines")
    return _render_deadlines(form=form, status=400)


@bp.route("/holidays", methods=["POST"])
@admin_required
def add_holiday():
    """Add a local day off."""
    form = f.HolidayForm(prefix="holiday")
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            service.add_local_holiday(g.tenant, _actor(), form.date.data, form.name.data)
        if work.ok:
            return _done(_("The local holiday has been added."), ".deadlines")
    return _render_deadlines(holiday=form, status=400)


@bp.route("/holidays/remove", methods=["POST"])
@admin_required
@transactional
def remove_holiday():
    """Remove a local day off."""
    form = f.HolidayRemoveForm()
    if not form.validate_on_submit():
        abort(400)
    service.remove_local_holiday(g.tenant, _actor(), form.date.data)
    return _done(_("The local holiday has been removed."), ".deadlines")


# ---------------------------------------------------------------- staff (the one place staff accounts are administered)

def _role_form(user: User | None = None) -> StaffRoleForm:
    data = {"role": user.role, "agency_id": user.agency_id} if user is not None else None
    form = StaffRoleForm(prefix="u", data=data)
    form.role.choices = [(r, role_label(r)) for r in Role.STAFF]
    form.agency_id.choices = [("", "—")] + [(a.id, a.short_name or a.name) for a in service.agencies()]
    return form


def _render_staff(invite=None, status: int = 200):
    users = service.staff_users()
    return render_template("settings/staff.html", users=users, invite=invite or _invite_form(),
                           toggle=f.UserActiveForm(), button=onboarding_forms.EmptyForm(),
                           roles={u.id: _role_form(u) for u in users}), status


def _staff_member_or_404(user_id: int) -> User:
    user = service.staff_user_or_none(user_id)  # scoped: another region's id is not found
    if user is None:
        abort(404)
    return user


@bp.route("/staff")
@admin_required
def staff():
    """Staff accounts: role, agency, two-factor state, deactivation; invite someone."""
    return _render_staff()


@bp.route("/staff/invite", methods=["POST"])
@admin_required
def invite():
    """Invite a liaison, officer or administrator by email (a single-use, expiring link)."""
    form = _invite_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            onboarding.invite_staff(g.tenant, _actor(), form.email.data, form.name.data, form.role.data,
                                    form.agency_id.data, invite_link)
        if work.ok:
            return _done(_("The invitation has been sent."), ".staff")
    return _render_staff(invite=form, status=400)


@bp.route("/staff/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int):
    """Change a staff member's role (and agency); their sessions end."""
    user = _staff_member_or_404(user_id)
    form = _role_form()
    back = url_for(".staff")
    if not form.validate_on_submit():
        flash(_("This role change is not possible (a liaison needs an agency; your own role stays)."), "error")
        return redirect(back, 303)
    with unit_of_work() as work:
        accounts.change_role(user, form.role.data, _actor(), agency_id=form.agency_id.data)
    if work.failed:
        return work.flash_and_redirect(back)
    return _done(_("The role has been changed. %(name)s has been signed out everywhere.", name=user.name), ".staff")


@bp.route("/staff/<int:user_id>/active", methods=["POST"])
@admin_required
def user_active(user_id: int):
    """Deactivate (sign-in refused, every session ended) or reactivate a staff account."""
    user = _staff_member_or_404(user_id)
    form = f.UserActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    with unit_of_work() as work:
        accounts.set_active(user, form.active.data == "1", _actor())
    if work.failed:
        return work.flash_and_redirect(url_for(".staff"))
    return _done(_("The account of %(name)s has been updated.", name=user.name), ".staff")


@bp.route("/staff/<int:user_id>/mfa-reset", methods=["POST"])
@admin_required
def reset_mfa(user_id: int):
    """Remove a staff member's second factor (a lost phone): they enrol again at their next sign-in."""
    user = _staff_member_or_404(user_id)
    if not onboarding_forms.EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        service.reset_staff_mfa(_actor(), user)
    if work.failed:
        return work.flash_and_redirect(url_for(".staff"))
    return _done(_("Two-factor authentication of %(name)s has been reset; they have been signed out and set it "
                   "up again at their next sign-in.", name=user.name), ".staff")


@bp.route("/staff/<int:user_id>/invitation", methods=["POST"])
@admin_required
def invitation(user_id: int):
    """Send an invitation again (earlier links stop working) or withdraw it (``action`` resend | revoke)."""
    user = _staff_member_or_404(user_id)
    action = request.form.get("action")
    if not onboarding_forms.EmptyForm().validate_on_submit() or action not in ("resend", "revoke"):
        abort(400)
    with unit_of_work() as work:
        if action == "resend":
            onboarding.resend_invitation(g.tenant, _actor(), user, invite_link)
        else:
            onboarding.revoke_invitation(g.tenant, _actor(), user)
    if work.failed:
        return work.flash_and_redirect(url_for(".staff"))
    if action == "resend":
        return _done(_("A new invitation has been sent to %(email)s.", email=user.email), ".staff")
    return _done(_("The invitation of %(name)s has been withdrawn.", name=user.name), ".staff")


# ---------------------------------------------------------------- the one audit trail

PER_PAGE = 50


@bp.route("/audit")
@admin_required
def audit():
    """The region's one audit trail: every change to the set-up (before and after) and every account and
    security event (sign-ins, invitations, roles, two-factor resets, deactivation), newest first."""
    trail = request.args.get("trail", "all")
    if trail not in service.TRAILS:
        trail = "all"
    page = request.args.get("page", 1, type=page_number)
    rows, total = service.audit_trail(trail, PER_PAGE, (page - 1) * PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("settings/audit.html", rows=rows, page=page, pages=pages, total=total, trail=trail,
                           action_label=action_label, detail_text=detail_text)
