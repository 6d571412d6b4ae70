"""SMS/WhatsApp text length: one message where possible, aware of the GSM-7 alphabet.

A GSM-7 text fits 160 characters in one SMS (the extension characters count twice); any other
character switches the whole text to UCS-2, which fits 70.
"""

from __future__ import annotations

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = set("^{}\\[~]|€\f")
GSM7_SINGLE = 160
UCS2_SINGLE = 70


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)


def sms_length(text: str) -> int:
    """Length in the units of its encoding (septets for GSM-7, characters for UCS-2)."""
    if is_gsm7(text):
        return sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
    return len(text)


def single_limit(text: str) -> int:
    return GSM7_SINGLE if is_gsm7(text) else UCS2_SINGLE


def fits_one(text: str) -> bool:
    return sms_length(text) <= single_limit(text)


def fit_sms(text: str, keep: str = "") -> str:
    """Shorten ``text`` to one message if it can be done without cutting ``keep`` (the link).

    Typographic characters that force UCS-2 are replaced by GSM-7 ones first; then the words before
    ``keep`` are shortened with "...". A text whose ``keep`` alone is too long stays as it is (the
    gateway sends it as a concatenated message).
    """
    text = text.translate(str.maketrans({"…": "...", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'",
                                         "’": "'", "\u00a0": " "})).strip()
    if fits_one(text):
        return text
    limit = single_limit(text)
    head, sep, tail = text.partition(keep) if keep and keep in text else (text, "", "")
    room = limit - sms_length(sep + tail) - 4  # " ..." before the link
    if room < 10:
        return text
    cut = head
    while cut and sms_length(cut.rstrip()) > room:
        cut = cut[:-1]
    cut = cut.rstrip()
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut.rstrip(' .,:;')}... {sep}{tail}".strip() if sep else f"{cut.rstrip(' .,:;')}..."
