"""“Laporan saya” pages.

- Signed-in citizens see the reports they filed while signed in (with their private links) and the
  reports they followed while signed in (app.myreports.following.reports_of_account).
- Anyone can ask for a one-time link by email address or phone number; the answer is the same whether or
  not that contact has reports. The link opens a confirm button; pressing it uses the link up and shows
  the list (no-store, no referrer: the page carries private links).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale

from app.accounts.access import signed_in_citizen
from app.complaints import forms as f
from app.complaints import transparency as reports
from app.complaints import workflow
from app.complaints.views_public import DEADLINE_LABELS, submit_key
from app.extensions import limiter
from app.myreports import following
from app.unit_of_work import unit_of_work
from app.web_security import private_response

bp = Blueprint("myreports", __name__, template_folder="templates")


def _link_limit() -> str:
    return current_app.config.get("MY_REPORTS_LINK_RATE_LIMIT", "5 per minute;20 per hour")




def _render_list(entries, status: int = 200, **extra):
    html = render_template("myreports/list.html", entries=entries, status_label=workflow.status_label,
                           badge=lambda c: reports.deadline_badge(c, g.tenant), deadline_labels=DEADLINE_LABELS,
                           **extra)
    return private_response(make_response(html, status))


def _render_request(form, status: int = 200):
    html = render_template("myreports/request.html", form=form, sent="terkirim" in request.args)
    return private_response(make_response(html, status))


@bp.route("/laporan-saya")
def index():
    """A signed-in citizen's reports; the one-time link form for everybody else."""
    citizen = signed_in_citizen()
    if citizen is None:
        return _render_request(f.ContactForm(formdata=None))
    return _render_list(following.reports_of_account(citizen), account=True, form=f.ContactForm(formdata=None),
                        sent="terkirim" in request.args)


@bp.route("/laporan-saya/tautan", methods=["POST"])
@limiter.limit(_link_limit, key_func=submit_key)
def request_link():
    """Send a one-time link listing the contact's reports (same answer whether or not it has any)."""
    form = f.ContactForm()
    if not form.validate_on_submit():
        return _render_request(form, 400)
    with unit_of_work(form, fallback="contact") as work:
        following.request_list_link(form.contact.data, str(get_locale() or "id"))
    if work.failed:
        return _render_request(form, 400)
    return redirect(url_for(".index", terkirim=1) + "#tautan", 303)


@bp.route("/laporan-saya/tautan/<token>", methods=["GET", "POST"])
@limiter.limit(_link_limit, key_func=submit_key)
def open_link(token: str):
    """The one-time link: a button first (a mail scanner opening the link uses nothing), then the list."""
    form = f.ConfirmForm()
    if request.method == "GET":
        valid = following.list_link_valid(token)
        html = render_template("myreports/open.html", form=form, token=token, valid=valid)
        return private_response(make_response(html, 200 if valid else 404))
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(catch=False) as work:
        entries = following.open_list_link(token)
        if entries is None:
            work.discard()
    if entries is None:
        html = render_template("myreports/open.html", form=form, token=token, valid=False)
        return private_response(make_response(html, 404))
    return _render_list(entries, account=False)
