"""Delivery channels: SMTP email and an HTTP SMS/WhatsApp gateway, each with a development adapter.

Without ``MAIL_SERVER`` / ``SMS_GATEWAY_URL`` a message is only stored (the Notification row)
and can be read on the development outbox page.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr

from flask import current_app


class DeliveryError(RuntimeError):
    pass


def send_email(recipient: str, subject: str, body: str, sender_name: str, message_id: str | None = None) -> str:
    """Send one email; returns the adapter used ("smtp" or "dev").

    :param message_id: stable per message (the notification row): if a worker dies after the server
        accepted the mail but before we recorded it, the resend carries the same Message-ID and mail
        systems drop it as a duplicate.
    """
    cfg = current_app.config
    if not cfg["MAIL_SERVER"]:
        return "dev"
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, cfg["MAIL_DEFAULT_SENDER"]))
    msg["To"] = recipient
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=15) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"smtp: {type(exc).__name__}") from exc
    return "smtp"


def send_sms(recipient: str, body: str, sender_name: str) -> str:
    """POST one message to the SMS/WhatsApp gateway as JSON; returns "http" or "dev"."""
    cfg = current_app.config
    if not cfg["SMS_GATEWAY_URL"]:
        return "dev"
    if not cfg["SMS_GATEWAY_URL"].startswith(("https://", "http://")):
        raise DeliveryError("SMS_GATEWAY_URL must be an http(s) URL")
    data = json.dumps({"to": recipient, "message": body, "sender": sender_name}).encode()
    req = urllib.request.Request(cfg["SMS_GATEWAY_URL"], data=data, method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {cfg['SMS_GATEWAY_TOKEN'] or ''}"})
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310 (scheme checked above)
            if resp.status >= 300:
                raise DeliveryError(f"gateway status {resp.status}")
    except OSError as exc:
        raise DeliveryError(f"gateway: {type(exc).__name__}") from exc
    return "http"
