"""Forms for logging in, changing one's PIN and the first-run setup."""
from __future__ import annotations

from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Regexp

from ..forms import FlaskForm, Length, new_pin_fields, strip, upper
from ..master.api import BranchForm


class LoginForm(FlaskForm):
    staff_code = StringField("Staff code", filters=[upper],
                             validators=[DataRequired("Enter your staff code"), Length(max=12)],
                             render_kw={"autocomplete": "username", "autocapitalize": "characters",
                                        "spellcheck": "false"})
    pin = PasswordField("PIN", validators=[DataRequired("Enter your PIN"),
                                           Regexp(r"^[0-9]{4,6}\Z", message="A PIN is 4 to 6 digits")],
                        render_kw={"inputmode": "numeric", "autocomplete": "current-password"})
    next = HiddenField()


class ChangePinForm(FlaskForm):
    current_pin = PasswordField("Current PIN", validators=[DataRequired("Enter your current PIN")],
                                render_kw={"inputmode": "numeric", "autocomplete": "current-password"})
    pin, pin_confirm = new_pin_fields("New PIN")


class SetupForm(BranchForm):
    """Showroom profile plus the first administrator."""
    admin_code = StringField("Administrator's staff code", filters=[upper],
                             validators=[DataRequired(), Regexp(r"^[A-Z0-9]{2,12}$",
                                         message="2 to 12 letters or digits, e.g. ADMIN")],
                             render_kw={"autocapitalize": "characters"})
    admin_name = StringField("Administrator's name", filters=[strip], validators=[DataRequired(), Length(2, 120)])
    pin, pin_confirm = new_pin_fields("Administrator's PIN")
