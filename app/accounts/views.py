"""Tenant sign-in, sign-out, password reset and optional citizen registration."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.accounts import flow, services
from app.accounts.flow import safe_next
from app.accounts.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from app.accounts.models import Role
from app.extensions import limiter
from app.i18n import remember_language
from app.unit_of_work import transactional, unit_of_work

bp = Blueprint("accounts", __name__, template_folder="templates")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return f"login:{request.form.get('email', '').strip().lower()}"


def home_for(user) -> str:
    if user.role in Role.STAFF:
        return url_for("tenant.staff.dashboard")
    return url_for("tenant.public.home")


def end_session() -> None:
    """Log out for real: revoke the server-side session (copies of the cookie die too)."""
    flow.end_session()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def login():
    """Sign in to this region's service (staff and citizens)."""
    form = LoginForm()
    if form.validate_on_submit():
        attempt = services.authenticate_tenant_user(form.email.data, form.password.data)
        if not attempt.ok:
            flow.failed_password(attempt)
        else:
            return flow.after_password(attempt.account, form.remember.data, safe_next(home_for(attempt.account)))
    return render_template("accounts/login.html", form=form)


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_mfa():
    """Second sign-in step: the authenticator code (or a recovery code)."""
    return flow.login_mfa_view()


@bp.route("/login/2fa/setup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_mfa_setup():
    """Administrators without a second factor enrol here before anything else."""
    return flow.login_mfa_setup_view()


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: this browser's session ends on the server too."""
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("tenant.public.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
@transactional
def forgot_password():
    """Ask for a password reset link by email."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data,
            lambda token: url_for("tenant.accounts.reset_password", token=token, _external=True),
        )
        flash(_("If the address has an account, we have sent a link to reset the password."), "info")
        return redirect(url_for("tenant.accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@transactional
def reset_password(token: str):
    """Set a new password with an emailed, expiring, single-use token."""
    user = services.user_for_reset_token(token)
    if user is None:
        flash(_("This link is invalid, has expired or has already been used."), "error")
        return redirect(url_for("tenant.accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(user, form.password.data)
        flash(_("Your password has been changed. Please sign in."), "info")
        return redirect(url_for("tenant.accounts.login"))
    return render_template("accounts/reset.html", form=form)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    """Optional citizen account (complaints can be sent without one)."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            with unit_of_work(form) as work:
                user = services.create_user(form.email.data, form.name.data, Role.CITIZEN,
                                            password=form.password.data, phone=form.phone.data or None)
        except IntegrityError:  # rolled back
            form.email.errors.append(_("This email already has an account here."))
        else:
            if work.ok:
                flash(_("Your account is ready."), "info")
                return flow.complete(user, False, url_for("tenant.public.home"))
    return render_template("accounts/register.html", form=form, tenant=g.tenant)


@bp.route("/lang/<lang>", methods=["POST"])
def set_language(lang: str):
    """Remember a language choice; a signed-in user of this region keeps it as their preference."""
    if not remember_language(lang):
        abort(404)
    return redirect(safe_next(url_for("tenant.public.home")))


@bp.route("/account")
@login_required
def account():
    """The signed-in user's own account page: password, two-factor authentication, signed-in devices."""
    return render_template("accounts/account.html", **flow.security_context(current_user._get_current_object()))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; the other sessions end."""
    return flow.change_password_view()


@bp.route("/account/2fa/setup", methods=["GET", "POST"])
@login_required
def mfa_setup():
    """Turn on two-factor authentication (staff)."""
    return flow.setup_view()


@bp.route("/account/2fa/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    """New single-use recovery codes, shown once."""
    return flow.recovery_codes_view()


@bp.route("/account/2fa/disable", methods=["GET", "POST"])
@login_required
def mfa_disable():
    """Turn off two-factor authentication where it is optional."""
    return flow.disable_view()


@bp.route("/account/sessions/revoke-all", methods=["POST"])
@login_required
def revoke_all_sessions():
    """Sign out everywhere."""
    return flow.revoke_all_view()


@bp.route("/account/sessions/<int:session_id>/revoke", methods=["POST"])
@login_required
def revoke_session(session_id: int):
    """Sign out one other device."""
    return flow.revoke_one_view(session_id)
