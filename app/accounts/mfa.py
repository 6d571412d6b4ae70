"""TOTP two-factor authentication (RFC 6238, pyotp): enrolment, verification with replay protection,
single-use recovery codes, and the enrolment QR code rendered locally as SVG (segno)."""

from __future__ import annotations

import io
import secrets
import time

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Codes of the step before and after the current one are accepted too (clock drift).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
STEP = 30
#: The clock TOTP codes are checked against (seconds since the epoch); tests replace it (tests/conftest.py totp_clock).
clock = time.time
#: Recovery codes are random (50 bits); a light argon2id keeps ten checks quick.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG document (no external service, no inline style)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True,
                                     title="QR", dark="#000", light="#fff")
    return out.getvalue().decode()


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


def accepted_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, if it is valid and newer than ``last_step``; else None.

    Each code is accepted once: the caller stores the step and passes it as ``last_step`` next time,
    so a code seen by someone else (shoulder, proxy log) cannot be replayed.
    """
    code = _normalise(code)
    if not (secret and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock() if now is None else now
    current = int(now // STEP)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """(codes to show once, hashes to store)."""
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    codes = [f"{c[:5]}-{c[5:]}" for c in codes]
    return codes, [_code_hasher.hash(_normalise(c)) for c in codes]


def use_recovery_code(hashes: list[str], code: str) -> list[str] | None:
    """The remaining hashes after spending ``code``, or None when it matches none of them."""
    code = _normalise(code)
    if len(code) != 10:
        return None
    for i, stored in enumerate(hashes or []):
        try:
            if _code_hasher.verify(stored, code):
                return hashes[:i] + hashes[i + 1:]
        except (VerificationError, InvalidHashError):
            continue
    return None
