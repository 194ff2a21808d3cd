"""Forms of a sale's steps after booking: allotment, discount decision, delivery, finance,
exchange, subsidy, registration and cancellation. The PDI checklist and the settings tables are
read straight from the posted rows (one row per configured item)."""
from __future__ import annotations

from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from ..billing.api import REFUND_MODES
from ..formatting import today_ist
from ..forms import (
    OLD_REG_NO_PATTERN,
    AmountField,
    DateField,
    FlaskForm,
    KeyField,
    Length,
    QuantityField,
    RegistrationNoField,
    blank_to_none,
    strip,
    temporary_registration_no,
    upper_or_none,
)

MAX_MONEY = 99_999_999


def _money(label: str, *validators, **kwargs):
    return AmountField(label, places=2, render_kw={"inputmode": "decimal"}, validators=list(validators), **kwargs)


def _date(label: str, *validators, **kwargs):
    return DateField(label, validators=list(validators) or [Optional()], **kwargs)


def _not_in_future(_form, field):
    if field.data and field.data > today_ist():
        raise ValidationError("This date is in the future")


class AllotForm(FlaskForm):
    # The choices are the units in stock when the page was drawn; the database decides whether the
    # one posted is still free (two salespeople, one unit), so the choice itself is not checked here.
    unit_id = RadioField("Unit", coerce=int, validate_choice=False, validators=[InputRequired("Choose a unit")])


class DeallotForm(FlaskForm):
    reason = StringField("Reason for giving the unit back", filters=[strip],
                         validators=[DataRequired("Say why the unit goes back to stock"),
                                     Length(min=3, max=200, message="3 to 200 characters")],
                         description="For example: customer changed colour, unit found damaged at PDI")


class DiscountDecisionForm(FlaskForm):
    decision = SelectField("Decision", choices=[("approve", "Approve"), ("reject", "Reject")],
                           validators=[InputRequired("Approve or reject")])
    note = StringField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=200)])
    back = HiddenField()


class DeliveryForm(FlaskForm):
    delivered_on = DateField("Delivered on", default=today_ist,
                             validators=[DataRequired("Enter the delivery date"), _not_in_future])
    received_by_name = StringField("Received by (name)", filters=[strip],
                                   validators=[DataRequired("Who takes the vehicle?"), Length(min=2, max=120)])
    accessories_fitted = TextAreaField("Accessories fitted", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=400)], render_kw={"rows": 2})
    odometer_km = IntegerField("Odometer at handover (km)", validators=[Optional(), NumberRange(0, 1000)],
                               render_kw={"inputmode": "numeric"})
    key = KeyField()


class AccessoryForm(FlaskForm):
    """One accessory sold with the vehicle: from the parts list (its number fills the rest) or typed."""
    part_no = StringField("Part number (from the parts list)", filters=[upper_or_none],
                          validators=[Optional(), Length(max=40)],
                          description="Leave empty for an item not kept in the parts list")
    description = StringField("Description", filters=[blank_to_none], validators=[Optional(), Length(2, 200)])
    hsn_code = SelectField("HSN / SAC", choices=[], validate_choice=False, filters=[blank_to_none])
    qty = QuantityField("Quantity", default=1,
                        validators=[InputRequired("Enter the quantity"), NumberRange(min=0.001, max=9999,
                                                                                     message="0.001 to 9,999")])
    unit_price = AmountField("Unit price (₹)", validators=[Optional(), NumberRange(min=0, max=99_99_999,
                                                                                   message="Not a sensible price")])
    price_includes_gst = SelectField("The price", choices=[("yes", "includes GST (MRP)"),
                                                          ("no", "is before GST (GST added)")], default="yes")


class HandoverReleaseForm(FlaskForm):
    reason = StringField("Why the vehicle may go now", filters=[strip],
                         validators=[DataRequired("Say why the vehicle is released with this outstanding"),
                                     Length(min=5, max=300)],
                         description="e.g. balance by a cheque collected today; policy issued, copy awaited")


class FinanceForm(FlaskForm):
    financier_id = SelectField("Financier", coerce=int, choices=[], validate_choice=False,
                               validators=[InputRequired("Choose the financier")])
    loan_amount = _money("Loan amount", InputRequired("Enter the loan amount"),
                         NumberRange(min=1, max=MAX_MONEY, message="More than zero"))
    down_payment = _money("Down payment", Optional(), NumberRange(min=0, max=MAX_MONEY))
    loan_account_no = StringField("Loan account no.", filters=[upper_or_none],
                                  validators=[Optional(), Length(min=2, max=40)])
    do_number = StringField("Delivery order (DO) no.", filters=[upper_or_none],
                            validators=[Optional(), Length(min=2, max=40)])
    do_received_on = _date("DO received on", Optional(), _not_in_future)
    noc_received_on = _date("NOC received on", Optional(), _not_in_future,
                            description="When the loan is closed and the hypothecation can come off the RC")


class ExchangeForm(FlaskForm):
    make_model = StringField("Old vehicle: make and model", filters=[strip],
                             validators=[DataRequired("Enter the make and model"), Length(min=2, max=120)])
    reg_no = RegistrationNoField("Registration no.", validators=[Optional()], pattern=OLD_REG_NO_PATTERN,
                                 length=(4, 12), example="KA05AB1234")
    mfg_year = IntegerField("Year of manufacture", validators=[Optional(), NumberRange(1980, 2100)],
                            render_kw={"inputmode": "numeric"})
    odometer_km = IntegerField("Odometer (km)", validators=[Optional(), NumberRange(min=0, max=9_999_999)],
                               render_kw={"inputmode": "numeric"})
    valuation = _money("Valuation", InputRequired("Enter the value agreed"),
                       NumberRange(min=1, max=MAX_MONEY, message="More than zero"))
    purchased_on = DateField("Taken in on", default=today_ist,
                             validators=[DataRequired("Enter the date"), _not_in_future])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=400)],
                          render_kw={"rows": 2})


class SubsidyForm(FlaskForm):
    eligible_amount = _money("Eligible subsidy", InputRequired("Enter the eligible amount"),
                             NumberRange(min=1, max=MAX_MONEY, message="More than zero"))
    voucher_id = StringField("E-voucher id", filters=[blank_to_none], validators=[Optional(), Length(min=4, max=40)])
    buyer_signed_on = _date("Buyer signed the e-voucher on", Optional(), _not_in_future)
    dealer_uploaded_on = _date("Uploaded on the portal on", Optional(), _not_in_future)
    claim_no = StringField("OEM claim no.", filters=[upper_or_none], validators=[Optional(), Length(min=2, max=40)])
    claim_raised_on = _date("Claim raised on", Optional(), _not_in_future)
    credited_amount = _money("Credited by the OEM", Optional(), NumberRange(min=0, max=MAX_MONEY))
    credited_on = _date("Credited on", Optional(), _not_in_future)


class RegistrationForm(FlaskForm):
    form20_on = _date("Form 20 (application) on", Optional(), _not_in_future)
    form21_on = _date("Form 21 (sale certificate) on", Optional(), _not_in_future)
    form22_on = _date("Form 22 (roadworthiness) on", Optional(), _not_in_future)
    temp_reg_no = RegistrationNoField("Temporary registration no.", validators=[Optional()],
                                      filters=[temporary_registration_no], pattern=r"[A-Z0-9/-]{4,20}",
                                      length=(4, 20), example="KA01TR2026001 (letters, digits, / or -)")
    fees_amount = _money("Registration fees and road tax", Optional(), NumberRange(min=0, max=MAX_MONEY))
    fees_paid_on = _date("Fees paid on", Optional(), _not_in_future)
    reg_no = RegistrationNoField("Permanent registration no.", validators=[Optional()],
                                 description="As on the RC, e.g. KA 05 AB 1234")
    reg_on = _date("Registered on", Optional(), _not_in_future)
    rc_received_on = _date("RC received on", Optional(), _not_in_future)
    hsrp_ordered_on = _date("HSRP ordered on", Optional(), _not_in_future)
    hsrp_fitted_on = _date("HSRP fitted on", Optional(), _not_in_future)


class CancelForm(FlaskForm):
    reason = StringField("Reason for cancelling", filters=[strip],
                         validators=[DataRequired("Say why the booking is cancelled"), Length(min=3, max=150)])
    cancellation_charge = _money("Cancellation charge kept", Optional(), NumberRange(min=0, max=MAX_MONEY),
                                 default=0)
    refund_mode = SelectField("Refund by", choices=list(REFUND_MODES.items()), default="CASH")
    reference = StringField("Reference (UTR, cheque no.)", filters=[blank_to_none],
                            validators=[Optional(), Length(min=3, max=60)])
    key = KeyField()
