"""The links put into messages, built in one place.

A private tracking link (code + access token) opens a report with the reporter's rights. It is built
only by :func:`private_link`, from a :class:`Follower` row, for that follower's OWN report: no caller
can hand in another complaint, so a follower can never be sent someone else's token. A contact that
only follows a public report (``Follower.kind`` "follower") filed nothing: it is refused a private link
(:class:`NotTheReporter`) and gets the public page and an unfollow link instead.
"""

from __future__ import annotations

import hashlib
import io

import segno
from flask import current_app
from itsdangerous import URLSafeSerializer
from markupsafe import Markup, escape

from app.complaints.models import Complaint, Follower, FollowerKind
from app.extensions import db
from app.tenancy.scope import current_tenant


def _base() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{current_tenant().slug}"


class NotTheReporter(PermissionError):
    """A private link was asked for a contact that did not file the report (a follower of a public report)."""


def _own_complaint(follower: Follower) -> Complaint:
    """The report this contact itself filed (``origin_complaint_id``), never one it was attached to.

    :raises NotTheReporter: for a follower of kind "follower": it filed nothing, it gets no private link.
    """
    if follower.kind != FollowerKind.REPORTER:
        raise NotTheReporter("only a report's reporter has its private link")
    own_id = follower.origin_complaint_id or follower.complaint_id
    c = db.session.get(Complaint, own_id)
    if c is None:  # pragma: no cover - the foreign key keeps it
        raise LookupError("follower without a complaint")
    return c


def private_link(follower: Follower) -> str:
    """The private tracking link of the follower's own report."""
    c = _own_complaint(follower)
    return f"{_base()}/lacak/{c.code}?t={c.access_token}"


own_complaint = _own_complaint


def account_link(c: Complaint, user) -> str:
    """The private link of a report that the signed-in citizen ``user`` filed while signed in."""
    if c.reporter_user_id is None or c.reporter_user_id != getattr(user, "id", None):
        raise NotTheReporter("not the account that filed the report")
    return f"{_base()}/lacak/{c.code}?t={c.access_token}"


def unfollow_link(follower: Follower) -> str:
    """The link in every message to a follower that ends following (no sign-in; one click and a confirm)."""
    return f"{_base()}/berhenti-mengikuti/{unfollow_token(follower)}"


def unfollow_serializer() -> URLSafeSerializer:
    # The region's id in the salt: a link of one region means nothing in another.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"unfollow:{current_tenant().id}")


def follower_fingerprint(f: Follower) -> str:
    """Changes when the follower's contact or report changes, so an old link stops working."""
    return hashlib.sha256(f"{f.channel}:{f.recipient}:{f.complaint_id}".encode()).hexdigest()[:20]


def unfollow_token(f: Follower) -> str:
    if f.kind != FollowerKind.FOLLOWER:
        raise PermissionError("a report's reporter cannot unfollow it")
    return unfollow_serializer().dumps({"f": f.id, "h": follower_fingerprint(f)})


def receipt_link(c: Complaint) -> str:
    """The private link answered to whoever just filed ``c`` in the same request (web confirmation,
    the SMS/WhatsApp gateway's reply). Messages sent later use :func:`private_link`."""
    return f"{_base()}/lacak/{c.code}?t={c.access_token}"


def public_link(c: Complaint) -> str:
    """The public progress page of a report: what anyone with the code may see."""
    return f"{_base()}/lacak/{c.code}"


def staff_link(c: Complaint) -> str:
    """The staff page of a report (needs a staff sign-in with access to it)."""
    return f"{_base()}/staff/complaints/{c.id}"


def qr_svg(link: str, title: str) -> Markup:
    """The QR code of a link as inline SVG (made here by segno: no outside service sees the link), named
    ``title`` for screen readers. No inline style, so the page's Content-Security-Policy holds."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True,
                                     dark="#000", light="#fff", svgclass="qr-code", lineclass=None)
    svg = out.getvalue().decode()
    label = escape(title)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return Markup(svg)  # noqa: S704 (SVG made by segno from our own URL; the label is escaped)
