"""Who is told what when a complaint event happens: the notification rules.

Subscribed to every complaint event (app.complaints.events), whichever channel caused it. The rules:

- Citizens: the followers of THAT complaint (its reporter's contacts, ``kind`` "reporter"), in their own
  language, with a private link built by app.complaints.links.private_link for their own report. Never about their own
  action (the receipt of a new report excepted: it carries the private link).
- A merged duplicate's followers: told of the merge, later of the primary's status changes, each time
  with the link to their own report only (its page shows the primary's public progress).
- People who followed a public report (``kind`` "follower"): public progress only (FOLLOWER_KINDS), with
  the public page and an unfollow link; never a private link, a request for information or a message.
- Staff: the liaisons of the agencies a complaint is disposed to, the complaint unit and the unit head,
  per :data:`STAFF_RULES`; never the staff user who acted. Each staff recipient gets an in-app entry and,
  depending on their preference for the event group, an email now, a line in the daily digest, or nothing.

Every message goes through queue_message: one row per event and recipient (a unique constraint), sent
by an RQ job from the outbox. No reporter identity is ever put into a message context.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.agencies.models import Agency
from app.complaints import links, service, workflow
from app.complaints.events import EventContext, subscribe
from app.complaints.models import (
    Complaint,
    ComplaintEvent,
    Disposition,
    Follower,
    FollowerKind,
    FollowUp,
    Status,
    Visibility,
)
from app.extensions import db
from app.i18n import format_dt
from app.notifications.models import Mode, NotificationPreference, StaffNotification
from app.notifications.service import queue_message
from app.tenancy.scope import current_tenant

log = logging.getLogger(__name__)

#: Event kind → the template the complaint's own followers receive.
CITIZEN_TEMPLATES: dict[str, str] = {
    "submit": "complaint_received",
    "verify": "citizen_verified",
    "hold": "citizen_hold",
    "resume": "citizen_resumed",
    "refer": "citizen_referred",
    "archive": "citizen_archived",
    "dispose": "citizen_disposed",
    "public_reply": "citizen_message",
    "publish_followup": "followup_published",
    "close": "citizen_closed",
    "auto_close": "citizen_closed",
    "reopen": "citizen_reopened",
    "merge": "citizen_merged",
    # Referral between regions (app.complaints.referrals): the other region's steps, mirrored onto this report.
    "referral_update": "citizen_referral_update",
    "referral_declined": "citizen_referral_update",
}
#: Status changes of a primary that its merged duplicates' followers hear about (status only).
MERGED_PROGRESS_KINDS = frozenset({"verify", "dispose", "publish_followup", "citizen_reply", "close", "auto_close",
                                   "reopen", "refer", "archive"})
MERGED_PROGRESS_TEMPLATE = "citizen_merged_progress"
#: Events that people who follow a public report hear about: public status changes, published answers,
#: closure. Never the reporter's private messages or requests for information (hold, public_reply).
FOLLOWER_KINDS = frozenset({"verify", "dispose", "publish_followup", "close", "auto_close", "reopen", "refer",
                            "archive", "merge"})
FOLLOWER_TEMPLATE = "follower_update"


@dataclass(frozen=True)
class Group:
    key: str
    label: object
    #: Roles that can receive events of this group (the preferences page shows only those).
    roles: tuple[str, ...]
    default: str = Mode.IMMEDIATE


UNIT = Role.UNIT
GROUPS: dict[str, Group] = {g.key: g for g in (
    Group("disposition", _l("Reports sent to my agency"), (Role.LIAISON,)),
    Group("review", _l("Follow-ups sent for review"), UNIT),
    Group("sendback", _l("Reports sent back by an agency"), UNIT),
    Group("citizen", _l("Reporter replies, added information and reopened reports"), UNIT + (Role.LIAISON,)),
    Group("escalation", _l("Overdue reports (escalations)"), UNIT + (Role.LIAISON,)),
    Group("referral", _l("Reports referred between regions"), UNIT),
)}


@dataclass(frozen=True)
class StaffRule:
    group: str
    template: str
    #: Who: "unit" (officers and tenant admins), "unit_head", "liaisons" (of the active dispositions
    #: while the agency has the report), "new_liaisons" (of the agencies this event disposed it to).
    audiences: tuple[str, ...]


STAFF_RULES: dict[str, StaffRule] = {
    "dispose": StaffRule("disposition", "staff_disposed", ("new_liaisons",)),
    "submit_followup": StaffRule("review", "staff_followup_submitted", ("unit",)),
    "send_back": StaffRule("sendback", "staff_sent_back", ("unit",)),
    "citizen_reply": StaffRule("citizen", "staff_citizen_reply", ("unit", "liaisons")),
    "add_info": StaffRule("citizen", "staff_added_information", ("unit", "liaisons")),
    "reopen": StaffRule("citizen", "staff_reopened", ("unit", "liaisons")),
    "escalate": StaffRule("escalation", "escalation", ("unit", "unit_head", "liaisons")),
    "receive_referral": StaffRule("referral", "staff_referral_received", ("unit",)),
    "referral_declined": StaffRule("referral", "staff_referral_declined", ("unit",)),
}

EXCERPT_CHARS = 600


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The text itself when short, else its beginning cut at a word, marked with "…"."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(None, 1)[0].rstrip(" .,;:")
    return f"{cut} …"


# ---------------------------------------------------------------- the subscriber


def on_complaint_event(c: Complaint, event: ComplaintEvent, ctx: EventContext) -> None:
    notify_citizens(c, event, ctx)
    notify_public_followers(c, event)
    notify_merged_followers(c, event)
    notify_staff(c, event, ctx)


subscribe(on_complaint_event, order=50)


# ---------------------------------------------------------------- citizens


def _followers(complaint_id: int, kind: str = FollowerKind.REPORTER) -> list[Follower]:
    return list(db.session.execute(
        select(Follower).filter_by(complaint_id=complaint_id, kind=kind).order_by(Follower.id)).scalars())


def _status_in(status: str, locale: str) -> str:
    with force_locale(locale):
        return str(workflow.STATUS_LABELS.get(status, status))


def _citizen_context(c: Complaint, event: ComplaintEvent, ctx: EventContext, locale: str) -> dict:
    tenant = current_tenant()
    values = {"code": c.code, "title": c.title, "status": _status_in(c.status, locale), "message": "",
              "answer": "", "deadline": "", "agencies": "", "refer_to": c.refer_to or ""}
    if event.kind in ("hold", "public_reply", "refer", "archive", "close", "reopen", "referral_update",
                      "referral_declined") and event.message:
        values["message"] = event.message
    if event.kind == "publish_followup":
        values["answer"] = excerpt(event.message)
    if event.kind == "dispose":
        values["agencies"] = event.message or ""
    if ctx.deadline_changed and c.due_at is not None:
        values["deadline"] = format_dt(c.due_at, tenant.timezone, locale)
    if event.kind == "merge" and c.merged_into_id is not None:
        primary = db.session.get(Complaint, c.merged_into_id)
        values["primary_code"] = primary.code if primary is not None else ""
    return values


def notify_public_followers(c: Complaint, event: ComplaintEvent) -> int:
    """People who followed the public report: its public progress only (status, a published answer), each
    message with the public page and an unfollow link; never a private link or a message meant for the
    reporter. Nothing once the report is no longer public (marked rahasia)."""
    if (event.kind not in FOLLOWER_KINDS or event.visibility != Visibility.PUBLIC or c.confidential
            or c.verified_at is None):
        return 0
    sent = 0
    for f in _followers(c.id, FollowerKind.FOLLOWER):
        context = {"code": c.code, "title": c.title, "status": _status_in(c.status, f.locale),
                   "answer": excerpt(event.message) if event.kind == "publish_followup" else "",
                   "link": links.public_link(c), "unfollow": links.unfollow_link(f)}
        sent += queue_message(event_key=f"event:{event.id}", channel=f.channel, recipient=f.recipient,
                              template_key=FOLLOWER_TEMPLATE, context=context, locale=f.locale) is not None
    return sent


def notify_citizens(c: Complaint, event: ComplaintEvent, ctx: EventContext) -> int:
    """The complaint's own followers, for its public events; never about their own action."""
    template = CITIZEN_TEMPLATES.get(event.kind)
    if template is None or event.visibility != Visibility.PUBLIC:
        return 0
    if event.kind == "submit":
        if not ctx.notify_reporter:
            return 0
    elif ctx.actor_role == "citizen":  # the reporter acted: they know, and the page shows it
        return 0
    sent = 0
    for f in _followers(c.id):
        context = {**_citizen_context(c, event, ctx, f.locale), "link": links.private_link(f)}
        sent += queue_message(event_key=f"event:{event.id}", channel=f.channel, recipient=f.recipient,
                              template_key=template, context=context, locale=f.locale) is not None
    return sent


def notify_merged_followers(primary: Complaint, event: ComplaintEvent) -> int:
    """Followers of reports merged into ``primary``: its new public status, and a link to their own report."""
    if event.kind not in MERGED_PROGRESS_KINDS or event.visibility != Visibility.PUBLIC:
        return 0
    if (event.before or {}).get("status") == (event.after or {}).get("status"):
        return 0
    duplicates = db.session.execute(
        select(Complaint).filter_by(merged_into_id=primary.id).order_by(Complaint.id)).scalars().all()
    sent = 0
    for dup in duplicates:
        for f in _followers(dup.id):
            # Only what anyone may see of the primary by its code: its status. Never its content.
            context = {"code": dup.code, "primary_code": primary.code,
                       "status": _status_in(primary.status, f.locale), "link": links.private_link(f)}
            sent += queue_message(event_key=f"event:{event.id}", channel=f.channel, recipient=f.recipient,
                                  template_key=MERGED_PROGRESS_TEMPLATE, context=context,
                                  locale=f.locale) is not None
    return sent


# ---------------------------------------------------------------- staff


def _modes(users: list[User], group: str) -> dict[int, str]:
    """Each user's mode for ``group`` (the group's default where none is saved), in one query."""
    ids = [u.id for u in users]
    saved = dict(db.session.execute(select(NotificationPreference.user_id, NotificationPreference.mode)
                                    .where(NotificationPreference.user_id.in_(ids),
                                           NotificationPreference.group == group)).all()) if ids else {}
    return {uid: saved.get(uid, GROUPS[group].default) for uid in ids}


def preferences_of(user: User) -> dict[str, str]:
    """The user's mode per group that applies to their role (defaults filled in)."""
    saved = dict(db.session.execute(select(NotificationPreference.group, NotificationPreference.mode)
                                    .filter_by(user_id=user.id)).all())
    return {key: saved.get(key, g.default) for key, g in GROUPS.items() if user.role in g.roles}


def set_preferences(user: User, modes: dict[str, str]) -> None:
    """Save the user's choices (only groups of their role, only known modes)."""
    allowed = preferences_of(user)
    existing = {p.group: p for p in db.session.execute(
        select(NotificationPreference).filter_by(user_id=user.id)).scalars()}
    for group, mode in modes.items():
        if group not in allowed or mode not in Mode.ALL:
            continue
        row = existing.get(group) or NotificationPreference(user_id=user.id, group=group)
        row.mode = mode
        db.session.add(row)
    db.session.flush()


def _liaisons(agency_ids) -> list[User]:
    if not agency_ids:
        return []
    return list(db.session.execute(select(User).where(
        User.role == Role.LIAISON, User.agency_id.in_(list(agency_ids)), User.active)).scalars())


def staff_recipients(c: Complaint, event: ComplaintEvent, ctx: EventContext) -> tuple[StaffRule | None, list[User]]:
    """The rule for ``event`` and its staff recipients (the actor left out), each user once."""
    rule = STAFF_RULES.get(event.kind)
    if rule is None:
        return None, []
    users: list[User] = []
    for audience in rule.audiences:
        if audience == "unit":
            users += db.session.execute(select(User).where(User.role.in_(UNIT), User.active)).scalars()
        elif audience == "unit_head":
            users += db.session.execute(select(User).where(User.is_unit_head.is_(True), User.active)).scalars()
        elif audience == "new_liaisons":
            users += _liaisons(ctx.agency_ids)
        elif audience == "liaisons":
            with_agency = c.status in (Status.DISPOSED, Status.ANSWERED)
            if event.kind == "escalate":  # only the escalation of the agency's own stage
                with_agency = (event.after or {}).get("stage") == "followup"
            if with_agency:
                users += _liaisons([d.agency_id for d in db.session.execute(
                    select(Disposition).filter_by(complaint_id=c.id, active=True)).scalars()])
    seen: set[int] = set()
    out = []
    for u in users:
        if u.id in seen or u.id == ctx.actor_user_id:
            continue
        seen.add(u.id)
        out.append(u)
    return rule, out


def _staff_context(c: Complaint, event: ComplaintEvent, user: User) -> dict:
    """Content for staff: the report's code and title and the event's own text; never the reporter's
    identity (a liaison must not learn who filed an anonim or rahasia report)."""
    tenant = current_tenant()
    locale = user.locale or tenant.locale
    values = {"code": c.code, "title": c.title, "link": links.staff_link(c), "message": "", "deadline": "",
              "agency": "", "instruction": "", "reason": ""}
    if event.kind in ("citizen_reply", "add_info", "reopen", "receive_referral", "referral_declined"):
        values["message"] = excerpt(event.message)
    if event.kind == "submit_followup":
        fu = db.session.get(FollowUp, (event.after or {}).get("follow_up") or 0)
        if fu is not None:
            values["message"] = excerpt(fu.body)
            agency = db.session.get(Agency, fu.agency_id)
            values["agency"] = agency.name if agency else ""
    if event.kind == "send_back":  # the liaison's own words and reason; nothing of the reporter
        values["message"] = excerpt(event.message)
        agency = db.session.get(Agency, (event.after or {}).get("agency_id") or 0)
        values["agency"] = agency.name if agency else ""
        with force_locale(locale):
            values["reason"] = service.send_back_reason_label((event.after or {}).get("reason"))
            values["next_step"] = _send_back_next_step(c, tenant, locale)
    if event.kind == "dispose" and user.agency_id is not None:
        d = db.session.execute(select(Disposition).filter_by(complaint_id=c.id, agency_id=user.agency_id)
                               ).scalar_one_or_none()
        values["instruction"] = (d.instruction or "") if d else ""
    if c.due_at is not None and event.kind in ("dispose", "escalate", "citizen_reply", "reopen", "referral_declined"):
        values["deadline"] = format_dt(c.due_at, tenant.timezone, locale)
    return values


def _send_back_next_step(c: Complaint, tenant, locale: str) -> str:
    """What the unit does after a send-back: dispose again (no agency left) or nothing (others hold it)."""
    if c.status == Status.VERIFIED:
        if c.due_at is None:
            return str(_l("No agency holds the report now: dispose it again."))
        return str(_l("No agency holds the report now: dispose it again by %(deadline)s.",
                      deadline=format_dt(c.due_at, tenant.timezone, locale)))
    holding = db.session.execute(select(Agency.short_name).join(
        Disposition, (Disposition.agency_id == Agency.id) & (Disposition.tenant_id == Agency.tenant_id))
        .where(Disposition.complaint_id == c.id, Disposition.active.is_(True)).order_by(Agency.short_name)).scalars()
    return str(_l("%(agencies)s still hold the report.", agencies=", ".join(holding)))


def notify_staff(c: Complaint, event: ComplaintEvent, ctx: EventContext) -> int:
    rule, users = staff_recipients(c, event, ctx)
    if rule is None:
        return 0
    tenant = current_tenant()
    emailed = 0
    modes = _modes(users, rule.group)
    for user in users:
        mode = modes[user.id]
        item = StaffNotification(user_id=user.id, event_id=event.id, complaint_id=c.id, kind=event.kind,
                                 group=rule.group, mode=mode)
        try:
            with db.session.begin_nested():
                db.session.add(item)
        except IntegrityError:  # already recorded for this event
            continue
        if mode == Mode.IMMEDIATE:
            emailed += queue_message(event_key=f"event:{event.id}", channel="email", recipient=user.email,
                                     template_key=rule.template, context=_staff_context(c, event, user),
                                     locale=user.locale or tenant.locale) is not None
    return emailed
