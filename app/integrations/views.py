"""Integration pages for tenant administrators, and the gateway endpoint for inbound messages."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.accounts.access import roles_required
from app.accounts.models import Role
from app.extensions import csrf, limiter
from app.integrations import inbound, sp4n, webhooks
from app.integrations.forms import BridgeForm, ConfirmForm, WebhookForm
from app.integrations.models import WEBHOOK_EVENTS
from app.tenancy.models import utcnow
from app.unit_of_work import transactional, unit_of_work

bp = Blueprint("integrations", __name__, url_prefix="/staff/integrations", template_folder="templates")
inbound_bp = Blueprint("inbound", __name__, url_prefix="/inbound")

admin_required = roles_required(Role.TENANT_ADMIN)


def _no_store(html: str, status: int = 200):
    """A page that shows a secret once: never cached."""
    resp = make_response(html, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _webhook_form() -> WebhookForm:
    form = WebhookForm()
    form.events.choices = [(e, str(webhooks.EVENT_LABELS[e])) for e in WEBHOOK_EVENTS]
    return form


@bp.get("/")
@admin_required
def index():
    """Webhooks, the inbound gateway and the SP4N-LAPOR! bridge of this region."""
    return render_template(
        "integrations/index.html", hooks=webhooks.list_webhooks(), token=inbound.active_token(),
        bridge=sp4n.effective_config(g.tenant),
        event_labels=webhooks.EVENT_LABELS, confirm=ConfirmForm(),
        inbound_urls=[url_for("tenant.inbound.receive_" + ch, _external=True) for ch in inbound.CHANNELS],
    )


@bp.route("/webhooks/new", methods=["GET", "POST"])
@admin_required
def webhook_new():
    """Register a webhook; its secret is shown on the answer page only."""
    form = _webhook_form()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            hook, secret = webhooks.create_webhook(form.url.data, form.events.data, form.description.data,
                                                   actor=current_user._get_current_object())
        if work.ok:
            return _no_store(render_template("integrations/secret.html", hook=hook, secret=secret), 201)
    status = 400 if form.is_submitted() else 200
    return render_template("integrations/webhook_form.html", form=form), status


@bp.get("/webhooks/<int:webhook_id>")
@admin_required
def webhook_detail(webhook_id: int):
    """One webhook and its delivery log."""
    hook = webhooks.access_webhook(webhook_id)
    return render_template("integrations/webhook.html", hook=hook, deliveries=webhooks.recent_deliveries(hook),
                           event_labels=webhooks.EVENT_LABELS, status_labels=webhooks.DELIVERY_LABELS,
                           confirm=ConfirmForm())


@bp.post("/webhooks/<int:webhook_id>/active")
@admin_required
@transactional
def webhook_active(webhook_id: int):
    """Switch a webhook off (pending deliveries are cancelled) or on again."""
    hook = webhooks.access_webhook(webhook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    webhooks.set_active(hook, active)
    flash(_("The webhook is on.") if active else _("The webhook is off."), "info")
    return redirect(url_for(".webhook_detail", webhook_id=hook.id))


@bp.post("/webhooks/<int:webhook_id>/secret")
@admin_required
@transactional
def webhook_secret(webhook_id: int):
    """Replace the secret; the new one is shown once and the old one stops working."""
    hook = webhooks.access_webhook(webhook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    secret = webhooks.rotate_secret(hook)
    return _no_store(render_template("integrations/secret.html", hook=hook, secret=secret))


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@admin_required
@transactional
def webhook_redeliver(webhook_id: int, delivery_id: int):
    """Send a finished delivery once more (same event id)."""
    hook = webhooks.access_webhook(webhook_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    webhooks.redeliver(hook, delivery_id)
    flash(_("The delivery is queued again."), "info")
    return redirect(url_for(".webhook_detail", webhook_id=hook.id))


@bp.post("/inbound/token")
@admin_required
@transactional
def inbound_token():
    """A new gateway token (shown once); the previous one stops working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = inbound.create_token(actor=current_user._get_current_object())
    return _no_store(render_template("integrations/token.html", token=token,
                                     inbound_urls=[url_for("tenant.inbound.receive_" + ch, _external=True)
                                                   for ch in inbound.CHANNELS]))


@bp.post("/inbound/revoke")
@admin_required
@transactional
def inbound_revoke():
    """Stop accepting gateway messages until a new token is made."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    inbound.revoke_tokens()
    flash(_("The gateway token is revoked."), "info")
    return redirect(url_for(".index"))


# ---------------------------------------------------------------- the SP4N-LAPOR! bridge


def _render_bridge(form: BridgeForm | None = None, status: int = 200):
    config = sp4n.effective_config(g.tenant)
    if form is None:
        row = sp4n.stored_settings()
        form = BridgeForm(data={"enabled": config.enabled, "base_url": row.base_url if row is not None else ""})
    # The token field is never filled back: the page shows only the last characters of the token in use.
    html = render_template("integrations/sp4n.html", form=form, config=config, row=sp4n.stored_settings(),
                           errors=sp4n.recent_errors(), confirm=ConfirmForm(),
                           env_base_url=current_app.config.get("SP4N_BASE_URL"))
    return _no_store(html, status)


@bp.route("/sp4n", methods=["GET", "POST"])
@admin_required
def bridge():
    """The SP4N-LAPOR! bridge: on or off, base address and token (stored encrypted), last sync and errors."""
    if request.method == "GET":
        return _render_bridge()
    form = BridgeForm()
    if form.validate_on_submit():
        with unit_of_work(form) as work:
            sp4n.save_settings(g.tenant, current_user._get_current_object(), form.enabled.data, form.base_url.data,
                               form.token.data, clear_token=form.clear_token.data)
        if work.ok:
            flash(_("The bridge settings have been saved."), "info")
            return redirect(url_for(".bridge"), 303)
    return _render_bridge(form, 400)


@bp.post("/sp4n/test")
@admin_required
@transactional
def bridge_test():
    """Call the configured SP4N-LAPOR! address with the token now, and show what happened."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    result = sp4n.check_connection(g.tenant, current_user._get_current_object())
    if result.ok:
        flash(_("Connection works: SP4N-LAPOR! answered (%(detail)s).", detail=result.message), "info")
    else:
        flash(_("Connection failed: %(detail)s", detail=result.message), "error")
    return redirect(url_for(".bridge"), 303)


# ---------------------------------------------------------------- the gateway's endpoint


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-Gateway-Token")


def _wants_text() -> bool:
    return request.args.get("format") == "text" or request.accept_mimetypes.best == "text/plain"


def _answer(payload: dict, status: int):
    if _wants_text():
        body = payload.get("reply") or payload.get("error", "")
        return body, status, {"Content-Type": "text/plain; charset=utf-8"}
    return jsonify(payload), status


def gateway_error(message: str, status: int, headers: dict | None = None):
    """An error answer to the gateway (``{"error": …}``, or the text alone), e.g. the database outage's 503."""
    body, status, *rest = _answer({"error": str(message)}, status)
    response = make_response(body, status, *rest)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _receive(channel: str):
    """POST a message as JSON or form fields (message_id, from and the text; see README)."""
    if inbound.authenticate(_bearer()) is None:
        return _answer({"error": "invalid gateway token"}, 401)

    data = request.get_json(silent=True) if request.is_json else request.form
    if not isinstance(data, dict) and not hasattr(data, "get"):
        return _answer({"error": "send JSON or form fields"}, 400)
    fields = {k: str(data.get(k) or "") for k in ("message_id", "from", "text")}
    for attempt in range(2):
        try:
            with unit_of_work(catch=False):
                result = inbound.receive(channel, fields["message_id"], fields["from"], fields["text"])
                inbound.authenticate(_bearer()).last_used_at = utcnow()
            break
        except inbound.InboundError as exc:  # rolled back
            return _answer({"error": str(exc)}, 400)
        except IntegrityError:  # the same message id arrived twice at once (rolled back): answer from the first
            if attempt:
                raise
    status = 201 if result.action == "created" and not result.duplicate else 200
    return _answer({"reply": result.reply, "code": result.code, "action": result.action,
                    "duplicate": result.duplicate}, status)


#: A region's gateway posts from one address: generous, but a runaway or hostile sender is cut off.
INBOUND_LIMIT = "120 per minute"


@inbound_bp.post("/sms")
@csrf.exempt
@limiter.limit(INBOUND_LIMIT)
def receive_sms():
    """SMS gateway: a message in, the reply (with the tracking code) out."""
    return _receive("sms")


@inbound_bp.post("/whatsapp")
@csrf.exempt
@limiter.limit(INBOUND_LIMIT)
def receive_whatsapp():
    """WhatsApp gateway: as SMS."""
    return _receive("whatsapp")
