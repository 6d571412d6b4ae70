"""Forms of the personal-data pages: the reporter's request, the complaint unit's correction and restriction."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.complaints.forms import VersionedForm


class DataRequestForm(FlaskForm):
    """The reporter asks for their data (the button needs only the CSRF token and the private link)."""


class CorrectIdentityForm(VersionedForm):
    reporter_name = StringField(_l("Name"), validators=[DataRequired(message=_l("Write the reporter's name.")),
                                                        Length(max=120)])
    reporter_email = EmailField(_l("Email"), validators=[Optional(), Length(max=255)])
    reporter_phone = TelField(_l("Mobile phone (SMS)"), validators=[Optional(), Length(max=30)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[Optional(), Length(max=1000)],
                           description=_l("For example: the reporter's request of 3 March by telephone."))


class RestrictForm(VersionedForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l(
        "Give the reason (e.g. the reporter's request and its date).")), Length(max=1000)])


def staff_forms(c, failed: dict | None = None) -> dict:
    """The complaint unit's personal-data forms for the report page (a failed one keeps its input)."""
    failed = failed or {}
    data = {"version": c.version, "reporter_name": c.reporter_name, "reporter_email": c.reporter_email,
            "reporter_phone": c.reporter_phone}
    forms = {"pdp_restrict": failed.get("pdp_restrict") or RestrictForm(prefix="pdp_restrict", formdata=None,
                                                                          data={"version": c.version})}
    if c.identity_purged_at is None:
        forms["pdp_correct"] = failed.get("pdp_correct") or CorrectIdentityForm(prefix="pdp_correct", formdata=None,
                                                                                data=data)
    return forms
