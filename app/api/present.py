"""How a complaint looks to systems outside the complaint unit: the REST API and webhooks share these rules.

Privacy (UU PDP), for every complaint whatever its privacy: never the reporter's name, email, phone or
account, the private tracking link (access token), attachments, internal notes or internal events, nor the
names of the staff who acted. For a *rahasia* (confidential) complaint no content either: no title,
description, location, tags, follow-up text or event messages; only the code, status, class, category,
dates, deadline, agencies and the privacy flag.

Event messages written by the reporter (added information, replies, reopening reasons) are never passed on:
they are free text from a person and often carry their identity.

Times are ISO 8601 in UTC with a ``Z`` suffix. The functions here gather what an answer shows; the schemas
of :mod:`app.api.schemas` serialise it (and document it in the OpenAPI document).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select

from app.agencies.models import Agency, Category
from app.api import schemas
from app.api.schemas import iso  # noqa: F401  (webhooks use it)
from app.complaints import workflow
from app.complaints.actions import Available
from app.complaints.models import Complaint, ComplaintEvent, Disposition, FollowUp, FollowUpStatus, Visibility
from app.extensions import db


def has_content(c: Complaint) -> bool:
    """Whether the complaint's text may leave the complaint unit: not for *rahasia* complaints."""
    return not c.confidential


# ---------------------------------------------------------------- loading what a representation needs


def category_of(c: Complaint) -> Category | None:
    # By id, not the relationship: verification may have just changed the category.
    return db.session.get(Category, c.category_id) if c.category_id else None


def active_dispositions(complaint_ids: Iterable[int]) -> dict[int, list[tuple[Disposition, Agency]]]:
    """Active dispositions with their agency per complaint id, oldest first (one query)."""
    ids = list(complaint_ids)
    out: dict[int, list[tuple[Disposition, Agency]]] = {cid: [] for cid in ids}
    if not ids:
        return out
    stmt = (select(Disposition, Agency)
            .join(Agency, and_(Agency.id == Disposition.agency_id, Agency.tenant_id == Disposition.tenant_id))
            .where(Disposition.complaint_id.in_(ids), Disposition.active.is_(True))
            .order_by(Disposition.id))
    for disposition, agency in db.session.execute(stmt).all():
        out[disposition.complaint_id].append((disposition, agency))
    return out


def categories_by_id(complaints: Iterable[Complaint]) -> dict[int, Category]:
    ids = {c.category_id for c in complaints if c.category_id}
    if not ids:
        return {}
    return {cat.id: cat for cat in db.session.execute(select(Category).where(Category.id.in_(ids))).scalars()}


# ---------------------------------------------------------------- representations


_CORE = schemas.ComplaintCoreSchema()
_LIST = schemas.ComplaintListSchema()
_RESPONSE = schemas.ComplaintResponseSchema()
_CATEGORIES = schemas.CategoryListSchema()
_AGENCIES = schemas.AgencyListSchema()


def _core(c: Complaint, category: Category | None, agencies: list[str]) -> dict:
    """The fields a webhook carries and every REST complaint starts with (see the module docstring)."""
    data: dict = {
        "code": c.code, "status": c.status, "class": c.complaint_class,
        "category": {"code": category.code, "name": category.name_id} if category is not None else None,
        "privacy": c.privacy, "source": c.source,
        "submitted_at": c.submitted_at, "verified_at": c.verified_at, "due_at": c.due_at,
        # No clock runs (on hold, closed…): no deadline state either, rather than a misleading "on_time".
        "deadline_state": c.deadline_state if c.due_at is not None else None,
        "agencies": agencies,
    }
    if has_content(c):
        data.update(title=c.title, description=c.description,
                    location={"text": c.location_text, "latitude": c.latitude, "longitude": c.longitude})
    return data


def complaint_core(c: Complaint, category: Category | None, agencies: list[str]) -> dict:
    return _CORE.dump(_core(c, category, agencies))


def webhook_complaint(c: Complaint) -> dict:
    """:func:`complaint_core` with its category and agencies loaded (one complaint, for a webhook)."""
    agencies = [agency.short_name for _d, agency in active_dispositions([c.id])[c.id]]
    return complaint_core(c, category_of(c), agencies)


def _summary(c: Complaint, category: Category | None, dispositions: list[tuple[Disposition, Agency]]) -> dict:
    """One complaint in the REST API's list: the core plus the state an integration synchronises on."""
    data = _core(c, category, [agency.short_name for _d, agency in dispositions])
    data.update(
        status_label=workflow.status_label(c.status),
        deadline_stage=c.due_stage if c.due_at is not None else None,
        answered_at=c.answered_at, closed_at=c.closed_at, updated_at=c.updated_at, version=c.version,
    )
    if has_content(c):
        data["tags"] = list(c.tags or [])
    return data


def complaint_list(complaints: list[Complaint], meta: dict, links: dict) -> dict:
    """A page of complaints (two extra queries in all: categories, dispositions) with its meta and links."""
    categories = categories_by_id(complaints)
    dispositions = active_dispositions(c.id for c in complaints)
    data = [_summary(c, categories.get(c.category_id), dispositions[c.id]) for c in complaints]
    return _LIST.dump({"data": data, "meta": meta, "links": links})


def public_events(c: Complaint) -> list[dict]:
    """The complaint's public timeline: what the reporter sees on the tracking page, minus their own words."""
    stmt = (select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == c.id, ComplaintEvent.visibility == Visibility.PUBLIC)
            .order_by(ComplaintEvent.at, ComplaintEvent.id))
    out = []
    for e in db.session.execute(stmt).scalars():
        item = {
            "kind": e.kind,
            "label": workflow.event_label(e.kind),
            "at": e.at,
            "actor": e.actor_type,  # citizen | staff | system; never a person's name
            "from_status": (e.before or {}).get("status"),
            "to_status": (e.after or {}).get("status"),
        }
        # The follow-up text is in follow_ups; the reporter's own words never leave the complaint unit.
        if has_content(c) and e.message and e.actor_type != "citizen" and e.kind != "publish_followup":
            item["message"] = e.message
        out.append(item)
    return out


def published_follow_ups(c: Complaint) -> list[dict]:
    stmt = (select(FollowUp)
            .where(FollowUp.complaint_id == c.id, FollowUp.status == FollowUpStatus.PUBLISHED)
            .order_by(FollowUp.published_at, FollowUp.id))
    out = []
    for fu in db.session.execute(stmt).scalars():
        item = {"agency": fu.agency, "published_at": fu.published_at}
        if has_content(c):
            item["body"] = fu.body
        out.append(item)
    return out


def complaint_response(c: Complaint, actions: Iterable[Available] = ()) -> dict:
    """``{"data": …}``: one complaint with its dispositions, published follow-ups, public timeline and the
    transitions the caller may take now (``available_actions``)."""
    dispositions = active_dispositions([c.id])[c.id]
    data = _summary(c, category_of(c), dispositions)
    data["dispositions"] = [{"agency": agency, "since": d.created_at} for d, agency in dispositions]
    merged_into = db.session.get(Complaint, c.merged_into_id) if c.merged_into_id else None
    data["merged_into"] = merged_into.code if merged_into is not None else None
    if has_content(c):
        data["refer_to"] = c.refer_to
    data["follow_ups"] = published_follow_ups(c)
    data["events"] = public_events(c)
    data["available_actions"] = [a.as_dict() for a in actions]
    return _RESPONSE.dump({"data": data})


def category_list(categories: list[Category]) -> dict:
    return _CATEGORIES.dump({"data": [
        {"code": cat.code, "name": cat.name_id, "name_en": cat.name_en,
         "default_agency": cat.default_agency.code if cat.default_agency is not None else None}
        for cat in categories]})


def agency_list(agencies: list[Agency]) -> dict:
    return _AGENCIES.dump({"data": agencies})  # AgencySchema reads code, short_name and name
