"""Forms of the catalog screens of master: tax master, customers, financiers and insurers, spare
parts and labour operations. Amounts and quantities use the ERP's one AmountField and
QuantityField (webapp.forms)."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import validators as v
from ..formatting import today_ist
from ..forms import (
    AmountField,
    DateField,
    FlaskForm,
    Length,
    QuantityField,
    blank_to_none,
    choices,
    period_check,
    strip,
    upper,
    upper_or_none,
)

GST_RATES = ("0", "0.1", "0.25", "1", "1.5", "3", "5", "6", "12", "18", "28", "40")  # CHECK of master.hsn_rate
PART_UNITS = (("NOS", "Numbers (NOS)"), ("SET", "Set"), ("PAIR", "Pair"), ("KIT", "Kit"), ("LTR", "Litre"),
              ("KG", "Kilogram"), ("MTR", "Metre"))
WHOLE_UNITS = {"NOS", "SET", "PAIR", "KIT"}
CUSTOMER_KINDS = (("INDIVIDUAL", "Individual"), ("BUSINESS", "Business (B2B)"))


class ChecklistField(SelectMultipleField):
    """A multiple choice drawn as tick boxes (a <select multiple> is hard to use on a tablet)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def rate_choices() -> list[SelectChoice]:
    return choices((r, f"{r}%") for r in GST_RATES)


def as_decimal(value) -> Decimal:
    """A select's value as a Decimal; anything else is "not a valid choice", never a 500."""
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc





# --------------------------------------------------------------------------- tax master


class HsnForm(FlaskForm):
    hsn_code = StringField("HSN / SAC code", filters=[lambda s: re.sub(r"\s", "", s) if isinstance(s, str) else s],
                           validators=[DataRequired(), Regexp(r"^[0-9]{4}([0-9]{2}){0,2}\Z",
                                       message="4, 6 or 8 digits, e.g. 8714 or 871160")],
                           render_kw={"inputmode": "numeric"})
    description = StringField("Description", filters=[strip], validators=[DataRequired(), Length(2, 200)])
    is_service = BooleanField("A service (SAC), not goods")


HSN_ERRORS = {
    "hsn_pkey": ("hsn_code", "This code is already in the tax master"),
    "hsn_hsn_code_check": ("hsn_code", "4, 6 or 8 digits, e.g. 8714 or 871160"),
    "hsn_description_check": ("description", "2 to 200 characters"),
}


class HsnRateForm(FlaskForm):
    gst_rate = SelectField("GST rate", choices=rate_choices(), coerce=as_decimal, default=Decimal(18))
    effective_from = DateField("In force from", validators=[InputRequired("Give the first day of this rate")])
    effective_to = DateField("In force until", validators=[Optional()],
                             description="Leave empty while the rate is in force until further notice")
    notification = StringField("Notification / note", filters=[blank_to_none], validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None):
        return super().validate(extra_validators) and period_check(self)


HSN_RATE_ERRORS = {
    "hsn_rate_check": ("effective_to", "The end date is before the start date"),
    "hsn_rate_gst_rate_check": ("gst_rate", "Not a GST rate"),
    # The message for hsn_rate_no_overlap names the period it clashes with (catalog_views).
}


# --------------------------------------------------------------------------- customers


def _aadhaar_last4(value):
    return re.sub(r"[\s-]", "", value) or None if isinstance(value, str) else value


class CustomerForm(FlaskForm):
    kind = SelectField("Customer type", choices=choices(CUSTOMER_KINDS), default="INDIVIDUAL")
    name = StringField("Name (as on ID / GST registration)", filters=[strip],
                       validators=[DataRequired("Enter the customer's name"), Length(2, 200)])
    mobile = StringField("Mobile", filters=[lambda s: v.normalise_mobile(s) or None],
                         validators=[DataRequired("Enter the customer's mobile number"), v.MOBILE],
                         render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField("E-mail", filters=[blank_to_none], validators=[Optional(), v.EMAIL],
                        render_kw={"inputmode": "email"})
    address_line1 = StringField("Address", filters=[blank_to_none], validators=[Optional(), Length(max=200)])
    address_line2 = StringField("Address (line 2)", filters=[blank_to_none], validators=[Optional(), Length(max=200)])
    city = StringField("City / town", filters=[blank_to_none], validators=[Optional(), Length(max=100)])
    state_code = SelectField("State", validators=[DataRequired("Choose the state")])
    pincode = StringField("PIN code", filters=[blank_to_none], validators=[Optional(), v.PINCODE],
                          render_kw={"inputmode": "numeric"})
    gstin = StringField("GSTIN (business customers)", filters=[upper_or_none], validators=[Optional(), v.GSTIN],
                        render_kw={"autocapitalize": "characters"})
    pan = StringField("PAN", filters=[upper_or_none], validators=[Optional(), v.PAN],
                      render_kw={"autocapitalize": "characters"})
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    aadhaar_last4 = StringField("Aadhaar: last 4 digits only", filters=[_aadhaar_last4],
                                validators=[Optional()],
                                description="Only the last 4 digits are kept, never the full number",
                                render_kw={"inputmode": "numeric", "autocomplete": "off"})

    def __init__(self, *args, state_labels: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.state_labels = state_labels or {}

    def validate_aadhaar_last4(self, field):
        if not field.data:
            return
        if not field.data.isdigit() or len(field.data) != 4:
            typed_digits = len(re.sub(r"\D", "", field.data))
            # Never send a full Aadhaar number back to the browser, not even to show what was typed.
            field.raw_data, field.data = [], None
            if typed_digits >= 12:
                raise ValidationError("Enter only the LAST 4 digits of the Aadhaar number: the full number "
                                      "is never stored")
            raise ValidationError("Enter the last 4 digits of the Aadhaar number, e.g. 4321")

    def validate_date_of_birth(self, field):
        if field.data and not date(1900, 1, 2) <= field.data <= today_ist():
            raise ValidationError("A date of birth in the past, after 1900")

    def validate_gstin(self, field):
        if not field.data or field.errors:
            return
        if self.kind.data != "BUSINESS":
            raise ValidationError("A GSTIN makes this a business customer: choose Business as the customer type")
        state = field.data[:2]
        if state not in self.state_labels:
            raise ValidationError(f"{state} is not a GST state code")
        if self.state_code.data and state != self.state_code.data:
            raise ValidationError(f"This GSTIN is registered in {self.state_labels[state]}, but the address state "
                                  f"is {self.state_labels.get(self.state_code.data, self.state_code.data)}: "
                                  "correct one of them")

    def validate_pan(self, field):
        if field.data and self.gstin.data and v.is_gstin(self.gstin.data) and self.gstin.data[2:12] != field.data:
            raise ValidationError(f"The PAN inside this GSTIN is {self.gstin.data[2:12]}")


CUSTOMER_ERRORS = {
    "customer_mobile_check": ("mobile", "Mobile number is 10 digits starting with 6, 7, 8 or 9"),
    "customer_email_check": ("email", "Not a valid e-mail address"),
    "customer_gstin_check": ("gstin", "Not a valid GSTIN"),
    "customer_gstin_state": ("gstin", "The GSTIN's state (its first two digits) must be the address state"),
    "customer_gstin_pan": ("pan", "The PAN must be the one inside the GSTIN"),
    "customer_pan_check": ("pan", "Not a valid PAN"),
    "customer_pincode_check": ("pincode", "PIN code is 6 digits"),
    "customer_aadhaar_last4_check": ("aadhaar_last4", "Enter the last 4 digits of the Aadhaar number only"),
    "customer_date_of_birth_check": ("date_of_birth", "A date of birth after 1900"),
    "customer_state_code_fkey": ("state_code", "Unknown state"),
    "customer_name_check": ("name", "2 to 200 characters"),
}


# --------------------------------------------------------------------------- financiers and insurers


class PartyForm(FlaskForm):
    """A financier (hypothecation on the RC) or an insurer."""

    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(2, 120)])
    gstin = StringField("GSTIN", filters=[upper_or_none], validators=[Optional(), v.GSTIN],
                        render_kw={"autocapitalize": "characters"})
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), v.PHONE],
                        render_kw={"inputmode": "tel"})
    is_active = BooleanField("Active (offered on new sales)", default=True)


def party_errors(kind: str) -> dict:
    return {
        f"{kind}_name_key": ("name", f"Another {kind} already has this name"),
        f"{kind}_name_check": ("name", "2 to 120 characters"),
        f"{kind}_gstin_check": ("gstin", "Not a valid GSTIN"),
        f"{kind}_phone_check": ("phone", "Phone number: digits, spaces or dashes"),
    }


# --------------------------------------------------------------------------- spare parts


class PartForm(FlaskForm):
    part_no = StringField("Part number", filters=[upper],
                          validators=[DataRequired(), Regexp(r"^[A-Z0-9][A-Z0-9./-]{1,39}\Z",
                                      message="2 to 40 letters, digits, '.', '/' or '-', as printed by the OEM")],
                          render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(2, 200)])
    hsn_code = SelectField("HSN code (sets the GST rate)", validators=[DataRequired()])
    unit = SelectField("Unit", choices=choices(PART_UNITS), default="NOS")
    mrp = AmountField("MRP (incl. GST)", validators=[InputRequired("Give the MRP"), NumberRange(min=0)])
    purchase_price = AmountField("Purchase price (excl. GST)",
                                 validators=[InputRequired("Give the purchase price"), NumberRange(min=0)])
    model_ids = ChecklistField("Fits these models", coerce=int, validators=[Optional()])
    reorder_level = QuantityField("Reorder when stock falls to", default=Decimal(0),
                                validators=[InputRequired(), NumberRange(min=0)])
    reorder_qty = QuantityField("Reorder quantity", default=Decimal(0),
                              validators=[InputRequired(), NumberRange(min=0)])
    is_active = BooleanField("Active (can be ordered and sold)", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.unit.data in WHOLE_UNITS:
            for f in (self.reorder_level, self.reorder_qty):
                if f.data is not None and not f.errors and f.data != f.data.to_integral_value():
                    f.errors.append(f"{self.unit.data} is counted in whole units")
                    ok = False
        return ok


PART_ERRORS = {
    "part_part_no_key": ("part_no", "Another part already has this part number"),
    "part_part_no_check": ("part_no", "2 to 40 letters, digits, '.', '/' or '-'"),
    "part_hsn_code_fkey": ("hsn_code", "Not in the tax master"),
    "part_mrp_check": ("mrp", "The MRP cannot be negative"),
    "part_purchase_price_check": ("purchase_price", "The purchase price cannot be negative"),
    "part_model_model_id_fkey": ("model_ids", "A chosen model no longer exists"),
}


# --------------------------------------------------------------------------- labour operations


class LabourForm(FlaskForm):
    operation_code = StringField("Operation code", filters=[upper],
                                 validators=[DataRequired(), Regexp(r"^[A-Z0-9][A-Z0-9-]{1,19}\Z",
                                             message="2 to 20 letters, digits or '-', e.g. PS-1")],
                                 render_kw={"autocapitalize": "characters"})
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(2, 200)])
    sac_code = SelectField("SAC code", default="998714", validators=[DataRequired()])
    standard_hours = AmountField("Standard hours", validators=[InputRequired(), NumberRange(min=Decimal("0.01"),
                                 max=100, message="More than 0 and at most 100 hours")])
    rate = AmountField("Rate (excl. GST)", validators=[InputRequired("Give the rate"), NumberRange(min=0)],
                       description="Charged per operation")
    is_active = BooleanField("Active", default=True)


LABOUR_ERRORS = {
    "labour_operation_pkey": ("operation_code", "Another operation already has this code"),
    "labour_operation_operation_code_check": ("operation_code", "2 to 20 letters, digits or '-'"),
    "labour_operation_sac_code_fkey": ("sac_code", "Not in the tax master"),
    "labour_operation_standard_hours_check": ("standard_hours", "More than 0 and at most 100 hours"),
    "labour_operation_rate_check": ("rate", "The rate cannot be negative"),
}

