"""Request input cleaned once, for every form, query string and upload name.

NUL and the other C0 control characters (except tab, line feed and carriage return) have no place in
anything a person types; PostgreSQL refuses NUL in text outright, and the rest only hides text from
readers. They are dropped while the request is parsed, so no view, form or service meets them.
"""

from __future__ import annotations

import re

from flask import Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

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
