"""Staff pages of a region (complaint unit, agency liaisons, tenant administrators)."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.accounts import services as account_services
from app.accounts.access import roles_required, staff_required
from app.accounts.audit import SecurityEvent, action_label, detail_text
from app.accounts.forms import ActionForm, StaffRoleForm
from app.accounts.models import Role, User
from app.agencies.models import Agency, Category
from app.central import comparison as reports
from app.complaints import access, inbox
from app.complaints.models import Status
from app.extensions import db

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")


@bp.route("/")
@staff_required
def dashboard():
    """The staff home page."""
    counts = {
        "agencies": db.session.scalar(select(func.count(Agency.id))),
        "categories": db.session.scalar(select(func.count(Category.id))),
        "staff": db.session.scalar(select(func.count(User.id)).where(User.role.in_(Role.STAFF))),
    }
    user = current_user._get_current_object()
    return render_template(
        "staff/dashboard.html", tenant=g.tenant, counts=counts, status_counts=inbox.status_counts(user),
        deadline_counts=inbox.deadline_counts(user), queue=inbox.work_queue(user),
        badge=lambda c: inbox.deadline_badge(c, g.tenant), statuses=Status.ALL,
        # Peer benchmark: this region's figures and the anonymised median of all live regions only.
        bench=reports.peer_benchmark(g.tenant.id), indicators=reports.INDICATORS,
    )


@bp.route("/users")
@roles_required(Role.TENANT_ADMIN)
def users():
    """Tenant administrators see the region's staff."""
    rows = db.session.execute(
        select(User).where(User.role.in_(Role.STAFF)).order_by(User.role, User.name)
    ).scalars().all()
    forms = {u.id: _role_form(u) for u in rows}
    return render_template("staff/users.html", tenant=g.tenant, users=rows, forms=forms, action_form=ActionForm())


def _role_form(user: User | None = None) -> StaffRoleForm:
    from app.i18n import role_label

    data = {"role": user.role, "agency_id": user.agency_id} if user is not None else None
    form = StaffRoleForm(prefix="u", data=data)
    form.role.choices = [(r, role_label(r)) for r in Role.STAFF]
    agencies = db.session.execute(select(Agency).order_by(Agency.name)).scalars()
    form.agency_id.choices = [("", "—")] + [(a.id, a.short_name or a.name) for a in agencies]
    return form


def _staff_member(user_id: int) -> User:
    user = db.session.get(User, user_id)  # scoped: another region's id is not found
    if user is None or user.role not in Role.STAFF:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles_required(Role.TENANT_ADMIN)
def change_role(user_id: int):
    """A tenant administrator changes a staff member's role; their sessions end."""
    user = _staff_member(user_id)
    form = _role_form()
    if form.validate_on_submit():
        try:
            account_services.change_role(user, form.role.data, current_user._get_current_object(),
                                         agency_id=form.agency_id.data)
        except ValueError:
            db.session.rollback()
            flash(_("This role change is not possible (a liaison needs an agency; your own role stays)."), "error")
        else:
            db.session.commit()
            flash(_("The role has been changed. %(name)s has been signed out everywhere.", name=user.name), "info")
    else:
        flash(_("This role change is not possible (a liaison needs an agency; your own role stays)."), "error")
    return redirect(url_for("tenant.staff.users"))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(Role.TENANT_ADMIN)
def set_active(user_id: int):
    """Deactivate (ends every session) or reactivate a staff account."""
    user = _staff_member(user_id)
    if ActionForm().validate_on_submit():
        try:
            account_services.set_active(user, request.form.get("active") == "1", current_user._get_current_object())
        except ValueError:
            db.session.rollback()
            abort(400)
        db.session.commit()
        flash(_("The account has been updated."), "info")
    return redirect(url_for("tenant.staff.users"))


@bp.route("/audit")
@roles_required(Role.TENANT_ADMIN)
def audit_log():
    """The region's security log: sign-ins, failures, two-factor events, refusals, role changes."""
    rows = db.session.execute(
        select(SecurityEvent, User.name).outerjoin(User, User.id == SecurityEvent.user_id)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc()).limit(200)
    ).all()
    return render_template("accounts/audit.html", rows=rows, action_label=action_label,
                           detail_text=detail_text)


# ---------------------------------------------------------------- notifications (in-app list, preferences)


def _notification_rows(user, limit: int = 100):
    from app.complaints.models import Complaint
    from app.notifications.models import StaffNotification

    # Only the user's own rows; the complaint is shown only while they may still open it.
    items = db.session.execute(
        select(StaffNotification).filter_by(user_id=user.id)
        .order_by(StaffNotification.read_at.is_not(None), StaffNotification.id.desc()).limit(limit)).scalars().all()
    ids = {i.complaint_id for i in items}
    complaints = {c.id: c for c in db.session.execute(
        access.staff_complaints_query(user).where(Complaint.id.in_(ids))).scalars()} if ids else {}
    return [(i, complaints.get(i.complaint_id)) for i in items]


@bp.route("/notifications")
@staff_required
def notifications():
    """The staff user's own notifications, unread first."""
    from app.complaints import workflow

    user = current_user._get_current_object()
    return render_template("staff/notifications.html", rows=_notification_rows(user), action_form=ActionForm(),
                           event_label=workflow.event_label)


@bp.route("/notifications/read", methods=["POST"])
@staff_required
def mark_notifications_read():
    """Mark one notification (``id``) or all of the user's own as read."""
    from sqlalchemy import update

    from app.notifications.models import StaffNotification
    from app.tenancy.models import utcnow

    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    stmt = update(StaffNotification).where(StaffNotification.user_id == current_user.id,
                                           StaffNotification.read_at.is_(None))
    item_id = request.form.get("id", type=int)
    if item_id is not None:
        stmt = stmt.where(StaffNotification.id == item_id)
    db.session.execute(stmt.values(read_at=utcnow()))
    db.session.commit()
    return redirect(url_for(".notifications"), 303)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@staff_required
def notification_preferences():
    """Per event group: an email right away, one daily digest in the morning, or no email."""
    from app.notifications import rules
    from app.notifications.models import Mode

    user = current_user._get_current_object()
    current = rules.preferences_of(user)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        chosen = {group: request.form.get(f"mode-{group}", "") for group in current}
        if any(mode not in Mode.ALL for mode in chosen.values()):
            abort(400)
        rules.set_preferences(user, chosen)
        db.session.commit()
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
        from app.notifications.models import StaffNotification

        if not (current_user.is_authenticated and getattr(current_user, "is_staff", False)
                and g.get("tenant") is not None):
            return 0
        return db.session.scalar(select(func.count(StaffNotification.id)).where(
            StaffNotification.user_id == current_user.id, StaffNotification.read_at.is_(None))) or 0

    return {"staff_unread_count": staff_unread_count}
