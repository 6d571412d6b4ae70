"""Sign-up page (platform), the central review of applications, and the tenant's onboarding checklist.

Each POST: form → one service call in one unit of work (``app.unit_of_work``) → redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.accounts.access import central_admin_required, roles_required
from app.accounts.models import Role
from app.extensions import limiter
from app.onboarding import forms as f
from app.onboarding import mail, service
from app.onboarding.models import ApplicationStatus, TenantApplication, is_government_email
from app.tenancy.models import Tenant
from app.unit_of_work import transactional, unit_of_work

bp = Blueprint("onboarding", __name__, template_folder="templates")
tenant_bp = Blueprint("onboarding_tenant", __name__, url_prefix="/staff/onboarding")

bp.after_app_request(mail.relay_after_request)


def invite_link(tenant: Tenant, token: str) -> str:
    """The link an invited staff member opens to set their password (used by the settings' staff page too)."""
    return url_for("tenant.accounts.reset_password", tenant=tenant.slug, token=token, _external=True)


# ---------------------------------------------------------------- public sign-up

@bp.route("/daftar", methods=["GET", "POST"])
@limiter.limit("5 per hour;20 per day", methods=["POST"])
def apply():
    """A regional government applies to join the platform."""
    form = f.ApplicationForm()
    form.suggested_peer.choices = [SelectChoice("", _("— The shared template —"))] + [
        SelectChoice(str(t.id), t.name) for t in service.peer_choices()]
    if form.validate_on_submit():
        data = service.ApplicationData(
            name=form.name.data, type=form.type.data, province=form.province.data,
            region_code=form.region_code.data, population=form.population.data, timezone=form.timezone.data,
            official_name=form.official_name.data, official_position=form.official_position.data,
            official_email=form.official_email.data, official_phone=form.official_phone.data, slug=form.slug.data,
            suggested_peer_id=int(form.suggested_peer.data) if (form.suggested_peer.data or "").isdigit() else None,
        )
        with unit_of_work(form) as work:
            application = service.submit_application(
                data, lambda app_id: url_for("onboarding.application", application_id=app_id, _external=True))
        if work.ok:
            # Only what the thank-you page needs; the application itself stays with the central admins.
            session["applied"] = {"name": application.name, "slug": application.slug,
                                  "government_email": is_government_email(application.official_email)}
            return redirect(url_for("onboarding.thanks"), 303)
    return render_template("onboarding/apply.html", form=form), 400 if form.errors else 200


@bp.route("/daftar/terima-kasih")
def thanks():
    """Confirmation after applying (with a warning for a non-government email address)."""
    applied = session.get("applied")
    if not applied:
        return redirect(url_for("onboarding.apply"))
    return render_template("onboarding/thanks.html", applied=applied)


# ---------------------------------------------------------------- central review

def _application_or_404(application_id: int) -> TenantApplication:
    row = service.application_or_none(application_id)
    if row is None:
        abort(404)
    return row


def _approve_form() -> f.ApproveForm:
    form = f.ApproveForm()
    form.source.choices = [SelectChoice(service.TEMPLATE_SOURCE, _("The shared template (tenants/_template)"))] + [
        SelectChoice(str(t.id), _("Copy the set-up of %(name)s", name=t.name)) for t in service.peer_choices()]
    return form


@bp.route("/central/applications/")
@central_admin_required
def applications():
    """Applications to join the platform, pending first."""
    return render_template("onboarding/applications.html", rows=service.list_applications())


@bp.route("/central/applications/<int:application_id>")
@central_admin_required
def application(application_id: int):
    """One application with the approve and reject forms."""
    row = _application_or_404(application_id)
    approve = _approve_form()
    if row.suggested_peer_id and not approve.source.data:
        approve.source.data = str(row.suggested_peer_id)
    peer = service.tenant_or_none(row.suggested_peer_id)
    tenant = service.tenant_or_none(row.tenant_id)
    return render_template("onboarding/application.html", row=row, approve=approve, reject=f.RejectForm(),
                           peer=peer, provisioned=tenant, statuses=ApplicationStatus)


@bp.route("/central/applications/<int:application_id>/approve", methods=["POST"])
@central_admin_required
def approve(application_id: int):
    """Approve: provision the region (template or a peer's set-up) and invite its official."""
    row = _application_or_404(application_id)
    form = _approve_form()
    if not form.validate_on_submit():
        flash(_("Choose where the new region starts from."), "error")
        return redirect(url_for("onboarding.application", application_id=row.id))
    with unit_of_work() as work:
        tenant = service.approve_application(
            row, current_user._get_current_object(), form.source.data, invite_link,
            lambda t: url_for("tenant.public.home", tenant=t.slug, _external=True))
    if work.failed:
        return work.flash_and_redirect(url_for("onboarding.application", application_id=application_id), 302)
    flash(_("%(name)s has been approved and set up at /%(slug)s/; the official has been invited.",
            name=tenant.name, slug=tenant.slug), "info")
    return redirect(url_for("onboarding.application", application_id=application_id))


@bp.route("/central/applications/<int:application_id>/reject", methods=["POST"])
@central_admin_required
def reject(application_id: int):
    """Reject with a reason the applicant receives by email."""
    row = _application_or_404(application_id)
    form = f.RejectForm()
    with unit_of_work() as work:
        if not form.validate_on_submit():
            raise service.OnboardingError({"reason": _("Give the applicant a reason.")})
        service.reject_application(row, current_user._get_current_object(), form.reason.data)
    if work.failed:
        return work.flash_and_redirect(url_for("onboarding.application", application_id=application_id), 302)
    flash(_("The application was rejected and the applicant told why."), "info")
    return redirect(url_for("onboarding.application", application_id=application_id))


# ---------------------------------------------------------------- the new tenant's checklist

def _render_checklist(status: int = 200):
    steps = service.checklist(g.tenant)
    return render_template(
        "onboarding/checklist.html", steps=steps, done=sum(s.done for s in steps), button=f.EmptyForm(),
        audit=service.recent_audit_events(5), ready=all(s.done for s in steps if s.key != "go_live"),
    ), status


@tenant_bp.route("/")
@roles_required(Role.TENANT_ADMIN)
def checklist():
    """The steps from approval to go-live, with progress."""
    return _render_checklist()


@tenant_bp.route("/deadlines", methods=["POST"])
@roles_required(Role.TENANT_ADMIN)
@transactional
def deadlines():
    """Confirm the deadlines and local holidays."""
    if not f.EmptyForm().validate_on_submit():
        abort(400)
    service.confirm_deadlines(g.tenant, current_user._get_current_object())
    flash(_("Deadlines and local holidays confirmed."), "info")
    return redirect(url_for(".checklist"))


@tenant_bp.route("/copied/<item>", methods=["POST"])
@roles_required(Role.TENANT_ADMIN)
def confirm_copied(item: str):
    """Confirm one group of the set-up copied from the peer region (404 for a group that was not copied)."""
    if item not in service.copied_item_keys():
        abort(404)
    if not f.EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        service.confirm_copied(g.tenant, current_user._get_current_object(), item)
    if work.failed:
        return work.flash_and_redirect(url_for(".checklist"), 302)
    flash(_("Confirmed."), "info")
    return redirect(url_for(".checklist") + f"#copied-{item}")


@tenant_bp.route("/go-live", methods=["POST"])
@roles_required(Role.TENANT_ADMIN)
def go_live():
    """Open the public portal to citizens."""
    if not f.EmptyForm().validate_on_submit():
        abort(400)
    with unit_of_work() as work:
        service.go_live(g.tenant, current_user._get_current_object())
    if work.failed:
        return work.flash_and_redirect(url_for(".checklist"), 302)
    flash(_("The service is open to the public."), "info")
    return redirect(url_for(".checklist"))

