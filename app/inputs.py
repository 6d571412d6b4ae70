"""Request input cleaned once, for every form, query string and upload name.

NUL and the other C0 control characters (except tab, line feed and carriage return) have no place in
anything a person types; PostgreSQL refuses NUL in text outright, and the rest only hides text from
readers. They are dropped while the request is parsed, so no view, form or service meets them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

from email_validator import EmailNotValidError, validate_email
from flask import Request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
from wtforms.fields import DateField
from wtforms.validators import ValidationError

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    return _CONTROL.sub("", value)


def _clean(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, FileStorage) and value.filename:
        value.filename = clean_text(value.filename)
    return value


class CleanParameters(ImmutableMultiDict):
    """The multidict werkzeug builds ``args``, ``form`` and ``files`` with, minus control characters."""

    def __init__(self, mapping=None) -> None:
        if mapping is None:
            super().__init__()
            return
        if isinstance(mapping, MultiDict):
            items = mapping.items(multi=True)
        elif isinstance(mapping, dict):
            items = mapping.items()
        else:
            items = mapping
        super().__init__([(_clean(k), _clean(v)) for k, v in items])


class CleanRequest(Request):
    parameter_storage_class = CleanParameters


# ---------------------------------------------------------------- ids and dates, bounded where they are parsed

#: Row ids are integer columns (int4 on PostgreSQL): a larger number names no row, and one beyond 64 bits
#: broke the query itself (OverflowError on SQLite, NumericValueOutOfRange on PostgreSQL).
MAX_ID = 2**31 - 1
#: The dates a filter may name: wide enough for any report, far from the ends of ``datetime`` (years 1
#: and 9999), where moving between time zones or adding a day overflows.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)


class OutOfRange(ValueError):
    """Well-formed, but outside what the application handles (MAX_ID, MIN_DATE…MAX_DATE)."""


def parse_id(value: object) -> int | None:
    """An id typed or sent by a client: None when empty, else an int from 1 to MAX_ID.

    :raises ValueError: when it is not a whole number (:class:`OutOfRange` when it is one out of range).
    """
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, bool):
        raise ValueError("not an id")
    number = value if isinstance(value, int) else int(str(value).strip())
    if not 1 <= number <= MAX_ID:
        raise OutOfRange(f"an id is from 1 to {MAX_ID}")
    return number


#: The highest page number a list accepts: far beyond any list, small enough for any OFFSET.
MAX_PAGE = 1_000_000


def page_number(value: str) -> int:
    """A ``?page=`` value for ``request.args.get("page", 1, type=page_number)``: at least 1, at most
    MAX_PAGE (a page past the end is the list's own business), so OFFSET never overflows.

    :raises ValueError: when it is not a whole number (the ``get`` then answers its default).
    """
    return min(max(int(value), 1), MAX_PAGE)


def check_date(value: date) -> date:
    """``value`` when it lies between MIN_DATE and MAX_DATE.

    :raises OutOfRange: otherwise.
    """
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise OutOfRange(f"a date is from {MIN_DATE} to {MAX_DATE}")
    return value


def parse_date(value: str) -> date:
    """An ISO 8601 calendar date (YYYY-MM-DD) between MIN_DATE and MAX_DATE.

    :raises ValueError: when malformed (:class:`OutOfRange` when out of range).
    """
    return check_date(date.fromisoformat(value.strip()))


def parse_datetime(value: str, default_zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 date and time (or a date: its midnight), in ``default_zone`` when it has no offset,
    between MIN_DATE and MAX_DATE; returned in UTC.

    :raises ValueError: when malformed (:class:`OutOfRange` when out of range).
    """
    parsed = check_date(datetime.fromisoformat(value.strip()))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed.astimezone(UTC)


def date_range_message() -> str:
    """The translated refusal of a date outside MIN_DATE…MAX_DATE."""

    return gettext("Give a date between %(first)s and %(last)s.", first=MIN_DATE.isoformat(),
                   last=MAX_DATE.isoformat())


#: The refusal of a choice of id that is none (tampered, or beyond MAX_ID): a field's invalid_value_message.
CHOOSE_FROM_LIST = _l("Choose a value from the list.")


def optional_id(value: object) -> int | None:
    """WTForms ``coerce`` for a choice of row id (give the field an ``invalid_value_message``): None when
    empty; anything else not an id from 1 to MAX_ID is refused by the form, not sent to the database."""
    return parse_id(value)


class BoundedDateField(DateField):
    """A date field refusing dates outside MIN_DATE…MAX_DATE with a translated message."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("invalid_value_message", _l("Give a date as YYYY-MM-DD."))
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            try:
                check_date(self.data)
            except OutOfRange:
                self.data = None
                raise ValueError(date_range_message()) from None


# ---------------------------------------------------------------- email addresses of accounts


class InvalidEmail(ValueError):
    """Not an address an account can sign in with; the message (English) says why, for the CLI."""


def account_email(value: str | None) -> str:
    """The one check of an account's email address, for the sign-in and other account forms and for
    every way an account is created (CLI, invitations, demo): the form refuses what this refuses, so no
    account exists that can never sign in. email_validator's syntax rules, without a DNS lookup;
    special-use domains (``.test``, ``.invalid``, ``.localhost``…) are refused.

    :returns: the address stripped and lower-cased, as accounts store it.
    :raises InvalidEmail: when it is not a usable address.
    """
    address = (value or "").strip().lower()
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"not a valid email address for an account: {exc}") from None  # no address: logs
    return address


class AccountEmail:
    """WTForms validator running :func:`account_email`."""

    def __init__(self, message=None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        try:
            account_email(field.data)
        except InvalidEmail:
            raise ValidationError(self.message or _l("Enter a valid email address.")) from None
