"""Forms for money against a sale: taking a payment (receipt voucher) and giving back an excess
(refund voucher). The date is always today; the idempotency key rides in a hidden field."""
from __future__ import annotations

from decimal import Decimal

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Regexp, ValidationError

from ..forms import AmountField, FlaskForm, Length, blank_to_none, strip
from .posting import RECEIPT_MODES, REFUND_MODES

# Modes where the money itself is the evidence: no UTR, cheque or voucher number to quote.
NO_REFERENCE_MODES = frozenset({"CASH", "EXCHANGE"})

# "Enter the ..." for each mode that needs a reference.
REFERENCE_HINTS = {
    "UPI": "UPI transaction (UTR) number", "CARD": "card slip's approval code", "CHEQUE": "cheque number and bank",
    "BANK_TRANSFER": "UTR number of the transfer", "FINANCE": "disbursement UTR or the DO number",
    "SUBSIDY": "PM E-DRIVE e-voucher id",
}

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"


def _money(label: str, **kwargs):
    return AmountField(label, places=2, render_kw={"inputmode": "decimal", "autocomplete": "off"}, **kwargs)


def _reference_length(field):
    if field.data and not 3 <= len(field.data) <= 60:
        raise ValidationError("3 to 60 characters")


def _key_field():
    return HiddenField(validators=[DataRequired("The form expired. Open it again."),
                                   Regexp(_UUID, message="The form expired. Open it again.")])


class ReceiptForm(FlaskForm):
    mode = SelectField("Mode", default="UPI")
    amount = _money("Amount received", validators=[
        DataRequired("Enter the amount received"), NumberRange(min=Decimal("0.01"), message="More than zero"),
        NumberRange(max=Decimal("999999999999.99"), message="Too large")])
    # No Optional(): the check below needs to run when it is empty.
    reference = StringField("Reference", filters=[blank_to_none],
                            description="UTR, cheque no., card approval code or e-voucher id; not needed for cash",
                            render_kw={"autocomplete": "off"})
    received_from = StringField("Received from", filters=[strip], validators=[
        DataRequired("Whom the money came from"), Length(min=2, max=200)])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Length(max=300)],
                          render_kw={"rows": 2})
    key = _key_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = list(RECEIPT_MODES.items())

    def validate_reference(self, field):
        if not field.data and self.mode.data not in NO_REFERENCE_MODES:
            raise ValidationError(f"Enter the {REFERENCE_HINTS.get(self.mode.data, 'reference')}")
        _reference_length(field)


class RefundForm(FlaskForm):
    mode = SelectField("Paid by", default="BANK_TRANSFER")
    amount = _money("Amount to give back", validators=[
        DataRequired("Enter the amount to give back"), NumberRange(min=Decimal("0.01"), message="More than zero")])
    reference = StringField("Reference", filters=[blank_to_none],
                            description="UTR, UPI or cheque number; not needed for cash",
                            render_kw={"autocomplete": "off"})
    paid_to = StringField("Paid to", filters=[strip], validators=[
        DataRequired("Whom the money goes to"), Length(min=2, max=200)])
    reason = StringField("Reason", filters=[strip], validators=[
        DataRequired("Say why the money goes back"), Length(min=3, max=300)])
    key = _key_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = list(REFUND_MODES.items())

    def validate_reference(self, field):
        if not field.data and self.mode.data != "CASH":
            raise ValidationError("Enter the UTR, UPI or cheque number of the refund")
        _reference_length(field)
