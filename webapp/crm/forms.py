"""Forms of the CRM screens: a lead, its loss, a call's outcome, the next follow-up, reassigning,
a test ride out and back, and the OEM portal's list of leads. What PostgreSQL refuses comes back
next to its field through the *_ERRORS dicts (save_or_field_error)."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from .. import validators as v
from ..forms import AmountField, DateField, FlaskForm, Length, blank_to_none, choices, strip, upper_or_none
from .queries import LEAD_SOURCES, OUTCOMES

ROUND_ROBIN = -1  # the salesperson choice "next in turn" (crm.next_salesperson)


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() and len(text) < 10 else None


def _mobile(value):
    return v.normalise_mobile(value) or None


class LeadDetailsForm(FlaskForm):
    """What is known of the prospect: typed on the new lead and corrected later (crm.lead_edit)."""
    source = SelectField("Came by", choices=choices(LEAD_SOURCES.items()), default="WALK_IN")
    name = StringField("Name", filters=[strip], validators=[DataRequired("Enter the name"), Length(2, 200)])
    mobile = StringField("Mobile", filters=[_mobile], validators=[DataRequired("Enter the mobile number"), v.MOBILE],
                         render_kw={"inputmode": "tel", "autocomplete": "off"})
    email = StringField("E-mail", filters=[blank_to_none], validators=[Optional(), v.EMAIL],
                        render_kw={"inputmode": "email"})
    model_id = SelectField("Model of interest", coerce=_optional_int, choices=[], validate_choice=False)
    budget = AmountField("Budget (₹)", validators=[Optional(), NumberRange(min=1, max=99_99_99_999,
                                                                           message="Not a sensible amount")])
    finance_needed = BooleanField("Needs finance")
    exchange_vehicle = StringField("Exchange vehicle", filters=[blank_to_none],
                                   validators=[Optional(), Length(2, 120)],
                                   description="e.g. 2017 Honda Activa, petrol")
    expected_purchase_on = DateField("Expects to buy by", validators=[Optional()])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=1000)],
                          render_kw={"rows": 3})


class LeadForm(LeadDetailsForm):
    next_action = StringField("Next action", filters=[blank_to_none], validators=[Optional(), Length(2, 120)],
                              description="e.g. call with the EMI options")
    follow_up_on = DateField("Follow up on", validators=[Optional()])
    salesperson_id = SelectField("Salesperson", coerce=_optional_int, choices=[], validate_choice=False)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.next_action.data and not self.follow_up_on.data:
            self.follow_up_on.errors.append("Say when the next action is due")
            ok = False
        return ok


LEAD_ERRORS = {
    "lead_mobile_check": ("mobile", "Mobile number is 10 digits starting with 6, 7, 8 or 9"),
    "lead_email_check": ("email", "Not a valid e-mail address"),
    "lead_name_check": ("name", "The name is 2 to 200 characters"),
    "lead_notes_check": ("notes", "At most 1000 characters"),
    "lead_model_id_fkey": ("model_id", "Choose a model from the list"),
    "lead_salesperson_id_fkey": ("salesperson_id", "Choose a salesperson from the list"),
    "lead_source_check": ("source", "Choose how the lead came from the list"),
    "lead_budget_check": ("budget", "Not a sensible amount"),
    "lead_exchange_vehicle_check": ("exchange_vehicle", "2 to 120 characters"),
    "lead_next_action_check": ("next_action", "2 to 120 characters"),
    "lead_next_action_when": ("follow_up_on", "Say when the next action is due"),
    "lead_oem_lead_ref_check": ("notes", "The OEM's lead id is 1 to 40 letters, digits, / _ . -"),
    "lead_oem_lead_ref_once": ("notes", "This OEM lead is already in the list"),
    "lead_closed_details": "This lead is booked or lost: its details stay as they were",
}


class LostForm(FlaskForm):
    reason_code = SelectField("Why was it lost?", choices=[], validate_choice=False,
                              validators=[DataRequired("Choose why the customer did not buy")])
    remark = StringField("Remark", filters=[strip],
                         validators=[DataRequired("Add a word on what happened"), Length(3, 200)],
                         description="e.g. bought the rival's scooter at ₹8,000 less")


LOST_ERRORS = {
    "lead_lost_reason_code_fkey": ("reason_code", "Choose a reason from the list"),
    "lead_lost_reason": ("reason_code", "Choose why the customer did not buy"),
    "lead_lost_remark_check": ("remark", "3 to 200 characters"),
}


class ContactForm(FlaskForm):
    """A call's outcome: one tap on an outcome button sends it (the next follow-up is optional)."""
    outcome = SelectField("Outcome", choices=choices(OUTCOMES.items()), validators=[DataRequired("Choose the outcome")])
    note = StringField("Note", filters=[blank_to_none], validators=[Optional(), Length(1, 300)])
    follow_up_on = DateField("Next follow-up", validators=[Optional()])
    next_action = StringField("Next action", filters=[blank_to_none], validators=[Optional(), Length(2, 120)])


CONTACT_ERRORS = {
    "contact_outcome_check": ("outcome", "Choose the outcome"),
    "contact_note_check": ("note", "At most 300 characters"),
    "lead_next_action_check": ("next_action", "2 to 120 characters"),
}


class FollowUpForm(FlaskForm):
    # Ids of their own: the lead's page also draws the call form, whose fields have the same names.
    next_action = StringField("Next action", filters=[blank_to_none], id="follow-next_action",
                              validators=[DataRequired("Say what is to be done"), Length(2, 120)])
    follow_up_on = DateField("When", validators=[DataRequired("Say when")], id="follow-follow_up_on")


class ReassignForm(FlaskForm):
    salesperson_id = SelectField("Salesperson", coerce=_optional_int, choices=[], validate_choice=False,
                                 validators=[DataRequired("Choose the salesperson")])


class TestRideForm(FlaskForm):
    unit_id = SelectField("Demo vehicle", coerce=_optional_int, choices=[], validate_choice=False,
                          validators=[DataRequired("Choose the demo vehicle")])
    licence_no = StringField("Driving licence no.", filters=[upper_or_none],
                             validators=[DataRequired("Enter the driving licence number"), Length(8, 20)],
                             render_kw={"autocapitalize": "characters", "autocomplete": "off"},
                             description="e.g. KA05 20190012345")
    licence_valid_until = DateField("Licence valid until", validators=[DataRequired("Enter the licence's expiry")])
    odometer_out = IntegerField("Odometer out (km)", validators=[InputRequired("Enter the odometer reading"),
                                                                 NumberRange(0, 999_999, "0 to 9,99,999 km")],
                                render_kw={"inputmode": "numeric"})


TEST_RIDE_ERRORS = {
    "test_ride_licence_valid": ("licence_valid_until", "The licence has expired: no test ride on it"),
    "test_ride_licence_no_check": ("licence_no", "8 to 20 letters and digits"),
    "test_ride_unit_out_once": ("unit_id", "This demo vehicle is out on another ride"),
    "test_ride_demo_unit": ("unit_id", "Choose a demo vehicle of this branch"),
    "test_ride_unit_id_fkey": ("unit_id", "Choose a demo vehicle of this branch"),
    "test_ride_open_lead": "This lead is booked or lost: no test ride for it",
    "test_ride_odometer_out_check": ("odometer_out", "0 to 9,99,999 km"),
}


class TestRideReturnForm(FlaskForm):
    odometer_in = IntegerField("Odometer in (km)", validators=[InputRequired("Enter the odometer reading"),
                                                               NumberRange(0, 999_999, "0 to 9,99,999 km")],
                               render_kw={"inputmode": "numeric"})
    feedback = TextAreaField("Feedback", filters=[blank_to_none], validators=[Optional(), Length(2, 500)],
                             render_kw={"rows": 2})
    rating = SelectField("Liked it", coerce=_optional_int, validate_choice=False,
                         choices=choices([(None, "—"), (5, "5 · loved it"), (4, "4"), (3, "3"), (2, "2"),
                                          (1, "1 · not at all")]))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.rating.data is not None and not 1 <= self.rating.data <= 5:
            self.rating.errors.append("Choose from the list")
            ok = False
        return ok


RETURN_ERRORS = {
    "test_ride_odometer_forward": ("odometer_in", "Below the odometer when it went out"),
    "test_ride_odometer_in_check": ("odometer_in", "0 to 9,99,999 km"),
    "test_ride_feedback_check": ("feedback", "2 to 500 characters"),
    "test_ride_rating_check": ("rating", "Choose from the list"),
    "test_ride_back_once": "This ride is already back",
    "test_ride_in_after_out": ("odometer_in", "The ride cannot come back before it went out"),
}


class LeadImportForm(FlaskForm):
    leads = TextAreaField(
        "OEM portal leads", filters=[blank_to_none], validators=[Optional(), Length(max=400_000)],
        description="One lead per line, pasted from the portal's sheet with its first row of column names "
                    "(Lead ID, Name, Mobile, E-mail, Model, Budget, Expected date, Notes; any order).",
        render_kw={"rows": 8, "spellcheck": "false"})
    upload = FileField("…or upload the portal's file (CSV or XLSX)", description="Its rows replace the list above.",
                       render_kw={"accept": ".csv,.xlsx,.txt"})


def _code(value):
    return value.strip().upper().replace(" ", "_") if isinstance(value, str) and value.strip() else None


class LostReasonForm(FlaskForm):
    label = StringField("Reason", filters=[strip], validators=[DataRequired("Say the reason"), Length(2, 80)],
                        description="As the salesperson picks it, e.g. Delivery date too far")
    reason_code = StringField("Code", filters=[_code],
                              validators=[DataRequired("Give it a short code"), Length(2, 30)],
                              render_kw={"autocapitalize": "characters", "autocomplete": "off"},
                              description="Capital letters and _, e.g. DELIVERY_DATE (in the reports' exports)")
    sort_order = IntegerField("Place in the list", default=100,
                              validators=[InputRequired("Give its place"), NumberRange(0, 999, "0 to 999")],
                              render_kw={"inputmode": "numeric"})


LOST_REASON_ERRORS = {
    "lost_reason_pkey": ("reason_code", "This code is already in the list"),
    "lost_reason_reason_code_check": ("reason_code", "2 to 30 capital letters or _, starting with a letter"),
    "lost_reason_label_key": ("label", "This reason is already in the list"),
    "lost_reason_label_once": ("label", "This reason is already in the list"),
    "lost_reason_label_check": ("label", "2 to 80 characters"),
    "lost_reason_sort_order_check": ("sort_order", "0 to 999"),
}
