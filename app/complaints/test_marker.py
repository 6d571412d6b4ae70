"""Marking a report as a test report: the complaint unit's form on the staff report page.

A test report (for example the one sent while setting up the region) is left out of every statistic: the
central comparison, the peer medians, the transparency page and the command centre. The mark is set and
taken away with the workflow actions ``mark_test`` / ``unmark_test`` (an internal event each time).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.complaints import actions
from app.complaints.forms import VersionedForm
from app.complaints.models import Complaint

PREFIX = "test_mark"


class MarkTestForm(VersionedForm):
    """Sets the mark or takes it away (the URL says which), with an optional reason."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=300)],
                         description=_l("For example: sent by staff to try the form."))


def form_for(c: Complaint, available: list[actions.Available]) -> tuple[str, MarkTestForm] | None:
    """(action, form) for the report page, or None when the mark may not be changed now: the action is the one
    of ``available`` (the page's :func:`actions.available_actions`) among ``mark_test`` and ``unmark_test``."""
    offered = [a.action for a in available if a.action in actions.TEST_MARK]
    if not offered:
        return None
    return offered[0], MarkTestForm(prefix=PREFIX, formdata=None, data={"version": c.version})
