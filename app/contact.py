"""Reporters' contact details in one form, whatever the channel they came through.

- Phone numbers are stored in E.164 (``+6281234567890``), parsed with ``phonenumbers``; numbers written
  without a country code are Indonesian (``DEFAULT_REGION``): ``0812-3456-7890``, ``+62 812 3456 7890``
  and ``6281234567890`` are one number. Invalid numbers are refused.
- Email addresses are checked with email-validator (syntax only, no DNS) and stored in its normalised
  form, in lower case (as they always were), so that two spellings of one address are one follower.

The complaint service (``app.complaints.service``) and the reporter's data correction
(``app.privacy.service``) normalise through here; the inbound gateway matches senders with it; the
migration ``c5e1a7d3f9b2`` brought already stored values into this form.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

#: Numbers without a country code are Indonesian.
DEFAULT_REGION = "ID"
#: The widths of the contact columns (Complaint.reporter_email / reporter_phone).
EMAIL_MAX = 255
PHONE_MAX = 30

PHONE_MESSAGE = _l("Enter a phone number such as 0812 3456 7890.")
EMAIL_MESSAGE = _l("Enter a valid email address.")


class ContactError(ValueError):
    """A contact value that cannot be used; ``message`` is translated (lazy)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """``raw`` in E.164, or None when it is blank.

    :raises ContactError: when it is not a valid phone number.
    """
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > PHONE_MAX:
        raise ContactError(PHONE_MESSAGE)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ContactError(PHONE_MESSAGE) from None
    if not phonenumbers.is_valid_number(number):
        raise ContactError(PHONE_MESSAGE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    """``raw`` normalised (email-validator, no deliverability check) and in lower case, or None when blank.

    :raises ContactError: when it is not an email address.
    """
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX:
        raise ContactError(EMAIL_MESSAGE)
    try:
        value = validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ContactError(EMAIL_MESSAGE) from None
    if len(value) > EMAIL_MAX:
        raise ContactError(EMAIL_MESSAGE)
    return value


def phone_or_same(raw: str | None) -> str | None:
    """The E.164 form of ``raw`` if it is a valid number, else ``raw`` unchanged (for stored values)."""
    try:
        return normalize_phone(raw) or raw
    except ContactError:
        return raw


def email_or_same(raw: str | None) -> str | None:
    """The normalised form of ``raw`` if it is an email address, else ``raw`` unchanged (for stored values)."""
    try:
        return normalize_email(raw) or raw
    except ContactError:
        return raw


def clean_contacts(email: str | None, phone: str | None, *, email_field: str = "reporter_email",
                   phone_field: str = "reporter_phone") -> tuple[str | None, str | None, dict]:
    """Both contacts normalised, and the translated errors by field name (empty when both are usable)."""
    errors: dict = {}
    try:
        email = normalize_email(email)
    except ContactError as exc:
        errors[email_field] = exc.message
    try:
        phone = normalize_phone(phone)
    except ContactError as exc:
        errors[phone_field] = exc.message
    return email, phone, errors
