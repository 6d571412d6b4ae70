"""Marking a report as a test report: the complaint unit's form on the staff report page.

A test report (for example the one sent while setting up the region) is left out of every statistic: the
central comparison, the peer medians, the transparency page and the command centre. The mark is set and
taken away with the workflow actions ``mark_test`` / ``unmark_test`` (an internal event each time).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from app.complaints import workflow
from app.complaints.forms import VersionedForm
from app.complaints.models import Complaint

PREFIX = "test_mark"


class MarkTestForm(VersionedForm):
    """Sets the mark (``on`` = "1") or takes it away ("0"), with an optional reason."""

    on = HiddenField()
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=300)],
                         description=_l("For example: sent by staff to try the form."))


def form_for(c: Complaint, role: str) -> MarkTestForm | None:
    """The form for the report page, or None when ``role`` may not change the mark now."""
    action = "unmark_test" if c.is_test else "mark_test"
    if action not in workflow.allowed_actions(c.status, role):
        return None
    return MarkTestForm(prefix=PREFIX, formdata=None, data={"version": c.version, "on": "0" if c.is_test else "1"})


def wanted(form: MarkTestForm) -> bool:
    """The mark the posted form asks for."""
    return form.on.data == "1"
