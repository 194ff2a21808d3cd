"""Forms for tax invoices: posting a vehicle sale's invoice, a counter sale, a credit note, and
the e-invoice details from the government portal. The date is always today; the idempotency
key rides in a hidden field made when the form is first shown."""
from __future__ import annotations

from decimal import Decimal

from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp, ValidationError

from ..forms import AmountField, DateTimeField, FlaskForm, Length, QuantityField, blank_to_none, strip, upper_or_none

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
EXPIRED = "The form expired. Open it again."

# The fixed number of rows on the counter-sale form (blank rows are ignored).
COUNTER_ROWS = 8

B2C_ADDRESS_NEEDED = ("An unregistered buyer at ₹50,000 or more needs the delivery address and state (rule 46): "
                      "enter where the goods go, or find the customer by mobile")


def _key_field():
    return HiddenField(validators=[DataRequired(EXPIRED), Regexp(_UUID, message=EXPIRED)])


class VehicleInvoiceForm(FlaskForm):
    place_of_supply = SelectField("Place of supply", validate_choice=True,
                                  description="Where the vehicle is delivered; the showroom's state for a hand-over "
                                              "at the showroom")
    # No Optional(): it would stop the check below when the reason is left empty.
    override_reason = StringField("Reason for another place of supply", filters=[blank_to_none],
                                  render_kw={"autocomplete": "off"})
    delivery_address = TextAreaField("Delivery address in that state", filters=[blank_to_none],
                                     validators=[Length(max=400, message="At most 400 characters")],
                                     description="For another place of supply: house, street, town and PIN where "
                                                 "the vehicle is delivered (printed as Ship to with the state above). "
                                                 "Blank: handed over at the showroom",
                                     render_kw={"rows": 2, "autocomplete": "off"})
    key = _key_field()

    def __init__(self, *args, states=(), default_pos: str = "", branch_state: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.place_of_supply.choices = list(states)
        self.default_pos = default_pos
        self.branch_state = branch_state
        self.state_names = dict(states)

    @property
    def overridden(self) -> bool:
        return bool(self.place_of_supply.data) and self.place_of_supply.data != self.default_pos

    def validate_override_reason(self, field):
        if self.overridden and not field.data:
            raise ValidationError("Say why the place of supply differs from where the vehicle is delivered")
        if field.data and not 3 <= len(field.data) <= 200:
            raise ValidationError("3 to 200 characters")

    def validate_delivery_address(self, field):
        if field.data and not self.overridden:
            raise ValidationError("Only for another place of supply: the booking's delivery is printed as Ship to")
        # Goods supplied in another state are delivered there: the ship-to agrees with the place of supply.
        if self.overridden and self.place_of_supply.data != self.branch_state and not field.data:
            state = self.state_names.get(self.place_of_supply.data, self.place_of_supply.data)
            raise ValidationError(f"Give the delivery address in {state}: a place of supply in another state "
                                  "is where the vehicle is delivered")


class CreditNoteForm(FlaskForm):
    reason = TextAreaField("Reason", filters=[strip], validators=[
        DataRequired("Say why the invoice is reversed"), Length(min=3, max=300, message="3 to 300 characters")],
        render_kw={"rows": 2})
    key = _key_field()


class EInvoiceForm(FlaskForm):
    irn = StringField("IRN", filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
                      validators=[DataRequired("Enter the IRN from the e-invoice portal"),
                                  Regexp(r"^[0-9a-f]{64}\Z", message="The IRN is 64 hexadecimal characters")],
                      render_kw={"autocomplete": "off", "spellcheck": "false"})
    ack_no = StringField("Acknowledgement no.", filters=[strip],
                         validators=[DataRequired("Enter the acknowledgement number"),
                                     Regexp(r"^[0-9]{10,20}\Z", message="10 to 20 digits")],
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})
    ack_date = DateTimeField("Acknowledgement date and time",
                             validators=[DataRequired("Enter the acknowledgement date and time")])
    signed_qr = TextAreaField("Signed QR code text", filters=[blank_to_none],
                              validators=[Optional(), Length(max=4000, message="At most 4,000 characters")],
                              description="The signed QR text as the portal gives it (printed as a QR code)",
                              render_kw={"rows": 3, "spellcheck": "false"})


class CounterLineForm(Form):
    kind = SelectField("Item", default="PART", choices=[SelectChoice("PART", "Part"),
                                                        SelectChoice("LABOUR", "Labour")])
    part_no = StringField("Part no. or labour code", filters=[upper_or_none], validators=[Optional(), Length(max=40)],
                          render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    qty = QuantityField("Qty", validators=[Optional(), NumberRange(min=Decimal("0.001"), max=Decimal(100000),
                                                                   message="More than zero")])
    unit_price = AmountField("Unit price (₹)", validators=[Optional(), NumberRange(max=Decimal("9999999999.99"),
                                                                                message="Too large")])
    price_basis = SelectField("Price", default="", choices=[
        SelectChoice("", "As listed"), SelectChoice("INCL", "incl. GST"), SelectChoice("EXCL", "excl. GST")])
    discount = AmountField("Discount (₹)", validators=[Optional()])

    def is_blank(self) -> bool:
        return not self.part_no.data and self.qty.data is None and self.unit_price.data is None \
            and self.discount.data is None and not self.qty.errors + self.unit_price.errors + self.discount.errors


class CounterSaleForm(FlaskForm):
    mobile = StringField("Customer's mobile", filters=[blank_to_none],
                         description="Optional: find a registered customer; leave blank for a cash sale",
                         validators=[Optional(), Length(max=15)],
                         render_kw={"inputmode": "tel", "autocomplete": "off"})
    customer_id = SelectField("Customer", choices=[SelectChoice("", "Cash sale (no customer)")], validate_choice=False)
    # No Optional(): it would stop the check below (a delivery to an address names the buyer).
    buyer_name = StringField("Buyer's name on the invoice", filters=[blank_to_none],
                             description="For a cash sale without a customer; 'Cash sale' if blank",
                             validators=[Length(max=200, message="2 to 200 characters")])
    delivery = RadioField("Delivery", default="COUNTER", choices=[
        SelectChoice("COUNTER", "Handed over at the counter"), SelectChoice("ADDRESS", "Delivered to an address")],
        description="Where the goods are delivered decides the place of supply: another state is billed IGST")
    # No Optional(): it would stop the check below when the address is left empty.
    delivery_address = TextAreaField("Delivery address", filters=[blank_to_none],
                                     validators=[Length(max=400, message="At most 400 characters")],
                                     description="House, street, town and PIN; the state below",
                                     render_kw={"rows": 2, "autocomplete": "off"})
    delivery_state = SelectField("Delivered in (state)", validate_choice=True)
    lines = FieldList(FormField(CounterLineForm), min_entries=COUNTER_ROWS, max_entries=COUNTER_ROWS)
    paid_by = SelectField("Paid at the counter by", default="CASH", choices=[
        SelectChoice("CASH", "Cash"), SelectChoice("UPI", "UPI"), SelectChoice("CARD", "Card"),
        SelectChoice("ON_ACCOUNT", "Not paid now (on the customer's account)")])
    payment_reference = StringField("UTR / card slip no.", filters=[blank_to_none],
                                    validators=[Optional(), Length(min=3, max=60, message="3 to 60 characters")],
                                    render_kw={"autocomplete": "off"})
    key = _key_field()

    def __init__(self, *args, states=(), branch_state: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.delivery_state.choices = list(states)
        self.branch_state = branch_state
        if not self.delivery_state.data:
            self.delivery_state.data = branch_state

    @property
    def has_customer(self) -> bool:
        return (self.customer_id.data or "").isdigit()

    @property
    def delivered_to_address(self) -> bool:
        return self.delivery.data == "ADDRESS"

    def validate_buyer_name(self, field):
        if field.data and len(field.data) < 2:
            raise ValidationError("2 to 200 characters")
        if self.delivered_to_address and not field.data and not self.has_customer:
            raise ValidationError("Enter the name of the buyer the goods are delivered to")

    def validate_delivery_address(self, field):
        if self.delivered_to_address and not field.data:
            raise ValidationError("Enter the address the goods are delivered to")

    def validate_paid_by(self, field):
        # Here rather than on the reference: Optional() there stops at an empty reference.
        if field.data in ("UPI", "CARD") and not self.payment_reference.data:
            raise ValidationError("Enter the UPI reference (UTR) or the card slip number below")
        if field.data == "ON_ACCOUNT" and not (self.customer_id.data or "").isdigit():
            raise ValidationError("A sale on account needs the customer: find them by mobile")
