"""Warranty forms: the extended warranty plan (master data), selling one to a VIN, a recall /
service campaign (its VINs pasted or uploaded, or a model and manufacture months), marking it done
on a VIN and closing it. The database holds the rules (sql/0024_warranty.sql and
sql/functions/92_warranty.sql); what it refuses comes back next to the field (the *_ERRORS dicts)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError

from ..forms import (
    AmountField,
    DateField,
    FlaskForm,
    KeyField,
    Length,
    blank_to_none,
    choices,
    period_check,
    strip,
    upper,
)
from ..master import api as master_api
from ..procurement import api as procurement_api

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}\Z"
VIN_MESSAGE = "A VIN is 17 letters and digits, without I, O or Q"
KM = {"inputmode": "numeric", "autocomplete": "off"}
CAMPAIGN_KINDS = (("RECALL", "Recall (safety)"), ("SERVICE", "Service campaign"))
MATCH_BY = (("VIN_LIST", "A list of VINs from the OEM"), ("MFG_RANGE", "A model made within months"))


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class PlanForm(FlaskForm):
    oem_id = SelectField("OEM", coerce=int, validators=[DataRequired("Choose the OEM")])
    name = StringField("Plan name", filters=[strip], validators=[DataRequired("Name the plan"), Length(2, 120)],
                       render_kw={"placeholder": "e.g. Battery Protect 8 years"})
    model_ids = master_api.ChecklistField("Models", coerce=int, validate_choice=True,
                                          description="None ticked: every model of the OEM")
    vehicle_extra_years = IntegerField("Vehicle: extra years", default=0, render_kw=KM,
                                       validators=[InputRequired("0 or more"), NumberRange(0, 10, "0 to 10")])
    vehicle_extra_km = IntegerField("Vehicle: extra km", default=0, render_kw=KM,
                                    validators=[InputRequired("0 or more"), NumberRange(0, 500000, "0 to 5,00,000")])
    battery_extra_years = IntegerField("Battery: extra years", default=0, render_kw=KM,
                                       validators=[InputRequired("0 or more"), NumberRange(0, 10, "0 to 10")])
    battery_extra_km = IntegerField("Battery: extra km", default=0, render_kw=KM,
                                    validators=[InputRequired("0 or more"), NumberRange(0, 500000, "0 to 5,00,000")])
    price = AmountField("Price (₹, before GST)", render_kw={"inputmode": "decimal", "autocomplete": "off"},
                        validators=[InputRequired("Give the price"),
                                    NumberRange(min=Decimal(0), max=Decimal("9999999999.99"), message="0 or more")])
    sac_code = SelectField("SAC", default="998714", description="Extended warranty is a service: SAC 998714")
    buy_within_months = IntegerField("Bought within (months of the sale)", default=12, render_kw=KM,
                                     validators=[InputRequired("0 to 120"), NumberRange(0, 120, "0 to 120")])
    valid_from = DateField("On sale from", validators=[DataRequired("Give the first day")])
    valid_to = DateField("On sale until", validators=[Optional()], description="Blank: until further notice")
    is_active = BooleanField("On sale", default=True)

    def __init__(self, *args, model_oems: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model_oems = model_oems or {}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = period_check(self, "valid_from", "valid_to") and ok
        others = [m for m in self.model_ids.data or () if self.model_oems.get(m) != self.oem_id.data]
        if self.oem_id.data and others:
            self.model_ids.errors = [*self.model_ids.errors, "Choose only models of the chosen OEM"]
            ok = False
        extras = [self[f].data or 0 for f in ("vehicle_extra_years", "vehicle_extra_km", "battery_extra_years",
                                               "battery_extra_km")]
        if not self.vehicle_extra_years.errors and all(e == 0 for e in extras):
            self.vehicle_extra_years.errors = [*self.vehicle_extra_years.errors,
                                               "A plan adds years or km to the vehicle or the battery"]
            ok = False
        return ok

    def data_for_db(self) -> dict:
        return {name: self[name].data for name in (
            "oem_id", "name", "vehicle_extra_years", "vehicle_extra_km", "battery_extra_years", "battery_extra_km",
            "price", "sac_code", "buy_within_months", "valid_from", "valid_to", "is_active")}


PLAN_ERRORS = {
    "plan_oem_id_name_key": ("name", "This OEM already has a plan of this name"),
    "plan_period": ("valid_to", "The end date is before the start date"),
    "plan_extends_something": ("vehicle_extra_years", "A plan adds years or km to the vehicle or the battery"),
    "plan_oem_id_fkey": ("oem_id", "Unknown OEM"),
    "plan_sac_code_fkey": ("sac_code", "Unknown SAC code"),
    "plan_model_model_id_fkey": ("model_ids", "Unknown model"),
    "plan_name_check": ("name", "2 to 120 characters"),
    "plan_price_check": ("price", "0 or more"),
    "plan_vehicle_extra_years_check": ("vehicle_extra_years", "0 to 10"),
    "plan_vehicle_extra_km_check": ("vehicle_extra_km", "0 to 5,00,000"),
    "plan_battery_extra_years_check": ("battery_extra_years", "0 to 10"),
    "plan_battery_extra_km_check": ("battery_extra_km", "0 to 5,00,000"),
    "plan_buy_within_months_check": ("buy_within_months", "0 to 120"),
}


SOLD_BY = (("HERE", "This showroom: a tax invoice now"), ("ELSEWHERE", "Another dealer: record its invoice"))
PLAN_PAID_BY = (("CASH", "Cash"), ("UPI", "UPI"), ("CARD", "Card"),
                ("ON_ACCOUNT", "Not paid now (on the customer's account)"))


class PlanSaleForm(FlaskForm):
    """A plan sold here is a line of a counter invoice to the vehicle's buyer (posted with its receipt
    unless on account); one bought from another dealer is recorded with that dealer's invoice."""
    vin = StringField("VIN", filters=[upper], validators=[DataRequired("Enter the VIN"),
                                                          Regexp(VIN_PATTERN, message=VIN_MESSAGE)],
                      render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    plan_id = SelectField("Plan", coerce=int, validators=[DataRequired("Choose the plan")])
    sold_by = SelectField("Sold by", choices=choices(SOLD_BY), default="HERE")
    paid_by = SelectField("Paid by", choices=choices(PLAN_PAID_BY), default="CASH",
                          description="Sold here: the invoice's receipt")
    payment_reference = StringField("UTR / card slip no.", filters=[blank_to_none],
                                    validators=[Optional(), Length(3, 60)], render_kw={"autocomplete": "off"})
    sold_on = DateField("Bought on", validators=[Optional()],
                        description="Bought from another dealer: the day on its invoice")
    invoice_ref = StringField("Other dealer's invoice no.", filters=[blank_to_none],
                              validators=[Optional(), Length(1, 40)])
    key = KeyField(required=True)

    def validate_paid_by(self, field):
        if self.sold_by.data == "HERE" and field.data in ("UPI", "CARD") and not self.payment_reference.data:
            raise ValidationError("Enter the UPI reference (UTR) or the card slip number below")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.sold_by.data == "ELSEWHERE":
            if self.sold_on.data is None and not self.sold_on.errors:
                self.sold_on.errors = [*self.sold_on.errors, "Give the day on the other dealer's invoice"]
                ok = False
            if not self.invoice_ref.data and not self.invoice_ref.errors:
                self.invoice_ref.errors = [*self.invoice_ref.errors, "Enter the other dealer's invoice number"]
                ok = False
        return ok


PLAN_SALE_ERRORS = {
    "plan_sale_plan_in_force": ("plan_id", "This plan is not on sale on that day"),
    "plan_sale_model": ("plan_id", "This plan is not made for this vehicle's model"),
    "plan_sale_window": ("sold_on", "Too late: this plan must be bought within its months of the vehicle's sale"),
    "plan_sale_part_taken": ("plan_id", "This vehicle already has a plan lengthening the same cover"),
    "plan_sale_in_force_once": ("plan_id", "This plan is already sold for this vehicle"),
    "plan_sale_invoiced_or_elsewhere": ("invoice_ref", "Enter the other dealer's invoice number"),
    "invoice_line_plan_customer": ("vin", "The buyer of this vehicle is not on record"),
    "invoice_line_plan_vehicle": ("vin", "This VIN is not a vehicle this showroom sold or the workshop knows"),
    "invoice_line_plan_sac": ("plan_id", "The plan's SAC is not the one on the invoice line"),
    "plan_sale_after_vehicle_sale": ("sold_on", "Before the vehicle was sold"),
    "plan_sale_invoice_ref_check": ("invoice_ref", "1 to 40 characters"),
    "plan_sale_vin_check": ("vin", VIN_MESSAGE),
    "plan_sale_customer_id_fkey": ("vin", "The buyer of this vehicle is not on record"),
}


class CampaignForm(FlaskForm):
    oem_id = SelectField("OEM", coerce=int, validators=[DataRequired("Choose the OEM")])
    code = StringField("OEM's campaign code", filters=[upper],
                       validators=[DataRequired("Enter the OEM's code"),
                                   Regexp(r"^[A-Z0-9][A-Z0-9/-]{1,29}\Z", message="2 to 30 letters, digits, / or -")],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    title = StringField("Title", filters=[strip], validators=[DataRequired("Say what the campaign is"),
                                                              Length(3, 200)],
                        render_kw={"placeholder": "e.g. Replace the side-stand sensor"})
    kind = SelectField("Kind", choices=choices(CAMPAIGN_KINDS), default="RECALL")
    opened_on = DateField("Open from", validators=[DataRequired("Give the first day")])
    closed_on = DateField("Open until", validators=[Optional()], description="Blank: until the OEM closes it")
    operation_code = SelectField("Labour operation to do", default="", coerce=lambda v: v or None,
                                 description="From the labour master; it becomes the job line")
    instructions = TextAreaField("Instructions", filters=[blank_to_none], validators=[Optional(), Length(max=2000)],
                                 render_kw={"rows": 3})
    match_by = SelectField("Which vehicles", choices=choices(MATCH_BY), default="VIN_LIST")
    vin_list = TextAreaField("VINs (one per line, or the OEM's list pasted with its column names)",
                             filters=[procurement_api.normalise], validators=[Length(max=400_000)],
                             render_kw={"rows": 6, "autocomplete": "off", "spellcheck": "false",
                                        "autocapitalize": "characters", "class": "mono"})
    upload = FileField("…or upload the OEM's file (CSV or XLSX)", description="Its rows replace the list above.",
                       render_kw={"accept": ".csv,.xlsx,.txt"})
    model_id = SelectField("Model", coerce=_int_or_none, default=None)
    mfg_from = StringField("Made from (month)", filters=[strip], render_kw={"placeholder": "MM-YYYY"})
    mfg_to = StringField("Made until (month)", filters=[strip], render_kw={"placeholder": "MM-YYYY"})

    vins: list[str]

    def __init__(self, *args, model_oems: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model_oems = model_oems or {}
        self.vins = []
        self.months = {"mfg_from": None, "mfg_to": None}

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        ok = period_check(self, "opened_on", "closed_on") and ok
        upload = self.upload.data
        if upload and getattr(upload, "filename", ""):
            try:
                self.vin_list.data = procurement_api.normalise(
                    procurement_api.text_from_upload(upload.filename, upload.read()))
            except ValueError as exc:
                self.upload.errors = [str(exc)]
                ok = False
        if self.match_by.data == "VIN_LIST":
            self.vins, problems = procurement_api.read_vin_list(self.vin_list.data or "")
            if problems:
                self.vin_list.errors = [*self.vin_list.errors, *problems[:20]]
                if len(problems) > 20:
                    self.vin_list.errors.append(f"… and {len(problems) - 20} more rows")
                ok = False
            elif not self.vins:
                self.vin_list.errors = [*self.vin_list.errors, "Paste or upload the VINs"]
                ok = False
        elif self.match_by.data == "MFG_RANGE":
            if not self.model_id.data:
                self.model_id.errors = [*self.model_id.errors, "Choose the model"]
                ok = False
            elif self.oem_id.data and self.model_oems.get(self.model_id.data) != self.oem_id.data:
                self.model_id.errors = [*self.model_id.errors, "This model is not made by the chosen OEM"]
                ok = False
            for name in ("mfg_from", "mfg_to"):
                typed = self[name].data or ""
                self.months[name] = procurement_api.parse_month(typed) if typed else None
                if self.months[name] is None:
                    self[name].errors = [*self[name].errors, "Write the month like 08-2025, 2025-08 or Aug-2025"
                                         if typed else "Give the month"]
                    ok = False
            if self.months["mfg_from"] and self.months["mfg_to"] and self.months["mfg_to"] < self.months["mfg_from"]:
                self.mfg_to.errors = [*self.mfg_to.errors, "Before the first month"]
                ok = False
        return ok

    def data_for_db(self) -> dict:
        data = {name: self[name].data for name in ("oem_id", "code", "title", "kind", "opened_on", "closed_on",
                                                    "operation_code", "instructions", "match_by")}
        by_range = self.match_by.data == "MFG_RANGE"
        data.update(model_id=self.model_id.data if by_range else None,
                    mfg_from=self.months["mfg_from"] if by_range else None,
                    mfg_to=self.months["mfg_to"] if by_range else None)
        return data


CAMPAIGN_ERRORS = {
    "campaign_code_key": ("code", "A campaign with this code is already recorded"),
    "campaign_code_check": ("code", "2 to 30 letters, digits, / or -"),
    "campaign_title_check": ("title", "3 to 200 characters"),
    "campaign_period": ("closed_on", "The end date is before the start date"),
    "campaign_range_complete": ("model_id", "Choose the model and both months (and no VINs), or only VINs"),
    "campaign_range_order": ("mfg_to", "Before the first month"),
    "campaign_oem_id_fkey": ("oem_id", "Unknown OEM"),
    "campaign_model_id_fkey": ("model_id", "Unknown model"),
    "campaign_operation_code_fkey": ("operation_code", "Unknown labour operation"),
    "campaign_instructions_check": ("instructions", "At most 2,000 characters"),
    "campaign_vin_listed_campaign": ("vin_list", "A month-range campaign lists no VINs"),
    "campaign_vin_vin_check": ("vin_list", VIN_MESSAGE),
    "campaign_vin_pkey": ("vin_list", "A VIN is listed twice"),
    "campaign_mfg_from_check": ("mfg_from", "Write the month like 08-2025, 2025-08 or Aug-2025"),
    "campaign_mfg_to_check": ("mfg_to", "Write the month like 08-2025, 2025-08 or Aug-2025"),
    "campaign_vin_campaign_id_fkey": (None, "The campaign was not saved: enter it again"),
}


class CampaignDoneForm(FlaskForm):
    vin = StringField("VIN", filters=[upper], validators=[DataRequired("Enter the VIN"),
                                                          Regexp(VIN_PATTERN, message=VIN_MESSAGE)],
                      render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    done_on = DateField("Done on", validators=[DataRequired("Give the day it was done")])
    job_ref = StringField("Job card no.", filters=[blank_to_none], validators=[Optional(), Length(1, 40)])


# Also the service job card's messages when it marks a campaign done (webapp.warranty.api).
CAMPAIGN_DONE_ERRORS = {
    "campaign_done_once": ("vin", "This campaign is already done on this vehicle"),
    "campaign_done_matches": ("vin", "This campaign does not cover this vehicle"),
    "campaign_done_while_open": ("done_on", "The campaign is not open on that day"),
    "campaign_done_vin_check": ("vin", VIN_MESSAGE),
    "campaign_done_job_ref_check": ("job_ref", "1 to 40 characters"),
    "campaign_done_mfg_month_check": ("vin", "The vehicle's manufacture month is not a month"),
    "campaign_done_model_id_fkey": ("vin", "Unknown model"),
    "campaign_done_campaign_id_fkey": (None, "Unknown campaign"),
}


class CloseCampaignForm(FlaskForm):
    closed_on = DateField("Closed on", validators=[DataRequired("Give the last day")])


PACK_TERMS = (("REMAINING", "The rest of the replaced pack's term"),
              ("FRESH", "A fresh term from its fitment"))


class ReplacementRuleForm(FlaskForm):
    oem_id = SelectField("OEM", coerce=int, default=0, description="“Every OEM” unless an OEM has its own rule")
    pack_term = SelectField("A pack fitted as a warranty replacement is covered for",
                            choices=choices(PACK_TERMS), default="REMAINING")
    effective_from = DateField("In force from", validators=[DataRequired("Give the first day")],
                               description="The day the replacement pack is fitted decides which rule applies")
    effective_to = DateField("In force until", validators=[Optional()], description="Blank: until further notice")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return period_check(self) and ok


RULE_ERRORS = {
    "replacement_rule_period": ("effective_to", "The end date is before the start date"),
    "replacement_rule_pack_term_check": ("pack_term", "Choose one of the two rules"),
    "replacement_rule_oem_id_fkey": ("oem_id", "Unknown OEM"),
}
