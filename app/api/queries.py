"""What the REST API (:mod:`app.api.rest`) and Open311 (:mod:`app.api.open311`) read from the database.

The route modules parse the request, call one function here or in the complaint service, and render the
answer; nothing here writes. All reads are tenant-scoped by the session hook, except :func:`tenant_by_slug`
(the Open311 platform door, before a region is bound)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, and_, func, not_, or_, select
from sqlalchemy.orm import selectinload

from app.agencies.models import Agency, Category
from app.complaints.inbox import disposed_to, submitted_within
from app.complaints.models import Attachment, Complaint, Disposition
from app.extensions import db
from app.onboarding.models import TenantAuditEvent
from app.tenancy.models import Tenant

# ---------------------------------------------------------------- codes of categories and agencies


def active_category_id(code: str) -> int | None:
    """The id of the region's active category with this code."""
    return db.session.execute(select(Category.id).where(Category.code == code, Category.active.is_(True))
                              ).scalar_one_or_none()


def id_by_code(model: type[Category] | type[Agency], code: str) -> int | None:
    """The id of the category or agency with this code (active or not)."""
    return db.session.execute(select(model.id).where(model.code == code)).scalar_one_or_none()


def active_agency_ids(codes: Iterable[str]) -> dict[str, int]:
    """{code: id} of the region's active agencies among ``codes``."""
    return dict(db.session.execute(select(Agency.code, Agency.id).where(
        Agency.code.in_(list(codes)), Agency.active.is_(True))).all())


def category_ids(codes: Iterable[str]) -> dict[str, int]:
    """{code: id} of the region's categories (active or not) among ``codes``."""
    return {c.code: c.id for c in db.session.execute(
        select(Category).where(Category.code.in_(list(codes)))).scalars()}


def category_by_code(code: str, active_only: bool = True) -> Category | None:
    stmt = select(Category).filter_by(code=code)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return db.session.execute(stmt).scalar_one_or_none()


def active_categories() -> list[Category]:
    """The region's active categories with their default agency, by name."""
    stmt = (select(Category).where(Category.active.is_(True)).options(selectinload(Category.default_agency))
            .order_by(Category.name_id, Category.id))
    return list(db.session.execute(stmt).scalars())


def active_agencies() -> list[Agency]:
    stmt = select(Agency).where(Agency.active.is_(True)).order_by(Agency.name, Agency.id)
    return list(db.session.execute(stmt).scalars())


# ---------------------------------------------------------------- complaints


def complaint_by_submission_key(key: str) -> Complaint | None:
    return db.session.execute(select(Complaint).filter_by(submission_key=key)).scalar_one_or_none()


def filtered_complaints(query, timezone: str) -> Select:
    """The REST list's statement for a parsed ``rest.ListQuery`` (``timezone``: the region's, for dates)."""
    stmt = select(Complaint)
    if query.statuses:
        stmt = stmt.where(Complaint.status.in_(query.statuses))
    if query.classes:
        stmt = stmt.where(Complaint.complaint_class.in_(query.classes))
    if query.category_id:
        stmt = stmt.where(Complaint.category_id == query.category_id)
    if query.agency_id:
        stmt = stmt.where(disposed_to(query.agency_id))
    stmt = submitted_within(stmt, query.submitted_from, query.submitted_to, timezone)
    if query.updated_since:
        stmt = stmt.where(Complaint.updated_at >= query.updated_since)
    if query.deadline_state == "none":
        stmt = stmt.where(Complaint.due_at.is_(None))
    elif query.deadline_state:
        # The stored state, kept current by the periodic deadline sweep: the same value the answer shows.
        stmt = stmt.where(Complaint.due_at.is_not(None), Complaint.deadline_state == query.deadline_state)
    if query.q:
        pattern = "%" + query.q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        # The text of a rahasia report is not the integration's to see, so it cannot be searched either
        # (a match would reveal it); its code can.
        stmt = stmt.where(or_(
            Complaint.code.ilike(pattern, escape="/"),
            and_(not_(Complaint.confidential), or_(Complaint.title.ilike(pattern, escape="/"),
                                                   Complaint.description.ilike(pattern, escape="/"))),
        ))
    return stmt


def complaint_page(stmt: Select, page: int, per_page: int) -> tuple[list[Complaint], int]:
    """(one page of ``stmt``'s complaints, newest first; how many there are in all)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(db.session.execute(
        stmt.order_by(Complaint.submitted_at.desc(), Complaint.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    return rows, total


def open311_requests() -> Select:
    """Complaints with what a GeoReport service request shows of them (category, agencies) loaded."""
    return select(Complaint).options(selectinload(Complaint.category),
                                     selectinload(Complaint.dispositions).selectinload(Disposition.agency))


def newest(stmt: Select, limit: int) -> list[Complaint]:
    """At most ``limit`` complaints of ``stmt``, newest first."""
    stmt = stmt.order_by(Complaint.submitted_at.desc(), Complaint.id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def public_photo_ids(complaint_ids: list[int]) -> dict[int, int]:
    """{complaint id: its first public image attachment's id} for ``complaint_ids``."""
    if not complaint_ids:
        return {}
    return dict(db.session.execute(
        select(Attachment.complaint_id, func.min(Attachment.id))
        .where(Attachment.complaint_id.in_(complaint_ids), Attachment.public.is_(True),
               Attachment.content_type.like("image/%"))
        .group_by(Attachment.complaint_id)).all())


def codes_by_id(complaint_ids: set[int]) -> dict[int, str]:
    if not complaint_ids:
        return {}
    return dict(db.session.execute(select(Complaint.id, Complaint.code).where(Complaint.id.in_(complaint_ids))
                                   ).all())


# ---------------------------------------------------------------- the region


def tenant_by_slug(slug: str) -> Tenant | None:
    return db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one_or_none()


def services_changed_at() -> datetime | None:
    """When a category or the deadlines were last edited (the Open311 services' changeset)."""
    return db.session.execute(select(func.max(TenantAuditEvent.at)).where(
        TenantAuditEvent.kind.like("category.%") | (TenantAuditEvent.kind == "settings.deadlines_updated"))
    ).scalar_one_or_none()
