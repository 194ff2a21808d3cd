"""Shared form pieces: the FlaskForm every form derives from (a file, a whole number PostgreSQL
cannot keep or a text far too long refused next to its field), the document key field, input
filters, the one amount field and the one quantity field, lengths that never cut what was typed,
registration numbers, dates typed DD-MM-YYYY, PIN fields, and database errors turned into field
errors."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import flask_wtf
import sqlalchemy as sa
from flask import request
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    Field,
    FieldList,
    FileField,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    validators,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Regexp, StopValidation, ValidationError
from wtforms.widgets import TextInput

from .formatting import ddmmyyyy
from .money import PAISA, parse_amount
from .security import pin_is_trivial

# --------------------------------------------------------------------------- the form every screen uses

FILE_NOT_TEXT = "A file cannot go in this box: type the text instead"
# PostgreSQL integer: every id and every whole-number column of the ERP.
INT4_MIN, INT4_MAX = -2_147_483_648, 2_147_483_647
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,10}")   # ASCII digits only: int() would also read '१२३' and '١٢٣'


def leaf_fields(form):
    """Every input field of a form, inside its FieldLists and FormFields too."""
    for field in form:
        if isinstance(field, FormField):
            yield from leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in getattr(field, "entries", ()):   # none yet while the form data is being read
                yield from (leaf_fields(entry.form) if isinstance(entry, FormField) else [entry])
        else:
            yield field


def _whole_number_error(field) -> str | None:
    """Why what was sent to a whole-number field (an IntegerField, a list choice read with int) cannot
    be one PostgreSQL keeps as integer; None when it can, or when nothing was typed."""
    coerce = getattr(field, "coerce", None)
    read = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    if not (isinstance(field, IntegerField) or coerce is int
            or (coerce is not None and any(isinstance(v, int) and not isinstance(v, bool) for v in read))):
        return None
    choice = hasattr(field, "choices")
    for typed in field.raw_data or ():
        text = typed.strip() if isinstance(typed, str) else ""
        if not text:
            continue
        if not _WHOLE_NUMBER.fullmatch(text) or not INT4_MIN <= int(text) <= INT4_MAX:
            if choice:
                return "Choose one of the options listed (reload the page if it is not there)"
            if _WHOLE_NUMBER.fullmatch(text) or re.fullmatch(r"[+-]?[0-9]+", text):
                return "Too large for this box"
            return "Enter a whole number in figures (0 to 9), e.g. 12"
    return None


def _far_too_long(field) -> str | None:
    """A text far longer than its field keeps (a paste of a whole document into a name) comes back cut
    to what the field keeps, with a message, rather than echoed whole into the page."""
    limits = [v.max for v in field.validators if isinstance(v, validators.Length) and v.max and v.max > 0]
    typed = field.raw_data[0] if field.raw_data and isinstance(field.raw_data[0], str) else ""
    if not limits or len(typed) <= 2 * max(limits) + 100:
        return None
    keep = max(limits)
    field.raw_data = [typed[:keep], *field.raw_data[1:]]
    return f"At most {keep:,} characters: this was {len(typed):,} (only the first {keep:,} are shown)"


class FlaskForm(flask_wtf.FlaskForm):
    """The base of every form of the ERP (Flask-WTF's, with its CSRF check). What the browser sends
    is read only where it can be: a file sent for a box that takes text, or a whole number that is
    not written in figures 0-9 or does not fit PostgreSQL's integer (an id of -1 is looked up and
    not found; 2147483648 or a 400-digit number never reaches the database), is refused with a
    message next to its field."""

    class Meta(flask_wtf.FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            form._refused = {}
            if formdata is None or not hasattr(formdata, "lists") or not any(
                    isinstance(value, FileStorage) for _, values in formdata.lists() for value in values):
                return formdata
            takes_files = {f.name for f in leaf_fields(form) if isinstance(f, FileField)}
            kept = MultiDict()
            for name, values in formdata.lists():
                for value in values:
                    if isinstance(value, FileStorage) and name not in takes_files:
                        form._refused[name] = FILE_NOT_TEXT   # never read, never echoed back
                    else:
                        kept.add(name, value)
            return kept

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        super().process(formdata, obj, data, extra_filters, **kwargs)
        refused = getattr(self, "_refused", {})
        for field in leaf_fields(self):
            problem = _whole_number_error(field)
            if problem:
                field.data = None
                refused.setdefault(field.name, problem)
            problem = _far_too_long(field)
            if problem:
                field.data = field.raw_data[0]   # cut to what the field keeps, and shown so
                refused.setdefault(field.name, problem)
        self._refused = refused

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        refused = getattr(self, "_refused", {})
        for field in leaf_fields(self):
            if field.name in refused:
                field.errors = [refused[field.name]]   # in place of "required" or "not a valid choice"
                valid = False
            if isinstance(field, HiddenField) and field.errors and field.name != "csrf_token":
                # A hidden field (a document's key, an id) has no place of its own on the page.
                self.form_errors.extend(e for e in field.errors if e not in self.form_errors)
        return valid


def _uuid_key(message: str, required: bool):
    def check(_form, field):
        if not field.data and not required:
            return
        try:
            uuid.UUID(field.data or "")
        except (ValueError, TypeError, AttributeError):
            raise ValidationError(message) from None
    return check


def KeyField(required: bool = False, message: str = "The form was damaged: open it again"):
    """The hidden idempotency key of a document form: a UUID made when the form is drawn (blank: the
    view makes one), anything else refused before it reaches the database's uuid column."""
    return HiddenField(validators=[_uuid_key(message, required)])


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


class AmountField(Field):
    """Every money input of the ERP: rupees as people type them ('1,23,456.50', '123456.5',
    '₹ 50,000', 'Rs 500', '0.10'), read by webapp.money.parse_amount. Exponents ('1e5'), 'NaN',
    'Infinity', more than ``places`` decimals and (unless ``negative``) a minus sign are refused
    with a message next to the field; what was typed stays in the box. Never a float."""

    widget = TextInput()
    currency = True

    def __init__(self, label=None, validators=None, places: int = 2, negative: bool = False, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **(kwargs.get("render_kw") or {})}
        kwargs["render_kw"] = render_kw
        super().__init__(label, validators, **kwargs)
        self.places = places
        self.negative = negative

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if self.places == 2 and self.currency:
            return f"{Decimal(self.data).quantize(PAISA):f}"
        text = f"{Decimal(self.data):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        self.data = parse_amount(valuelist[0], places=self.places, negative=self.negative, currency=self.currency)

    def pre_validate(self, form):
        # A number that could not be read has its message already: the range checks would only repeat it.
        if self.process_errors:
            raise StopValidation()


class QuantityField(AmountField):
    """A quantity: up to 3 decimals (litres, kilograms, metres), no rupee sign, no exponent."""

    currency = False

    def __init__(self, label=None, validators=None, places: int = 3, negative: bool = False, **kwargs):
        super().__init__(label, validators, places=places, negative=negative, **kwargs)


# --------------------------------------------------------------------------- lengths

class Length(validators.Length):
    """WTForms' Length without the ``maxlength`` attribute it would put on the input: a browser cuts
    typed or pasted text at maxlength without a word ("TN 38 AB 4567" became "TN 38 AB 456", the
    full Aadhaar its first four digits). The length is checked here instead, and a text that is
    too long comes back next to its field as it was typed."""

    def __init__(self, min: int = -1, max: int = -1, message: str | None = None):
        super().__init__(min, max, message)
        self.field_flags.pop("maxlength", None)


# --------------------------------------------------------------------------- registration numbers

# The shapes PostgreSQL checks (sql/0006_sales.sql): an RTO number (KA05AB1234) or a Bharat series
# number (22BH1234AA) on sales.registration; any 4 to 12 letters and digits for an old vehicle taken
# in exchange (older plates such as MYE1234 predate today's shape).
REG_NO_PATTERN = r"([A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{1,4}|[0-9]{2}BH[0-9]{4}[A-Z]{1,2})"
OLD_REG_NO_PATTERN = r"[A-Z0-9]{4,12}"


def registration_no(value):
    """A registration number as the RTO writes it: 'TN 38 AB 4567', 'tn-38-ab-4567' and 'TN.38.AB.4567'
    are all TN38AB4567. Only spaces, hyphens and dots go; anything else stays for the check to refuse."""
    if isinstance(value, str):
        value = re.sub(r"[\s.\-]", "", value).upper()
    return value or None


def temporary_registration_no(value):
    """A temporary registration number keeps its '/' and '-' (KA01/TR/2026/001); spaces and dots go."""
    if isinstance(value, str):
        value = re.sub(r"[\s.]", "", value).upper()
    return value or None


class RegistrationNoField(StringField):
    """A vehicle registration number typed as on the plate, normalised by ``registration_no``, then
    checked for its length and its shape (never cut to fit)."""

    def __init__(self, label=None, validators=None, *, pattern: str = REG_NO_PATTERN, length: tuple[int, int] = (4, 11),
                 example: str = "KA05AB1234 or 22BH1234AA", **kwargs):
        kwargs.setdefault("filters", [registration_no])
        kwargs.setdefault("render_kw", {}).update(autocapitalize="characters", autocomplete="off", spellcheck="false")
        super().__init__(label, validators, **kwargs)
        self.shape = re.compile(pattern)
        self.length = length
        self.example = example

    def _value(self):
        # Refused, it comes back as it was typed ("TN 38 ABC 45678"), not as it was read.
        return self.raw_data[0] if self.raw_data else super()._value()

    def post_validate(self, form, validation_stopped):
        if validation_stopped or not self.data:
            return
        low, high = self.length
        if not low <= len(self.data) <= high:
            self.errors.append(f"A registration number has {low} to {high} characters; {self.data} has "
                               f"{len(self.data)}. For example {self.example}")
        elif not self.shape.fullmatch(self.data):
            self.errors.append(f"{self.data} is not a registration number: for example {self.example}")


# --------------------------------------------------------------------------- dates, typed DD-MM-YYYY

DATE_FORMAT_HINT = "DD-MM-YYYY"
BAD_DATE = "Enter the date as DD-MM-YYYY"
_DAY_FIRST = re.compile(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")   # links and bookmarks made before, exports
# The same shapes for the browser (its pattern attribute); spaces around are allowed, the server strips them.
DATE_INPUT_PATTERN = r" *([0-9]{1,2}-[0-9]{1,2}-[0-9]{4}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}" \
                     r"|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}) *"
DATE_INPUT_ATTRS = {"placeholder": DATE_FORMAT_HINT, "inputmode": "numeric", "pattern": DATE_INPUT_PATTERN,
                    "title": "DD-MM-YYYY, e.g. 05-12-2026", "autocomplete": "off", "size": 10}


def parse_date(typed: str) -> date:
    """'05-12-2026', '5-12-2026', '05/12/2026' and '05.12.2026' are 5 December 2026, whatever the
    browser's language; '2026-12-05' too (addresses bookmarked before). ValueError with the message
    to show otherwise."""
    typed = (typed or "").strip()
    day_first = _DAY_FIRST.fullmatch(typed)
    iso = None if day_first else _ISO_DATE.fullmatch(typed)
    if day_first:
        day, month, year = day_first.group(1), day_first.group(3), day_first.group(4)
    elif iso:
        year, month, day = iso.groups()
    else:
        raise ValueError(BAD_DATE)
    if not 1900 <= int(year) <= 2199:
        raise ValueError(f"{BAD_DATE}, with the year in full, e.g. 05-12-2026")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{BAD_DATE}: there is no day {typed}") from None


class DateField(Field):
    """A date typed and shown DD-MM-YYYY as a plain text input: a browser's own date input shows
    mm/dd/yyyy or dd/mm/yyyy depending on its language. What was typed comes back as typed when
    the form is refused."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {**DATE_INPUT_ATTRS, **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ddmmyyyy(self.data) if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            self.data = parse_date(valuelist[0])
        except ValueError:
            self.data = None
            raise

    def validate(self, form, extra_validators=()):
        # A date that is not a date says so, not "enter the date" (DataRequired) or a range check.
        if self.process_errors:
            self.errors = list(self.process_errors)
            return False
        return super().validate(form, extra_validators)


_DATETIME = re.compile(r"(.+?)[ T]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


class DateTimeField(DateField):
    """A date and time typed 'DD-MM-YYYY HH:MM' (24-hour); '2026-12-05 14:30:00' as the e-invoice
    portal prints it is taken too. Naive: the time is Indian time, like every time in the showroom."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {**DATE_INPUT_ATTRS, "placeholder": "DD-MM-YYYY HH:MM", "pattern": None,
                               "title": "DD-MM-YYYY HH:MM, e.g. 05-12-2026 14:30", "size": 16,
                               **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d-%m-%Y %H:%M") if isinstance(self.data, datetime) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        typed = (valuelist[0] or "").strip()
        if not typed:
            self.data = None
            return
        found = _DATETIME.fullmatch(typed)
        self.data = None
        if not found:
            raise ValueError("Enter the date and time as DD-MM-YYYY HH:MM")
        day = parse_date(found.group(1))
        hour, minute, second = int(found.group(2)), int(found.group(3)), int(found.group(4) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError("Enter the time as HH:MM, from 00:00 to 23:59")
        self.data = datetime(day.year, day.month, day.day, hour, minute, second)


@dataclass
class DateArg:
    """A date filter of a list (?from=05-12-2026): the date, what was typed, and the message when
    what was typed is not a date (the list then runs as if it were left empty)."""

    name: str
    value: date | None
    typed: str = ""
    error: str | None = None

    @property
    def shown(self) -> str:
        return self.typed if self.error else ddmmyyyy(self.value)


def date_arg(name: str, default: date | None = None) -> DateArg:
    """A date from the query string: DD-MM-YYYY as typed in the filter, or YYYY-MM-DD from links
    and bookmarks made before. Empty gives the default; anything else the default and a message."""
    typed = request.args.get(name, "").strip()
    if not typed:
        return DateArg(name, default)
    try:
        return DateArg(name, parse_date(typed), typed)
    except ValueError as exc:
        return DateArg(name, default, typed, str(exc))


def url_date(value: date | None) -> str:
    """A date for a link's query string, as the filters show it."""
    return ddmmyyyy(value) if value else ""


def init_app(app) -> None:
    # The date filters of lists draw the same input as DateField (templates/_macros/forms.html).
    app.jinja_env.globals["date_input_attrs"] = DATE_INPUT_ATTRS


def _not_trivial(_form, field):
    if field.data and pin_is_trivial(field.data):
        raise ValidationError("Choose a PIN that is not a repeated or running sequence like 1111 or 1234")


def new_pin_fields(label: str = "New PIN"):
    """A PIN and its confirmation, as two WTForms fields."""
    pin = PasswordField(
        label,
        validators=[DataRequired("Enter a PIN"), Regexp(r"^[0-9]{4,6}\Z", message="A PIN is 4 to 6 digits"),
                    _not_trivial],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the PIN",
        validators=[DataRequired("Repeat the PIN"), EqualTo("pin", message="The two PINs differ")],
        render_kw={"inputmode": "numeric", "autocomplete": "new-password"},
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
    data for a reason the form can show; a value PostgreSQL cannot hold (DataError) is said above
    the form. An unmapped IntegrityError propagates (a twin submission is recognised by its key;
    otherwise the app's handler answers 422, webapp/errors.py).
    """
    try:
        with conn.begin_nested():
            return action(), True
    except sa.exc.IntegrityError as exc:
        if apply_db_error(form, exc, messages):
            return None, False
        raise
    except sa.exc.DataError as exc:   # a number too large, a text too long: the form comes back as typed
        if apply_db_error(form, exc, messages):
            return None, False
        from .errors import refusal_message

        form.form_errors.append(refusal_message(exc))
        return None, False


# --------------------------------------------------------------------------- choices and dated periods


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options (tuples passed to a field's declaration are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


def period_check(form, from_field: str = "effective_from", to_field: str = "effective_to") -> bool:
    """The end of a period is on or after its start; the error goes to the end date."""
    start, end = getattr(form, from_field), getattr(form, to_field)
    if start.data and end.data and end.data < start.data:
        end.errors.append("The end date is before the start date")
        return False
    return True


def overlap_message(rows, what: str, describe) -> str:
    """'Overlaps the 18% rate in force from 22-09-2025 until further notice: ...' for a clash of periods."""
    if not rows:  # the clash was committed by someone else after our look: say it plainly
        return f"Another {what} is in force during some of these dates"
    periods = "; ".join(f"{describe(r)} from {ddmmyyyy(r.effective_from)} "
                        f"{'to ' + ddmmyyyy(r.effective_to) if r.effective_to else 'until further notice'}"
                        for r in rows)
    return (f"These dates overlap the {what} in force {periods}. End that one first (edit its ‘until’ date) "
            f"or choose other dates.")
