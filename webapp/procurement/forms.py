"""Forms of the procurement module: purchase orders, goods receipts, purchase invoices, payments."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import FieldList, Form, FormField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..finance.api import CONSTRAINT_MESSAGES as BOOKS_MESSAGES
from ..formatting import inr, today_ist
from ..forms import AmountField, DateField, FlaskForm, Length, QuantityField, blank_to_none, strip, upper_or_none
from .dispatch import normalise


def _money(label: str, **kwargs):
    return AmountField(label, **kwargs)


def _not_in_future(_form, field):
    if field.data and field.data > today_ist():
        raise ValidationError("This date is in the future")


# --------------------------------------------------------------------------- purchase orders


class VehicleLineForm(Form):
    item = SelectField("Variant and colour", choices=[], validate_choice=False)
    qty = QuantityField("Quantity", validators=[Optional(), NumberRange(min=1, max=10000)],
                        render_kw={"inputmode": "numeric"})
    unit_price = _money("Unit price excl. GST", validators=[Optional(), NumberRange(min=0, max=9_999_999_999)])


class PartLineForm(Form):
    part_no = StringField("Part number", filters=[upper_or_none], validators=[Optional(), Length(max=40)],
                          render_kw={"list": "part-numbers", "autocapitalize": "characters"})
    qty = QuantityField("Quantity", validators=[Optional(), NumberRange(min=Decimal("0.001"), max=1_000_000)])
    unit_price = _money("Unit price excl. GST", validators=[Optional(), NumberRange(min=0, max=9_999_999_999)])


class PurchaseOrderForm(FlaskForm):
    order_date = DateField("Order date", default=today_ist, validators=[DataRequired("Enter the order date")])
    expected_date = DateField("Expected by", validators=[Optional()])
    notes = TextAreaField("Notes for the OEM", filters=[blank_to_none], validators=[Optional(), Length(max=1000)],
                          render_kw={"rows": 2})
    vehicles = FieldList(FormField(VehicleLineForm))
    parts = FieldList(FormField(PartLineForm))

    def validate_expected_date(self, field):
        if field.data and self.order_date.data and field.data < self.order_date.data:
            raise ValidationError("Cannot be before the order date")


PO_ERRORS = {
    "purchase_order_check": ("expected_date", "Cannot be before the order date"),
    "purchase_order_notes_check": ("notes", "At most 1000 characters"),
    "po_line_draft_only": (None, "This order is no longer a draft: its lines cannot change."),
    "po_line_whole_units": (None, "A part counted in whole units has a quantity with a fraction."),
    "po_line_vehicle_or_part": (None, "Vehicles are ordered in whole numbers."),
    "po_line_unit_price_check": (None, "A price cannot be negative."),
}


# --------------------------------------------------------------------------- goods receipts


class PartReceiptForm(Form):
    qty = QuantityField("Quantity received", validators=[Optional(), NumberRange(min=0, max=1_000_000)])
    unit_cost = _money("Cost per unit excl. GST", validators=[Optional(), NumberRange(min=0, max=9_999_999_999)])


class GoodsReceiptForm(FlaskForm):
    received_on = DateField("Received on", default=today_ist,
                            validators=[DataRequired("Enter the date the goods arrived"), _not_in_future])
    dispatch_ref = StringField("OEM dispatch / e-way bill no.", filters=[blank_to_none],
                               validators=[Optional(), Length(max=60)])
    dispatch_list = TextAreaField(
        "Dispatch list", filters=[normalise],
        validators=[Length(max=400_000)],
        description="One vehicle per line; paste it straight from the OEM's sheet (columns VIN, Motor no, "
                    "Battery serials, Charger serial, Key no, Colour, Variant, Mfg month; a first row with "
                    "the column names lets them come in any order).",
        render_kw={"rows": 8, "spellcheck": "false", "autocapitalize": "characters", "class": "mono"})
    upload = FileField("…or upload the OEM's file (CSV or XLSX)", description="Its rows replace the list above.",
                       render_kw={"accept": ".csv,.xlsx,.txt"})
    # One vehicle at a time, typed or scanned; it is added as a row of the list above.
    scan_line = SelectField("Variant and colour", choices=[], validate_choice=False)
    scan_vin = StringField("VIN", filters=[upper_or_none], render_kw={"autocapitalize": "characters",
                                                                       "autocomplete": "off"})
    scan_motor_no = StringField("Motor no", filters=[upper_or_none], render_kw={"autocomplete": "off"})
    scan_batteries = StringField("Battery serial(s)", filters=[upper_or_none], render_kw={"autocomplete": "off"},
                                 description="Two packs: separate them with a space")
    scan_charger_serial = StringField("Charger serial", filters=[upper_or_none], render_kw={"autocomplete": "off"})
    scan_key_no = StringField("Key no", filters=[blank_to_none], render_kw={"autocomplete": "off"})
    scan_mfg_month = StringField("Mfg month", filters=[blank_to_none], render_kw={"type": "month"},
                                 description="e.g. 2025-08")
    parts = FieldList(FormField(PartReceiptForm))

    SCAN_FIELDS = ("scan_vin", "scan_motor_no", "scan_batteries", "scan_charger_serial", "scan_key_no")

    def has_scanned_vehicle(self) -> bool:
        return any(getattr(self, name).data for name in self.SCAN_FIELDS)

    def clear_scanned_vehicle(self) -> None:
        for name in self.SCAN_FIELDS:
            getattr(self, name).data = None


# --------------------------------------------------------------------------- purchase invoices


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PurchaseInvoiceForm(FlaskForm):
    receipts = CheckboxesField("Goods receipts this invoice bills", coerce=int,
                               validators=[DataRequired("Choose the receipts this invoice bills")])
    supplier_invoice_no = StringField(
        "OEM's invoice no.", filters=[strip],
        validators=[DataRequired("Enter the invoice number printed by the OEM"),
                    Regexp(r"^[A-Za-z0-9/-]{1,16}\Z", message="At most 16 letters, digits, / or -")],
        render_kw={"autocapitalize": "characters"})
    invoice_date = DateField("Invoice date", default=today_ist,
                             validators=[DataRequired("Enter the invoice date"), _not_in_future])
    due_date = DateField("Due date", validators=[DataRequired("Enter the date payment is due")])
    taxable_value = _money("Taxable value", validators=[InputRequired("Enter the taxable value"),
                                                        NumberRange(min=0)])
    cgst = _money("CGST", default=Decimal("0.00"), validators=[Optional(), NumberRange(min=0)])
    sgst = _money("SGST", default=Decimal("0.00"), validators=[Optional(), NumberRange(min=0)])
    igst = _money("IGST", default=Decimal("0.00"), validators=[Optional(), NumberRange(min=0)])
    round_off = _money("Round off", default=Decimal("0.00"), negative=True,
                       validators=[Optional(), NumberRange(min=-1, max=1, message="Between -1.00 and 1.00")])
    total = _money("Invoice total", validators=[InputRequired("Enter the invoice total"),
                                                NumberRange(min=Decimal("0.01"))])

    def validate_due_date(self, field):
        if field.data and self.invoice_date.data and field.data < self.invoice_date.data:
            raise ValidationError("Cannot be before the invoice date")

    def validate_total(self, field):
        parts = [self.taxable_value.data, self.cgst.data, self.sgst.data, self.igst.data, self.round_off.data]
        if field.data is not None and all(p is not None for p in parts[:1]):
            added = sum((p or Decimal(0)) for p in parts)
            if added != field.data:
                raise ValidationError(f"Taxable value + tax + round off come to {inr(added)}, not {inr(field.data)}")


PINV_ERRORS = {
    "period_closed": ("invoice_date", BOOKS_MESSAGES["period_closed"]),
    "purchase_invoice_posted": (None, "This invoice is posted in the books: correct it with a debit or credit note"),
    "purchase_invoice_oem_id_supplier_invoice_no_fy_start_key": (
        "supplier_invoice_no", "This OEM's invoice with this number is already entered for this financial year"),
    "purchase_invoice_supplier_invoice_no_check": ("supplier_invoice_no", "At most 16 letters, digits, / or -"),
    "purchase_invoice_adds_up": ("total", "Taxable value + tax + round off must equal the total"),
    "purchase_invoice_tax_heads": ("igst", "The tax heads do not match the OEM's state"),
    "purchase_invoice_one_kind_of_tax": ("igst", "Either IGST, or CGST and SGST, not both"),
    "purchase_invoice_cgst_equals_sgst": ("sgst", "CGST and SGST are equal halves"),
    "purchase_invoice_check": ("due_date", "Cannot be before the invoice date"),
    "purchase_invoice_round_off_check": ("round_off", "Between -1.00 and 1.00"),
    "purchase_invoice_total_check": ("total", "The total must be more than zero"),
    "purchase_invoice_grn_grn_id_key": ("receipts", "A chosen receipt is already billed by another invoice"),
}


MODES = [("BANK_TRANSFER", "Bank transfer (NEFT / RTGS / IMPS)"), ("CHEQUE", "Cheque"), ("UPI", "UPI"),
         ("CASH", "Cash")]


class SupplierPaymentForm(FlaskForm):
    paid_on = DateField("Paid on", default=today_ist, validators=[DataRequired("Enter the payment date"),
                                                                  _not_in_future])
    amount = _money("Amount", validators=[DataRequired("Enter the amount paid"), NumberRange(min=Decimal("0.01"))])
    mode = SelectField("Mode", default="BANK_TRANSFER")
    # No Optional(): it would stop the check below that only cash needs no reference.
    reference = StringField("UTR / cheque no. / UPI ref.", filters=[blank_to_none], validators=[Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = list(MODES)  # set here: WTForms 3.3 warns about tuples given at class level

    def validate_reference(self, field):
        if not field.data and self.mode.data != "CASH":
            raise ValidationError("Enter the reference of the payment (UTR, cheque or UPI number)")


PAYMENT_ERRORS = {
    "period_closed": ("paid_on", BOOKS_MESSAGES["period_closed"]),
    "supplier_payment_not_over_invoice": ("amount", "More than is still due on this invoice"),
    "supplier_payment_amount_check": ("amount", "The amount must be more than zero"),
    "supplier_payment_reference_check": ("reference", "At most 60 characters"),
}
