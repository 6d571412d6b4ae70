"""Who is told what: event kind × recipient role × privacy × merged or not × recipient language.

For every combination the exact set of recipients is asserted (citizen followers of the report, the
followers of a report merged into it, the complaint unit, the unit head, the agency's liaisons, a
liaison of another agency), and for every message: never to the person who acted, every private link
is the recipient's own, no staff message carries the reporter's identity, the content is there, and
the language is the recipient's even when the acting officer uses the other one.

Uses only the complaint service and the message rows, so it runs unchanged against older code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.agencies.models import Agency
from app.complaints import service, sweep, workflow
from app.complaints.models import FollowUp, Privacy, Status
from app.i18n import format_dt
from app.notifications.models import MessageTemplate, Notification
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

HOLD_QUESTION = "Mohon kirim foto lokasi dan nomor rumah terdekat."
OFFICER_MESSAGE = "Petugas kami akan meninjau lokasi pada hari Kamis."
ANSWER = "Lubang di Jl. Kayu Tangi sudah ditambal oleh Dinas PUPR pada 20 Maret; mohon konfirmasi."
CITIZEN_TEXT = "Lubangnya masih ada di depan rumah nomor 12, belum ditambal sama sekali."
INSTRUCTION = "Mohon ditinjau dan dijawab dengan foto perbaikan."
CLOSE_NOTE = "Perbaikan sudah dikonfirmasi di lapangan."

PRIMARY = {"name": "Siti Norhayati", "email": "siti@contoh.id", "phone": "+6281200000001"}
DUPLICATE = {"name": "Budi Santoso", "email": "budi@contoh.id", "phone": "+6281200000002"}

#: kind → (state before, expected recipients by role, the template the recipients' messages use)
#: Roles: "reporter" (the report's own followers), "merged" (followers of the report merged into it),
#: "actor_officer" (the officer who acts in the other kinds), "officer", "unit_head", "admin",
#: "liaison" (the disposed agency), "other_liaison" (an agency it was not sent to).
CASES: dict[str, tuple[str, set[str], dict[str, str]]] = {
    "verify": ("submitted", {"reporter", "merged"},
               {"reporter": "citizen_verified", "merged": "citizen_merged_progress"}),
    "hold": ("submitted", {"reporter"}, {"reporter": "citizen_hold"}),
    "public_reply": ("verified", {"reporter"}, {"reporter": "citizen_message"}),
    "dispose": ("verified", {"reporter", "merged", "liaison"},
                {"reporter": "citizen_disposed", "merged": "citizen_merged_progress", "liaison": "staff_disposed"}),
    "submit_followup": ("disposed", {"actor_officer", "officer", "unit_head", "admin"},
                        {"officer": "staff_followup_submitted"}),
    "publish_followup": ("reviewed", {"reporter", "merged"},
                         {"reporter": "followup_published", "merged": "citizen_merged_progress"}),
    "citizen_reply": ("answered", {"merged", "actor_officer", "officer", "unit_head", "admin", "liaison"},
                      {"officer": "staff_citizen_reply", "liaison": "staff_citizen_reply",
                       "merged": "citizen_merged_progress"}),
    "add_info": ("disposed", {"actor_officer", "officer", "unit_head", "admin", "liaison"},
                 {"officer": "staff_added_information", "liaison": "staff_added_information"}),
    "add_info_on_hold": ("on_hold", {"actor_officer", "officer", "unit_head", "admin"},
                         {"officer": "staff_added_information"}),
    "reopen": ("closed", {"merged", "actor_officer", "officer", "unit_head", "admin", "liaison"},
               {"officer": "staff_reopened", "liaison": "staff_reopened", "merged": "citizen_merged_progress"}),
    "close": ("answered", {"reporter", "merged"},
              {"reporter": "citizen_closed", "merged": "citizen_merged_progress"}),
    "escalate": ("disposed", {"actor_officer", "officer", "unit_head", "admin", "liaison"},
                 {"officer": "escalation", "unit_head": "escalation", "liaison": "escalation"}),
    "merge": ("submitted", {"merged"}, {"merged": "citizen_merged"}),
}
PRIVACIES = (Privacy.PUBLIC, Privacy.ANONYMOUS, Privacy.CONFIDENTIAL)


@dataclass
class World:
    tenant: object
    users: dict
    primary: object
    duplicate: object | None
    locale: str


def _other(locale: str) -> str:
    return "en" if locale == "id" else "id"


def _submit(reporter: dict, privacy: str, locale: str, title: str):
    c, _ = submit_complaint(
        title=title, description="Lubang besar di tengah jalan, sudah dua minggu tidak diperbaiki warga.",
        privacy=privacy, reporter_name=reporter["name"], reporter_email=reporter["email"],
        reporter_phone=reporter["phone"], locale=locale, commit=False)
    return c


def _bring_to(c, state: str, users: dict, agency_id: int) -> None:
    officer = service.Actor.of(users["actor_officer"])
    if state == "submitted":
        return
    if state == "on_hold":
        service.hold(c, officer, HOLD_QUESTION)
        return
    service.verify(c, officer)
    if state == "verified":
        return
    service.dispose(c, officer, [agency_id], instruction=INSTRUCTION)
    if state == "disposed":
        return
    service.save_followup_draft(c, service.Actor.of(users["liaison"]), ANSWER, submit=True)
    if state == "reviewed":
        return
    fu = service.db.session.execute(select(FollowUp).filter_by(complaint_id=c.id)).scalar_one()
    service.publish_followup(c, officer, fu.id)
    if state == "answered":
        return
    service.close(c, officer)
    assert state == "closed"


def _act(kind: str, w: World, agency_id: int) -> None:
    officer = service.Actor.of(w.users["actor_officer"])
    c = w.primary
    if kind == "verify":
        service.verify(c, officer)
    elif kind == "hold":
        service.hold(c, officer, HOLD_QUESTION)
    elif kind == "public_reply":
        service.public_reply(c, officer, OFFICER_MESSAGE)
    elif kind == "dispose":
        service.dispose(c, officer, [agency_id], instruction=INSTRUCTION)
    elif kind == "submit_followup":
        service.save_followup_draft(c, service.Actor.of(w.users["liaison"]), ANSWER, submit=True)
    elif kind == "publish_followup":
        fu = service.db.session.execute(select(FollowUp).filter_by(complaint_id=c.id)).scalar_one()
        service.publish_followup(c, officer, fu.id)
    elif kind == "citizen_reply":
        service.citizen_reply(c, CITIZEN_TEXT)
    elif kind in ("add_info", "add_info_on_hold"):
        service.add_information(c, CITIZEN_TEXT)
    elif kind == "reopen":
        service.reopen(c, service.CITIZEN, CITIZEN_TEXT)
    elif kind == "close":
        service.close(c, officer, CLOSE_NOTE)
    elif kind == "escalate":
        sweep.escalate(c, w.tenant)
    elif kind == "merge":
        service.merge(w.duplicate, c, officer)
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.fixture()
def staff(bjm, make_user):
    def make(locale: str) -> dict:
        users = {
            "actor_officer": make_user(bjm, "officer", name="Faturrahim"),
            "officer": make_user(bjm, "officer", name="Rusdiansyah"),
            "unit_head": make_user(bjm, "officer", name="Hj. Rahmawati", is_unit_head=True),
            "admin": make_user(bjm, "tenant_admin", name="Supiani"),
            "liaison": make_user(bjm, "liaison", agency_code="pupr", name="Ahmad Fauzi"),
            "other_liaison": make_user(bjm, "liaison", agency_code="humpro", name="Nurul Hidayah"),
        }
        with tenant_scope(bjm.id):
            for u in users.values():
                u.locale = locale
            service.db.session.commit()
        return users

    return make


def _expected_recipients(w: World, roles: set[str]) -> dict[str, str]:
    """recipient address → role."""
    out = {}
    if "reporter" in roles:
        out[PRIMARY["email"]] = out[PRIMARY["phone"]] = "reporter"
    if "merged" in roles and w.duplicate is not None:
        out[DUPLICATE["email"]] = out[DUPLICATE["phone"]] = "merged"
    for role, user in w.users.items():
        if role in roles:
            out[user.email] = role
    return out


def _subject_prefix(key: str, locale: str) -> str:
    tpl = service.db.session.execute(select(MessageTemplate).filter_by(key=key, locale=locale)).scalar_one()
    return tpl.subject.split("{", 1)[0]


def _status(status: str, locale: str) -> str:
    with force_locale(locale):
        return str(workflow.STATUS_LABELS[status])


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("merged", [False, True], ids=["single", "merged"])
@pytest.mark.parametrize("privacy", PRIVACIES)
@pytest.mark.parametrize("kind", list(CASES))
def test_each_event_reaches_exactly_the_right_people_with_their_own_link_and_language(
        db, bjm, staff, kind, privacy, merged, locale):
    state, roles, templates = CASES[kind]
    if kind == "merge" and not merged:
        pytest.skip("a merge always has a duplicate")
    users = staff(locale)
    with tenant_scope(bjm.id):
        agency_id = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
        primary = _submit(PRIMARY, privacy, locale, "Jalan berlubang di Kayu Tangi (rahasia)")
        duplicate = _submit(DUPLICATE, Privacy.PUBLIC, locale, "Jalan rusak Kayu Tangi") if merged else None
        if merged and kind != "merge":
            service.merge(duplicate, primary, service.Actor.of(users["actor_officer"]))
        _bring_to(primary, state, users, agency_id)
        if kind == "escalate":
            primary.due_stage = "followup"
        db.session.commit()
        w = World(bjm, users, primary, duplicate, locale)
        before = db.session.scalar(select(func.coalesce(func.max(Notification.id), 0)))

        with force_locale(_other(locale)):  # the acting officer works in the other language
            _act(kind, w, agency_id)
        db.session.commit()

        notes = db.session.execute(select(Notification).where(Notification.id > before)).scalars().all()
        expected = _expected_recipients(w, roles)
        got = {n.recipient for n in notes}
        assert got == set(expected), f"{kind}: sent to {sorted(got)}, expected {sorted(expected)}"
        keys = [(n.event_key, n.channel, n.recipient) for n in notes]
        assert len(keys) == len(set(keys))

        own_token = {PRIMARY["email"]: primary.access_token, PRIMARY["phone"]: primary.access_token}
        if duplicate is not None:
            own_token |= {DUPLICATE["email"]: duplicate.access_token, DUPLICATE["phone"]: duplicate.access_token}
        for n in notes:
            role = expected[n.recipient]
            text = f"{n.subject}\n{n.body}"
            tokens = re.findall(r"[?&]t=([A-Za-z0-9_\-]+)", text)
            if role in ("reporter", "merged"):
                # Every private link is the recipient's own report's; a merged follower's never the primary's.
                assert tokens == [own_token[n.recipient]], f"{kind}: {role} got someone else's link"
                if role == "merged":
                    assert primary.access_token not in text
                    assert primary.title not in text and primary.description not in text
                    assert PRIMARY["name"] not in text and PRIMARY["email"] not in text
            else:
                assert not tokens, f"{kind}: a private link went to staff"
                for secret in (PRIMARY["name"], PRIMARY["email"], PRIMARY["phone"]):
                    assert secret not in text, f"{kind}: {role} message carries the reporter's identity"
            if n.channel == "sms":
                from app.notifications.sms import fits_one

                assert fits_one(n.body), f"{kind}: SMS longer than one message: {n.body!r}"
                for content in (HOLD_QUESTION, OFFICER_MESSAGE, ANSWER, primary.title, PRIMARY["name"]):
                    assert content not in n.body
                continue
            template = templates.get(role) or templates.get("officer")
            assert n.subject.startswith(_subject_prefix(template, locale)), \
                f"{kind}: {role} got {n.subject!r}, not the {locale} {template} message"

        # The content each recipient needs, in their own language.
        emails = {n.recipient: n.body for n in notes if n.channel == "email"}
        reporter_mail = emails.get(PRIMARY["email"], "")
        if kind == "hold":
            assert HOLD_QUESTION in reporter_mail
        if kind == "public_reply":
            assert OFFICER_MESSAGE in reporter_mail
        if kind == "publish_followup":
            assert ANSWER in reporter_mail
        if kind == "close":
            assert CLOSE_NOTE in reporter_mail and _status(Status.CLOSED, locale) in reporter_mail
        if kind in ("verify", "dispose"):
            assert format_dt(primary.due_at, bjm.timezone, locale) in reporter_mail
        if kind == "dispose":
            assert INSTRUCTION in emails[users["liaison"].email]
        if kind == "submit_followup":
            assert ANSWER in emails[users["officer"].email]
        if kind in ("citizen_reply", "add_info", "add_info_on_hold", "reopen"):
            assert CITIZEN_TEXT in emails[users["officer"].email]
        if kind == "escalate":
            assert primary.code in emails[users["unit_head"].email]
        if merged and "merged" in roles and kind != "merge":
            assert _status(primary.status, locale) in emails[DUPLICATE["email"]]
            assert _status(primary.status, _other(locale)) not in emails[DUPLICATE["email"]]
