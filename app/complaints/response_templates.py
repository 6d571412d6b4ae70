"""The complaint unit's reusable answer texts (ResponseTemplate): scoped fetch and changes.

Like the other services: no request, no commit; bad input raises ValidationError.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from app.complaints.models import ResponseTemplate
from app.complaints.service import ValidationError
from app.extensions import db


def list_templates(active_only: bool = False) -> list[ResponseTemplate]:
    """The bound tenant's templates, active first, by title."""
    stmt = select(ResponseTemplate).order_by(ResponseTemplate.active.desc(), ResponseTemplate.title)
    if active_only:
        stmt = stmt.where(ResponseTemplate.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def access_template(template_id: int | None, active_only: bool = False) -> ResponseTemplate:
    """A template of the bound tenant.

    :raises NotFound: when missing, of another tenant, or inactive with ``active_only``.
    """
    stmt = select(ResponseTemplate).where(ResponseTemplate.id == template_id)
    if active_only:
        stmt = stmt.where(ResponseTemplate.active.is_(True))
    row = db.session.execute(stmt).scalar_one_or_none() if template_id else None
    if row is None:
        raise NotFound()
    return row


def _validate(title: str, body: str, exclude_id: int | None = None) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _l("Give the template a title.")
    elif len(title) > 120:
        errors["title"] = _l("The title may have at most 120 characters.")
    else:
        clash = select(ResponseTemplate.id).where(func.lower(ResponseTemplate.title) == title.lower())
        if exclude_id is not None:
            clash = clash.where(ResponseTemplate.id != exclude_id)
        if db.session.execute(clash).first() is not None:
            errors["title"] = _l("A template with this title already exists.")
    if len(body) < 10:
        errors["body"] = _l("Write the text (at least 10 characters).")
    if errors:
        raise ValidationError(errors)
    return title, body


def create_template(title: str, body: str, active: bool = True) -> ResponseTemplate:
    """Add a template."""
    title, body = _validate(title, body)
    row = ResponseTemplate(title=title, body=body, active=bool(active))
    db.session.add(row)
    db.session.flush()
    return row


def update_template(row: ResponseTemplate, title: str, body: str, active: bool) -> ResponseTemplate:
    """Change a template's title, text and whether it is offered."""
    row.title, row.body = _validate(title, body, exclude_id=row.id)
    row.active = bool(active)
    db.session.flush()
    return row


def set_template_active(row: ResponseTemplate, active: bool) -> ResponseTemplate:
    """Offer a template again, or stop offering it (templates are kept, never deleted)."""
    row.active = bool(active)
    db.session.flush()
    return row
