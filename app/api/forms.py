"""The form that makes an API key (tenant administrators)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice

SCOPE_LABELS = {
    "read": _l("Read: list and read reports, categories and agencies"),
    "write": _l("Write: also submit reports and move them through the workflow"),
}


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("The system that will use the key, e.g. “Dashboard Diskominfo”."))
    scopes = SelectMultipleField(_l("Permissions"), widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput(), validate_choice=False,
                                 choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()], default=["read"])
