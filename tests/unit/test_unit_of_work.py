"""The unit of work: one commit on success, a rollback on any error, and each service error mapped once
(field errors onto the form, flash + 303 for pages, 409/422 for JSON)."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import StringField

from app.accounts.services import AccountError
from app.agencies.models import Agency
from app.api.keys import ApiKeyError
from app.complaints.service import ValidationError
from app.complaints.uploads import UploadError
from app.complaints.workflow import StaleComplaint, TransitionError
from app.integrations.webhooks import WebhookError
from app.onboarding.service import OnboardingError
from app.tenancy.scope import tenant_scope
from app.unit_of_work import attach_errors, transactional, unit_of_work


class _Form(FlaskForm):
    class Meta:
        csrf = False

    title = StringField()
    name = StringField()


@pytest.fixture()
def ctx(app, bjm):
    with app.test_request_context("/banjarmasin/x", method="POST"), tenant_scope(bjm.id):
        yield


def _agency_codes(db) -> set[str]:
    return set(db.session.scalars(select(Agency.code)))


def _add_agency(db, code: str) -> None:
    db.session.add(Agency(code=code, name=f"Dinas {code}", short_name=code))
    db.session.flush()


def test_it_commits_once_on_success(db, ctx, monkeypatch):
    commits = []
    real_commit = db.session.commit
    monkeypatch.setattr(db.session, "commit", lambda: (commits.append(1), real_commit()))
    with unit_of_work() as work:
        _add_agency(db, "uow-ok")
    assert work.ok and not work.failed and commits == [1]
    db.session.rollback()  # nothing pending is lost: it was committed
    assert "uow-ok" in _agency_codes(db)


def test_an_unmapped_error_rolls_back_and_propagates(db, ctx):
    with pytest.raises(RuntimeError), unit_of_work():
        _add_agency(db, "uow-boom")
        raise RuntimeError("boom")
    assert "uow-boom" not in _agency_codes(db)


@pytest.mark.parametrize("exc", [
    ValidationError({"name": "Bad name."}), OnboardingError({"name": "Bad name."}), WebhookError({"name": "Bad name."}),
    ApiKeyError({"name": "Bad name."}), AccountError({"name": "Bad name."}),
])
def test_invalid_input_is_rolled_back_and_put_on_the_form(db, ctx, exc):
    form = _Form()
    with unit_of_work(form) as work:
        _add_agency(db, "uow-invalid")
        raise exc
    assert work.invalid and not work.conflict
    assert form.name.errors == ["Bad name."]
    assert "uow-invalid" not in _agency_codes(db)
    response, status = work.json_response()
    assert status == 422 and response.json == {"error": "invalid", "message": "Bad name.",
                                               "errors": {"name": "Bad name."}}


def test_an_upload_error_lands_at_the_attachments_or_the_fallback_field(db, ctx):
    form = _Form()
    with unit_of_work(form, fallback="title") as work:
        raise UploadError("Not an image.")
    assert work.invalid and form.title.errors == ["Not an image."]


@pytest.mark.parametrize(("exc", "message"), [
    (TransitionError("Not possible now."), "Not possible now."),
    (StaleComplaint(), None),
    (StaleDataError("UPDATE matched 0 rows"), None),
])
def test_conflicts_flash_and_redirect_for_pages_and_answer_409_for_apis(db, ctx, exc, message):
    message = message or str(StaleComplaint().message)  # translated in the request's language
    with unit_of_work(_Form()) as work:
        _add_agency(db, "uow-conflict")
        raise exc
    assert work.conflict and work.failure.message == message
    assert "uow-conflict" not in _agency_codes(db)
    page = work.flash_and_redirect("/banjarmasin/back")
    assert page.status_code == 303 and page.headers["Location"] == "/banjarmasin/back"
    assert get_flashed_messages(with_categories=True) == [("error", message)]
    response, status = work.json_response()
    assert status == 409 and response.json["error"] == "conflict" and response.json["message"] == message


def test_a_stale_row_found_by_the_commit_is_a_conflict_too(db, ctx, monkeypatch):
    def stale_commit():
        raise StaleDataError("UPDATE matched 0 rows")

    monkeypatch.setattr(db.session, "commit", stale_commit)
    with unit_of_work(stale_message="Changed meanwhile.") as work:
        _add_agency(db, "uow-stale")
    assert work.conflict and work.failure.message == "Changed meanwhile."
    monkeypatch.undo()
    assert "uow-stale" not in _agency_codes(db)


def test_without_catch_a_mapped_error_propagates_after_the_rollback(db, ctx):
    with pytest.raises(TransitionError), unit_of_work(catch=False):
        _add_agency(db, "uow-nocatch")
        raise TransitionError("no")
    assert "uow-nocatch" not in _agency_codes(db)


def test_discard_rolls_back_instead_of_committing(db, ctx):
    with unit_of_work() as work:
        _add_agency(db, "uow-discard")
        work.discard()
    assert work.ok and "uow-discard" not in _agency_codes(db)


def test_attach_errors_puts_known_fields_at_the_field_and_flashes_the_rest(ctx):
    form = _Form()
    attach_errors(form, {"name": "Bad.", "nonsense": "Elsewhere."})
    attach_errors(form, {"name": "Bad."})  # shown once
    assert form.name.errors == ["Bad."]
    assert get_flashed_messages() == ["Elsewhere."]
    attach_errors(form, {"nonsense": "At the title."}, fallback="title")
    assert form.title.errors == ["At the title."]


def test_the_decorator_commits_the_views_changes_or_redirects_back_on_a_mapped_error(db, ctx):
    @transactional
    def view_ok():
        _add_agency(db, "uow-view")
        return "done"

    @transactional(back=lambda **_: "/banjarmasin/form")
    def view_refused():
        _add_agency(db, "uow-refused")
        raise TransitionError("Refused.")

    @transactional
    def view_refused_no_back():
        raise TransitionError("Refused.")

    assert view_ok() == "done"
    db.session.rollback()
    assert "uow-view" in _agency_codes(db)
    resp = view_refused()
    assert resp.status_code == 303 and resp.headers["Location"] == "/banjarmasin/form"
    assert get_flashed_messages() == ["Refused."] and "uow-refused" not in _agency_codes(db)
    with pytest.raises(TransitionError):
        view_refused_no_back()
