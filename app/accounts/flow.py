"""The sign-in flow shared by tenant users and central administrators: password, then (when enrolled
or required) the second factor, then a server-side session. Also the pages of one's own security
settings, parametrised by the blueprint that serves them (``tenant.accounts`` or ``central``).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from app.accounts import audit, mfa, services, sessions
from app.accounts.audit import Action
from app.accounts.forms import ActionForm, ChangePasswordForm, CodeForm, PasswordConfirmForm
from app.accounts.models import PlatformAdmin, User
from app.extensions import db
from app.tenancy.models import utcnow
from app.tenancy.scope import bound_tenant_id
from app.unit_of_work import transactional

PENDING = "mfa_pending"
#: Minutes between a correct password and the second factor.
PENDING_MAX_AGE = 600


def _ep(name: str) -> str:
    return f"{'tenant.accounts' if getattr(g, 'tenant', None) is not None else 'central'}.{name}"


def _keep_language_and_clear() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@transactional
def failed_password(attempt: services.LoginAttempt) -> None:
    """Audit a refused password and show the one message every refusal gets."""
    audit.record(Action.LOGIN_LOCKED if attempt.locked else Action.LOGIN_FAILED, attempt.account)
    flash(_("Wrong email or password."), "error")


@transactional
def after_password(account, remember: bool, next_url: str):
    """The password was right: ask for the second factor (or its enrolment), else sign in."""
    if not (account.mfa_enabled or account.mfa_required):
        return complete(account, remember, next_url)
    _keep_language_and_clear()
    session[PENDING] = {"k": "p" if account.is_platform_admin else "t", "id": account.id, "tid": bound_tenant_id(),
                        "n": account.session_nonce, "at": int(time.time()), "r": bool(remember), "next": next_url}
    # the failure counter is only cleared once the second factor is right too
    return redirect(url_for(_ep("login_mfa" if account.mfa_enabled else "login_mfa_setup")))


@transactional
def complete(account, remember: bool, next_url: str, via: str | None = None):
    """Start the server-side session and sign in."""
    _keep_language_and_clear()
    services.clear_failures(account)
    if isinstance(account, User):
        account.last_login_at = utcnow()
    sessions.start(account)
    login_user(account, remember=remember)
    audit.record(Action.LOGIN, account, second_factor=via)
    return redirect(next_url)


def _pending_account():
    data = session.get(PENDING)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_MAX_AGE:
        return None, None
    if data.get("tid") != bound_tenant_id():
        return None, None
    if data.get("k") == "p":
        account = db.session.get(PlatformAdmin, data.get("id"))
    elif data.get("k") == "t" and bound_tenant_id() is not None:
        account = db.session.get(User, data.get("id"))
    else:
        return None, None
    # The password may have changed since (the nonce rotates with it): start again.
    if account is None or not account.active or account.session_nonce != data.get("n"):
        return None, None
    return account, data


def _back_to_login():
    session.pop(PENDING, None)
    flash(_("Please sign in again."), "info")
    return redirect(url_for(_ep("login")))


def _issuer() -> str:
    tenant = getattr(g, "tenant", None)
    return f"LAPOR {tenant.name}" if tenant is not None else "LAPOR Daerah"


@transactional
def login_mfa_view():
    """Second step: a code from the authenticator app, or a recovery code."""
    account, data = _pending_account()
    if account is None or not account.mfa_enabled:
        return _back_to_login()
    form = CodeForm()
    if form.validate_on_submit():
        if services.is_locked(account):
            audit.record(Action.LOGIN_LOCKED, account)
            flash(_("Too many attempts. Please wait a few minutes and sign in again."), "error")
            return _back_to_login()
        step = mfa.accepted_step(account.totp_secret, form.code.data, account.totp_last_step)
        if step is not None:
            account.totp_last_step = step
            return complete(account, data["r"], data["next"], via="totp")
        remaining = mfa.use_recovery_code(account.recovery_codes, form.code.data)
        if remaining is not None:
            account.recovery_codes = remaining
            audit.record(Action.MFA_RECOVERY_USED, account, left=len(remaining))
            if not remaining:
                flash(_("That was your last recovery code: create new ones on your account page."), "info")
            return complete(account, data["r"], data["next"], via="recovery_code")
        services.register_failure(account)
        audit.record(Action.MFA_FAILED, account)
        form.code.errors.append(_("This code is not valid (or was already used). Enter the current code."))
    return render_template("accounts/mfa_verify.html", form=form)


def _enrolment_page(form, secret: str, account, cancel_url: str | None):
    uri = mfa.provisioning_uri(secret, account.email, _issuer())
    return render_template("accounts/mfa_setup.html", form=form, secret=secret, qr=Markup(mfa.qr_svg(uri)),  # noqa: S704 (SVG made by segno from our URI)
                           uri=uri, required=account.mfa_required, cancel_url=cancel_url)


def _enrol(account, secret: str, code: str) -> bool:
    step = mfa.accepted_step(secret, code, None)
    if step is None:
        return False
    account.totp_secret = secret
    account.totp_last_step = step
    account.recovery_codes = []  # created and shown on the next page
    audit.record(Action.MFA_ENROLLED, account)
    return True


@transactional
def login_mfa_setup_view():
    """Enrolment during sign-in (administrators who have not enrolled yet): nothing else is reachable."""
    account, data = _pending_account()
    if account is None or account.mfa_enabled:
        return _back_to_login()
    secret = data.get("secret") or mfa.new_secret()
    if data.get("secret") != secret:
        data["secret"] = secret
        session[PENDING] = data
    form = CodeForm()
    if form.validate_on_submit():
        if _enrol(account, secret, form.code.data):
            next_url = data["next"]
            complete(account, data["r"], next_url, via="enrolment")
            return redirect(url_for(_ep("recovery_codes"), next=next_url))
        form.code.errors.append(_("This code is not valid. Check the time on your phone and try again."))
    return _enrolment_page(form, secret, account, None)


# ------------------------------------------------------------------ one's own security settings


def security_context(account) -> dict:
    return {"sessions": sessions.active_sessions(account), "current_key": getattr(account, "login_session_key", None),
            "action_form": ActionForm(), "ep": _ep}


@transactional
def setup_view():
    """Enrol (optional for officers and liaisons) from the account page."""
    account = current_user._get_current_object()
    if account.mfa_enabled or not account.mfa_allowed:
        return redirect(url_for(_ep("account")))
    secret = session.get("mfa_setup_secret") or mfa.new_secret()
    session["mfa_setup_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        if _enrol(account, secret, form.code.data):
            session.pop("mfa_setup_secret", None)
            flash(_("Two-factor authentication is on."), "info")
            return redirect(url_for(_ep("recovery_codes"), next=url_for(_ep("account"))))
        form.code.errors.append(_("This code is not valid. Check the time on your phone and try again."))
    return _enrolment_page(form, secret, account, url_for(_ep("account")))


@transactional
def recovery_codes_view():
    """Show new recovery codes once: right after enrolment (GET, when none exist) or on request (POST)."""
    account = current_user._get_current_object()
    if not account.mfa_enabled:
        return redirect(url_for(_ep("account")))
    form = ActionForm()
    codes = None
    first_time = request.method == "GET" and not account.recovery_codes
    if first_time or (request.method == "POST" and form.validate_on_submit()):
        codes, hashes = mfa.new_recovery_codes()
        account.recovery_codes = hashes
        audit.record(Action.MFA_RECOVERY_RENEWED, account)
    next_url = safe_next(url_for(_ep("account")))
    return render_template("accounts/recovery_codes.html", codes=codes, form=form, next_url=next_url,
                           remaining=len(account.recovery_codes or []))


def safe_next(default: str) -> str:
    """The ``next`` query parameter when it is a path on this site, else ``default`` (no open redirect)."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


@transactional
def disable_view():
    """Turn two-factor authentication off (only where it is optional); asks for the password."""
    account = current_user._get_current_object()
    if account.mfa_required or not account.mfa_enabled:
        abort(403)
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if account.check_password(form.password.data):
            services.reset_mfa(account, end_sessions=False)
            flash(_("Two-factor authentication is off."), "info")
            return redirect(url_for(_ep("account")))
        form.password.errors.append(_("The password is not correct."))
    return render_template("accounts/mfa_disable.html", form=form)


@transactional
def change_password_view():
    account = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not account.check_password(form.current.data):
            services.register_failure(account)
            form.current.errors.append(_("The password is not correct."))
        else:
            ended = services.change_password(account, form.password.data, keep_session_key=account.login_session_key)
            audit.record(Action.PASSWORD_CHANGED, account, other_sessions_ended=ended)
            flash(_("Your password has been changed. You have been signed out on your other devices."), "info")
            return redirect(url_for(_ep("account")))
    return render_template("accounts/password.html", form=form)


@transactional
def revoke_all_view():
    """Sign out everywhere, this browser included."""
    account = current_user._get_current_object()
    if ActionForm().validate_on_submit():
        sessions.revoke_all(account)
        audit.record(Action.LOGOUT_EVERYWHERE, account)
        logout_user()
        _keep_language_and_clear()
        flash(_("You have been signed out on every device."), "info")
        return redirect(url_for(_ep("login")))
    abort(400)


@transactional
def revoke_one_view(session_id: int):
    """End one of one's own other sessions (404 for anything else)."""
    account = current_user._get_current_object()
    row = next((s for s in sessions.active_sessions(account) if s.id == session_id), None)
    if row is None:
        abort(404)
    if ActionForm().validate_on_submit():
        sessions.revoke(account, row.key)
        audit.record(Action.LOGOUT_EVERYWHERE, account, sessions=1)
        flash(_("That device has been signed out."), "info")
    return redirect(url_for(_ep("account")))


@transactional
def end_session() -> None:
    """Sign out: revoke this browser's server-side session and clear the cookie session."""
    if current_user.is_authenticated:
        account = current_user._get_current_object()
        sessions.revoke(account, getattr(account, "login_session_key", None))
        audit.record(Action.LOGOUT, account)
    logout_user()
    _keep_language_and_clear()


def max_age_note() -> int:
    return int(current_app.config["REMEMBER_COOKIE_DURATION"]) // 86400
