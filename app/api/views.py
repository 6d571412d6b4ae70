"""The region administrator's API key page: make (shown once), list and revoke keys."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import roles_required
from app.accounts.models import Role
from app.api import keys
from app.api.forms import SCOPE_LABELS, ApiKeyForm
from app.integrations.forms import ConfirmForm
from app.unit_of_work import transactional, unit_of_work

bp = Blueprint("api_keys", __name__, url_prefix="/staff/api-keys", template_folder="templates")

admin_required = roles_required(Role.TENANT_ADMIN)


@bp.route("/", methods=["GET", "POST"])
@admin_required
def index():
    """The region's keys and the form for a new one; a new key is shown once, on the answer page."""
    form = ApiKeyForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            key, token = keys.create_key(form.name.data, form.scopes.data, actor=current_user._get_current_object())
        if work.ok:
            html = render_template("api/key_created.html", key=key, token=token, scope_labels=SCOPE_LABELS)
            response = make_response(html, 201)
            response.headers["Cache-Control"] = "no-store"
            return response
    status = 400 if form.is_submitted() else 200
    return render_template("api/keys.html", form=form, api_keys=keys.list_keys(), scope_labels=SCOPE_LABELS,
                           confirm=ConfirmForm()), status


@bp.post("/<int:key_id>/revoke")
@admin_required
@transactional
def revoke(key_id: int):
    """The key stops working at once."""
    key = keys.get_key(key_id)
    if key is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    keys.revoke_key(key, actor=current_user._get_current_object())
    flash(_("The API key “%(name)s” is revoked.", name=key.name), "info")
    return redirect(url_for(".index"))
