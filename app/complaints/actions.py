"""What may this person do with this complaint now: one answer for the staff page, the REST detail and the
reporter's page.

The workflow table (:mod:`app.complaints.workflow`) says which actions a role may take from a status; this
module adds what the table cannot know: whether there is an agency left to send the report to, a follow-up to
publish or return, a restriction of processing (UU PDP) that stops sharing, a rating already given, a reopen
window that has passed, a reason that closing needs while the reporter's objection is unanswered
(``Available.requires``). The service functions enforce the same rules when the action is taken.

Actions on one follow-up (publish, return) come once per follow-up, with its id. Personal-data actions
(restrict, correct, export) are the privacy package's (:mod:`app.privacy`), and side effects that nobody
takes by hand (``receive_merged``, the system's events) are never listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import Role
from app.agencies.models import Agency
from app.complaints import inbox, service, workflow
from app.complaints import transparency as reports
from app.complaints.models import Complaint, FollowUpStatus
from app.extensions import db

#: Actions a staff member takes on the report page (listed in the order of :data:`workflow.TRANSITIONS`).
STAFF_ACTIONS = frozenset({
    "verify", "edit", "hold", "resume", "refer", "archive", "dispose", "note", "public_reply",
    "draft_followup", "submit_followup", "close", "reopen", "merge", "accept_referral", "decline_referral",
    "mark_test", "unmark_test", "send_back",
})
#: Marking a test report (left out of every statistic) and taking the mark away: one of them at a time.
TEST_MARK = ("mark_test", "unmark_test")
#: While a report referred by another region awaits this unit's decision, only these (service.REFERRAL_DECISIONS).
WHILE_REFERRAL_AWAITS = frozenset({"accept_referral", "decline_referral", "note"})
#: Actions on one follow-up (listed once per follow-up, with its id).
FOLLOWUP_REVIEW = ("publish_followup", "return_followup")
#: Actions the reporter takes on the tracking page.
CITIZEN_ACTIONS = frozenset({"add_info", "citizen_reply", "rate", "reopen"})
#: Actions that hand the report (and the reporter's data) to someone else: none while processing is restricted.
SHARING = frozenset({"dispose", "merge"})
DRAFTING = frozenset({"draft_followup", "submit_followup"})


@dataclass(frozen=True)
class Available:
    """One action possible now; ``followup_id`` names the follow-up for publish/return."""

    action: str
    followup_id: int | None = None
    #: Input fields the action requires now beyond its usual ones (``close`` needs a ``reason`` while the
    #: reporter's objection is unanswered: :func:`service.pending_objection`).
    requires: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        out = {"action": self.action, "followup_id": self.followup_id}
        if self.requires:
            out["requires"] = list(self.requires)
        return out


def available_actions(c: Complaint, actor, *, only: Iterable[str] | None = None) -> list[Available]:
    """What ``actor`` may do with ``c`` now.

    ``actor`` is a :class:`service.Actor` (e.g. the REST API's key actor) or a signed-in user (anything with
    ``role``; a liaison's ``agency_id`` matters). ``only`` keeps the listed actions (e.g. the ones a channel
    offers: the REST API's ``ACTIONS``).
    """
    user = actor.user if isinstance(actor, service.Actor) else actor
    role = actor.role
    allowed = workflow.allowed_actions(c.status, role)
    if role == Role.CITIZEN:
        out = _citizen(c, allowed)
    elif role in Role.STAFF:
        out = _staff(c, user, allowed)
    else:
        out = []
    if only is not None:
        keep = set(only)
        out = [a for a in out if a.action in keep]
    return out


def _staff(c: Complaint, user, allowed: list[str]) -> list[Available]:
    unavailable = _not_now(c, user, set(allowed))
    out = [Available(a, requires=_requires(c, a)) for a in allowed if a in STAFF_ACTIONS and a not in unavailable]
    review = [a for a in FOLLOWUP_REVIEW if a in allowed]
    if review:
        for fu in db.session.execute(inbox.followups_query(c, user)).scalars():
            if fu.status == FollowUpStatus.PUBLISHED:
                continue
            out += [Available(a, fu.id) for a in review
                    if a == "publish_followup" or fu.status == FollowUpStatus.SUBMITTED]
    return out


def _not_now(c: Complaint, user, allowed: set[str]) -> set[str]:
    """Actions the table allows that the report's state rules out now."""
    out = set()
    if c.awaiting_referral_decision:  # the unit decides on the referral first (service._transition)
        return allowed - WHILE_REFERRAL_AWAITS
    out |= set(service.REFERRAL_DECISIONS)
    out.add("mark_test" if c.is_test else "unmark_test")
    if "verify" in allowed:
        out.add("edit")  # verifying sets the same fields
    if c.processing_restricted:
        out |= SHARING  # UU PDP restriction: no further sharing (service.ensure_may_share)
    if "dispose" in allowed - out and not _agencies_left(c):
        out.add("dispose")
    if allowed & DRAFTING and not followup_agency_ids(c, user):
        out |= DRAFTING
    if "send_back" in allowed and not _may_send_back(c, user):
        out.add("send_back")
    return out


def _may_send_back(c: Complaint, user) -> bool:
    """The liaison's agency holds the report and its follow-up is not under review (service.send_back)."""
    agency_id = getattr(user, "agency_id", None)
    if agency_id is None or not any(d.active and d.agency_id == agency_id for d in c.dispositions):
        return False
    return agency_id in followup_agency_ids(c, user)


def _requires(c: Complaint, action: str) -> tuple[str, ...]:
    """Extra input ``action`` needs now: closing over the reporter's unanswered objection needs a reason."""
    if action == "close" and service.pending_objection(c) is not None:
        return ("reason",)
    return ()


def _citizen(c: Complaint, allowed: list[str]) -> list[Available]:
    out = []
    for action in allowed:
        if action not in CITIZEN_ACTIONS or action == "reopen":
            continue
        if action == "rate" and (c.answered_at is None or reports.current_rating(c) is not None):
            continue
        out.append(Available(action))
    if service.can_citizen_reopen(c):
        out.append(Available("reopen"))
    return out


def _agencies_left(c: Complaint) -> bool:
    """An active agency that does not hold the report yet (dispose adds agencies)."""
    holding = [d.agency_id for d in c.dispositions if d.active]
    stmt = select(Agency.id).where(Agency.active.is_(True))
    if holding:
        stmt = stmt.where(Agency.id.not_in(holding))
    return db.session.execute(stmt.limit(1)).first() is not None


def followup_agency_ids(c: Complaint, user) -> list[int]:
    """Agencies a follow-up can be written for: those holding the report, except one whose follow-up is under
    review (the complaint unit's to publish or return; it cannot be edited meanwhile)."""
    in_review = {fu.agency_id for fu in db.session.execute(inbox.followups_query(c, user)).scalars()
                 if fu.status == FollowUpStatus.SUBMITTED}
    return [d.agency_id for d in c.dispositions if d.active and d.agency_id not in in_review]
