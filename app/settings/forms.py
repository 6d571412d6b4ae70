"""Forms of the tenant settings pages (labels and errors translated lazily)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.inputs import CHOOSE_FROM_LIST, BoundedDateField, optional_id
from app.settings.service import MAX_WORKING_DAYS


def _required():
    return DataRequired(message=_l("This field is required."))




class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG, JPEG or WebP, at most 1 MB)"))


class AgencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[_required(), Length(max=40)],
                       description=_l("Short and permanent, e.g. pupr"))
    name = StringField(_l("Name"), validators=[_required(), Length(max=200)],
                       description=_l("e.g. Dinas Pekerjaan Umum dan Penataan Ruang"))
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=60)],
                             description=_l("e.g. Dinas PUPR"))


class AgencyEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[Optional(), Length(max=60)])
    active = BooleanField(_l("Active (receives dispositions)"))


class LiaisonForm(FlaskForm):
    user_id = SelectField(_l("Staff member"), choices=[], coerce=optional_id,
                          invalid_value_message=CHOOSE_FROM_LIST,
                          validators=[InputRequired(message=_l("This field is required."))])


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[_required(), Length(max=40)], description=_l("e.g. jalan"))
    name_id = StringField(_l("Name (Indonesian)"), validators=[_required(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=120)])
    default_agency_id = SelectField(_l("Default agency (routing)"), choices=[], coerce=optional_id,
                                    invalid_value_message=CHOOSE_FROM_LIST, validate_choice=False)


class CategoryEditForm(FlaskForm):
    name_id = StringField(_l("Name (Indonesian)"), validators=[_required(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=120)])
    default_agency_id = SelectField(_l("Default agency (routing)"), choices=[], coerce=optional_id,
                                    invalid_value_message=CHOOSE_FROM_LIST, validate_choice=False)
    active = BooleanField(_l("Active (citizens can choose it)"))


def _days(label, low: int = 1, high: int = MAX_WORKING_DAYS):
    return IntegerField(label, validators=[
        InputRequired(message=_l("This field is required.")),
        NumberRange(min=low, max=high, message=_l("Enter a whole number from %(min)s to %(max)s."))])


class DeadlinesForm(FlaskForm):
    verification = _days(_l("Verification (working days)"))
    coordination = _days(_l("Coordination and disposition (working days)"))
    auto_close = _days(_l("Automatic closing without a reply (working days)"))
    due_soon = _days(_l("Mark as due soon this many working days before the deadline"), 0, 10)
    reopen_window = _days(_l("The reporter may reopen within (working days)"))
    followup_aspirasi = _days(_l("Follow-up: aspiration (working days)"))
    followup_informasi = _days(_l("Follow-up: information request (working days)"))
    followup_pengaduan = _days(_l("Follow-up: complaint (working days)"))
    followup_pengawasan = _days(_l("Follow-up: complaint needing oversight (working days)"))


class HolidayForm(FlaskForm):
    date = BoundedDateField(_l("Date"), validators=[InputRequired(message=_l("Enter a date."))])
    name = StringField(_l("Name of the holiday"), validators=[_required(), Length(max=120)])


class HolidayRemoveForm(FlaskForm):
    date = StringField(validators=[_required(), Length(max=10)])


class UserActiveForm(FlaskForm):
    active = StringField(validators=[_required()])
