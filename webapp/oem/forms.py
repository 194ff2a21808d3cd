"""Forms of the oem module: OEM, model with its free-service schedule, variant, colour, price
list row, OEM scheme."""
from __future__ import annotations

from decimal import Decimal

from wtforms import BooleanField, FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from .. import validators as v
from ..forms import (
    AmountField,
    DateField,
    FlaskForm,
    Length,
    blank_to_none,
    choices,
    period_check,
    strip,
    upper,
    upper_or_none,
)

SEGMENTS = (("E2W", "Electric two-wheeler"), ("E2W_LOW_SPEED", "Low-speed e-2W (no registration)"),
            ("E3W_PASSENGER", "E-rickshaw / e-3W passenger"), ("E3W_GOODS", "E-3W goods carrier"),
            ("E4W", "Electric car"))
CHEMISTRIES = (("LFP", "LFP (lithium iron phosphate)"), ("NMC", "NMC (lithium nickel manganese cobalt)"),
               ("LTO", "LTO (lithium titanate)"), ("LEAD_ACID", "Lead acid"), ("OTHER", "Other"))
SUBSIDY_RULES = (("NONE", "No subsidy"), ("FIXED", "Fixed amount"), ("PER_KWH", "Per kWh of battery, with a cap"))
SCHEME_KINDS = (("CUSTOMER_DISCOUNT", "Customer discount"), ("DEALER_INCENTIVE", "Dealer incentive"))
LOW_SPEED_TOP_KMPH = 25
CAP_NEEDS_EX_FACTORY = "Give the ex-factory price: the subsidy is capped at a % of it"  # a low-speed e-2W is certified below 25 km/h (no RTO registration)


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


# --------------------------------------------------------------------------- OEM


class OemForm(FlaskForm):
    brand = StringField("Brand", filters=[strip], validators=[DataRequired(), Length(2, 80)])
    legal_name = StringField("Legal name (as on its GST registration)", filters=[strip],
                             validators=[DataRequired(), Length(2, 200)])
    dealer_code = StringField("Our dealer code with this OEM", filters=[blank_to_none],
                              validators=[Optional(), Length(1, 40)])
    gstin = StringField("Supplier GSTIN", filters=[upper], validators=[DataRequired(), Length(15, 15), v.GSTIN],
                        render_kw={"autocapitalize": "characters"},
                        description="Its first two digits give the OEM's state (IGST or CGST + SGST on purchases)")
    address = TextAreaField("Address", filters=[strip], validators=[DataRequired(), Length(2, 300)],
                            render_kw={"rows": 3})
    contact_name = StringField("Contact person", filters=[blank_to_none], validators=[Optional(), Length(max=120)])
    contact_phone = StringField("Contact phone", filters=[blank_to_none], validators=[Optional(), v.PHONE],
                                render_kw={"inputmode": "tel"})
    contact_email = StringField("Contact e-mail", filters=[blank_to_none], validators=[Optional(), v.EMAIL],
                                render_kw={"inputmode": "email"})
    is_active = BooleanField("Active (we still buy from this OEM)", default=True)

    def validate_gstin(self, field):
        from ..master.api import gstin_state_known

        gstin_state_known(self, field)


OEM_ERRORS = {
    "oem_brand_key": ("brand", "Another OEM already has this brand"),
    "oem_gstin_key": ("gstin", "Another OEM already has this GSTIN"),
    "oem_gstin_check": ("gstin", "Not a valid GSTIN"),
    "oem_state_code_fkey": ("gstin", "The GSTIN's first two digits are not a GST state code"),
    "oem_contact_phone_check": ("contact_phone", "Phone number: digits, spaces or dashes"),
    "oem_contact_email_check": ("contact_email", "Not a valid e-mail address"),
    "oem_dealer_code_check": ("dealer_code", "1 to 40 characters"),
}


# --------------------------------------------------------------------------- model


class FreeServiceRow(Form):
    """One line of the free-service schedule: the n-th service falls due at so many months or km."""

    due_months = IntegerField("Months after sale", validators=[Optional(), NumberRange(0, 120)],
                              render_kw={"inputmode": "numeric"})
    due_km = IntegerField("Km", validators=[Optional(), NumberRange(0, 200_000)],
                          render_kw={"inputmode": "numeric"})

    def is_blank(self) -> bool:
        return not (self.due_months.raw_data and self.due_months.raw_data[0].strip()) and not (
            self.due_km.raw_data and self.due_km.raw_data[0].strip())


class ModelForm(FlaskForm):
    name = StringField("Model name", filters=[strip], validators=[DataRequired(), Length(1, 80)])
    segment = SelectField("Segment", choices=choices(SEGMENTS), default="E2W")
    is_low_speed = BooleanField("Low-speed: no RTO registration (under 25 km/h, under 0.25 kW, certified)")
    is_active = BooleanField("Active (still sold)", default=True)
    schedule = FieldList(FormField(FreeServiceRow), min_entries=0, max_entries=20)

    def validate_is_low_speed(self, field):
        low_speed_segment = self.segment.data == "E2W_LOW_SPEED"
        if field.data and not low_speed_segment:
            raise ValidationError("Only the low-speed e-2W segment skips registration: choose that segment "
                                  "or untick this")
        if low_speed_segment and not field.data:
            raise ValidationError("A low-speed e-2W needs no registration: tick this to skip the RTO steps")

    def validate_schedule(self, field):
        for n, row in enumerate(field.entries, start=1):
            if row.is_blank():
                continue
            for f in (row.due_months, row.due_km):
                if f.data is None and not f.errors:
                    f.errors = [*f.errors, "Give both the months and the km"]
        if any(f.errors for row in field.entries for f in row):
            raise ValidationError("Correct the free-service schedule")

    def schedule_rows(self) -> list[dict]:
        """The filled lines, in order (blank lines dropped), numbered 1st, 2nd... by the caller."""
        return [{"due_months": row.due_months.data, "due_km": row.due_km.data}
                for row in self.schedule.entries if not row.is_blank()]

    @staticmethod
    def ordinal(n: int) -> str:
        return ordinal(n)


MODEL_ERRORS = {
    "model_oem_id_name_key": ("name", "This OEM already has a model of this name"),
    "model_low_speed_is_a_2w": ("is_low_speed", "Only the low-speed e-2W segment skips registration"),
    "model_low_speed_segment_flagged": ("is_low_speed", "A low-speed e-2W must be flagged low-speed"),
    "model_segment_check": ("segment", "Choose a segment"),
    "free_service_due_months_check": ("schedule", "Months are 0 to 120"),
    "free_service_due_km_check": ("schedule", "Km are 0 to 2,00,000"),
    "free_service_service_no_check": ("schedule", "At most 20 free services"),
}


# --------------------------------------------------------------------------- variant


def _whole(label, lo, hi, required=False, **kwargs):
    checks = [InputRequired(f"Give the {label.lower()}")] if required else [Optional()]
    return IntegerField(label, validators=[*checks, NumberRange(lo, hi)], render_kw={"inputmode": "numeric"},
                        **kwargs)


class VariantForm(FlaskForm):
    name = StringField("Variant name", filters=[strip], validators=[DataRequired(), Length(1, 80)])
    hsn_code = SelectField("HSN code (sets the GST rate)", validators=[DataRequired()])
    battery_chemistry = SelectField("Battery chemistry", choices=choices(CHEMISTRIES), default="LFP")
    battery_kwh = AmountField("Battery capacity (kWh)",
                              validators=[InputRequired("Give the battery capacity"),
                                          NumberRange(min=Decimal("0.01"), max=Decimal("199.99"), message="More than 0 and below 200 kWh")],
                              description="Drives the per-kWh subsidy")
    certified_range_km = _whole("Certified range (km)", 1, 2000)
    motor_power_kw = AmountField("Motor power (kW)", validators=[Optional(), NumberRange(min=Decimal("0.01"))])
    top_speed_kmph = _whole("Top speed (km/h)", 1, 300)
    charger_type = StringField("Charger", filters=[blank_to_none], validators=[Optional(), Length(max=80)],
                               description="e.g. 650 W portable, or 3.3 kW AC home charger")
    vehicle_warranty_years = _whole("Vehicle warranty (years)", 0, 15, required=True)
    vehicle_warranty_km = _whole("Vehicle warranty (km)", 0, 1_000_000, description="Whichever comes first")
    battery_warranty_years = _whole("Battery warranty (years)", 0, 15, required=True)
    battery_warranty_km = _whole("Battery warranty (km)", 0, 1_000_000)
    battery_min_soh_pct = _whole("Battery warranty: minimum state of health (%)", 1, 100,
                                 description="Below this SoH within warranty the pack is replaced")
    is_active = BooleanField("Active (still sold)", default=True)

    def __init__(self, *args, low_speed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.low_speed = low_speed

    def validate_top_speed_kmph(self, field):
        if self.low_speed and field.data is not None and field.data >= LOW_SPEED_TOP_KMPH:
            raise ValidationError(f"This is a low-speed model: its top speed is below {LOW_SPEED_TOP_KMPH} km/h")


VARIANT_ERRORS = {
    "variant_model_id_name_key": ("name", "This model already has a variant of this name"),
    "variant_hsn_code_fkey": ("hsn_code", "Not in the tax master"),
    "variant_battery_kwh_check": ("battery_kwh", "More than 0 and below 200 kWh"),
    "variant_battery_min_soh_pct_check": ("battery_min_soh_pct", "1 to 100 %"),
    "variant_battery_chemistry_check": ("battery_chemistry", "Choose a chemistry"),
}


class ColourForm(FlaskForm):
    colour = StringField("Colour", filters=[strip], validators=[DataRequired("Name the colour"), Length(1, 40)])
    colour_code = StringField("OEM colour code", filters=[upper_or_none], validators=[Optional(), Length(max=20)])


COLOUR_ERRORS = {
    "variant_colour_pkey": ("colour", "This variant already has this colour"),
    "variant_colour_colour_check": ("colour", "1 to 40 characters"),
}


# --------------------------------------------------------------------------- price list


class PriceForm(FlaskForm):
    colour = SelectField("Colour", default="",
                         description="Only when this colour's price differs from the every-colour price")
    ex_showroom = AmountField("Ex-showroom price (incl. GST)",
                              validators=[InputRequired("Give the ex-showroom price"),
                                          NumberRange(min=Decimal("0.01"), message="More than zero")])
    ex_factory = AmountField("Ex-factory price", validators=[Optional(), NumberRange(min=Decimal("0.01"),
                             message="More than zero")], description="Needed for a subsidy capped at a % of it")
    subsidy_rule = SelectField("Subsidy (PM E-DRIVE)", choices=choices(SUBSIDY_RULES), default="NONE")
    subsidy_amount = AmountField("Subsidy amount (fixed)", validators=[Optional(), NumberRange(min=0)])
    subsidy_per_kwh = AmountField("Subsidy per kWh", validators=[Optional(), NumberRange(min=0)])
    subsidy_cap = AmountField("Subsidy cap (per kWh rule)", validators=[Optional(), NumberRange(min=0)],
                              description="At most this much per vehicle")
    subsidy_cap_pct = AmountField("Cap: % of ex-factory price", validators=[Optional(), NumberRange(
                                  min=Decimal("0.01"), max=100, message="More than 0, at most 100")],
                                  description="e.g. 15 under PM E-DRIVE")
    effective_from = DateField("In force from", validators=[InputRequired("Give the first day of this price")])
    effective_to = DateField("In force until", validators=[Optional()],
                             description="Leave empty while in force until further notice")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = period_check(self) and ok
        rule = self.subsidy_rule.data
        needed = {"FIXED": (self.subsidy_amount,), "PER_KWH": (self.subsidy_per_kwh, self.subsidy_cap)}.get(rule, ())
        for f in needed:
            if f.data is None and not f.errors:
                f.errors.append(f"Needed for the rule “{dict(SUBSIDY_RULES)[rule]}”")
                ok = False
        unused = {"NONE": (self.subsidy_amount, self.subsidy_per_kwh, self.subsidy_cap),
                  "FIXED": (self.subsidy_per_kwh, self.subsidy_cap),
                  "PER_KWH": (self.subsidy_amount,)}.get(rule, ())
        for f in unused:
            if f.data is not None and not f.errors:
                f.errors.append(f"Not used by the rule “{dict(SUBSIDY_RULES)[rule]}”: leave it empty")
                ok = False
        if self.subsidy_cap_pct.data is not None and self.ex_factory.data is None and not self.ex_factory.errors:
            self.ex_factory.errors.append(CAP_NEEDS_EX_FACTORY)
            ok = False
        return ok

    def price_data(self) -> dict:
        return {**self.data, "colour": self.colour.data or None}


PRICE_ERRORS = {
    "price_list_check": ("effective_to", "The end date is before the start date"),
    "price_list_subsidy_complete": ("subsidy_rule", "Fill in exactly the amounts this subsidy rule needs"),
    "price_list_cap_pct_needs_ex_factory": ("ex_factory", CAP_NEEDS_EX_FACTORY),
    "price_list_variant_id_colour_fkey": ("colour", "This variant does not come in this colour"),
    "price_list_ex_showroom_check": ("ex_showroom", "More than zero"),
    # price_list_no_overlap: the message names the clashing period (views).
}


class PriceOnForm(Form):
    """The 'price on a date' look-up on the variant page (GET, nothing changes)."""

    on = DateField("Price on", validators=[InputRequired("Choose a date")])
    # Its own id: the colour form on the same page has a "colour" field too (one id, two labels).
    colour = SelectField("Colour", default="", id="price-on-colour")


# --------------------------------------------------------------------------- schemes


class SchemeForm(FlaskForm):
    oem_id = SelectField("OEM", coerce=int, validators=[DataRequired("Choose the OEM")])
    name = StringField("Scheme name", filters=[strip], validators=[DataRequired(), Length(2, 120)])
    kind = SelectField("Kind", choices=choices(SCHEME_KINDS), default="CUSTOMER_DISCOUNT")
    variant_id = SelectField("Variant", coerce=lambda x: int(x) if x not in (None, "", "None") else None,
                             default=None, description="Leave on “Every variant” for an OEM-wide scheme")
    amount = AmountField("Amount per vehicle", validators=[InputRequired("Give the amount"),
                                                           NumberRange(min=Decimal("0.01"), message="More than zero")])
    valid_from = DateField("Valid from", validators=[InputRequired("Give the first day")])
    valid_to = DateField("Valid until", validators=[InputRequired("Give the last day")])

    def __init__(self, *args, variant_oems: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.variant_oems = variant_oems or {}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = period_check(self, "valid_from", "valid_to") and ok
        if self.variant_id.data and self.oem_id.data and self.variant_oems.get(self.variant_id.data) != self.oem_id.data:
            self.variant_id.errors.append("This variant is not made by the chosen OEM")
            ok = False
        return ok


SCHEME_ERRORS = {
    "scheme_check": ("valid_to", "The end date is before the start date"),
    "scheme_amount_check": ("amount", "More than zero"),
    "scheme_oem_id_fkey": ("oem_id", "Unknown OEM"),
    "scheme_variant_id_fkey": ("variant_id", "Unknown variant"),
}
