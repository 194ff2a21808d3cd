"""The workshop's forms: a vehicle sold elsewhere, the owner of a scooter sold at another branch,
the job card, its cancellation, a battery reading, a photo. The database holds the rules
(sql/0023_service.sql, sql/0026_service_readings.sql); its refusals are shown next to the fields
(CONSTRAINT_MESSAGES)."""
from __future__ import annotations

import re
from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError

from .. import validators as v
from ..forms import (
    DateField,
    DateTimeField,
    FlaskForm,
    KeyField,
    Length,
    QuantityField,
    RegistrationNoField,
    blank_to_none,
    choices,
    strip,
)

SERVICE_TYPES = [("PAID_SERVICE", "Paid service"), ("FREE_SERVICE", "Free service"),
                 ("RUNNING_REPAIR", "Running repair"), ("ACCIDENT", "Accident"), ("WARRANTY", "Warranty"),
                 ("BATTERY_CHECK", "Battery check"), ("RECALL", "Recall")]
SERVICE_TYPE_LABELS = dict(SERVICE_TYPES)

VIN = Regexp(r"^[A-HJ-NPR-Z0-9]{17}\Z", message="17 letters and digits, never I, O or Q")
SERIAL = Regexp(r"^[A-Z0-9][A-Z0-9/-]{3,39}\Z", message="4 to 40 letters, digits, / or -")
MOBILE_FILTER = [lambda s: v.normalise_mobile(s) or None]


def _code(value):
    """A VIN, motor number or serial as printed: capitals, no spaces."""
    return re.sub(r"\s", "", value).upper() or None if isinstance(value, str) else value


class OwnerFields:
    owner_name = StringField("Owner's name", filters=[strip, blank_to_none],
                             validators=[DataRequired("Enter the owner's name"), Length(min=2, max=200)])
    owner_mobile = StringField("Owner's mobile", filters=MOBILE_FILTER,
                               validators=[DataRequired("Enter the owner's mobile"), v.MOBILE],
                               render_kw={"inputmode": "tel", "autocomplete": "off"},
                               description="An existing customer with this mobile and name is used, else one is added")


class OutsideVehicleForm(OwnerFields, FlaskForm):
    registration_no = RegistrationNoField("Registration no.", validators=[Optional()],
                                          description="As on the plate, spaces or not; blank for a low-speed scooter")
    vin = StringField("VIN (chassis no.)", filters=[_code], validators=[DataRequired("Enter the VIN"), VIN],
                      render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    motor_no = StringField("Motor no.", filters=[_code], validators=[DataRequired("Enter the motor number"), SERIAL],
                           render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    variant_id = SelectField("Model and variant", coerce=int, validators=[DataRequired("Choose the variant")])
    colour = StringField("Colour", filters=[strip, blank_to_none], validators=[Optional(), Length(max=40)])
    sale_date = DateField("Sold on", validators=[DataRequired("Enter the date it was sold (from the RC or invoice)")])
    pack_serial = StringField("Battery pack serial", filters=[_code], validators=[Optional(), SERIAL],
                              render_kw={"autocapitalize": "characters", "autocomplete": "off"},
                              description="From the pack's label or the BMS; its readings follow this pack")


class OwnerForm(OwnerFields, FlaskForm):
    """The owner of a scooter sold at another branch (that sale is not visible here)."""


class JobCardForm(FlaskForm):
    service_type = SelectField("Service type", choices=choices(SERVICE_TYPES), validators=[DataRequired()])
    free_service_no = IntegerField("Free service no.", validators=[Optional(), NumberRange(1, 20, "1 to 20")],
                                   render_kw={"inputmode": "numeric"})
    odometer_km = IntegerField("Odometer (km)", validators=[InputRequired("Enter the odometer reading"),
                                                            NumberRange(0, 2000000, "0 to 20,00,000 km")],
                               render_kw={"inputmode": "numeric", "autocomplete": "off"})
    odometer_override_reason = StringField(
        "Reason for a reading below the last", filters=[strip, blank_to_none],
        validators=[Optional(), Length(min=5, max=300)],
        description="Only a manager: e.g. the instrument cluster was replaced")
    complaints = TextAreaField("Complaints, in the customer's words", filters=[strip, blank_to_none],
                               validators=[DataRequired("Write down what the customer says"), Length(min=2, max=2000)],
                               render_kw={"rows": 4})
    promised_at = DateTimeField("Promised for", validators=[Optional()])
    technician_id = SelectField("Technician", coerce=int, validators=[Optional()])
    key = KeyField()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        number = self.free_service_no
        if not number.errors:
            if self.service_type.data == "FREE_SERVICE" and not number.data:
                number.errors = ["Which free service is this? (1, 2, 3...)"]
                valid = False
            elif self.service_type.data != "FREE_SERVICE" and number.data:
                number.errors = ["Only a free service has a number: leave it blank"]
                valid = False
        return valid


class CancelForm(FlaskForm):
    cancel_reason = StringField("Why is it cancelled?", filters=[strip, blank_to_none],
                                validators=[DataRequired("Say why"), Length(min=5, max=300)])


class MoveForm(FlaskForm):
    from_state = StringField(validators=[DataRequired(), Length(max=20)])
    to_state = StringField(validators=[DataRequired(), Length(max=20)])


def _fault_codes(value):
    if not isinstance(value, str):
        return value
    return [c for c in re.split(r"[\s,;]+", value.upper()) if c]


class FaultCodesField(StringField):
    """Several BMS fault codes typed in one box, separated by commas or spaces."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist):
        self.data = _fault_codes(valuelist[0]) if valuelist else []


def _fault_code_check(_form, field):
    bad = [c for c in field.data or [] if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,11}", c)]
    if bad:
        raise ValidationError(f"Not a fault code: {', '.join(bad[:3])} (2 to 12 letters, digits or -)")
    if len(field.data or []) > 20:
        raise ValidationError("At most 20 codes")


def _pct(label: str, **kw):
    return QuantityField(label, places=2, validators=[InputRequired(f"Enter the {label.split(' (')[0]}"),
                                                       NumberRange(Decimal(0), Decimal(100), "0 to 100 %%")], **kw)


class ReadingForm(FlaskForm):
    pack_id = SelectField("Battery pack", coerce=int, validators=[DataRequired("Choose the pack")])
    soh_pct = _pct("State of health (%)")
    soc_pct = _pct("State of charge (%)")
    cycle_count = IntegerField("Cycle count", validators=[Optional(), NumberRange(0, 20000, "0 to 20,000")],
                               render_kw={"inputmode": "numeric"})
    cell_v_max = QuantityField("Highest cell voltage (V)", places=3, validators=[
        InputRequired("Enter the highest cell voltage"), NumberRange(Decimal(1), Decimal(5), "1 to 5 V")])
    cell_v_min = QuantityField("Lowest cell voltage (V)", places=3, validators=[
        InputRequired("Enter the lowest cell voltage"), NumberRange(Decimal(1), Decimal(5), "1 to 5 V")])
    pack_temp_max_c = QuantityField("Highest pack temperature (°C)", places=1, negative=True, validators=[
        Optional(), NumberRange(Decimal(-30), Decimal(120), "-30 to 120 °C")])
    insulation_mohm = QuantityField("Insulation resistance (MΩ)", places=3, validators=[
        Optional(), NumberRange(Decimal(0), Decimal(100000), "0 to 1,00,000 MΩ")])
    fault_codes = FaultCodesField("BMS fault codes", validators=[_fault_code_check],
                                  description="Several allowed, separated by commas; blank when none",
                                  render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    charger_ok = SelectField("Charger check", choices=choices([("", "Not checked"), ("yes", "OK"), ("no", "Not OK")]),
                             validators=[Optional()])
    remark = StringField("Remark", filters=[strip, blank_to_none], validators=[Optional(), Length(max=300)])

    def validate_cell_v_min(self, field):
        if field.data is not None and self.cell_v_max.data is not None and field.data > self.cell_v_max.data:
            raise ValidationError("The lowest cell cannot read above the highest")

    def data_for_db(self) -> dict:
        data = {name: self[name].data for name in (
            "soh_pct", "soc_pct", "cycle_count", "cell_v_max", "cell_v_min", "pack_temp_max_c", "insulation_mohm",
            "fault_codes", "remark")}
        data["charger_ok"] = {"yes": True, "no": False}.get(self.charger_ok.data)
        data["fault_codes"] = data["fault_codes"] or []
        return data


LIMIT_LABELS = {"CELL_DELTA_MV_MAX": "Cell imbalance above (mV)", "TEMP_MAX_C": "Pack temperature above (°C)",
                "INSULATION_MOHM_MIN": "Insulation resistance below (MΩ)",
                "SOH_MIN_PCT": "SoH below (%), when the variant names no floor"}


class ReadingLimitForm(FlaskForm):
    check_code = SelectField("Check", validators=[DataRequired("Choose the check")])
    limit_value = QuantityField("Limit", places=3, validators=[
        InputRequired("Enter the limit"), NumberRange(Decimal(0), Decimal(10000), "0 to 10,000")])
    effective_from = DateField("From", validators=[DataRequired("Enter the day it starts")])


class PhotoForm(FlaskForm):
    photo = FileField("Photo", render_kw={"accept": "image/*", "capture": "environment"})
    caption = StringField("Caption", filters=[strip, blank_to_none], validators=[Optional(), Length(max=120)])


# Constraint -> (field, message). Fields not on the form of a given page go above it.
VEHICLE_MESSAGES = {
    "vehicle_registration_no_key": ("registration_no", "This registration number is already registered: search for it"),
    "vehicle_registration_no_check": ("registration_no", "Not a registration number: e.g. KA05AB1234 or 22BH1234AA"),
    "vehicle_vin_key": ("vin", "This VIN is already registered: search for it"),
    "vehicle_vin_check": ("vin", "17 letters and digits, never I, O or Q"),
    "vehicle_motor_no_key": ("motor_no", "This motor number is already registered to another vehicle"),
    "vehicle_motor_no_check": ("motor_no", "4 to 40 letters, digits, / or -"),
    "vehicle_sold_here": ("vin", "This VIN or motor number is a scooter sold here: search for it by its VIN"),
    "vehicle_sale_date_not_future": ("sale_date", "The sale date cannot be in the future"),
    "vehicle_sale_date_check": ("sale_date", "A sale date from 2000 on"),
    "vehicle_made_before_sale": ("sale_date", "The vehicle was made after this date"),
    "vehicle_colour_check": ("colour", "1 to 40 characters"),
    "vehicle_variant_id_fkey": ("variant_id", "Choose the variant from the list"),
    "pack_fitment_one_vehicle_at_a_time": ("pack_serial", "This battery pack is in another vehicle"),
    "battery_pack_serial_check": ("pack_serial", "4 to 40 letters, digits, / or -"),
    "pack_fitment_current_idx": ("pack_serial", "This battery pack is in another vehicle"),
    "customer_mobile_check": ("owner_mobile", "Mobile number is 10 digits starting with 6, 7, 8 or 9"),
    "customer_name_check": ("owner_name", "2 to 200 characters"),
    "vehicle_owner_needed": ("owner_mobile", "This scooter was sold at another branch: enter its owner"),
}

JOB_CARD_MESSAGES = {
    "job_card_one_open_idx": ("odometer_km", "This vehicle already has an open job card (perhaps at another "
                                             "branch): continue that one"),
    "job_card_odometer_not_below_last": ("odometer_km", "Below the vehicle's last reading: check the odometer; "
                                                        "a manager can override with a reason"),
    "job_card_override_by_manager": ("odometer_override_reason", "Only a manager overrides the odometer, "
                                                                 "in their own name"),
    "job_card_override_complete": ("odometer_override_reason", "Give the reason for the override"),
    "job_card_odometer_override_reason_check": ("odometer_override_reason", "5 to 300 characters"),
    "job_card_odometer_km_check": ("odometer_km", "0 to 20,00,000 km"),
    "job_card_free_service_no": ("free_service_no", "A free service needs its number; other services none"),
    "job_card_free_service_no_check": ("free_service_no", "1 to 20"),
    "job_card_complaints_check": ("complaints", "2 to 2000 characters"),
    "job_card_promised_after_opening": ("promised_at", "The promised time is before the card was opened"),
    "job_card_technician_id_fkey": ("technician_id", "Choose the technician from the list"),
    "job_card_closed_is_final": (None, "This job card is closed: it does not change any more"),
    "job_card_cancel_reason_check": ("cancel_reason", "5 to 300 characters"),
    "job_card_cancel_reason": ("cancel_reason", "Say why the card is cancelled"),
    "job_card_state_transition": (None, "The card cannot move there from where it is now"),
    # Free services (sql/0028_service_bill.sql): the one due by the model's schedule, used once.
    "job_card_free_service_once_idx": ("free_service_no", "This free service was already used on this vehicle"),
    "job_card_free_service_in_schedule": ("free_service_no", "The model's schedule has no free service of this number"),
    "job_card_free_service_expired_by_date": ("free_service_no", "Expired by date: the months for this free service "
                                                                 "from the sale date have passed"),
    "job_card_free_service_expired_by_km": ("free_service_no", "Expired by km: the odometer is past this free "
                                                               "service's km"),
    "job_card_free_service_not_due": ("free_service_no", "Not due yet: an earlier free service is due first"),
    "job_card_delivered_by_gate_pass": (None, "A job card is delivered by its gate pass (Bill and gate pass)"),
    # The work on the card (webapp/service/estimates.py, parts.py):
    "job_card_work_not_approved": (None, "The customer has not approved all the customer-paid work: record "
                                         "the approval on the estimate"),
    "job_card_parts_out": (None, "Parts are issued to this card: return them to stock before cancelling it"),
}

READING_MESSAGES = {
    "battery_reading_soh_pct_check": ("soh_pct", "State of health is 0 to 100 %"),
    "battery_reading_soc_pct_check": ("soc_pct", "State of charge is 0 to 100 %"),
    "battery_reading_cycle_count_check": ("cycle_count", "0 to 20,000"),
    "battery_reading_cell_v_max_check": ("cell_v_max", "1 to 5 V"),
    "battery_reading_cell_v_min_check": ("cell_v_min", "1 to 5 V"),
    "battery_reading_cells": ("cell_v_min", "The lowest cell cannot read above the highest"),
    "battery_reading_pack_temp_max_c_check": ("pack_temp_max_c", "-30 to 120 °C"),
    "battery_reading_insulation_mohm_check": ("insulation_mohm", "0 to 1,00,000 MΩ"),
    "battery_reading_fault_codes": ("fault_codes", "At most 20 codes of 2 to 12 letters, digits or -"),
    "battery_reading_remark_check": ("remark", "1 to 300 characters"),
    "battery_reading_pack_of_vehicle": ("pack_id", "This pack is not in this vehicle"),
    "battery_reading_card_open": (None, "This job card is closed: its readings do not change"),
}

CHECKLIST_MESSAGES = {
    "inspection_result_card_open": (None, "This job card is closed: its checklist does not change"),
    "inspection_result_remark_check": (None, "A remark is 1 to 300 characters"),
}

PHOTO_MESSAGES = {
    "job_photo_card_open": (None, "This job card is closed: photos cannot be added"),
    "job_photo_image_check": ("photo", "A photo of at most 6 MB"),
}

CONSTRAINT_MESSAGES = {**VEHICLE_MESSAGES, **JOB_CARD_MESSAGES, **READING_MESSAGES, **CHECKLIST_MESSAGES,
                       **PHOTO_MESSAGES}
