"""``flask onboarding ...``: commands for the platform's onboarding (registered by ``create_app``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.onboarding import mail

onboarding_cli = AppGroup("onboarding", help="Region applications and platform email.")


@onboarding_cli.command("relay-mail")
def relay_mail_command() -> None:
    """Deliver platform emails that are still waiting (e.g. after a mail or Redis outage)."""
    click.echo(mail.relay())
