"""Platform pages outside every tenant: the region list and the central console."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import select

from app.accounts import services
from app.accounts.access import central_admin_required
from app.accounts.forms import LoginForm
from app.accounts.views import end_session, safe_next
from app.extensions import db, limiter
from app.i18n import remember_language
from app.tenancy.models import Tenant, TenantStatus

bp = Blueprint("central", __name__)


@bp.route("/")
def index():
    """The platform's landing page listing every active region."""
    tenants = db.session.execute(
        select(Tenant).filter_by(status=TenantStatus.ACTIVE).order_by(Tenant.name)
    ).scalars().all()
    return render_template("central/index.html", tenants=tenants)


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
        admin = services.authenticate_platform_admin(form.email.data, form.password.data)
        if admin is None:
            flash(_("Wrong email or password."), "error")
        else:
            session.clear()
            login_user(admin)
            return redirect(safe_next(url_for("central.console")))
    return render_template("central/login.html", form=form)


@bp.route("/central/logout", methods=["POST"])
def logout():
    """Sign out of the central console."""
    end_session()
    return redirect(url_for("central.index"))


@bp.route("/central/")
@central_admin_required
def console():
    """The central console: every region and its status."""
    tenants = db.session.execute(select(Tenant).order_by(Tenant.status, Tenant.name)).scalars().all()
    return render_template("central/console.html", tenants=tenants)
