"""Shared form pieces: input filters, PIN fields, and database errors turned into field errors."""
from __future__ import annotations

import sqlalchemy as sa
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Regexp, ValidationError

from .security import pin_is_trivial


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def blank_to_none(value):
    if isinstance(value, str):
        value = value.strip()
    return value or None


def upper_or_none(value):
    value = blank_to_none(value)
    return value.upper() if isinstance(value, str) else value


def _not_trivial(_form, field):
    if field.data and pin_is_trivial(field.data):
        raise ValidationError("Choose a PIN that is not a repeated or running sequence like 1111 or 1234")


def new_pin_fields(label: str = "New PIN"):
    """A PIN and its confirmation, as two WTForms fields."""
    pin = PasswordField(
        label,
        validators=[DataRequired("Enter a PIN"), Regexp(r"^[0-9]{4,6}\Z", message="A PIN is 4 to 6 digits"),
                    _not_trivial],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6},
    )
    confirm = PasswordField(
        "Repeat the PIN",
        validators=[DataRequired("Repeat the PIN"), EqualTo("pin", message="The two PINs differ")],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6},
    )
    return pin, confirm


def constraint_name(exc: sa.exc.DBAPIError) -> str | None:
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None)


def apply_db_error(form, exc: sa.exc.DBAPIError, messages: dict[str, tuple[str | None, str]]) -> bool:
    """Show a constraint violation next to its field. False when the constraint is not known."""
    name = constraint_name(exc)
    if name not in messages:
        return False
    field_name, message = messages[name]
    field = getattr(form, field_name, None) if field_name else None
    if field is not None:
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
    else:
        form.form_errors.append(message)
    return True


def save_or_field_error(conn, form, messages: dict, action):
    """Run ``action()`` in a savepoint; a known constraint violation becomes a field error.

    Returns (result, True) on success and (None, False) when the database refused the
    data for a reason the form can show. Anything else propagates.
    """
    try:
        with conn.begin_nested():
            return action(), True
    except sa.exc.IntegrityError as exc:
        if apply_db_error(form, exc, messages):
            return None, False
        raise
