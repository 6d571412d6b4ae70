"""Forms of the sign-up page, the central review and the onboarding checklist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.inputs import CHOOSE_FROM_LIST, AccountEmail, optional_id
from app.onboarding import service
from app.onboarding.models import TIMEZONES
from app.tenancy.models import TenantType

TYPE_LABELS = {TenantType.KOTA: _l("City (kota)"), TenantType.KABUPATEN: _l("Regency (kabupaten)"),
               TenantType.PROVINSI: _l("Province (provinsi)")}
ZONE_LABELS = {"Asia/Jakarta": _l("WIB (Asia/Jakarta)"), "Asia/Pontianak": _l("WIB (Asia/Pontianak)"),
               "Asia/Makassar": _l("WITA (Asia/Makassar)"), "Asia/Jayapura": _l("WIT (Asia/Jayapura)")}


def _required():
    return DataRequired(message=_l("This field is required."))


class ApplicationForm(FlaskForm):
    name = StringField(_l("Official name of the government"), validators=[_required(), Length(max=200)],
                       description=_l("e.g. Pemerintah Kabupaten Katingan"))
    type = SelectField(_l("Type of region"), choices=[SelectChoice(k, v) for k, v in TYPE_LABELS.items()],
                       validators=[_required()])
    province = StringField(_l("Province"), validators=[_required(), Length(max=100)])
    region_code = StringField(_l("Kemendagri region code"), validators=[_required(), Length(max=20)],
                              description=_l("NN or NN.NN, e.g. 62.06"))
    population = IntegerField(_l("Population"), validators=[Optional(), NumberRange(min=1, max=100_000_000)])
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(z, ZONE_LABELS[z]) for z in TIMEZONES],
                           validators=[_required()])
    official_name = StringField(_l("Responsible official: name"), validators=[_required(), Length(max=120)])
    official_position = StringField(_l("Position"), validators=[_required(), Length(max=120)])
    official_email = EmailField(_l("Official email"), validators=[
        _required(), AccountEmail(), Length(max=255)],
        description=_l("Preferably an address on a government domain (.go.id)."))
    official_phone = StringField(_l("Phone number"), validators=[_required(), Length(max=30)])
    slug = StringField(_l("Desired web address"), validators=[_required(), Length(max=40)],
                       description=_l("Lower-case letters, digits and hyphens, e.g. katingan"))
    suggested_peer = SelectField(_l("Start from the set-up of"), choices=[], validate_choice=False,
                                 description=_l("A suggestion: the central administrator decides."))

    def validate_slug(self, field) -> None:
        field.data = (field.data or "").strip().lower()
        problem = service.slug_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_region_code(self, field) -> None:
        field.data = (field.data or "").strip()
        problem = service.region_code_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_official_phone(self, field) -> None:
        digits = "".join(c for c in field.data or "" if c.isdigit())
        if not 8 <= len(digits) <= 15:
            raise ValidationError(_l("Enter a phone number with 8 to 15 digits."))


class ApproveForm(FlaskForm):
    source = SelectField(_l("Start from"), choices=[], validators=[_required()])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to the applicant)"), validators=[_required(), Length(min=5, max=2000)])


class BrandingForm(FlaskForm):
    service_name = StringField(_l("Name of the service shown to citizens"), validators=[_required(),
                                                                                      Length(max=120)])
    tagline = StringField(_l("Tagline"), validators=[Optional(), Length(max=200)])
    primary_color = StringField(_l("Colour"), validators=[_required(), Length(min=7, max=7)],
                                description=_l("e.g. #0b5394"))


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[_required(), AccountEmail(),
                                                Length(max=255)])
    role = SelectField(_l("Role"), choices=[])
    agency_id = SelectField(_l("Agency (for a liaison)"), choices=[], coerce=optional_id,
                            invalid_value_message=CHOOSE_FROM_LIST, validate_choice=False)


class EmptyForm(FlaskForm):
    """Buttons that only need CSRF protection."""
