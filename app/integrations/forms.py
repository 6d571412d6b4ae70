"""Forms of the integration pages (tenant administrators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import Length, Optional


class WebhookForm(FlaskForm):
    """URL, events and a note; the rules (scheme, at least one event) live in the service."""

    url = StringField(_l("Address (URL)"), description=_l("Your system's https address that receives the events."))
    description = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    events = SelectMultipleField(_l("Events"), widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput(), validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class BridgeForm(FlaskForm):
    """The SP4N-LAPOR! bridge settings; the rules (URL scheme, lengths) live in the service."""

    enabled = BooleanField(_l("Bridge on: enter verified reports at SP4N-LAPOR! and fetch their progress"))
    base_url = StringField(_l("Base address of the SP4N-LAPOR! API"), validators=[Optional(), Length(max=500)],
                           description=_l("Empty: the address from the region's files or the platform's "
                                          "environment."))
    token = PasswordField(_l("New token"), validators=[Optional(), Length(max=120)],
                          description=_l("Empty: keep the token in use. It is stored encrypted and never shown "
                                         "again."))
    clear_token = BooleanField(_l("Remove the token saved here (the platform's environment token applies, if any)"))
