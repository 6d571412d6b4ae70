"""Personal-data pages (UU PDP): the reporter's "my data" (by a one-time link or a citizen account) and
the complaint unit's export, correction and restriction.

The private tracking link alone does not open the data: whoever holds a forwarded link would see the
reporter's email and phone. It lets one ask for a one-time link, which goes to the contact on file;
opening it grants this browser the data for a short while.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.access import roles_required
from app.accounts.models import Role
from app.complaints import access, service
from app.complaints.models import Complaint
from app.complaints.views_staff import perform
from app.extensions import limiter
from app.privacy import forms as f
from app.privacy import service as pdp
from app.unit_of_work import unit_of_work
from app.web_security import private_response

public_bp = Blueprint("privacy_public", __name__, template_folder="templates")
staff_bp = Blueprint("privacy_staff", __name__, url_prefix="/staff")

unit_required = roles_required(*Role.UNIT)

#: How long opening a one-time link (or signing in) lets this browser see the data.
GRANT_SECONDS = 30 * 60
SESSION_KEY = "pdp_grant"


def _action_limit() -> str:
    return current_app.config.get("CITIZEN_ACTION_RATE_LIMIT", "10 per minute;60 per hour")



def _owner(c: Complaint) -> bool:
    """The signed-in citizen account that sent the report."""
    return (current_user.is_authenticated and getattr(current_user, "role", None) == Role.CITIZEN
            and c.reporter_user_id is not None and c.reporter_user_id == current_user.id)


def _grant(c: Complaint) -> None:
    session[SESSION_KEY] = {"t": g.tenant.id, "c": c.id, "until": int(time.time()) + GRANT_SECONDS}


def _granted(c: Complaint) -> bool:
    grant = session.get(SESSION_KEY) or {}
    return grant.get("t") == g.tenant.id and grant.get("c") == c.id and grant.get("until", 0) > time.time()


def _may_see(c: Complaint) -> bool:
    if _granted(c):
        return True
    if _owner(c):
        with unit_of_work(catch=False):
            pdp.record_owner_access(c)
        _grant(c)
        return True
    return False


def _message_page(heading, text, c: Complaint, status: int):
    return render_template("message.html", heading=heading, text=text,
                           back_url=url_for("tenant.complaints_public.track", code=c.code),
                           back_label=_("Back to report %(code)s", code=c.code)), status


# ---------------------------------------------------------------- the reporter

@public_bp.route("/lacak/<code>/data-saya", methods=["POST"])
@limiter.limit(_action_limit)
def request_link(code: str):
    """The reporter (private link) asks for their data: a one-time link goes to the contact on file."""
    c = access.access_complaint_by_code(code)
    token = (request.form.get("t") or "").strip()
    if not access.citizen_may_act(c, token):
        abort(404)
    back = url_for("tenant.complaints_public.track", code=c.code, t=token)
    form = f.DataRequestForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(back, 303)
    with unit_of_work() as work:
        pdp.request_data_link(c, lambda secret: url_for(".open_link", code=c.code, k=secret, _external=True))
    if work.failed:
        return work.flash_and_redirect(back)
    where = [w for w in (pdp.mask_contact(c.reporter_email), pdp.mask_contact(c.reporter_phone)) if w]
    flash(_("A one-time link to your data was sent to %(where)s. It works for %(hours)s hours.",
            where=", ".join(where), hours=int(pdp.link_max_age().total_seconds() // 3600)), "info")
    return redirect(back, 303)


@public_bp.route("/lacak/<code>/data-saya/buka")
@limiter.limit(_action_limit)
def open_link(code: str):
    """The one-time link from the message: used once, it opens the data in this browser."""
    c = access.access_complaint_by_code(code)
    with unit_of_work(catch=False) as work:
        redeemed = pdp.redeem_data_link(c, request.args.get("k"))
        if not redeemed:
            work.discard()
    if not redeemed:
        page = _message_page(_l("This link does not work"),
                             _l("The link has expired or was already used. Open your private tracking link and ask "
                                "for a new one."), c, 404)
        return private_response(Response(*page))
    _grant(c)
    return redirect(url_for(".my_data", code=c.code), 303)  # the secret leaves the address bar


@public_bp.route("/lacak/<code>/data-saya")
def my_data(code: str):
    """The personal data held about the reporter and its processing trail."""
    c = access.access_complaint_by_code(code)
    if not _may_see(c):
        return private_response(Response(*_message_page(
            _l("Your personal data"), _l("To see your data, open your private tracking link and ask for a one-time "
                                         "link; it is sent to the email address or phone number you gave."), c, 403)))
    doc = pdp.personal_data(c)
    html = render_template("privacy/my_data.html", c=c, doc=doc, parse=datetime.fromisoformat)
    return private_response(Response(html))


@public_bp.route("/lacak/<code>/data-saya.json")
def my_data_json(code: str):
    """The same data as a JSON file."""
    c = access.access_complaint_by_code(code)
    if not _may_see(c):
        abort(403)
    return _json_download(c, pdp.personal_data(c))


def _json_download(c: Complaint, doc: dict) -> Response:
    resp = Response(json.dumps(doc, ensure_ascii=False, indent=2), mimetype="application/json")
    resp.headers.set("Content-Disposition", "attachment", filename=f"data-pribadi-{c.code}.json")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return private_response(resp)


# ---------------------------------------------------------------- the complaint unit

def _actor() -> service.Actor:
    return service.Actor.of(current_user._get_current_object())


def _version(form) -> int:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return -1


@staff_bp.get("/complaints/<int:complaint_id>/personal-data.json")
@unit_required
def export(complaint_id: int):
    """Export the reporter's data and processing trail (recorded in the timeline)."""
    c = access.access_complaint(complaint_id, current_user._get_current_object())
    with unit_of_work(catch=False):
        doc = pdp.export_for_unit(c, _actor())
    return _json_download(c, doc)


def _staff_action(complaint_id: int, key: str, form_cls, call, success):
    return perform(complaint_id, key, call, success, form=form_cls(prefix=key))


@staff_bp.post("/complaints/<int:complaint_id>/personal-data/correct")
@unit_required
def correct(complaint_id: int):
    """Correct the reporter's name and contacts (before and after are kept in the timeline)."""
    return _staff_action(complaint_id, "pdp_correct", f.CorrectIdentityForm, lambda c, form: pdp.correct_identity(
        c, _actor(), name=form.reporter_name.data, email=form.reporter_email.data, phone=form.reporter_phone.data,
        reason=form.reason.data, expected_version=_version(form)), _l("The personal data is corrected."))


@staff_bp.post("/complaints/<int:complaint_id>/personal-data/restrict")
@unit_required
def restrict(complaint_id: int):
    """Restrict the processing of the reporter's data, or lift the restriction."""
    on = request.form.get("pdp_restrict-on") == "1"
    return _staff_action(complaint_id, "pdp_restrict", f.RestrictForm, lambda c, form: pdp.set_restriction(
        c, _actor(), on, form.reason.data, expected_version=_version(form)),
        _l("Processing is restricted.") if on else _l("The restriction is lifted."))
