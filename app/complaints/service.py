"""Complaint operations. Each takes the tenant-bound session, an actor and data; records one
append-only event per change and emits it (app.complaints.events: notifications, webhooks and the
SP4N-LAPOR! bridge subscribe there); flushes, never commits.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app import contact
from app.agencies.models import Agency, Category
from app.complaints import workflow
from app.complaints.area import area_of
from app.complaints.events import EventContext, emit
from app.complaints.models import (
    CLASSES,
    CodeCounter,
    Complaint,
    ComplaintEvent,
    Disposition,
    Follower,
    FollowUp,
    FollowUpStatus,
    Privacy,
    Rating,
    Status,
    Visibility,
)
from app.complaints.uploads import save_attachments
from app.complaints.workflow import StaleComplaint, TransitionError
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import deadline_for, deadline_state, stage_days
from app.extensions import db
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

log = logging.getLogger(__name__)


class ValidationError(Exception):
    """Bad input; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(", ".join(errors))


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user, the citizen holding the private link, or the system."""

    role: str
    user: object | None = None

    @property
    def label(self) -> str | None:
        return getattr(self.user, "name", None) if self.role != "citizen" else None

    @property
    def type(self) -> str:
        return {"citizen": "citizen", "system": "system"}.get(self.role, "staff")

    @classmethod
    def of(cls, user) -> Actor:
        return cls(role=user.role, user=user)


CITIZEN = Actor("citizen")
SYSTEM = Actor("system")


@dataclass
class SubmitData:
    title: str
    description: str
    complaint_class: str
    category_id: int | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    privacy: str = Privacy.PUBLIC
    reporter_name: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None
    reporter_user_id: int | None = None
    locale: str = "id"
    submission_key: str | None = None
    source: str = "web"
    #: False when the channel answers the reporter itself (the inbound gateway's reply).
    notify_reporter: bool = True
    attachments: list = field(default_factory=list)  # list[PreparedUpload]


#: The width of ``Complaint.submission_key``.
SUBMISSION_KEY_LENGTH = 64


def derived_submission_key(label: str, *parts: str) -> str:
    """A ``submission_key`` for an outside id of any length: ``<label>:<SHA-256 of all parts>``, cut to the
    column's width. Hashing the whole id (never cutting the id itself) keeps two ids that share a long
    prefix apart, so neither is taken for a retry of the other."""
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{label}:{digest}"[:SUBMISSION_KEY_LENGTH]


# ---------------------------------------------------------------- helpers

def _snapshot(c: Complaint, keys: tuple[str, ...]) -> dict:
    out = {}
    for k in keys:
        v = getattr(c, k)
        out[k] = v.isoformat() if isinstance(v, datetime) else v
    return out


def record_event(c: Complaint, actor: Actor, kind: str, message: str | None = None, before: dict | None = None,
                 after: dict | None = None, visibility: str | None = None, *, notify_reporter: bool = True,
                 agency_ids: tuple[int, ...] = (), deadline_changed: bool = False) -> ComplaintEvent:
    """Append one event and emit it to the subscribers (who is told what is decided there, not here)."""
    t = workflow.TRANSITIONS.get(kind)
    db.session.flush()  # the report's changes first: the event records the version they give it
    event = ComplaintEvent(
        complaint_id=c.id, kind=kind, visibility=visibility or (t.visibility if t else Visibility.INTERNAL),
        actor_type=actor.type, actor_id=getattr(actor.user, "id", None) if actor.type == "staff" else None,
        actor_label=actor.label, message=message, before=before or {}, after=after or {}, version=c.version,
    )
    db.session.add(event)
    db.session.flush()
    emit(c, event, EventContext(actor_role=actor.role, actor_user_id=event.actor_id,
                                notify_reporter=notify_reporter, agency_ids=tuple(agency_ids),
                                deadline_changed=deadline_changed))
    return event


def _expect_version(c: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != c.version:
        raise StaleComplaint()


#: The receiving unit's decision on a report another region referred here (app.complaints.referrals).
REFERRAL_DECISIONS = ("accept_referral", "decline_referral")


def _transition(c: Complaint, actor: Actor, action: str, expected_version: int | None = None) -> workflow.Transition:
    _expect_version(c, expected_version)
    t = workflow.check(action, c.status, actor.role)
    # A referred report waits for the receiving unit's decision before anything else is done with it.
    if c.awaiting_referral_decision and action not in REFERRAL_DECISIONS:
        raise TransitionError(_l("First accept or decline this report referred by another region."))
    if action in REFERRAL_DECISIONS and not c.awaiting_referral_decision:
        raise TransitionError(_l("This report is not a referral awaiting a decision."))
    return t


def ensure_may_share(c: Complaint) -> None:
    """A restriction of processing (UU PDP) stops every further sharing: dispositions, merges, forwarding.

    :raises TransitionError: while the restriction is in force.
    """
    if c.processing_restricted:
        raise TransitionError(_l("Processing of this report's personal data is restricted: it cannot be shared "
                                 "until the complaint unit lifts the restriction."))


def _start_stage(c: Complaint, stage: str | None, started_at: datetime | None = None) -> None:
    """Start the clock of ``stage`` (or stop it with None) and compute the deadline."""
    tenant = current_tenant()
    c.due_stage = stage
    c.stage_started_at = started_at or utcnow() if stage else None
    c.paused_at = None
    c.paused_working_days = 0
    c.escalated_stage = None
    _recompute_deadline(c, tenant)


def _recompute_deadline(c: Complaint, tenant=None, now: datetime | None = None) -> None:
    tenant = tenant or current_tenant()
    if not c.due_stage or c.paused_at is not None:
        c.due_at = None
        c.deadline_state = "on_time"
        return
    cal = calendar_for_tenant(tenant)
    c.due_at = deadline_for(cal, tenant.settings or {}, c.due_stage, c.stage_started_at,
                            complaint_class=c.complaint_class, paused_working_days=c.paused_working_days)
    c.deadline_state = deadline_state(cal, tenant.settings or {}, c.due_at, now or utcnow())
    if c.deadline_state == "none":
        c.deadline_state = "on_time"


def _on_time(c: Complaint, at: datetime) -> bool | None:
    return None if c.due_at is None else at <= c.due_at


def next_code(tenant, at: datetime) -> str:
    """The next tracking code, e.g. BJM-26-00123: prefix, local year, sequence per tenant and year.

    Counted in the submission's own transaction, so codes have no gaps (a register an auditor can
    check): a failed submission gives its number back. The counter row is locked until commit; the
    benchmark showed drawing it in a separate transaction did not raise throughput.
    """
    year = calendar_for_tenant(tenant).local_date(at).year
    stmt = (update(CodeCounter).where(CodeCounter.year == year)
            .values(last_value=CodeCounter.last_value + 1).returning(CodeCounter.last_value))
    value = db.session.execute(stmt).scalar_one_or_none()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CodeCounter(year=year, last_value=1))
            value = 1
        except IntegrityError:  # created concurrently: increment theirs
            value = db.session.execute(stmt).scalar_one()
    return f"{tenant.code_prefix}-{year % 100:02d}-{value:05d}"


# ---------------------------------------------------------------- citizen

def submit_complaint(data: SubmitData, actor: Actor = CITIZEN) -> tuple[Complaint, bool]:
    """Create a complaint with its tracking code; returns (complaint, created).

    A repeated ``submission_key`` returns the existing complaint and creates nothing.

    :raises ValidationError: on bad input, before anything is written.
    """
    if data.submission_key:
        existing = db.session.execute(
            select(Complaint).filter_by(submission_key=data.submission_key)).scalar_one_or_none()
        if existing is not None:
            return existing, False
    data = validate_submission(data)
    tenant = current_tenant()
    now = utcnow()
    t = workflow.check("submit", None, actor.role)
    c = Complaint(
        code=next_code(tenant, now), access_token=secrets.token_urlsafe(24), submission_key=data.submission_key,
        title=data.title, description=data.description, complaint_class=data.complaint_class,
        category_id=data.category_id, location_text=data.location_text,
        latitude=data.latitude, longitude=data.longitude,
        anonymous=data.privacy == Privacy.ANONYMOUS, confidential=data.privacy == Privacy.CONFIDENTIAL,
        reporter_name=data.reporter_name, reporter_email=data.reporter_email,
        reporter_phone=data.reporter_phone, reporter_user_id=data.reporter_user_id,
        source=data.source, submitted_at=now,
    )
    workflow.apply(c, t)
    _start_stage(c, "verification", now)  # before the INSERT: the deadline goes in with the row, no UPDATE
    try:
        with db.session.begin_nested():
            db.session.add(c)
    except IntegrityError:  # the same form arrived twice at once
        existing = db.session.execute(
            select(Complaint).filter_by(submission_key=data.submission_key)).scalar_one_or_none()
        if existing is None:
            raise
        return existing, False
    # The followers first: the receipt goes out from the event's subscribers.
    if c.reporter_email:
        db.session.add(Follower(complaint_id=c.id, channel="email", recipient=c.reporter_email,
                                locale=data.locale, origin_complaint_id=c.id))
    if c.reporter_phone:
        db.session.add(Follower(complaint_id=c.id, channel="sms", recipient=c.reporter_phone,
                                locale=data.locale, origin_complaint_id=c.id))
    db.session.flush()
    event = record_event(c, actor, "submit", after={"status": c.status, "class": c.complaint_class,
                                                     "privacy": data.privacy},
                         notify_reporter=data.notify_reporter)
    if data.attachments:
        save_attachments(c, event, data.attachments, public=not c.anonymous and not c.confidential)
    log.info("complaint %s submitted", c.code)
    return c, True


#: The longest description and location any channel may send (the web form's and the REST API's limits).
MAX_DESCRIPTION = 10_000
MAX_LOCATION = 300
MAX_NAME = 120


def _text_errors(title: str, description: str, location: str, name: str) -> dict:
    errors: dict = {}
    if len(title) < 5:
        errors["title"] = _l("Write a short title (at least 5 characters).")
    elif len(title) > 200:
        errors["title"] = _l("The title may have at most 200 characters.")
    if len(description) < 20:
        errors["description"] = _l("Describe what happened (at least 20 characters).")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _l("The description may have at most %(n)s characters.", n=MAX_DESCRIPTION)
    if len(location) > MAX_LOCATION:
        errors["location_text"] = _l("The location may have at most %(n)s characters.", n=MAX_LOCATION)
    if len(name) > MAX_NAME:
        errors["reporter_name"] = _l("The name may have at most 120 characters.")
    return errors


def _choice_errors(data: SubmitData) -> dict:
    errors: dict = {}
    if data.complaint_class not in CLASSES:
        errors["complaint_class"] = _l("Choose the kind of report.")
    if data.privacy not in Privacy.ALL:
        errors["privacy"] = _l("Choose who may see your report.")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        errors["category_id"] = _l("Choose a category from the list.")
    if data.latitude is not None and not -11.5 <= data.latitude <= 6.5:
        errors["latitude"] = _l("The map pin is outside Indonesia.")
    if data.longitude is not None and not 94.5 <= data.longitude <= 141.5:
        errors["longitude"] = _l("The map pin is outside Indonesia.")
    if data.latitude is not None and data.longitude is not None and not errors.keys() & {"latitude", "longitude"}:
        tenant = current_tenant()
        area = area_of(tenant)
        if area is not None and not area.contains(data.latitude, data.longitude):
            errors["latitude"] = errors["longitude"] = _l(
                "The map pin is outside the area of %(region)s. Move it into the region or leave the position "
                "empty.", region=tenant.name)
    if len(data.attachments) > 5:
        errors["attachments"] = _l("Attach at most 5 files.")
    return errors


def validate_submission(data: SubmitData) -> SubmitData:
    """The one submission schema of every channel (web form, REST, Open311, SMS/WhatsApp): a copy of
    ``data`` with every field checked and normalised (texts stripped, the reporter's email and phone via
    :mod:`app.contact`). The channels only map their field names onto :class:`SubmitData` and render
    ``ValidationError.errors`` (keys are SubmitData's field names) in their own format.

    :raises ValidationError: with every bad field at once.
    """
    title, description = (data.title or "").strip(), (data.description or "").strip()
    location, name = (data.location_text or "").strip(), (data.reporter_name or "").strip()
    email, phone, contact_errors = contact.clean_contacts(data.reporter_email, data.reporter_phone)
    errors = {**_text_errors(title, description, location, name), **_choice_errors(data), **contact_errors}
    if errors:
        raise ValidationError(errors)
    return replace(data, title=title, description=description, location_text=location or None,
                   reporter_name=name or None, reporter_email=email, reporter_phone=phone)


def add_information(c: Complaint, message: str, attachments: list | None = None) -> ComplaintEvent:
    """The citizen adds information; a complaint on hold resumes verification."""
    workflow.check("add_info", c.status, "citizen")
    if not (message or "").strip():
        raise ValidationError({"message": _l("Write a message.")})
    event = record_event(c, CITIZEN, "add_info", message=message.strip())
    if attachments:
        save_attachments(c, event, attachments, public=False)
    if c.status == Status.ON_HOLD:
        resume(c, CITIZEN)
    return event


def resume(c: Complaint, actor: Actor, expected_version: int | None = None) -> ComplaintEvent:
    """End a hold: the verification clock restarts where it stopped."""
    t = _transition(c, actor, "resume", expected_version)
    cal = calendar_for_tenant(current_tenant())
    now = utcnow()
    if c.paused_at is not None:
        c.paused_working_days += cal.working_days_between(cal.local_date(c.paused_at), cal.local_date(now))
        c.paused_at = None
    before = workflow.apply(c, t)
    _recompute_deadline(c)
    return record_event(c, actor, "resume", before=before, after={"status": c.status}, deadline_changed=True)


def citizen_reply(c: Complaint, message: str) -> ComplaintEvent:
    """The citizen answers the follow-up: the automatic close stops and the agency takes it up again."""
    t = _transition(c, CITIZEN, "citizen_reply")
    if not (message or "").strip():
        raise ValidationError({"message": _l("Write a message.")})
    before = workflow.apply(c, t)
    _start_stage(c, "followup")
    return record_event(c, CITIZEN, "citizen_reply", message=message.strip(), before=before,
                        after={"status": c.status}, deadline_changed=True)


def rate(c: Complaint, score: int, comment: str | None = None) -> Rating:
    """Rate the handling once per answer (1–5)."""
    workflow.check("rate", c.status, "citizen")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": _l("Choose a rating from 1 to 5.")})
    if c.answered_at is None:
        raise TransitionError(_l("You can rate once a follow-up has been published."))
    exists = db.session.execute(select(Rating.id).filter_by(complaint_id=c.id, cycle=c.reopen_count)).first()
    if exists:
        raise TransitionError(_l("You have already rated this answer."))
    rating = Rating(complaint_id=c.id, cycle=c.reopen_count, score=score, comment=(comment or "").strip() or None)
    db.session.add(rating)
    record_event(c, CITIZEN, "rate", after={"score": score})
    return rating


def reopen(c: Complaint, actor: Actor, reason: str, expected_version: int | None = None) -> ComplaintEvent:
    """Reopen a closed complaint; a citizen may do so only within the tenant's window."""
    t = _transition(c, actor, "reopen", expected_version)
    if actor.role == "citizen" and not can_citizen_reopen(c):
        raise TransitionError(_l("The time to reopen this report has passed."))
    if not (reason or "").strip():
        raise ValidationError({"message": _l("Say why the report should be reopened.")})
    before = workflow.apply(c, t)
    c.reopen_count += 1
    c.closed_at = None
    _start_stage(c, "followup")
    return record_event(c, actor, "reopen", message=reason.strip(), before=before, after={"status": c.status},
                        deadline_changed=True)


def can_citizen_reopen(c: Complaint, now: datetime | None = None) -> bool:
    if c.status != Status.CLOSED or c.closed_at is None:
        return False
    tenant = current_tenant()
    cal = calendar_for_tenant(tenant)
    window = int((tenant.settings or {}).get("reopen_window_working_days", 10))
    now = now or utcnow()
    return cal.working_days_between(cal.local_date(c.closed_at), cal.local_date(now)) <= window


# ---------------------------------------------------------------- complaint unit

def verify(c: Complaint, actor: Actor, *, title: str | None = None, complaint_class: str | None = None,
           category_id: int | None = None, tags: list[str] | None = None, anonymous: bool | None = None,
           confidential: bool | None = None, expected_version: int | None = None) -> ComplaintEvent:
    """Verify: set title, class, category, tags and privacy flags; the coordination clock starts."""
    t = _transition(c, actor, "verify", expected_version)
    before = _snapshot(c, ("status", "title", "complaint_class", "category_id", "tags", "anonymous", "confidential"))
    _apply_edits(c, title, complaint_class, category_id, tags, anonymous, confidential)
    now = utcnow()
    c.verified_on_time = _on_time(c, now)
    workflow.apply(c, t)
    c.verified_at = now
    c.first_response_at = c.first_response_at or now
    _start_stage(c, "coordination", now)
    after = _snapshot(c, tuple(before))
    return record_event(c, actor, "verify", before=before, after=after, deadline_changed=True)


def edit(c: Complaint, actor: Actor, *, expected_version: int | None = None, **changes) -> ComplaintEvent | None:
    """Edit classification fields after verification (recorded with before and after)."""
    _transition(c, actor, "edit", expected_version)
    keys = ("title", "complaint_class", "category_id", "tags", "anonymous", "confidential")
    before = _snapshot(c, keys)
    _apply_edits(c, changes.get("title"), changes.get("complaint_class"), changes.get("category_id"),
                 changes.get("tags"), changes.get("anonymous"), changes.get("confidential"))
    after = _snapshot(c, keys)
    if before == after:
        return None
    if before["complaint_class"] != after["complaint_class"] and c.due_stage == "followup":
        _recompute_deadline(c)
    changed = [k for k in keys if before[k] != after[k]]
    return record_event(c, actor, "edit", before={k: before[k] for k in changed}, after={k: after[k] for k in changed})


def _apply_edits(c, title, complaint_class, category_id, tags, anonymous, confidential) -> None:
    errors = {}
    if title is not None:
        if len(title.strip()) < 5:
            errors["title"] = _l("Write a short title (at least 5 characters).")
        c.title = title.strip()[:200]
    if complaint_class is not None:
        if complaint_class not in CLASSES:
            errors["complaint_class"] = _l("Choose the kind of report.")
        c.complaint_class = complaint_class
    if category_id is not None:
        if db.session.get(Category, category_id) is None:
            errors["category_id"] = _l("Choose a category from the list.")
        c.category_id = category_id
    if tags is not None:
        c.tags = sorted({t.strip().lower()[:40] for t in tags if t.strip()})
    if anonymous is not None:
        c.anonymous = bool(anonymous)
    if confidential is not None:
        c.confidential = bool(confidential)
    if errors:
        raise ValidationError(errors)


def hold(c: Complaint, actor: Actor, message: str, expected_version: int | None = None) -> ComplaintEvent:
    """Tunda: ask the citizen for more information; the verification clock pauses."""
    t = _transition(c, actor, "hold", expected_version)
    if not (message or "").strip():
        raise ValidationError({"message": _l("Tell the reporter which information is missing.")})
    before = workflow.apply(c, t)
    c.paused_at = utcnow()
    _recompute_deadline(c)
    c.first_response_at = c.first_response_at or c.paused_at
    return record_event(c, actor, "hold", message=message.strip(), before=before, after={"status": c.status})


def refer(c: Complaint, actor: Actor, body: str, message: str | None = None,
          expected_version: int | None = None) -> ComplaintEvent:
    """Bukan wewenang: record the body with authority and end the handling here."""
    t = _transition(c, actor, "refer", expected_version)
    if not (body or "").strip():
        raise ValidationError({"refer_to": _l("Name the body with authority.")})
    before = workflow.apply(c, t)
    c.refer_to = body.strip()[:200]
    c.closed_at = utcnow()
    c.first_response_at = c.first_response_at or c.closed_at
    _start_stage(c, None)
    return record_event(c, actor, "refer", message=(message or "").strip() or None, before=before,
                        after={"status": c.status, "refer_to": c.refer_to})


def archive(c: Complaint, actor: Actor, reason: str, expected_version: int | None = None) -> ComplaintEvent:
    """Archive (spam, too vague, outside scope) with a reason."""
    t = _transition(c, actor, "archive", expected_version)
    if not (reason or "").strip():
        raise ValidationError({"reason": _l("Give the reason for archiving.")})
    before = workflow.apply(c, t)
    c.archive_reason = reason.strip()[:300]
    c.closed_at = utcnow()
    _start_stage(c, None)
    return record_event(c, actor, "archive", message=c.archive_reason, before=before, after={"status": c.status})


def dispose(c: Complaint, actor: Actor, agency_ids: list[int], instruction: str | None = None,
            expected_version: int | None = None) -> ComplaintEvent:
    """Send the complaint to one or more agencies; the follow-up clock starts on the first disposition."""
    t = _transition(c, actor, "dispose", expected_version)
    ensure_may_share(c)
    agency_ids = sorted({int(a) for a in agency_ids})
    if not agency_ids:
        raise ValidationError({"agency_ids": _l("Choose at least one agency.")})
    agencies = db.session.execute(select(Agency).where(Agency.id.in_(agency_ids), Agency.active)).scalars().all()
    if len(agencies) != len(agency_ids):
        raise ValidationError({"agency_ids": _l("Choose agencies from the list.")})
    existing = {d.agency_id: d for d in db.session.execute(
        select(Disposition).filter_by(complaint_id=c.id)).scalars()}
    added, added_ids = [], []
    for agency in agencies:
        d = existing.get(agency.id)
        if d is None:
            db.session.add(Disposition(complaint_id=c.id, agency_id=agency.id, instruction=instruction,
                                       created_by_id=getattr(actor.user, "id", None)))
        elif d.active:
            continue
        else:
            d.active = True
        added.append(agency.short_name)
        added_ids.append(agency.id)
    if not added:
        raise TransitionError(_l("The report is already with these agencies."))
    before = workflow.apply(c, t)  # the first disposition moves it on; a further one keeps "disposed"
    c.sent_back_at = None  # the unit has re-disposed: no longer waiting in its "sent back" list
    if before["status"] != c.status:
        c.disposed_at = utcnow()
        _start_stage(c, "followup", c.disposed_at)
    db.session.flush()
    event = record_event(c, actor, "dispose", message=", ".join(added), before=before,
                         after={"status": c.status, "agencies": added}, agency_ids=tuple(added_ids),
                         deadline_changed=before["status"] != c.status)
    if instruction:
        record_event(c, actor, "note", message=instruction.strip())
    return event


def mark_test(c: Complaint, actor: Actor, is_test: bool, reason: str | None = None,
              expected_version: int | None = None) -> ComplaintEvent | None:
    """Mark a report as a test report (left out of every statistic) or take the mark away, with an internal
    event; None when it already is as asked."""
    kind = "mark_test" if is_test else "unmark_test"
    _transition(c, actor, kind, expected_version)
    if bool(c.is_test) == is_test:
        return None
    before = {"is_test": bool(c.is_test)}
    c.is_test = is_test
    return record_event(c, actor, kind, message=(reason or "").strip() or None, before=before,
                        after={"is_test": is_test})


#: Why a liaison sends a report back (the form offers these; the event stores the key).
SEND_BACK_REASONS = {
    "wrong_agency": _l("Wrong agency"),
    "outside_remit": _l("Outside our remit"),
    "unit_decision": _l("Needs the complaint unit's decision"),
}


def send_back_reason_label(key: str | None) -> str:
    return str(SEND_BACK_REASONS.get(key or "", key or ""))


def send_back(c: Complaint, actor: Actor, reason: str, message: str,
              expected_version: int | None = None) -> ComplaintEvent:
    """A liaison returns its agency's disposition to the complaint unit, with a reason and an explanation.

    The agency's disposition becomes inactive (the liaison no longer sees the report unless another
    disposition of theirs remains). When no agency holds the report any more it goes back to the unit to be
    disposed again: status "verified" (the table's ``send_back``), and the coordination clock starts again
    now, so the unit's new disposition then starts the follow-up clock afresh. While other agencies still
    hold it, nothing else changes (``send_back_shared``): their follow-up clock runs on. The event is
    internal (staff only); the unit is told (app.notifications.rules).

    :raises ValidationError: for a reason not in :data:`SEND_BACK_REASONS` or a missing explanation.
    :raises TransitionError: when the report is not with the liaison's agency, or its follow-up is under review.
    """
    _transition(c, actor, "send_back", expected_version)  # role and status
    errors = {}
    if reason not in SEND_BACK_REASONS:
        errors["reason"] = _l("Choose why the report is sent back.")
    message = (message or "").strip()
    if not message:
        errors["message"] = _l("Explain to the complaint unit why the report is sent back.")
    if errors:
        raise ValidationError(errors)
    agency_id = getattr(actor.user, "agency_id", None)
    active = [d for d in db.session.execute(
        select(Disposition).filter_by(complaint_id=c.id, active=True)).scalars()]
    own = next((d for d in active if d.agency_id == agency_id), None)
    if own is None:
        raise TransitionError(_l("This report is not with your agency."))
    in_review = db.session.execute(select(FollowUp.id).filter_by(
        complaint_id=c.id, agency_id=agency_id, status=FollowUpStatus.SUBMITTED)).first()
    if in_review is not None:
        raise TransitionError(_l("Your agency's follow-up is under review by the complaint unit; ask the unit to "
                                 "return it before sending the report back."))
    others = [d for d in active if d is not own]
    t = workflow.check("send_back_shared" if others else "send_back", c.status, actor.role)
    own.active = False
    before = workflow.apply(c, t)
    now = utcnow()
    c.sent_back_at = now
    if not others:
        _start_stage(c, "coordination", now)  # the unit's to dispose again
    agency = db.session.get(Agency, agency_id)
    return record_event(c, actor, "send_back", message=message[:4000], before=before,
                        after={"status": c.status, "reason": reason, "agency": agency.short_name if agency else None,
                               "agency_id": agency_id}, deadline_changed=not others)


def note(c: Complaint, actor: Actor, message: str) -> ComplaintEvent:
    """An internal note: staff only, never shown to citizens."""
    workflow.check("note", c.status, actor.role)
    if not (message or "").strip():
        raise ValidationError({"message": _l("Write a message.")})
    return record_event(c, actor, "note", message=message.strip())


def public_reply(c: Complaint, actor: Actor, message: str) -> ComplaintEvent:
    """A message to the reporter, shown on the tracking page."""
    workflow.check("public_reply", c.status, actor.role)
    if not (message or "").strip():
        raise ValidationError({"message": _l("Write a message.")})
    event = record_event(c, actor, "public_reply", message=message.strip())
    c.first_response_at = c.first_response_at or event.at
    return event


# ---------------------------------------------------------------- follow-up

def save_followup_draft(c: Complaint, actor: Actor, body: str, agency_id: int | None = None,
                        submit: bool = False) -> FollowUp:
    """The liaison (or the unit) writes the agency's answer; ``submit`` sends it for review."""
    workflow.check("submit_followup" if submit else "draft_followup", c.status, actor.role)
    if not (body or "").strip() or len(body.strip()) < 10:
        raise ValidationError({"body": _l("Write the follow-up (at least 10 characters).")})
    if actor.role == "liaison":
        agency_id = actor.user.agency_id
    active = {d.agency_id for d in c.dispositions if d.active}
    if agency_id not in active:
        raise TransitionError(_l("This report is not disposed to that agency."))
    fu = db.session.execute(
        select(FollowUp).where(FollowUp.complaint_id == c.id, FollowUp.agency_id == agency_id,
                               FollowUp.status != FollowUpStatus.PUBLISHED)
    ).scalar_one_or_none()
    if fu is None:
        fu = FollowUp(complaint_id=c.id, agency_id=agency_id, body=body.strip(),
                      author_id=getattr(actor.user, "id", None))
        db.session.add(fu)
    elif fu.status == FollowUpStatus.SUBMITTED and actor.role == "liaison" and not submit:
        raise TransitionError(_l("The follow-up is under review by the complaint unit."))
    fu.body = body.strip()
    fu.status = FollowUpStatus.SUBMITTED if submit else FollowUpStatus.DRAFT
    db.session.flush()
    record_event(c, actor, "submit_followup" if submit else "draft_followup", after={"follow_up": fu.id})
    return fu


def return_followup(c: Complaint, actor: Actor, followup_id: int, remark: str) -> FollowUp:
    """The complaint unit sends a draft back with a remark."""
    workflow.check("return_followup", c.status, actor.role)
    fu = _followup_of(c, followup_id)
    if fu.status != FollowUpStatus.SUBMITTED:
        raise TransitionError(_l("Only a follow-up sent for review can be returned."))
    if not (remark or "").strip():
        raise ValidationError({"remark": _l("Tell the agency what to change.")})
    fu.status = FollowUpStatus.RETURNED
    fu.review_note = remark.strip()
    record_event(c, actor, "return_followup", message=remark.strip(), after={"follow_up": fu.id})
    return fu


def publish_followup(c: Complaint, actor: Actor, followup_id: int, body: str | None = None,
                     expected_version: int | None = None) -> ComplaintEvent:
    """The complaint unit publishes the answer to the citizen; the auto-close clock starts."""
    t = _transition(c, actor, "publish_followup", expected_version)
    fu = _followup_of(c, followup_id)
    if fu.status == FollowUpStatus.PUBLISHED:
        raise TransitionError(_l("This follow-up is already published."))
    if body is not None and body.strip():
        fu.body = body.strip()
    now = utcnow()
    fu.status = FollowUpStatus.PUBLISHED
    fu.published_at = now
    fu.published_by_id = getattr(actor.user, "id", None)
    c.answered_on_time = _on_time(c, now) if c.due_stage == "followup" else c.answered_on_time
    before = workflow.apply(c, t)
    c.answered_at = now
    c.first_response_at = c.first_response_at or now
    _start_stage(c, "auto_close", now)
    return record_event(c, actor, "publish_followup", message=fu.body, before=before,
                        after={"status": c.status, "follow_up": fu.id}, deadline_changed=True)


def _followup_of(c: Complaint, followup_id: int) -> FollowUp:
    fu = db.session.get(FollowUp, int(followup_id))
    if fu is None or fu.complaint_id != c.id:
        raise TransitionError(_l("Follow-up not found."))
    return fu


#: Events that answer the reporter in public: after one of these, an earlier objection is answered.
PUBLIC_ANSWERS = ("publish_followup", "public_reply")
#: The reporter's events that object to the answer: a reply to it, or reopening the closed report.
OBJECTIONS = ("citizen_reply", "reopen")


def pending_objection(c: Complaint) -> ComplaintEvent | None:
    """The reporter's objection (a reply to the published answer, or their reopening) that no public answer
    (a published follow-up or a message to the reporter) has followed yet; None when there is none."""
    last = db.session.execute(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == c.id, ComplaintEvent.kind.in_(PUBLIC_ANSWERS + OBJECTIONS))
        .order_by(ComplaintEvent.at.desc(), ComplaintEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is not None and last.kind in OBJECTIONS and last.actor_type == "citizen":
        return last
    return None


def close(c: Complaint, actor: Actor, message: str | None = None, expected_version: int | None = None,
          reason: str | None = None):
    """Close the complaint.

    While the reporter's objection is pending (:func:`pending_objection`) staff may close only with a
    ``reason``: it is recorded as an internal event before the close (staff see it in the history).
    """
    t = _transition(c, actor, "close", expected_version)
    reason = (reason or "").strip()
    if pending_objection(c) is not None:
        if not reason:
            raise ValidationError({"reason": _l(
                "The reporter objected to the answer and has not been answered since. Publish a new answer "
                "or say why the report is closed anyway.")})
        record_event(c, actor, "close_objection", message=reason)
    before = workflow.apply(c, t)
    c.closed_at = utcnow()
    _start_stage(c, None)
    return record_event(c, actor, "close", message=(message or "").strip() or None, before=before,
                        after={"status": c.status})


def merge(duplicate: Complaint, primary: Complaint, actor: Actor, expected_version: int | None = None):
    """Merge a duplicate into a primary.

    The duplicate's followers stay with the duplicate: they are told about the merge with a link to their
    own report, whose page shows the primary's public progress. They are never made followers of the
    primary (that handed them the primary's private link, and with it the primary reporter's rights).
    """
    if duplicate.id == primary.id:
        raise ValidationError({"primary_code": _l("A report cannot be merged into itself.")})
    t = _transition(duplicate, actor, "merge", expected_version)
    ensure_may_share(duplicate)  # a merge hands the reporter's contacts to another report
    workflow.check("receive_merged", primary.status, actor.role)
    before = workflow.apply(duplicate, t)
    duplicate.merged_into_id = primary.id
    duplicate.closed_at = utcnow()
    _start_stage(duplicate, None)
    event = record_event(duplicate, actor, "merge", message=primary.code, before=before,
                         after={"status": duplicate.status, "merged_into": primary.code})
    record_event(primary, actor, "receive_merged", message=duplicate.code)
    return event


# ---------------------------------------------------------------- clock

def refresh_deadline_state(c: Complaint, now: datetime | None = None) -> str:
    """Recompute the due-soon/overdue flag (the sweep calls this)."""
    tenant = current_tenant()
    if c.due_at is None:
        return c.deadline_state
    c.deadline_state = deadline_state(calendar_for_tenant(tenant), tenant.settings or {}, c.due_at, now or utcnow())
    return c.deadline_state


def auto_close(c: Complaint, now: datetime | None = None) -> ComplaintEvent | None:
    """Close an answered complaint whose reply window has passed (idempotent)."""
    now = now or utcnow()
    if c.status != Status.ANSWERED or c.due_at is None or now <= c.due_at:
        return None
    if pending_objection(c) is not None:
        return None  # the reporter's objection waits for an answer: never closed automatically
    before = workflow.apply(c, workflow.check("auto_close", c.status, SYSTEM.role))
    c.closed_at = now
    _start_stage(c, None)
    return record_event(c, SYSTEM, "auto_close", before=before, after={"status": c.status})


def stage_days_for(c: Complaint) -> int | None:
    if not c.due_stage:
        return None
    return stage_days(current_tenant().settings or {}, c.due_stage, c.complaint_class)


def count_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Complaint.status, func.count(Complaint.id)).group_by(Complaint.status)).all()
    return {status: n for status, n in rows}
