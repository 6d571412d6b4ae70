"""Request input cleaned once, for every form, query string and upload name.

NUL and the other C0 control characters (except tab, line feed and carriage return) have no place in
anything a person types; PostgreSQL refuses NUL in text outright, and the rest only hides text from
readers. They are dropped while the request is parsed, so no view, form or service meets them.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask import Request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict
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
        raise InvalidEmail(f"{address!r} is not a valid email address: {exc}") from None
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
