"""One unit of work per request: commit once on success, roll back on any error, and turn the errors a
service may raise into one answer each.

A view calls one service function inside ``unit_of_work()`` and returns::

    with unit_of_work(form) as work:
        service.do_something(...)
    if work.failed:
        return render_the_form_again(), 400      # field errors are already on ``form``
    flash(...)
    return redirect(...)

Errors mapped here (any other exception rolls back and propagates):

* *invalid input* — an exception with an ``errors`` dict (``complaints.service.ValidationError``,
  ``onboarding.service.OnboardingError`` = ``settings.service.SettingsError``, ``WebhookError``,
  ``ApiKeyError``, ``accounts.services.AccountError``) or an ``UploadError``: the messages go onto the form's
  fields (``attach_errors``), a page answers 400, an API 422;
* *conflict* — a ``TransitionError`` (the action is not possible now; ``StaleComplaint`` included) or SQLAlchemy's
  ``StaleDataError`` (someone else changed the row meanwhile): a page flashes and redirects back (303) or shows
  the conflict page, an API answers 409.

Views that need nothing but "commit if it worked" use the ``@transactional`` decorator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps

from flask import flash, jsonify, redirect
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.services import AccountError
from app.api.keys import ApiKeyError
from app.complaints.service import ValidationError
from app.complaints.uploads import UploadError
from app.complaints.workflow import StaleComplaint, TransitionError
from app.extensions import db
from app.integrations.sp4n import BridgeSettingsError
from app.integrations.webhooks import WebhookError
from app.onboarding.service import OnboardingError

#: Exceptions whose ``errors`` dict maps form fields to translated messages.
INVALID_INPUT: tuple[type[Exception], ...] = (ValidationError, OnboardingError, WebhookError, ApiKeyError,
                                              AccountError, BridgeSettingsError)
INVALID = "invalid"
CONFLICT = "conflict"


@dataclass
class Failure:
    """Why the unit of work did not commit: ``kind`` is ``invalid`` (with field ``errors``) or ``conflict``."""

    kind: str
    message: str
    errors: dict = field(default_factory=dict)

    @property
    def messages(self) -> list[str]:
        return [str(m) for m in self.errors.values()] if self.errors else [self.message]

    @property
    def api_status(self) -> int:
        return 422 if self.kind == INVALID else 409


def failure_of(exc: BaseException, stale_message=None) -> Failure | None:
    """The mapped failure for ``exc``, or None for an error that is not the user's to fix."""
    if isinstance(exc, TransitionError):
        return Failure(CONFLICT, str(exc.message))
    if isinstance(exc, StaleDataError):
        return Failure(CONFLICT, str(stale_message or StaleComplaint().message))
    if isinstance(exc, UploadError):
        return Failure(INVALID, str(exc.message), {"attachments": exc.message})
    if isinstance(exc, INVALID_INPUT):
        errors = dict(getattr(exc, "errors", None) or {})
        return Failure(INVALID, "; ".join(str(m) for m in errors.values()), errors)
    return None


def attach_errors(form, errors: dict, fallback: str | None = None) -> None:
    """Put a service's translated ``errors`` ({field name: message}) onto the WTForms ``form``.

    A key that names no field goes to the ``fallback`` field when given, else it is flashed. A message
    already shown at the field is not repeated."""
    for name, message in (errors or {}).items():
        target = getattr(form, name, None) if form is not None else None
        if (target is None or not hasattr(target, "errors")) and fallback is not None:
            target = getattr(form, fallback, None)
        if target is None or not hasattr(target, "errors"):
            flash(str(message), "error")
            continue
        current = list(target.errors or [])
        if str(message) not in [str(e) for e in current]:
            current.append(str(message))
        target.errors = current


def flash_all(messages: Iterable) -> None:
    for message in messages:
        flash(str(message), "error")


class UnitOfWork:
    """``with UnitOfWork(form) as work:`` — see the module docstring. A mapped error is swallowed and kept
    in ``work.failure`` (its field errors already on ``form``); anything else is rolled back and re-raised."""

    def __init__(self, form=None, *, fallback: str | None = None, stale_message=None, catch: bool = True):
        self.form = form
        self.catch = catch
        self.fallback = fallback
        self.stale_message = stale_message
        self.failure: Failure | None = None
        self._discard = False

    def discard(self) -> None:
        """Roll back instead of committing at the end (e.g. a refused one-time link leaves no trace)."""
        self._discard = True

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None and self._discard:
            db.session.rollback()
            return False
        if exc is None:
            try:
                db.session.commit()  # the flush may still find a stale row
            except Exception as commit_exc:  # noqa: BLE001 (rolled back, then mapped or re-raised)
                db.session.rollback()
                return self._map(commit_exc, reraise_unmapped=True)
            return False
        db.session.rollback()
        return self._map(exc, reraise_unmapped=False)

    def _map(self, exc: BaseException, reraise_unmapped: bool) -> bool:
        failure = failure_of(exc, self.stale_message) if self.catch else None
        if failure is None:
            if reraise_unmapped:
                raise exc
            return False
        self.failure = failure
        if failure.kind == INVALID and self.form is not None:
            attach_errors(self.form, failure.errors, self.fallback)
        return True

    # ------------------------------------------------------------------ answers

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def conflict(self) -> bool:
        return self.failure is not None and self.failure.kind == CONFLICT

    @property
    def invalid(self) -> bool:
        return self.failure is not None and self.failure.kind == INVALID

    def flash_and_redirect(self, location: str, code: int = 303):
        """For pages: every message flashed as an error, then back to ``location`` (303 by default)."""
        flash_all(self.failure.messages if self.failure else [])
        return redirect(location, code)

    def json_response(self):
        """For JSON APIs: ``{"error": kind, "message": …, "errors": {…}}`` with 422 (invalid) or 409 (conflict)."""
        return json_failure(self.failure)


unit_of_work = UnitOfWork


def json_failure(failure: Failure):
    body = {"error": failure.kind, "message": failure.message,
            "errors": {k: str(v) for k, v in failure.errors.items()}}
    return jsonify(body), failure.api_status


def transactional(view: Callable | None = None, *, back: Callable[..., str] | None = None):
    """Decorator: the view's changes are committed once when it returns, rolled back when it raises.

    A mapped error is flashed and answered with a 303 to ``back(**view_args)`` when ``back`` is given;
    without ``back`` every error propagates (after the rollback)."""

    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        def wrapper(*args, **kwargs):
            with UnitOfWork(catch=back is not None) as work:
                rv = fn(*args, **kwargs)
            if work.failed:
                return work.flash_and_redirect(back(**kwargs))
            return rv

        return wrapper

    return decorate(view) if view is not None else decorate

