"""The one state machine of a complaint: allowed transitions, who may take them, their events.

Every action goes through :func:`check`; an illegal one raises :class:`TransitionError`
with a translated message (HTTP 409 where an API is involved). The status changes only through
:func:`apply`, which sets it from the table's ``target``: no service function sets a status by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.accounts.models import Role
from app.complaints.models import Status, Visibility

OFFICER_ROLES = Role.UNIT
STAFF_ROLES = Role.STAFF
CITIZEN = (Role.CITIZEN,)
SYSTEM = (Role.SYSTEM,)
LIAISON = (Role.LIAISON,)

STATUS_LABELS = {
    Status.SUBMITTED: _l("Awaiting verification"),
    Status.ON_HOLD: _l("On hold: more information needed"),
    Status.VERIFIED: _l("Verified"),
    Status.DISPOSED: _l("In progress at the agency"),
    Status.ANSWERED: _l("Answered"),
    Status.CLOSED: _l("Closed"),
    Status.REFERRED: _l("Referred: not our authority"),
    Status.ARCHIVED: _l("Archived"),
    Status.MERGED: _l("Merged into another report"),
}


class TransitionError(Exception):
    """An action that is not allowed now; ``message`` is translated."""

    status_code = 409

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


class StaleComplaint(TransitionError):
    """The complaint changed since the actor loaded it."""

    def __init__(self):
        super().__init__(_l("This report was changed by someone else meanwhile. Reload it and try again."))


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    #: New status, or None when the status does not change.
    target: str | None
    roles: tuple[str, ...]
    visibility: str
    label: object


OPEN = Status.OPEN
PRE_DISPOSITION = (Status.SUBMITTED, Status.ON_HOLD, Status.VERIFIED)

TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("submit", (), Status.SUBMITTED, CITIZEN + STAFF_ROLES, Visibility.PUBLIC, _l("Report received")),
    Transition("verify", (Status.SUBMITTED,), Status.VERIFIED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Report verified")),
    Transition("edit", PRE_DISPOSITION + (Status.DISPOSED,), None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Details edited")),
    Transition("hold", (Status.SUBMITTED,), Status.ON_HOLD, OFFICER_ROLES, Visibility.PUBLIC,
               _l("On hold: more information needed")),
    Transition("resume", (Status.ON_HOLD,), Status.SUBMITTED, CITIZEN + OFFICER_ROLES, Visibility.PUBLIC,
               _l("Verification resumed")),
    Transition("refer", PRE_DISPOSITION, Status.REFERRED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Referred to the body with authority")),
    Transition("archive", PRE_DISPOSITION, Status.ARCHIVED, OFFICER_ROLES, Visibility.PUBLIC, _l("Archived")),
    Transition("dispose", (Status.VERIFIED, Status.DISPOSED), Status.DISPOSED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Sent to the agency")),
    # Send back (admin penghubung): the liaison returns its agency's disposition to the complaint unit. The last
    # agency holding the report hands it back to the unit to re-dispose ("send_back": verified again); while
    # other agencies still hold it, it stays with them ("send_back_shared": disposed). The service picks the
    # one that applies; both record the event "send_back".
    Transition("send_back", (Status.DISPOSED,), Status.VERIFIED, LIAISON, Visibility.INTERNAL,
               _l("Sent back to the complaint unit")),
    Transition("send_back_shared", (Status.DISPOSED,), None, LIAISON, Visibility.INTERNAL,
               _l("Sent back to the complaint unit")),
    Transition("draft_followup", (Status.DISPOSED,), None, STAFF_ROLES, Visibility.INTERNAL,
               _l("Follow-up drafted")),
    Transition("submit_followup", (Status.DISPOSED,), None, STAFF_ROLES, Visibility.INTERNAL,
               _l("Follow-up sent for review")),
    Transition("return_followup", (Status.DISPOSED,), None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Follow-up returned to the agency")),
    Transition("publish_followup", (Status.DISPOSED,), Status.ANSWERED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Follow-up published")),
    Transition("citizen_reply", (Status.ANSWERED,), Status.DISPOSED, CITIZEN, Visibility.PUBLIC,
               _l("Reporter replied")),
    Transition("add_info", OPEN, None, CITIZEN, Visibility.PUBLIC, _l("Reporter added information")),
    Transition("public_reply", OPEN, None, OFFICER_ROLES, Visibility.PUBLIC, _l("Message to the reporter")),
    Transition("note", OPEN + Status.TERMINAL, None, STAFF_ROLES, Visibility.INTERNAL, _l("Internal note")),
    Transition("rate", (Status.ANSWERED, Status.CLOSED), None, CITIZEN, Visibility.PUBLIC,
               _l("Reporter rated the handling")),
    Transition("close", (Status.ANSWERED, Status.DISPOSED), Status.CLOSED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Closed")),
    # Recorded just before a close while the reporter's objection is unanswered: the reason, staff only.
    Transition("close_objection", (), None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Closed despite the reporter's unanswered objection")),
    Transition("auto_close", (Status.ANSWERED,), Status.CLOSED, SYSTEM, Visibility.PUBLIC,
               _l("Closed automatically: no reply within the time limit")),
    Transition("reopen", (Status.CLOSED,), Status.DISPOSED, CITIZEN + OFFICER_ROLES, Visibility.PUBLIC,
               _l("Reopened")),
    Transition("merge", OPEN, Status.MERGED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Merged into another report")),
    Transition("receive_merged", OPEN, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("A duplicate report was merged into this one")),
    Transition("escalate", OPEN, None, SYSTEM, Visibility.INTERNAL, _l("Deadline passed: escalated")),
    # SP4N-LAPOR! bridge (app.integrations.sp4n): recorded on the timeline, never a status change here.
    Transition("sp4n_push", OPEN + Status.TERMINAL, None, SYSTEM, Visibility.INTERNAL,
               _l("Entered at SP4N-LAPOR!")),
    Transition("sp4n_status", OPEN + Status.TERMINAL, None, SYSTEM, Visibility.INTERNAL,
               _l("Status at SP4N-LAPOR! changed")),
    Transition("sp4n_followup", OPEN + Status.TERMINAL, None, SYSTEM, Visibility.INTERNAL,
               _l("Follow-up received from SP4N-LAPOR!")),

    # Referral between regions on the platform (app.complaints.referrals). In the receiving region the report
    # arrives (the relay job, no person) awaiting the complaint unit's decision (Complaint.awaiting_referral_decision):
    # accepted, it is handled as a new report; declined, it goes back to the referring region.
    Transition("receive_referral", (), Status.SUBMITTED, SYSTEM, Visibility.INTERNAL,
               _l("Referred here by another region")),
    Transition("accept_referral", (Status.SUBMITTED,), None, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Referral accepted")),
    Transition("decline_referral", (Status.SUBMITTED,), Status.REFERRED, OFFICER_ROLES, Visibility.PUBLIC,
               _l("Referral declined")),
    # In the referring region: what the receiving region did, recorded by the relay job on the original report.
    Transition("referral_delivered", (Status.REFERRED,), None, SYSTEM, Visibility.PUBLIC,
               _l("Received by the region with authority")),
    Transition("referral_update", (Status.REFERRED,), None, SYSTEM, Visibility.PUBLIC,
               _l("Progress in the region with authority")),
    Transition("referral_declined", (Status.REFERRED,), Status.SUBMITTED, SYSTEM, Visibility.PUBLIC,
               _l("The other region declined the referral: back with the complaint unit")),

    # Personal data (UU PDP): the reporter's rights and the unit's duties, possible in every status.
    Transition("correct_identity", OPEN + Status.TERMINAL, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Personal data corrected")),
    Transition("restrict", OPEN + Status.TERMINAL, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Processing of personal data restricted")),
    Transition("unrestrict", OPEN + Status.TERMINAL, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Restriction of processing lifted")),
    Transition("data_export", OPEN + Status.TERMINAL, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("Personal data exported")),
    Transition("data_request", OPEN + Status.TERMINAL, None, CITIZEN, Visibility.INTERNAL,
               _l("Reporter asked for their personal data")),
    Transition("data_access", OPEN + Status.TERMINAL, None, CITIZEN, Visibility.INTERNAL,
               _l("Reporter opened their personal data")),
    Transition("purge_identity", Status.TERMINAL, None, SYSTEM, Visibility.INTERNAL,
               _l("Identity removed at the end of the retention period")),

    # Test reports (e.g. the one sent before go-live) are left out of every statistic; staff only.
    Transition("mark_test", OPEN + Status.TERMINAL, None, OFFICER_ROLES + SYSTEM, Visibility.INTERNAL,
               _l("Marked as a test report")),
    Transition("unmark_test", OPEN + Status.TERMINAL, None, OFFICER_ROLES, Visibility.INTERNAL,
               _l("No longer a test report")),
)}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def event_label(kind: str) -> str:
    t = TRANSITIONS.get(kind)
    return str(t.label) if t else kind


def check(action: str, status: str | None, role: str) -> Transition:
    """The transition for ``action`` if ``role`` may take it from ``status``.

    :raises TransitionError: with a translated reason.
    """
    t = TRANSITIONS.get(action)
    if t is None:
        raise TransitionError(_l("Unknown action."))
    if role not in t.roles:
        raise TransitionError(_l("You may not do this."))
    if t.sources and status not in t.sources:
        raise TransitionError(_l('"%(action)s" is not possible while the report is "%(status)s".',
                                 action=t.label, status=STATUS_LABELS.get(status, status)))
    return t


def apply(c, transition: Transition | str) -> dict:
    """Set ``c``'s status from the transition's ``target`` (kept when the target is None).

    Call it after :func:`check` (and after the service's own validation), so a refused action changes
    nothing. Returns the ``before`` of the event: ``{"status": <the status before>}``.
    """
    t = TRANSITIONS[transition] if isinstance(transition, str) else transition
    before = {"status": c.status}
    if t.target is not None:
        c.status = t.target
    return before


def allowed_actions(status: str, role: str) -> list[str]:
    """Actions ``role`` may take now (for showing only the buttons that work)."""
    return [a for a, t in TRANSITIONS.items() if role in t.roles and status in t.sources]
