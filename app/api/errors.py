"""One error shape for every JSON API answer: ``{"error": {"status", "code", "message", "fields"?}}``
(:class:`app.api.schemas.ErrorSchema`)."""

from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.api.schemas import ErrorSchema


class ApiError(Exception):
    """Raised by API views; turned into the JSON error answer by :func:`handle_api_error`."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields or {}, headers or {}


_ERROR = ErrorSchema()


def error_response(status: int, code: str, message: str, fields: dict | None = None, headers: dict | None = None):
    body = {"status": status, "code": code, "message": str(message)}
    if fields:
        body["fields"] = {k: str(v) for k, v in fields.items()}
    response = jsonify(_ERROR.dump({"error": body}))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          429: "rate_limited"}


def http_error_parts(exc: HTTPException) -> tuple[int, str, dict]:
    """Status, translated message and the headers to keep (429's wait, 405's methods) of a Werkzeug error."""
    status = exc.code or 500
    messages = {404: _("Not found."), 405: _("This method is not allowed here."),
                429: _("Too many requests with this key; slow down and retry later.")}
    original = exc.get_response().headers
    headers = {name: original[name] for name in ("Retry-After", "Allow") if original.get(name)}
    return status, messages.get(status, exc.description or exc.name), headers


def handle_http_error(exc: HTTPException):
    """Werkzeug errors inside the API (404, 405, 429 from the limiter…) in the API's shape."""
    status, message, headers = http_error_parts(exc)
    return error_response(status, _CODES.get(status, "error"), message, headers=headers)


_API_PATH = re.compile(r"^/[^/]+/api/v1(/|$)")
_OPEN311_PATH = re.compile(r"^(/[^/]+)?/open311/v2(/|$)")


def is_api_path() -> bool:
    """Whether the request is for the REST API, even if no route matched (unknown URL or method)."""
    return bool(_API_PATH.match(request.path))


def is_open311_path() -> bool:
    """Whether the request is for Open311 (a region's or the platform's), even if no route matched."""
    return bool(_OPEN311_PATH.match(request.path))


def unrouted_error(exc: HTTPException):
    """An API or Open311 URL that matched no route (so no blueprint handler ran): the error in that
    interface's format; None for any other URL."""
    if is_api_path():
        return handle_http_error(exc)
    if is_open311_path():
        from app.api.open311 import on_http_error  # open311 imports this module

        return on_http_error(exc)
    return None


def register(bp) -> None:
    """Make a blueprint answer errors as JSON in this shape."""
    bp.register_error_handler(ApiError, handle_api_error)
    bp.register_error_handler(HTTPException, handle_http_error)
    # Flask tries handlers registered for a status code (the app's HTML pages for 404, 429, …) before
    # handlers registered for an exception class, even a blueprint's: register the codes here too.
    for code in (*_CODES, 500):
        bp.register_error_handler(code, handle_http_error)
