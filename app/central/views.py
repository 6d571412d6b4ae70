"""Platform pages outside every tenant: the region list, the central console, suspending regions."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.accounts import audit, flow, services
from app.accounts.access import central_admin_required
from app.accounts.flow import safe_next
from app.accounts.forms import LoginForm
from app.accounts.views import end_session
from app.central import comparison, queries
from app.central import tenants as tenant_service
from app.extensions import limiter
from app.i18n import remember_language
from app.tenancy.models import Tenant, TenantStatus
from app.unit_of_work import UnitOfWork

bp = Blueprint("central", __name__, template_folder="templates")


class TenantStatusForm(FlaskForm):
    reason = TextAreaField(_l("Reason (kept in the region's change log)"), validators=[
        DataRequired(message=_l("This field is required.")), Length(min=5, max=1000)])


@bp.route("/")
def index():
    """The platform's landing page listing every active region."""
    # Regions still being set up, and suspended ones, are not offered to citizens.
    return render_template("central/index.html", tenants=queries.live_regions())


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Remember an explicit language choice (and a central administrator's preference)."""
    if not remember_language(code):
        abort(404)
    return redirect(safe_next(url_for("central.index")))


@bp.route("/central/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Central administrators sign in here."""
    form = LoginForm()
    if form.validate_on_submit():
        attempt = services.authenticate_platform_admin(form.email.data, form.password.data)
        if not attempt.ok:
            flow.failed_password(attempt)
        else:
            return flow.after_password(attempt.account, False, safe_next(url_for("central.console")))
    return render_template("central/login.html", form=form)


@bp.route("/central/login/2fa", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login_mfa():
    """Second sign-in step of central administrators."""
    return flow.login_mfa_view()


@bp.route("/central/login/2fa/setup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login_mfa_setup():
    """Central administrators enrol their second factor before anything else."""
    return flow.login_mfa_setup_view()


@bp.route("/central/logout", methods=["POST"])
def logout():
    """Sign out of the central console."""
    end_session()
    return redirect(url_for("central.index"))


@bp.route("/central/account")
@central_admin_required
def account():
    """The central administrator's own account: password, recovery codes, signed-in devices."""
    return render_template("accounts/account.html", **flow.security_context(current_user._get_current_object()))


@bp.route("/central/account/password", methods=["GET", "POST"])
@central_admin_required
def change_password():
    """Change one's password; the other sessions end."""
    return flow.change_password_view()


@bp.route("/central/account/2fa/recovery-codes", methods=["GET", "POST"])
@central_admin_required
def recovery_codes():
    """New single-use recovery codes, shown once."""
    return flow.recovery_codes_view()


@bp.route("/central/account/sessions/revoke-all", methods=["POST"])
@central_admin_required
def revoke_all_sessions():
    """Sign out everywhere."""
    return flow.revoke_all_view()


@bp.route("/central/account/sessions/<int:session_id>/revoke", methods=["POST"])
@central_admin_required
def revoke_session(session_id: int):
    """Sign out one other device."""
    return flow.revoke_one_view(session_id)


@bp.route("/central/audit")
@central_admin_required
def audit_log():
    """The platform's security log: central sign-ins, failures, two-factor events, refusals."""
    return render_template("accounts/audit.html", rows=queries.platform_security_log(), action_label=audit.action_label,
                           detail_text=audit.detail_text)


@bp.route("/central/")
@central_admin_required
def console():
    """The central console: every region with its status, go-live date and activity."""
    return render_template("central/console.html", tenants=queries.all_regions(),
                           activity=comparison.tenant_activity(), empty=comparison.TenantActivity(),
                           form=TenantStatusForm(), pending=queries.pending_applications(),
                           statuses=TenantStatus)


def _tenant_or_404(tenant_id: int) -> Tenant:
    tenant = queries.region_with_status(tenant_id)
    if tenant is None:
        abort(404)
    return tenant


def _change_status(tenant_id: int, change, done_message):
    tenant = _tenant_or_404(tenant_id)
    form = TenantStatusForm()
    try:
        with UnitOfWork(catch=False):  # committed once, rolled back on the refusal
            if not form.validate_on_submit():
                raise tenant_service.TenantStatusError({"reason": _("Give a reason (at least 5 characters).")})
            change(tenant, current_user._get_current_object(), form.reason.data)
    except tenant_service.TenantStatusError as exc:
        for message in exc.errors.values():
            flash(str(message), "error")
        return redirect(url_for("central.console"), 303)
    flash(done_message(tenant.name), "info")
    return redirect(url_for("central.console"), 303)


@bp.route("/central/tenants/<int:tenant_id>/suspend", methods=["POST"])
@central_admin_required
def suspend(tenant_id: int):
    """Suspend a region: its public pages say so, its staff can read but not act, its data is kept."""
    return _change_status(tenant_id, tenant_service.suspend_tenant,
                          lambda name: _("%(name)s has been suspended.", name=name))


@bp.route("/central/tenants/<int:tenant_id>/reactivate", methods=["POST"])
@central_admin_required
def reactivate(tenant_id: int):
    """Lift a region's suspension."""
    return _change_status(tenant_id, tenant_service.reactivate_tenant,
                          lambda name: _("%(name)s has been reactivated.", name=name))
