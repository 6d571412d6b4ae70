"""Staff pages of a region (complaint unit, agency liaisons, tenant administrators)."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import roles_required, staff_required
from app.accounts.forms import ActionForm
from app.accounts.models import Role
from app.central import comparison as reports
from app.complaints import dashboard as figures
from app.complaints import inbox, workflow
from app.complaints.models import Status
from app.notifications import rules
from app.notifications.models import Mode
from app.staff import service
from app.staff.nav import staff_nav
from app.unit_of_work import transactional

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")


def _user():
    return current_user._get_current_object()


@bp.route("/")
@staff_required
def dashboard():
    """The staff home page."""
    user = _user()
    locale = str(get_locale() or "id")
    # Charts over the reports this user may see (a liaison: their agency's), received in the last 12 weeks.
    region = figures.region_dashboard(user, locale)
    return render_template(
        "staff/dashboard.html", tenant=g.tenant, region=region, charts=figures.charts(region, locale),
        counts=service.desk_counts(), status_counts=inbox.status_counts(user),
        deadline_counts=inbox.deadline_counts(user), queue=inbox.work_queue(user),
        badge=lambda c: inbox.deadline_badge(c, g.tenant), statuses=Status.ALL,
        # Peer benchmark: this region's figures and the anonymised median of all live regions only.
        bench=reports.peer_benchmark(g.tenant.id), indicators=reports.INDICATORS,
    )


@bp.route("/users")
@roles_required(Role.TENANT_ADMIN)
def users():
    """Staff accounts are administered in one place: the settings' staff page."""
    return redirect(url_for("tenant.settings.staff"), 301)


@bp.route("/audit")
@roles_required(Role.TENANT_ADMIN)
def audit_log():
    """The security log is part of the one audit trail now (settings): old bookmarks land on its filter."""
    return redirect(url_for("tenant.settings.audit", trail="security"), 301)


# ---------------------------------------------------------------- notifications (in-app list, preferences)


@bp.route("/notifications")
@staff_required
def notifications():
    """The staff user's own notifications, unread first."""
    return render_template("staff/notifications.html", rows=service.notification_rows(_user()),
                           action_form=ActionForm(), event_label=workflow.event_label)


@bp.route("/notifications/read", methods=["POST"])
@staff_required
@transactional
def mark_notifications_read():
    """Mark one notification (``id``) or all of the user's own as read."""
    if not ActionForm().validate_on_submit():
        abort(400)
    service.mark_notifications_read(_user(), request.form.get("id", type=int))
    return redirect(url_for(".notifications"), 303)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@staff_required
@transactional
def notification_preferences():
    """Per event group: an email right away, one daily digest in the morning, or no email."""
    user = _user()
    current = rules.preferences_of(user)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = {group: request.form.get(f"mode-{group}", "") for group in current}
        if any(mode not in Mode.ALL for mode in chosen.values()):
            abort(400)
        rules.set_preferences(user, chosen)
        flash(_("Your notification settings were saved."), "info")
        return redirect(url_for(".notification_preferences"), 303)
    modes = {Mode.IMMEDIATE: _("Email right away"), Mode.DIGEST: _("Daily digest (morning)"),
             Mode.OFF: _("No email (in-app list only)")}
    return render_template("staff/notification_preferences.html", form=form, current=current,
                           groups=rules.GROUPS, modes=modes)


@bp.app_context_processor
def _unread_notifications() -> dict:
    """The staff header's unread count (0 for everyone else)."""

    def staff_unread_count() -> int:
        if not (current_user.is_authenticated and getattr(current_user, "is_staff", False)
                and g.get("tenant") is not None):
            return 0
        return service.unread_count(current_user)

    return {"staff_unread_count": staff_unread_count, "staff_nav": staff_nav}
