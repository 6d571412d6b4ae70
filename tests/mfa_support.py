"""Completing the second sign-in step in tests the way a person does: read the key from the
enrolment page (or remember it from an earlier enrolment), compute the code with pyotp, post it.

Each code is accepted once per user (replay protection), so a user who signs in several times within
30 seconds gets the code of the next time step (the server accepts one step either side). A third sign-in
within one step moves the server's TOTP clock (``app.accounts.mfa.clock``, a :class:`TotpClock` installed
by the ``totp_clock`` fixture of tests/conftest.py) to the next step instead of waiting for it."""

from __future__ import annotations

import re
import time

import pyotp

from app.accounts import mfa

#: (path prefix, email) → TOTP key, filled at enrolment; and the last time step used.
SECRETS: dict[tuple[str, str], str] = {}
LAST_STEP: dict[tuple[str, str], int] = {}


class TotpClock:
    """The wall clock plus an offset that tests move forward (``advance``), never backward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float = mfa.STEP) -> None:
        self.offset += seconds

    def next_step(self) -> None:
        """Move to the start of the next 30-second step."""
        self.advance(mfa.STEP - self() % mfa.STEP + 0.1)


def _now() -> float:
    return mfa.clock()


def remember_secret(prefix: str, email: str, secret: str) -> None:
    SECRETS[(prefix, email.lower())] = secret
    LAST_STEP.pop((prefix, email.lower()), None)


def mark_used(prefix: str, email: str) -> None:
    """The current step was used outside these helpers (e.g. a test enrolled through the page)."""
    LAST_STEP[(prefix, email.lower())] = int(_now() // 30)


def next_code(prefix: str, email: str) -> str:
    """A valid code that this user has not used yet."""
    key = (prefix, email.lower())
    secret = SECRETS[key]
    now = int(_now() // 30)
    last = LAST_STEP.get(key)
    # Start at the current step, not the previous one: on a busy machine the request may reach the
    # server after the next step has begun, and now-1 would then be two steps old (refused).
    step = now if last is None or last < now else last + 1
    if step > now + 1:  # two sign-ins in one step already: the next step
        if isinstance(mfa.clock, TotpClock):
            mfa.clock.next_step()
        else:  # a server in another process (tests/e2e): its clock cannot be moved
            time.sleep(30 - time.time() % 30 + 0.1)
        return next_code(prefix, email)
    LAST_STEP[key] = step
    return pyotp.TOTP(secret).at(step * 30)


def secret_from_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert match, "no TOTP key on the enrolment page"
    return match.group(1)


def complete_mfa(client, resp, email: str, prefix: str):
    """If ``resp`` (the password step) asks for the second factor, enrol or verify; return the last response."""
    location = resp.headers.get("Location", "") if resp.status_code == 302 else ""
    if location.endswith("/login/2fa/setup"):
        page = client.get(location)
        assert page.status_code == 200, page.text[:300]
        remember_secret(prefix, email, secret_from_page(page.text))
        return client.post(location, data={"code": next_code(prefix, email)})
    if location.endswith("/login/2fa"):
        return client.post(location, data={"code": next_code(prefix, email)})
    return resp
