"""Forms of the integration pages (tenant administrators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import Length, Optional


class WebhookForm(FlaskForm):
    """URL, events and a note; the rules (scheme, at least one event) live in the service."""

    url = StringField(_l("Address (URL)"), description=_l("Your system's https address that receives the events."))
    description = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    events = SelectMultipleField(_l("Events"), widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput(), validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button that changes something (CSRF only)."""
