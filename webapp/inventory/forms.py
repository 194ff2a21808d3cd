"""Forms of the inventory module: battery swap, transfers, stock adjustment, bins, counts."""
from __future__ import annotations

import re
from decimal import Decimal

from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..forms import AmountField, FlaskForm, Length, QuantityField, blank_to_none, strip, upper, upper_or_none

SERIAL_RE = r"^[A-Z0-9][A-Z0-9/-]{3,39}$"
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
CHEMISTRIES = [("", "As the variant"), ("LFP", "LFP"), ("NMC", "NMC"), ("LTO", "LTO"),
               ("LEAD_ACID", "Lead acid"), ("OTHER", "Other")]
QTY_KW = {"inputmode": "decimal", "autocomplete": "off"}
MAX_QTY = Decimal(999999)   # NUMERIC(12,3) holds far more; nobody moves a million pieces at once


def _not_zero(_form, field):
    if field.data is not None and field.data == 0:
        raise ValidationError("Enter a quantity other than zero")


class BatterySwapForm(FlaskForm):
    serial = StringField("Serial of the pack now fitted", filters=[upper],
                         validators=[DataRequired("Enter or scan the new pack's serial"),
                                     Regexp(SERIAL_RE, message="4 to 40 letters, digits, '/' or '-'")],
                         render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Say why the pack is changed"),
                                                                Length(2, 200)],
                         description="e.g. Warranty replacement: cell imbalance (OEM claim 4411)")
    chemistry = SelectField("Chemistry (a pack seen for the first time)", choices=CHEMISTRIES,
                            filters=[blank_to_none], validate_choice=False)
    kwh = QuantityField("kWh (a pack seen for the first time)", places=2,
                       validators=[Optional(), NumberRange(min=Decimal("0.01"), max=Decimal("199.99"))],
                       render_kw={"inputmode": "decimal"})

    def validate_chemistry(self, field):
        if field.data and field.data not in dict(CHEMISTRIES):
            raise ValidationError("Choose a chemistry from the list")


BATTERY_ERRORS = {
    "battery_fitment_current_idx": ("serial", "This pack is fitted in another vehicle"),
    "battery_fitment_one_vehicle_at_a_time": ("serial", "This pack was in another vehicle on that day"),
    "battery_pack_serial_check": ("serial", "4 to 40 letters, digits, '/' or '-'"),
}


class UnitTransferForm(FlaskForm):
    to_branch_id = SelectField("Send to branch", coerce=int, validators=[DataRequired("Choose a branch")])
    notes = StringField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=500)])


class AdjustmentForm(FlaskForm):
    qty = QuantityField("Quantity (+ adds, - takes away)", negative=True,
                       validators=[InputRequired("Enter the quantity, e.g. -1 for one damaged piece"),
                                   NumberRange(min=-MAX_QTY, max=MAX_QTY), _not_zero],
                       render_kw=QTY_KW)
    reason = StringField("Reason", filters=[strip],
                         validators=[DataRequired("A stock adjustment needs a reason"),
                                     Length(3, 200, message="Between 3 and 200 characters")],
                         description="e.g. Damaged in handling, found in the wrong bin")
    unit_cost = AmountField("Unit cost of added pieces (₹, without GST)",
                             validators=[Optional(), NumberRange(min=0, max=MAX_QTY * 100)],
                             render_kw={"inputmode": "decimal"},
                             description="Leave empty to use the branch's average cost")


ADJUSTMENT_ERRORS = {
    "stock_move_adjustment_reason": ("reason", "A stock adjustment needs a reason of at least 3 characters"),
    "stock_move_qty_check": ("qty", "Enter a quantity other than zero"),
}


class BinForm(FlaskForm):
    bin_location = StringField("Bin", filters=[upper_or_none], validators=[Optional(), Length(max=20)],
                               render_kw={"autocomplete": "off"})


class TransferPartLine(Form):
    part_no = StringField("Part number", filters=[upper_or_none],
                          render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    qty = QuantityField("Quantity",
                       validators=[Optional(),
                                   NumberRange(min=Decimal("0.001"), max=MAX_QTY,
                                               message="More than zero, at most 999999")],
                       render_kw=QTY_KW)

    def validate_qty(self, field):
        if self.part_no.data and field.data is None:
            raise ValidationError("How many?")
        if field.data is not None and not self.part_no.data:
            raise ValidationError("Which part? Enter the part number")


class TransferForm(FlaskForm):
    from_branch_id = SelectField("From branch", coerce=int, validators=[DataRequired("Choose a branch")])
    to_branch_id = SelectField("To branch", coerce=int, validators=[DataRequired("Choose a branch")])
    parts = FieldList(FormField(TransferPartLine), min_entries=6, max_entries=40)
    vins = TextAreaField("Vehicles (VIN, one per line)", filters=[lambda s: (s or "").upper()],
                         description="Scan or type each VIN; the scanner's Enter starts a new line",
                         render_kw={"rows": 4, "autocomplete": "off", "autocapitalize": "characters"})
    notes = StringField("Notes (vehicle no., driver)", filters=[blank_to_none],
                        validators=[Optional(), Length(max=500)])

    def validate_to_branch_id(self, field):
        if field.data and field.data == self.from_branch_id.data:
            raise ValidationError("Choose a branch other than the sending one")

    def validate_vins(self, field):
        bad = [v for v in self.vin_list() if not VIN_RE.match(v)]
        if bad:
            raise ValidationError(f"Not a VIN (17 characters, no I, O or Q): {', '.join(bad[:5])}")

    def vin_list(self) -> list[str]:
        return list(dict.fromkeys(v for v in re.split(r"[\s,;]+", self.vins.data or "") if v))


class CountedForm(FlaskForm):
    counted_qty = QuantityField("Counted",
                               validators=[Optional(),
                                           NumberRange(min=0, max=MAX_QTY, message="0 or more, at most 999999")],
                               render_kw=QTY_KW)


class CountAddPartForm(FlaskForm):
    part_no = StringField("Part number found on the shelf", filters=[upper],
                          validators=[DataRequired("Enter or scan the part number")],
                          render_kw={"autocomplete": "off", "autocapitalize": "characters"})
