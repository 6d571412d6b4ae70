from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.services import password_problem
from app.inputs import CHOOSE_FROM_LIST, AccountEmail, optional_id


class PasswordRule:
    """The one password rule (``accounts.services.password_problem``) as a form validator."""

    def __call__(self, form, field) -> None:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


#: Autocomplete hints (WCAG 1.3.5, password managers), kept with the fields so every page rendering them agrees.
CURRENT_PASSWORD = {"autocomplete": "current-password"}
NEW_PASSWORD = {"autocomplete": "new-password"}
EMAIL = {"autocomplete": "email"}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), AccountEmail()], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw=CURRENT_PASSWORD)
    remember = BooleanField(_l("Remember me"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), AccountEmail()], render_kw=EMAIL)


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), PasswordRule()], render_kw=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the password"), render_kw=NEW_PASSWORD, validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class RegisterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "name"})
    email = EmailField(_l("Email"), validators=[DataRequired(), AccountEmail(), Length(max=255)], render_kw=EMAIL)
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30)], render_kw={"autocomplete": "tel"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), PasswordRule()], render_kw=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the password"), render_kw=NEW_PASSWORD, validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw=CURRENT_PASSWORD)
    password = PasswordField(_l("New password"), validators=[DataRequired(), PasswordRule()], render_kw=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the password"), render_kw=NEW_PASSWORD, validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class PasswordConfirmForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw=CURRENT_PASSWORD)


class ActionForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""


class StaffRoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    agency_id = SelectField(_l("Agency"), coerce=optional_id, validators=[Optional()],
                            invalid_value_message=CHOOSE_FROM_LIST)
