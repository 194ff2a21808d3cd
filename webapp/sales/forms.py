"""Forms of the sales screens: quotation, booking and its changes (the lead's are crm's).

The on-road charge items are configuration (sales.onroad_item), so the quotation and booking
forms get one amount field per active item when they are made (``with_charges``)."""
from __future__ import annotations

import re

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from ..billing.api import RECEIPT_MODES
from ..forms import AmountField, DateField, FlaskForm, Length, blank_to_none, upper_or_none

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
# An advance is taken in money; finance, exchange and subsidy come later, on the sale's page.
ADVANCE_MODES = {code: RECEIPT_MODES[code] for code in ("CASH", "UPI", "CARD", "CHEQUE", "BANK_TRANSFER")}
MAX_AMOUNT = 99_99_99_999


def _money(label: str, **kwargs):
    return AmountField(label, places=2, render_kw={"inputmode": "decimal"},
                       validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT, message="Not a sensible amount")],
                       **kwargs)


def _optional_int(value):
    return int(value) if value not in (None, "", "None") and str(value).isdigit() else None


def _key_check(_form, field):
    if not field.data or not UUID_RE.match(field.data):
        raise ValidationError("The form was damaged: open it again")


# --------------------------------------------------------------------------- quotation and booking


class ChargesForm(FlaskForm):
    """Variant and colour, discount and one amount per on-road item (added by ``with_charges``)."""
    item = SelectField("Variant and colour", choices=[], validate_choice=False,
                       validators=[DataRequired("Choose the variant and colour")])
    discount = _money("Discount (₹, GST-inclusive)")
    charge_fields: tuple[tuple[str, str], ...] = ()

    def charges(self):
        return [(code, getattr(self, name)) for code, name in self.charge_fields]

    def amounts(self) -> dict:
        return {code: field.data for code, field in self.charges() if field.data}

    def vehicle(self) -> tuple[int, str] | None:
        raw = self.item.data or ""
        variant, _, colour = raw.partition(":")
        # Figures 0-9 only and within an integer ('१२३'.isdigit() is true, and so is a 400-digit number).
        return (int(variant), colour) if re.fullmatch(r"[0-9]{1,9}", variant) and colour else None


class QuotationForm(ChargesForm):
    idempotency_key = HiddenField(validators=[_key_check])
    valid_days = IntegerField("Valid for (days)", default=15,
                              validators=[InputRequired("Enter how many days the price holds"),
                                          NumberRange(1, 90, "Between 1 and 90 days")])


def _delivery_fields():
    """When and where a booking's vehicle is delivered, on the booking form and its edit form
    (made where the form declares them, so the fields keep their place in the form's order)."""
    return (DateField("Expected delivery", validators=[Optional()]),
            BooleanField("Finance needed (loan / hypothecation)"),
            SelectField("Delivered at", choices=[], validate_choice=False, filters=[upper_or_none],
                        description="The showroom, or the customer's address in a state: this decides "
                                    "the place of supply (CGST+SGST or IGST)"),
            TextAreaField("Delivery address", filters=[blank_to_none],
                          validators=[Length(max=400)], render_kw={"rows": 2}))


def _delivery_address_needed(form, field):
    if form.delivery_state_code.data and not field.data:
        raise ValidationError("Enter the address the vehicle is delivered to")


class BookingForm(ChargesForm):
    idempotency_key = HiddenField(validators=[_key_check])
    advance_key = HiddenField(validators=[_key_check])
    customer_id = IntegerField("Customer", validators=[InputRequired("Find and choose the customer")])
    expected_delivery, finance_needed, delivery_state_code, delivery_address = _delivery_fields()
    advance_amount = _money("Advance taken now (₹)")
    advance_mode = SelectField("Paid by", choices=list(ADVANCE_MODES.items()), default="CASH")
    advance_reference = StringField("UTR / cheque no. / card slip", filters=[blank_to_none])

    validate_delivery_address = _delivery_address_needed

    def validate_advance_reference(self, field):
        if field.data and not 3 <= len(field.data) <= 60:
            raise ValidationError("The reference is 3 to 60 characters")
        if self.advance_amount.data and self.advance_mode.data != "CASH" and not field.data:
            raise ValidationError("Enter the UTR, cheque number or card slip number")


class BookingEditForm(ChargesForm):
    expected_delivery, finance_needed, delivery_state_code, delivery_address = _delivery_fields()

    validate_delivery_address = _delivery_address_needed


def with_charges(form_class, items):
    """The form class with one amount field per on-road item, named charge_<ITEM_CODE>."""
    fields, names = {}, []
    for item in items:
        name = f"charge_{item['item_code']}"
        label = item["name"] + (" (taxable)" if item["hsn_code"] else " (collected for others)")
        fields[name] = _money(label)
        names.append((item["item_code"], name))
    fields["charge_fields"] = tuple(names)
    return type(form_class.__name__, (form_class,), fields)


BOOKING_ERRORS = {
    "booking_discount_below_price": ("discount", "The discount must be less than the ex-showroom price"),
    "quotation_discount_below_price": ("discount", "The discount must be less than the ex-showroom price"),
    "booking_delivery_address": ("delivery_address", "Enter the address the vehicle is delivered to"),
    "booking_delivery_address_check": ("delivery_address", "At most 400 characters"),
    "booking_customer_id_fkey": ("customer_id", "That customer is no longer there: search again"),
    "booking_variant_id_colour_fkey": ("item", "Choose the variant and colour from the list"),
    "quotation_variant_id_colour_fkey": ("item", "Choose the variant and colour from the list"),
    "booking_delivery_state_code_fkey": ("delivery_state_code", "Choose a state from the list"),
    "booking_terms_fixed": (None, "This booking is invoiced: what was sold cannot change (a credit note first)"),
    "booking_allotted_variant_fixed": ("item", "De-allot the unit before changing the variant or colour"),
    "booking_stage_transition": (None, "The booking moved on meanwhile: open it again"),
    # The advance taken with the booking (a receipt voucher in the same transaction).
    "receipt_not_over_due": ("advance_amount", "More than the sale comes to: take at most the on-road amount"),
    "receipt_cash_limit": ("advance_amount", ("Cash for one sale must stay below the s.269ST limit (₹2,00,000): "
                                              "take the rest by UPI, card, cheque or bank transfer")),
    "receipt_reference": ("advance_reference", "Enter the UTR, cheque number or card slip number"),
    "receipt_reference_check": ("advance_reference", "The reference is 3 to 60 characters"),
}
