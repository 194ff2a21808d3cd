"""Forms for tax invoices: posting a vehicle sale's invoice, a counter sale, a credit note, and
the e-invoice details from the government portal. The date is always today; the idempotency
key rides in a hidden field made when the form is first shown."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from ..forms import blank_to_none, strip, upper_or_none
from ..procurement.forms import AmountField

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
EXPIRED = "The form expired. Open it again."

# The fixed number of part rows on the counter-sale form (blank rows are ignored).
COUNTER_ROWS = 8


def _key_field():
    return HiddenField(validators=[DataRequired(EXPIRED), Regexp(_UUID, message=EXPIRED)])


class VehicleInvoiceForm(FlaskForm):
    place_of_supply = SelectField("Place of supply", validate_choice=True,
                                  description="Where the vehicle is delivered; the showroom's state for a hand-over "
                                              "at the showroom")
    # No Optional(): it would stop the check below when the reason is left empty.
    override_reason = StringField("Reason for another place of supply", filters=[blank_to_none],
                                  render_kw={"maxlength": 200, "autocomplete": "off"})
    key = _key_field()

    def __init__(self, *args, states=(), default_pos: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.place_of_supply.choices = list(states)
        self.default_pos = default_pos

    def validate_override_reason(self, field):
        if self.place_of_supply.data and self.place_of_supply.data != self.default_pos and not field.data:
            raise ValidationError("Say why the place of supply differs from where the vehicle is delivered")
        if field.data and not 3 <= len(field.data) <= 200:
            raise ValidationError("3 to 200 characters")


class CreditNoteForm(FlaskForm):
    reason = TextAreaField("Reason", filters=[strip], validators=[
        DataRequired("Say why the invoice is reversed"), Length(min=3, max=300, message="3 to 300 characters")],
        render_kw={"rows": 2, "maxlength": 300})
    key = _key_field()


class EInvoiceForm(FlaskForm):
    irn = StringField("IRN", filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
                      validators=[DataRequired("Enter the IRN from the e-invoice portal"),
                                  Regexp(r"^[0-9a-f]{64}\Z", message="The IRN is 64 hexadecimal characters")],
                      render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"})
    ack_no = StringField("Acknowledgement no.", filters=[strip],
                         validators=[DataRequired("Enter the acknowledgement number"),
                                     Regexp(r"^[0-9]{10,20}\Z", message="10 to 20 digits")],
                         render_kw={"inputmode": "numeric", "maxlength": 20, "autocomplete": "off"})
    ack_date = DateTimeLocalField("Acknowledgement date and time", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  validators=[DataRequired("Enter the acknowledgement date and time")])
    signed_qr = TextAreaField("Signed QR code text", filters=[blank_to_none],
                              validators=[Optional(), Length(max=4000, message="At most 4,000 characters")],
                              description="The signed QR text as the portal gives it (printed as a QR code)",
                              render_kw={"rows": 3, "maxlength": 4000, "spellcheck": "false"})


class CounterLineForm(Form):
    part_no = StringField("Part no.", filters=[upper_or_none], validators=[Optional(), Length(max=40)],
                          render_kw={"autocomplete": "off", "maxlength": 40})
    qty = AmountField("Qty", places=None, validators=[Optional(), NumberRange(min=Decimal("0.001"),
                                                                            max=Decimal(100000),
                                                                            message="More than zero")],
                      render_kw={"inputmode": "decimal", "autocomplete": "off"})
    discount = AmountField("Discount (₹)", places=2, validators=[Optional(), NumberRange(min=0,
                                                                                     message="Not negative")],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})


class CounterSaleForm(FlaskForm):
    mobile = StringField("Customer's mobile", filters=[blank_to_none],
                         description="Optional: find a registered customer; leave blank for a cash sale",
                         validators=[Optional(), Length(max=15)],
                         render_kw={"inputmode": "tel", "autocomplete": "off", "maxlength": 15})
    customer_id = SelectField("Customer", choices=[("", "Cash sale (no customer)")], validate_choice=False)
    buyer_name = StringField("Buyer's name on the invoice", filters=[blank_to_none],
                             description="For a cash sale without a customer; 'Cash sale' if blank",
                             validators=[Optional(), Length(min=2, max=200, message="2 to 200 characters")],
                             render_kw={"maxlength": 200})
    lines = FieldList(FormField(CounterLineForm), min_entries=COUNTER_ROWS, max_entries=COUNTER_ROWS)
    paid_by = SelectField("Paid at the counter by", default="CASH", choices=[
        ("CASH", "Cash"), ("UPI", "UPI"), ("CARD", "Card"), ("ON_ACCOUNT", "Not paid now (on the customer's account)")])
    payment_reference = StringField("UTR / card slip no.", filters=[blank_to_none],
                                    validators=[Optional(), Length(min=3, max=60, message="3 to 60 characters")],
                                    render_kw={"maxlength": 60, "autocomplete": "off"})
    key = _key_field()

    def validate_paid_by(self, field):
        # Here rather than on the reference: Optional() there stops at an empty reference.
        if field.data in ("UPI", "CARD") and not self.payment_reference.data:
            raise ValidationError("Enter the UPI reference (UTR) or the card slip number below")
        if field.data == "ON_ACCOUNT" and not (self.customer_id.data or "").isdigit():
            raise ValidationError("A sale on account needs the customer: find them by mobile")
