"""Reads and small writes behind the staff desk: the home page's figures and the in-app notification list."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.accounts.models import Role, User
from app.agencies.models import Agency, Category
from app.complaints import access
from app.complaints.models import Complaint
from app.extensions import db
from app.notifications.models import StaffNotification
from app.tenancy.models import utcnow


def desk_counts() -> dict[str, int]:
    """How many agencies, categories and staff accounts the bound region has."""
    return {
        "agencies": db.session.scalar(select(func.count(Agency.id))),
        "categories": db.session.scalar(select(func.count(Category.id))),
        "staff": db.session.scalar(select(func.count(User.id)).where(User.role.in_(Role.STAFF))),
    }


def notification_rows(user: User, limit: int = 100) -> list[tuple[StaffNotification, Complaint | None]]:
    """The user's own notifications, unread first; the complaint only while they may still open it."""
    items = db.session.execute(
        select(StaffNotification).filter_by(user_id=user.id)
        .order_by(StaffNotification.read_at.is_not(None), StaffNotification.id.desc()).limit(limit)).scalars().all()
    ids = {i.complaint_id for i in items}
    complaints = {c.id: c for c in db.session.execute(
        access.staff_complaints_query(user).where(Complaint.id.in_(ids))).scalars()} if ids else {}
    return [(i, complaints.get(i.complaint_id)) for i in items]


def mark_notifications_read(user: User, item_id: int | None = None) -> None:
    """Mark one of the user's own notifications (or all of them) as read."""
    stmt = update(StaffNotification).where(StaffNotification.user_id == user.id,
                                           StaffNotification.read_at.is_(None))
    if item_id is not None:
        stmt = stmt.where(StaffNotification.id == item_id)
    db.session.execute(stmt.values(read_at=utcnow()))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(StaffNotification.id)).where(
        StaffNotification.user_id == user.id, StaffNotification.read_at.is_(None))) or 0
