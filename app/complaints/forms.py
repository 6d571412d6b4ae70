"""Forms of the complaint pages: citizen forms and staff forms (each part appended by its owner)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.inputs import CHOOSE_FROM_LIST, BoundedDateField, optional_id

# Citizen forms

COORDINATE_PATTERN = r"^\s*-?[0-9]{1,3}([.,][0-9]+)?\s*$"


#: The attachments' help text, on every form that takes files.
ATTACHMENTS_HELP = _l("Up to 5 files: JPEG, PNG or WebP photos, or PDF; at most 5 MB each. Location and camera "
                      "data are removed from photos; author and other metadata are removed from PDF documents.")


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SubmitForm(FlaskForm):
    """The citizen's report. Rules on title, description, class and privacy live in the service;
    the form checks what only the page knows (consent, contact, formats)."""

    title = StringField(_l("Short title"), filters=[_strip], validators=[Length(max=200)],
                        description=_l("For example: Broken street light on Jalan Ahmad Yani km 2"))
    description = TextAreaField(_l("What happened?"), filters=[_strip], validators=[Length(max=10000)],
                                description=_l("What, where, when and who is affected. Do not write other "
                                               "people's personal data."))
    complaint_class = RadioField(_l("Kind of report"), invalid_choice_message=_l("Choose the kind of report."))
    category_id = SelectField(_l("Topic (optional)"), coerce=optional_id, validators=[Optional()],
                              invalid_choice_message=_l("Choose a category from the list."),
                              invalid_value_message=_l("Choose a category from the list."))
    location_text = StringField(_l("Location (optional)"), filters=[_strip], validators=[Optional(), Length(max=300)],
                                description=_l("Street, number, kelurahan or a landmark."))
    latitude = StringField(_l("Latitude"), filters=[_strip], validators=[
        Optional(), Regexp(COORDINATE_PATTERN, message=_l("Enter a number such as -3.3194."))])
    longitude = StringField(_l("Longitude"), filters=[_strip], validators=[
        Optional(), Regexp(COORDINATE_PATTERN, message=_l("Enter a number such as 114.5908."))])
    attachments = MultipleFileField(_l("Photos or documents (optional)"),
                                    description=ATTACHMENTS_HELP)
    reporter_name = StringField(_l("Your name"), filters=[_strip], validators=[
        DataRequired(message=_l("Write your name.")), Length(max=120)])
    # Checked and normalised by the service (app.contact): E.164 phones, normalised emails.
    reporter_email = EmailField(_l("Email"), filters=[_strip], validators=[Optional(), Length(max=255)])
    reporter_phone = TelField(_l("Mobile phone (SMS)"), filters=[_strip], validators=[Optional(), Length(max=30)])
    privacy = RadioField(_l("Who may see your report?"), default="public",
                         invalid_choice_message=_l("Choose who may see your report."))
    consent = BooleanField(_l("I have read and accept the terms of use."), validators=[
        DataRequired(message=_l("Accept the terms to send your report."))])
    #: Honeypot: hidden by CSS; people leave it empty, form-filling robots do not.
    hp_note = StringField(_l("Leave this field empty"))
    submission_key = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.reporter_email.data and not self.reporter_phone.data:
            self.reporter_email.errors.append(_l("Give an email address or a mobile number so that we can tell "
                                                 "you about progress."))
            ok = False
        return ok


class TrackForm(FlaskForm):
    """Find a report by its tracking code (a GET form)."""

    class Meta:
        csrf = False

    kode = StringField(_l("Tracking code"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter the tracking code.")), Length(max=20)])


class AddInformationForm(FlaskForm):
    message = TextAreaField(_l("Additional information"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a message.")), Length(max=4000)])
    attachments = MultipleFileField(_l("Photos or documents (optional)"),
                                    description=ATTACHMENTS_HELP)


class CitizenReplyForm(FlaskForm):
    message = TextAreaField(_l("Your reply to the answer"), filters=[_strip], validators=[
        DataRequired(message=_l("Write a message.")), Length(max=4000)],
        description=_l("Your reply goes back to the agency; the report stays open."))


class RatingForm(FlaskForm):
    score = RadioField(_l("How satisfied are you with the handling?"), coerce=_optional_int,
                       choices=[SelectChoice(5, _l("5: very satisfied")), SelectChoice(4, _l("4: satisfied")),
                                SelectChoice(3, _l("3: fair")), SelectChoice(2, _l("2: dissatisfied")),
                                SelectChoice(1, _l("1: very dissatisfied"))],
                       invalid_choice_message=_l("Choose a rating from 1 to 5."))
    comment = TextAreaField(_l("Comment (optional)"), filters=[_strip], validators=[Optional(), Length(max=2000)])


class CitizenReopenForm(FlaskForm):
    reason = TextAreaField(_l("Why should the report be reopened?"), filters=[_strip], validators=[
        DataRequired(message=_l("Say why the report should be reopened.")), Length(max=4000)])


# Staff forms



class InboxFilterForm(FlaskForm):
    """The inbox filters, read from the query string."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)],
                    description=_l("Tracking code, title or description"))
    status = SelectField(_l("Status"), validators=[Optional()])
    complaint_class = SelectField(_l("Class"), validators=[Optional()], name="class")
    category_id = SelectField(_l("Category"), coerce=optional_id, validators=[Optional()], name="category",
                              invalid_value_message=CHOOSE_FROM_LIST)
    agency_id = SelectField(_l("Disposed to"), coerce=optional_id, validators=[Optional()], name="agency",
                            invalid_value_message=CHOOSE_FROM_LIST)
    deadline = SelectField(_l("Deadline"), validators=[Optional()])
    date_from = BoundedDateField(_l("Received from"), validators=[Optional()])
    date_to = BoundedDateField(_l("Received until"), validators=[Optional()])
    sort = SelectField(_l("Sort"), validators=[Optional()])
    only = SelectField(_l("Show"), validators=[Optional()])


class VersionedForm(FlaskForm):
    """Every staff action carries the version of the report the page showed."""

    version = HiddenField(validators=[DataRequired()])


class VerifyForm(VersionedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=200)])
    complaint_class = SelectField(_l("Class"), validators=[DataRequired()])
    category_id = SelectField(_l("Category"), coerce=optional_id, validators=[Optional()],
                              invalid_value_message=CHOOSE_FROM_LIST)
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=400)],
                       description=_l("Separate tags with commas, e.g. road, flood"))
    anonymous = BooleanField(_l("Anonymous: hide the reporter's identity from the public and from agencies"))
    confidential = BooleanField(_l("Confidential: the report is not shown publicly"))

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]


class EditForm(VerifyForm):
    pass


class HoldForm(VersionedForm):
    message = TextAreaField(_l("Which information is missing?"), validators=[DataRequired(), Length(max=4000)])


class ResumeForm(VersionedForm):
    pass


class ReferForm(VersionedForm):
    #: Another region on this platform (app.complaints.referrals); empty: a body outside the platform, named below.
    target_tenant_id = SelectField(_l("Region on this platform"), coerce=optional_id, validators=[Optional()],
                                   invalid_value_message=CHOOSE_FROM_LIST,
                                   description=_l("It receives a linked report and decides to accept or decline "
                                                  "it; the reporter keeps following it under this code."))
    refer_to = StringField(_l("Or a body outside the platform"), validators=[Length(max=200)])
    message = TextAreaField(_l("Message to the reporter"), validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.target_tenant_id.data and not (self.refer_to.data or "").strip():
            self.refer_to.errors = [*self.refer_to.errors, _l("Choose a region or name the body with authority.")]
            return False
        return ok


class AcceptReferralForm(VersionedForm):
    """The receiving unit accepts a report another region referred here."""


class DeclineReferralForm(VersionedForm):
    reason = TextAreaField(_l("Reason for declining"), validators=[DataRequired(), Length(max=1000)],
                           description=_l("The referring region and the reporter see this reason."))


class ArchiveForm(VersionedForm):
    reason = StringField(_l("Reason for archiving"), validators=[DataRequired(), Length(max=300)])


class DisposeForm(VersionedForm):
    agency_ids = SelectMultipleField(_l("Agencies"), coerce=int, validators=[InputRequired()])
    instruction = TextAreaField(_l("Instruction to the agencies (internal)"), validators=[Optional(), Length(max=4000)])


class NoteForm(VersionedForm):
    message = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=4000)],
                            description=_l("Only staff see internal notes; the reporter never does."))


class PublicReplyForm(VersionedForm):
    template_id = SelectField(_l("Start from a template"), coerce=optional_id, validators=[Optional()],
                              invalid_value_message=CHOOSE_FROM_LIST)
    message = TextAreaField(_l("Message to the reporter"), validators=[Optional(), Length(max=4000)],
                            description=_l("Left empty, the chosen template's text is sent."))


class FollowUpForm(VersionedForm):
    agency_id = SelectField(_l("Agency"), coerce=optional_id, validators=[Optional()],
                              invalid_value_message=CHOOSE_FROM_LIST)
    body = TextAreaField(_l("Follow-up (tindak lanjut)"), validators=[DataRequired(), Length(max=10000)])
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Send for review"))


class ReturnFollowUpForm(VersionedForm):
    remark = TextAreaField(_l("What should the agency change?"), validators=[DataRequired(), Length(max=4000)])


class PublishFollowUpForm(VersionedForm):
    body = TextAreaField(_l("Text to publish"), validators=[Optional(), Length(max=10000)],
                         description=_l("You may correct the text before publishing it."))


class CloseForm(VersionedForm):
    message = TextAreaField(_l("Closing message (optional)"), validators=[Optional(), Length(max=4000)])
    #: Shown (and required by the service) only while the reporter's objection is unanswered.
    reason = TextAreaField(_l("Why close without answering the reporter's objection? (staff only)"),
                           validators=[Optional(), Length(max=4000)],
                           description=_l("The reporter replied to the answer and no new answer has been "
                                          "published since. Publish one, or record the reason here: it is kept "
                                          "in the report's history for staff."))


class ReopenForm(VersionedForm):
    reason = TextAreaField(_l("Why is the report reopened?"), validators=[DataRequired(), Length(max=4000)])


class MergeForm(VersionedForm):
    primary_code = StringField(_l("Tracking code of the main report"), validators=[DataRequired(), Length(max=20)],
                               description=_l("This report becomes a duplicate. Its reporter is told and sees the main "
                                               "report's public progress on their own report's page."))


class SendBackForm(VersionedForm):
    """A liaison returns the report to the complaint unit (the reasons come from service.SEND_BACK_REASONS)."""

    # Nothing chosen is an invalid choice too: one message, from the choice check.
    reason = RadioField(_l("Why does the report not belong with your agency?"),
                        invalid_choice_message=_l("Choose why the report is sent back."))
    message = TextAreaField(_l("Explanation for the complaint unit"), validators=[
        DataRequired(message=_l("Explain to the complaint unit why the report is sent back.")), Length(max=4000)],
        description=_l("For example which agency has the authority. Only staff see it; the reporter does not."))


class ResponseTemplateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=10000)])
    active = BooleanField(_l("Active"), default=True)


class ContactForm(FlaskForm):
    """An email address or a phone number (following a report; a one-time link to one's reports)."""

    contact = StringField(_l("Email address or phone number"), filters=[_strip], validators=[
        DataRequired(message=_l("Enter an email address or a phone number.")), Length(max=255)])


class ConfirmForm(FlaskForm):
    """One button that confirms what a one-time link asks (a link opened by a mail scanner does nothing)."""


class ExportForm(FlaskForm):
    """Export the inbox's list (its filters travel as hidden fields of the same form, read by InboxFilterForm)."""

    fmt = SelectField(_l("Format"), choices=[SelectChoice("csv", "CSV"), SelectChoice("xlsx", "Excel (XLSX)")],
                      validators=[DataRequired()])
    identity = BooleanField(_l("Include the reporters' identity (name, email, phone)"))
