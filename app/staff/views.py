"""Staff pages of a region (complaint unit, agency liaisons, tenant administrators)."""

from flask import Blueprint, g, render_template
from flask_login import current_user
from sqlalchemy import func, select

from app.accounts.access import roles_required, staff_required
from app.accounts.models import Role, User
from app.agencies.models import Agency, Category
from app.central import reports
from app.complaints import inbox
from app.complaints.models import Status
from app.extensions import db

bp = Blueprint("staff", __name__, url_prefix="/staff")


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
    return render_template("staff/users.html", tenant=g.tenant, users=rows)
