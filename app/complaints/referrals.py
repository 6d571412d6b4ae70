"""Referral between regions on the platform ("no wrong door").

A complaint unit that finds a report outside its region's authority may refer it to another live region on
this platform instead of naming a body outside it. The referring region's report ends there as "referred"
(finished in its statistics); the receiving region gets a linked report of its own, with its own tracking
code, awaiting its complaint unit's decision: accepted, it is handled there as a new report (the verification
clock starts then); declined with a reason, the original report goes back to the referring unit's queue. The
citizen keeps the original code and link: that page shows where the report went and its new code, and every
public step of the linked report is mirrored onto the original's timeline, where it notifies the citizen.

How data crosses regions (tenant isolation comes first):

- The link is two tenant-owned halves of :class:`Referral`: an ``out`` row in the referring region and an
  ``in`` row in the receiving one, each naming the other region and the other half's ids. Each region's pages
  read only their own half, through the usual tenant scope and row-level security; no request ever reads or
  writes two regions.
- Only two outbox jobs cross: ``referral.deliver`` (written with the referral) and ``referral.sync`` (written
  with each public event of the linked report). Each reads in one region's scope, leaves it, and writes in the
  other's (:func:`app.tenancy.scope.tenant_scope`), in one transaction, so a delivery or an update lands
  whole or not at all. Outbox rows wait out a Redis outage; both jobs are safe to run twice: a delivery is
  keyed by the referral (``Complaint.submission_key``) and the out row is locked while it changes, and the
  mirror keeps a cursor (``Referral.mirrored_event_id``), so each event is mirrored once.
- Data minimisation: the receiving region gets the title, the description, the location text, the map
  position (only when it lies inside the receiving region's area), the class, the category when the
  receiving region has an active one with the same code, the privacy flags (a rahasia report stays rahasia,
  an anonymous one anonymous) and the public attachments (a public report's own photos and documents; an
  anonymous or rahasia report's are never public, so they stay). Of the reporter's identity it gets the name
  of a public (named) report only: never an email address, phone number or account, and nothing at all of
  an anonymous or rahasia report. The citizen is reached through the referring region's followers.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.agencies.models import Category
from app.complaints import access, workflow
from app.complaints.area import area_of
from app.complaints.events import EventContext, subscribe
from app.complaints.models import Complaint, ComplaintEvent, Status, Visibility
from app.complaints.referral_models import Direction, Referral, ReferralStatus
from app.complaints.service import (
    SYSTEM,
    Actor,
    TransitionError,
    ValidationError,
    _start_stage,
    _transition,
    derived_submission_key,
    ensure_may_share,
    next_code,
    record_event,
)
from app.complaints.service import refer as refer_outside
from app.complaints.uploads import UploadError, prepare_upload, read_attachment, save_attachments
from app.extensions import db
from app.jobs import job
from app.jobs.outbox import enqueue
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import current_tenant, current_tenant_id, tenant_scope

log = logging.getLogger(__name__)

#: ``Complaint.source`` of a report that arrived by referral from another region.
SOURCE = "referral"


STATUS_LABELS = {
    ReferralStatus.SENT: _l("On its way to the region"),
    ReferralStatus.AWAITING: _l("Awaiting the region's decision"),
    ReferralStatus.ACCEPTED: _l("Accepted by the region"),
    ReferralStatus.DECLINED: _l("Declined by the region"),
}


# ---------------------------------------------------------------- the referring region (its requests)

def regions_to_refer_to() -> list[Tenant]:
    """The platform's live regions a report can be referred to: active, open to the public, never this one."""
    return list(db.session.execute(
        select(Tenant).where(Tenant.status == TenantStatus.ACTIVE, Tenant.live.is_(True),
                             Tenant.id != current_tenant_id()).order_by(Tenant.name)).scalars())


def refer(c: Complaint, actor: Actor, target_tenant_id: int | None, body: str | None, message: str | None = None,
          expected_version: int | None = None) -> ComplaintEvent:
    """Bukan wewenang: refer to another region on the platform (``target_tenant_id``), or else to the body
    outside the platform named in ``body`` (:func:`app.complaints.service.refer`, unchanged).

    A region referral ends the handling here like any referral and writes the out half and the delivery job
    in the same transaction: the linked report appears in the other region once the job has run.
    """
    if not target_tenant_id:
        return refer_outside(c, actor, body or "", message, expected_version)
    target = next((t for t in regions_to_refer_to() if t.id == target_tenant_id), None)
    if target is None:
        raise ValidationError({"target_tenant_id": _l("Choose a region from the list.")})
    ensure_may_share(c)  # a restriction of processing (UU PDP) stops every sharing, this one too
    event = refer_outside(c, actor, target.name, message, expected_version)
    row = Referral(direction=Direction.OUT, complaint_id=c.id, peer_tenant_id=target.id,
                   status=ReferralStatus.SENT, note=(message or "").strip() or None)
    db.session.add(row)
    db.session.flush()
    enqueue("referral.deliver", referral_id=row.id)
    return event


def outgoing(c: Complaint) -> Referral | None:
    """The latest referral of ``c`` to another region, or None."""
    return db.session.execute(select(Referral).filter_by(complaint_id=c.id, direction=Direction.OUT)
                              .order_by(Referral.id.desc()).limit(1)).scalar_one_or_none()


def incoming(c: Complaint) -> Referral | None:
    """The referral by which ``c`` arrived from another region, or None."""
    if c.source != SOURCE:
        return None
    return db.session.execute(select(Referral).filter_by(complaint_id=c.id, direction=Direction.IN)
                              .limit(1)).scalar_one_or_none()


def public_link_of(region: Tenant, code: str) -> str:
    """The public tracking page of a report in another region (absolute: regions may have their own hosts)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{region.slug}/lacak/{code}"


@dataclass(frozen=True)
class ReferralView:
    """What a page shows of a referral: only this region's half and the other region's public name."""

    direction: str
    region: Tenant
    status: str
    status_label: str
    code: str | None
    link: str | None
    note: str | None
    reason: str | None
    peer_status_label: str | None = None
    extra: dict = field(default_factory=dict)


def _view(row: Referral) -> ReferralView:
    region = db.session.get(Tenant, row.peer_tenant_id)
    link = public_link_of(region, row.peer_code) if row.peer_code and row.peer_public else None
    return ReferralView(direction=row.direction, region=region, status=row.status,
                        status_label=str(STATUS_LABELS[row.status]), code=row.peer_code, link=link, note=row.note,
                        reason=row.decline_reason,
                        peer_status_label=workflow.status_label(row.peer_status) if row.peer_status else None)


def staff_view(c: Complaint) -> ReferralView | None:
    """For the staff page: where the report came from (a linked report) or where it was last referred to."""
    row = incoming(c) or outgoing(c)
    return _view(row) if row is not None else None


def citizen_view(c: Complaint) -> ReferralView | None:
    """For the tracking page of the original report: the region it is with now, its new code and link.
    Nothing once the other region declined it (the report is back here; its history says so)."""
    if c.status != Status.REFERRED:  # nearly every tracking page: no query
        return None
    row = outgoing(c)
    if row is None or row.status == ReferralStatus.DECLINED:
        return None
    return _view(row)


# ---------------------------------------------------------------- the receiving region (its requests)

def _awaiting(c: Complaint) -> Referral:
    row = incoming(c)
    if row is None or row.status != ReferralStatus.AWAITING:
        raise TransitionError(_l("This report is not a referral awaiting a decision."))
    return row


def accept(c: Complaint, actor: Actor, expected_version: int | None = None) -> ComplaintEvent:
    """The receiving unit accepts: the report is handled here as a new one; the verification clock starts now
    (the day of acceptance is day 0). The referring region hears of it through ``referral.sync``."""
    t = _transition(c, actor, "accept_referral", expected_version)
    row = _awaiting(c)
    now = utcnow()
    before = workflow.apply(c, t)
    c.awaiting_referral_decision = False
    row.status, row.decided_at = ReferralStatus.ACCEPTED, now
    _start_stage(c, "verification", now)
    return record_event(c, actor, "accept_referral", before=before, after={"status": c.status, "referral": "accepted"},
                        deadline_changed=True)


def decline(c: Complaint, actor: Actor, reason: str, expected_version: int | None = None) -> ComplaintEvent:
    """The receiving unit declines with a reason: the linked report ends here as referred back; the original
    goes back to the referring unit's queue (``referral.sync``), and its reporter reads the reason."""
    t = _transition(c, actor, "decline_referral", expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _l("Say why the report is declined.")})
    row = _awaiting(c)
    now = utcnow()
    before = workflow.apply(c, t)
    c.awaiting_referral_decision = False
    c.refer_to = db.session.get(Tenant, row.peer_tenant_id).name[:200]
    c.closed_at = now
    _start_stage(c, None)
    row.status, row.decided_at, row.decline_reason = ReferralStatus.DECLINED, now, reason[:1000]
    return record_event(c, actor, "decline_referral", message=reason[:1000], before=before,
                        after={"status": c.status, "referral": "declined"})


def on_complaint_event(c: Complaint, event: ComplaintEvent, ctx: EventContext) -> None:
    """A public event of a linked report: the referring region mirrors it (an outbox row of this region)."""
    if c.source != SOURCE or event.visibility != Visibility.PUBLIC:
        return
    row = incoming(c)
    if row is not None and row.peer_referral_id is not None:
        enqueue("referral.sync", referral_id=row.id)


subscribe(on_complaint_event, order=60)


# ---------------------------------------------------------------- the jobs (the only code that crosses)

def _lock() -> bool:
    return db.engine.dialect.name == "postgresql"


@dataclass
class Parcel:
    """What the receiving region may have of the original report (read in the referring region's scope)."""

    source_tenant_id: int
    source_region: str
    source_referral_id: int
    source_complaint_id: int
    source_code: str
    title: str
    description: str
    complaint_class: str
    category_code: str | None
    location_text: str | None
    latitude: float | None
    longitude: float | None
    anonymous: bool
    confidential: bool
    reporter_name: str | None
    note: str | None
    files: list[tuple[str, bytes]]


def _parcel(out: Referral, source: Complaint) -> Parcel:
    named = not (source.anonymous or source.confidential or source.processing_restricted)
    files = []
    for att in access.attachments(source, public_only=True):  # public: a named report's own files only
        try:
            files.append((att.filename, read_attachment(att)))
        except FileNotFoundError:
            log.warning("referral %s: attachment %s missing in storage", out.id, att.id)
    return Parcel(
        source_tenant_id=out.tenant_id, source_region=current_tenant().name, source_referral_id=out.id,
        source_complaint_id=source.id, source_code=source.code, title=source.title, description=source.description,
        complaint_class=source.complaint_class, category_code=source.category.code if source.category else None,
        location_text=source.location_text, latitude=source.latitude, longitude=source.longitude,
        anonymous=source.anonymous, confidential=source.confidential,
        reporter_name=source.reporter_name if named else None, note=out.note, files=files)


def _receive(p: Parcel) -> tuple[Complaint, Referral]:
    """In the receiving region's scope: the linked report and the in half (once per referral)."""
    key = derived_submission_key(SOURCE, str(p.source_tenant_id), str(p.source_referral_id))
    existing = db.session.execute(select(Complaint).filter_by(submission_key=key)).scalar_one_or_none()
    if existing is not None:  # delivered by an earlier run whose out half was not updated: finish that
        return existing, incoming(existing)
    tenant = current_tenant()
    category_id = None
    if p.category_code:
        category_id = db.session.execute(select(Category.id).filter_by(code=p.category_code, active=True)
                                         ).scalar_one_or_none()
    lat, lon = p.latitude, p.longitude
    area = area_of(tenant)
    if lat is None or lon is None or (area is not None and not area.contains(lat, lon)):
        lat = lon = None  # a pin outside this region's map would mislead; the location text stays
    now = utcnow()
    c = Complaint(code=next_code(tenant, now), access_token=secrets.token_urlsafe(24),
                  submission_key=key, title=p.title, description=p.description, complaint_class=p.complaint_class,
                  category_id=category_id, location_text=p.location_text, latitude=lat, longitude=lon,
                  anonymous=p.anonymous, confidential=p.confidential, reporter_name=p.reporter_name,
                  source=SOURCE, submitted_at=now, awaiting_referral_decision=True)
    workflow.apply(c, workflow.check("receive_referral", None, SYSTEM.role))  # no clock until it is accepted
    db.session.add(c)
    db.session.flush()
    row = Referral(direction=Direction.IN, complaint_id=c.id, peer_tenant_id=p.source_tenant_id,
                   peer_referral_id=p.source_referral_id, peer_complaint_id=p.source_complaint_id,
                   peer_code=p.source_code, status=ReferralStatus.AWAITING, note=p.note, delivered_at=now)
    db.session.add(row)
    db.session.flush()
    event = record_event(c, SYSTEM, "receive_referral", message=f"{p.source_region} · {p.source_code}",
                         after={"region": p.source_region, "code": p.source_code})
    uploads = []
    for name, data in p.files:
        try:
            uploads.append(prepare_upload(name, data))
        except UploadError:
            log.warning("referral: an attachment was refused by this region's checks")
    if uploads:
        save_attachments(c, event, uploads, public=not (c.anonymous or c.confidential))
    return c, row


@job("referral.deliver")
def deliver(tenant_id: int, referral_id: int) -> str:
    """Create the linked report in the receiving region (run in the referring region's outbox); idempotent."""
    out = db.session.get(Referral, referral_id, with_for_update=_lock())
    if out is None or out.direction != Direction.OUT:
        return "missing"
    if out.status != ReferralStatus.SENT:
        return "already"
    source = db.session.get(Complaint, out.complaint_id)
    target_region = db.session.get(Tenant, out.peer_tenant_id)
    if target_region is None or target_region.status != TenantStatus.ACTIVE:
        # The region left the platform meanwhile: the report comes back rather than waiting for nobody.
        _back_to_unit(source, out, target_region.name if target_region else "", _reason_unavailable())
        return "returned"
    parcel = _parcel(out, source)
    db.session.flush()  # nothing of this region may be left to flush inside the other one's scope
    with tenant_scope(out.peer_tenant_id):
        linked, row = _receive(parcel)
        db.session.flush()
        delivered = {"id": linked.id, "code": linked.code, "referral": row.id, "status": linked.status,
                     "public": not linked.confidential}
    out.peer_complaint_id, out.peer_referral_id = delivered["id"], delivered["referral"]
    out.peer_code = delivered["code"]
    out.peer_status, out.peer_public = delivered["status"], delivered["public"]
    out.status, out.delivered_at = ReferralStatus.AWAITING, utcnow()
    record_event(source, SYSTEM, "referral_delivered", message=f"{target_region.name} · {delivered['code']}",
                 after={"region": target_region.name, "code": delivered["code"]})
    db.session.flush()
    log.info("referral %s delivered as %s", source.code, delivered["code"])
    return "delivered"


def _reason_unavailable() -> str:
    with force_locale(current_tenant().locale or "id"):
        return str(_l("The region no longer takes reports on this platform."))


def _back_to_unit(source: Complaint, out: Referral, region: str, reason: str | None) -> ComplaintEvent:
    """In the referring region: the other region declined, so the report is the unit's again (verification
    clock restarting today)."""
    now = utcnow()
    before = workflow.apply(source, workflow.check("referral_declined", source.status, SYSTEM.role))
    source.refer_to = None
    source.closed_at = None
    _start_stage(source, "verification", now)
    out.status, out.decided_at, out.decline_reason = ReferralStatus.DECLINED, now, reason
    return record_event(source, SYSTEM, "referral_declined", message=reason,
                        before=before, after={"status": source.status, "region": region}, deadline_changed=True)


@dataclass(frozen=True)
class News:
    """A public event of the linked report, as plain data (read in the receiving region's scope)."""

    id: int
    kind: str
    message: str | None


def _mirror_text(region: str, code: str, news: News, locale: str) -> str:
    with force_locale(locale):
        head = f"{region} · {code}: {workflow.event_label(news.kind)}"
    return f"{head}\n\n{news.message}" if news.message else head


@job("referral.sync")
def sync(tenant_id: int, referral_id: int) -> str:
    """Mirror the linked report's new public events onto the original (run in the receiving region's outbox).

    The out half is locked while its cursor moves, so two runs never mirror one event twice.
    """
    row = db.session.get(Referral, referral_id)
    if row is None or row.direction != Direction.IN or row.peer_referral_id is None:
        return "missing"
    linked = db.session.get(Complaint, row.complaint_id)
    region = current_tenant().name
    source_tenant_id, out_id = row.peer_tenant_id, row.peer_referral_id
    with tenant_scope(source_tenant_id):
        out = db.session.get(Referral, out_id, with_for_update=_lock())
        if out is None or out.direction != Direction.OUT:
            return "missing"
        cursor = out.mirrored_event_id or 0
    news = [News(e.id, e.kind, e.message) for e in db.session.execute(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == linked.id, ComplaintEvent.id > cursor,
                                     ComplaintEvent.visibility == Visibility.PUBLIC,
                                     ComplaintEvent.actor_type != "citizen")
        .order_by(ComplaintEvent.id)).scalars()]
    state = {"status": linked.status, "public": not linked.confidential, "code": linked.code}
    with tenant_scope(source_tenant_id):
        mirrored = _apply_news(out, news, state, region)
        db.session.flush()
    return f"mirrored {mirrored}"


def _apply_news(out: Referral, news: list[News], state: dict, region: str) -> int:
    """In the referring region: one event on the original report per new public event of the linked one."""
    source = db.session.get(Complaint, out.complaint_id)
    locale = current_tenant().locale or "id"
    out.peer_status, out.peer_public = state["status"], state["public"]
    mirrored = 0
    for item in news:
        out.mirrored_event_id = max(out.mirrored_event_id or 0, item.id)
        if out.status == ReferralStatus.DECLINED or source.status != Status.REFERRED:
            continue  # the report is back here: the other region's later steps are not its progress
        if item.kind == "decline_referral":
            _back_to_unit(source, out, region, item.message)
        else:
            if item.kind == "accept_referral":
                out.status, out.decided_at = ReferralStatus.ACCEPTED, utcnow()
            record_event(source, SYSTEM, "referral_update", message=_mirror_text(region, state["code"], item, locale),
                         after={"region": region, "code": state["code"], "kind": item.kind, "event": item.id})
        mirrored += 1
    return mirrored
