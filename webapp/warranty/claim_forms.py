"""Forms of warranty claims to the OEM: raising one from a job card, its words and evidence, a line,
the OEM's submission reference, decision and settlement, a failed part returned, the battery pack
swap under warranty and the OEM's labour rate. The database holds the rules; what it refuses comes
back next to the field (CLAIM_ERRORS and the others)."""
from __future__ import annotations

from decimal import Decimal

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp

from ..finance.api import CONSTRAINT_MESSAGES as BOOKS_MESSAGES
from ..forms import (
    AmountField,
    DateField,
    FlaskForm,
    KeyField,
    Length,
    QuantityField,
    blank_to_none,
    choices,
    strip,
    upper,
)
from ..master import api as master_api
from .claim_queries import KINDS
from .forms import VIN_MESSAGE

SERIAL = r"^[A-Z0-9][A-Z0-9/-]{2,39}\Z"
SERIAL_MESSAGE = "3 to 40 letters, digits, '/' or '-'"
PACK_SERIAL = r"^[A-Z0-9][A-Z0-9/-]{3,39}\Z"
MONEY = {"inputmode": "decimal", "autocomplete": "off"}
OUTCOMES = (("APPROVED", "Approved in full"), ("PARTLY_APPROVED", "Partly approved"), ("REJECTED", "Rejected"))


def _words(label: str, required: bool, placeholder: str):
    checks = [DataRequired(f"Say the {label.lower()}"), Length(2, 1000)] if required else [Optional(), Length(2, 1000)]
    return TextAreaField(label, filters=[strip, blank_to_none], validators=checks,
                         render_kw={"rows": 3, "placeholder": placeholder})


class ClaimForm(FlaskForm):
    key = KeyField()
    kind = SelectField("Claim for", choices=choices(KINDS.items()), validators=[DataRequired("Choose what is claimed")])
    campaign_id = SelectField("Recall campaign", coerce=int, default=0,
                              description="A recall's labour is claimed under its campaign")
    complaint = _words("Complaint", True, "The customer's complaint, as on the job card")
    cause = _words("Cause", False, "What failed and why (the technician's finding)")
    correction = _words("Correction", False, "What was done: part replaced, repair made")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.kind.data == "RECALL" and not self.campaign_id.data:
            self.campaign_id.errors = [*self.campaign_id.errors, "Choose the recall campaign"]
            ok = False
        return ok


class RecallClaimForm(FlaskForm):
    """A recall claimed from its campaign, for a VIN it was done on (no job card)."""
    key = KeyField()
    vin = StringField("VIN", filters=[upper], validators=[DataRequired("Enter the VIN"),
                                                          Regexp(r"^[A-HJ-NPR-Z0-9]{17}\Z", message=VIN_MESSAGE)],
                      render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    complaint = _words("Complaint", True, "What the campaign corrects")
    correction = _words("Correction", False, "What was done")


RECALL_CLAIM_ERRORS = {
    "claim_campaign_of_oem": ("vin", "This campaign is not this vehicle's OEM's"),
    "claim_campaign_covers_vin": ("vin", "This campaign does not cover this VIN"),
    "claim_recall_campaign_done": ("vin", "The campaign is not done on this VIN: mark it done first"),
    "claim_recall_once": ("vin", "This recall is already claimed for this VIN"),
    "claim_line_oem_rate": ("vin", "The OEM has no warranty labour rate today: add it under Warranty labour rates"),
    "claim_complaint_check": ("complaint", "2 to 1,000 characters"),
    "claim_correction_check": ("correction", "2 to 1,000 characters"),
}


class ClaimWordsForm(FlaskForm):
    complaint = _words("Complaint", True, "The customer's complaint")
    cause = _words("Cause", False, "What failed and why")
    correction = _words("Correction", False, "What was done")
    reading_ids = master_api.ChecklistField("Battery readings", coerce=int, validate_choice=True)
    photo_ids = master_api.ChecklistField("Photos", coerce=int, validate_choice=True)


class ClaimLineForm(FlaskForm):
    kind = SelectField("Line", choices=choices([("LABOUR", "Labour (OEM rate x standard hours)"),
                                                ("PART", "Part (at its purchase price)")]), default="PART")
    operation_code = SelectField("Labour operation", default="")
    part_id = SelectField("Part", coerce=int, default=0)
    qty = QuantityField("Quantity", default=Decimal(1), render_kw=MONEY,
                        validators=[Optional(), NumberRange(min=Decimal("0.001"), max=Decimal(1000),
                                                            message="More than 0, at most 1,000")])
    failed_serial = StringField("Failed part's serial", filters=[strip, upper, blank_to_none],
                                validators=[Optional(), Regexp(SERIAL, message=SERIAL_MESSAGE)],
                                description="Tag the old part with it: it is kept for return to the OEM",
                                render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    replacement_serial = StringField("Replacement part's serial", filters=[strip, upper, blank_to_none],
                                     validators=[Optional(), Regexp(SERIAL, message=SERIAL_MESSAGE)],
                                     render_kw={"autocomplete": "off", "autocapitalize": "characters"})

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.kind.data == "LABOUR" and not self.operation_code.data:
            self.operation_code.errors = [*self.operation_code.errors, "Choose the labour operation"]
            ok = False
        if self.kind.data == "PART":
            if not self.part_id.data:
                self.part_id.errors = [*self.part_id.errors, "Choose the part"]
                ok = False
            if self.qty.data is None and not self.qty.errors:
                self.qty.errors = ["Give the quantity"]
                ok = False
        return ok


class SubmitForm(FlaskForm):
    oem_claim_ref = StringField("OEM's claim reference", filters=[strip, blank_to_none],
                                validators=[DataRequired("Give the reference the OEM's portal gave the claim"),
                                            Regexp(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}\Z",
                                                   message="Up to 40 letters, digits, '/', '_', '.' or '-'")],
                                render_kw={"autocomplete": "off"})
    submitted_on = DateField("Submitted on", validators=[DataRequired("Give the day it was submitted")])


class DecisionForm(FlaskForm):
    outcome = SelectField("The OEM's decision", choices=choices([("", "Choose…"), *OUTCOMES]),
                          validators=[DataRequired("Choose the OEM's decision")])
    approved_amount = AmountField("Amount approved (₹)", render_kw=MONEY,
                                  validators=[Optional(), NumberRange(min=Decimal("0.01"), message="More than 0")],
                                  description="Only when partly approved")
    decision_reason = TextAreaField("Reason given by the OEM", filters=[strip, blank_to_none],
                                    validators=[Optional(), Length(3, 500)], render_kw={"rows": 2},
                                    description="Needed when rejected or partly approved")
    decided_on = DateField("Decided on", validators=[DataRequired("Give the day of the OEM's decision")])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.outcome.data in ("REJECTED", "PARTLY_APPROVED") and not self.decision_reason.data \
                and not self.decision_reason.errors:
            self.decision_reason.errors = ["Say the reason the OEM gave"]
            ok = False
        if self.outcome.data == "PARTLY_APPROVED" and self.approved_amount.data is None and not self.approved_amount.errors:
            self.approved_amount.errors = ["Give the amount the OEM approved"]
            ok = False
        return ok


class SettleForm(FlaskForm):
    settled_amount = AmountField("Amount credited by the OEM (₹)", render_kw=MONEY,
                                 validators=[InputRequired("Give the amount credited"),
                                             NumberRange(min=Decimal(0), max=Decimal("9999999999.99"),
                                                         message="0 or more")])
    settled_on = DateField("Credited on", validators=[DataRequired("Give the day of the credit")])
    settlement_ref = StringField("Credit note / payment reference", filters=[strip, blank_to_none],
                                 validators=[Optional(), Length(1, 60)], render_kw={"autocomplete": "off"})


class ReturnForm(FlaskForm):
    returned_on = DateField("Returned on", validators=[DataRequired("Give the day it was sent")])
    return_ref = StringField("Dispatch reference", filters=[strip, blank_to_none],
                             validators=[DataRequired("Give the docket or challan number"), Length(1, 60)],
                             render_kw={"autocomplete": "off"})


class PackSwapForm(FlaskForm):
    key = KeyField()
    old_pack_id = SelectField("Failed pack (in the vehicle now)", coerce=int, default=0)
    new_serial = StringField("New pack's serial", filters=[strip, upper, blank_to_none],
                             validators=[DataRequired("Type the new pack's serial"),
                                         Regexp(PACK_SERIAL, message="4 to 40 letters, digits, '/' or '-'")],
                             render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    part_id = SelectField("Pack as claimed (spare part)", coerce=int, default=0,
                          description="The battery pack in the parts master: the claim takes its purchase price")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for f, message in ((self.old_pack_id, "Choose the failed pack"), (self.part_id, "Choose the pack's part")):
            if not f.data and not f.errors:
                f.errors = [message]
                ok = False
        return ok


class LabourRateForm(FlaskForm):
    oem_id = SelectField("OEM", coerce=int, default=0)
    rate_per_hour = AmountField("Warranty labour rate per hour (₹, before GST)", render_kw=MONEY,
                                validators=[InputRequired("Give the rate"),
                                            NumberRange(min=Decimal("0.01"), max=Decimal(100000),
                                                        message="More than 0, at most 1,00,000")])
    effective_from = DateField("From", validators=[DataRequired("Give the first day")])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not self.oem_id.data and not self.oem_id.errors:
            self.oem_id.errors = ["Choose the OEM"]
            ok = False
        return ok


class ExpectedStatus(FlaskForm):
    """The status the page was drawn in: a move made meanwhile by someone else is not made twice."""
    status = HiddenField()


CLAIM_ERRORS = {
    "claim_free_service_card": ("kind", "Free-service labour is claimed from a free-service job card"),
    "claim_job_card_not_cancelled": ("kind", "This job card was cancelled: nothing on it is claimed"),
    "claim_job_card_of_branch": ("kind", "This job card is not one of this branch's"),
    "claim_campaign_of_oem": ("campaign_id", "This campaign is not the vehicle's OEM's"),
    "claim_campaign_covers_vin": ("campaign_id", "This campaign does not cover this vehicle's VIN"),
    "claim_recall_campaign_done": ("campaign_id", "This recall is not done on this vehicle: add it to the job card, "
                                                  "or mark it done on the campaign's page"),
    "claim_recall_once": ("campaign_id", "This recall is already claimed for this vehicle"),
    "claim_recall_campaign": ("campaign_id", "A recall claim names its campaign; other claims do not"),
    "claim_job_card_or_campaign": ("kind", "A claim comes from a job card or a recall campaign"),
    "claim_line_oem_rate": ("kind", "The OEM has no warranty labour rate on this day: add it under Warranty labour rates"),
    "claim_line_job_line": ("kind", "A line of the job card cannot be claimed"),
    "claim_line_free_service_labour": ("kind", "A free-service claim is for labour only"),
    "claim_line_job_line_id_key": ("kind", "A line of the job card is already on another claim"),
    "claim_complaint_check": ("complaint", "2 to 1,000 characters"),
    "claim_cause_check": ("cause", "2 to 1,000 characters"),
    "claim_correction_check": ("correction", "2 to 1,000 characters"),
}
WORDS_ERRORS = {
    "claim_submitted_fixed": (None, "This claim is submitted: what it claims is fixed"),
    "claim_evidence_claim_draft": (None, "This claim is submitted: its evidence is fixed"),
    "claim_evidence_of_vehicle": ("reading_ids", "Evidence is this vehicle's own"),
    "claim_complaint_check": ("complaint", "2 to 1,000 characters"),
    "claim_cause_check": ("cause", "2 to 1,000 characters"),
    "claim_correction_check": ("correction", "2 to 1,000 characters"),
}
LINE_ERRORS = {
    "claim_line_claim_draft": (None, "This claim is submitted: its lines are fixed"),
    "claim_line_oem_rate": ("operation_code", "The OEM has no warranty labour rate on the day the claim was raised: "
                                              "add it under Warranty labour rates"),
    "claim_line_free_service_labour": ("kind", "A free-service claim is for labour only"),
    "claim_line_serials_differ": ("replacement_serial", "The replacement's serial is not the failed part's"),
    "claim_line_failed_serial_check": ("failed_serial", SERIAL_MESSAGE),
    "claim_line_replacement_serial_check": ("replacement_serial", SERIAL_MESSAGE),
    "claim_line_qty_check": ("qty", "More than 0, at most 1,000"),
}
MOVE_ERRORS = {
    "period_closed": ("settled_on", BOOKS_MESSAGES["period_closed"]),
    "claim_status_transition": (None, "The claim has moved on meanwhile: see its page"),
    "claim_closed_is_final": (None, "The claim is closed: it changes no more"),
    "claim_submitted_fixed": (None, "The OEM's decision is already recorded"),
    "claim_has_lines": (None, "The claim has no lines: add what is claimed first"),
    "claim_submitted_after_raised": ("submitted_on", "Not before the day the claim was raised"),
    "claim_oem_claim_ref_check": ("oem_claim_ref", "Up to 40 letters, digits, '/', '_', '.' or '-'"),
    "claim_decided_after_submitted": ("decided_on", "Not before the day the claim was submitted"),
    "claim_partly_approved_amount": ("approved_amount", "Partly approved is less than the amount claimed"),
    "claim_approved_in_full": ("approved_amount", "Approved in full is the amount claimed"),
    "claim_approved_amount_check": ("approved_amount", "0 or more"),
    "claim_reason_given": ("decision_reason", "Say the reason the OEM gave"),
    "claim_decision_reason_check": ("decision_reason", "3 to 500 characters"),
    "claim_settled_after_decided": ("settled_on", "Not before the day of the OEM's decision"),
    "claim_settled_amount_check": ("settled_amount", "0 or more"),
    "claim_settlement_ref_check": ("settlement_ref", "1 to 60 characters"),
}
RETURN_ERRORS = {
    "claim_line_returned_once": (None, "Its return to the OEM is already recorded"),
    "claim_line_returned_after_claim": ("returned_on", "A part goes back once its claim is submitted, "
                                                      "not before the day it was raised"),
    "claim_line_return_ref_check": ("return_ref", "1 to 60 characters"),
}
SWAP_ERRORS = {
    "pack_swap_card_open": (None, "The job card is closed: a pack is swapped on an open card"),
    "pack_swap_old_pack_fitted": ("old_pack_id", "This pack is not in the vehicle now"),
    "pack_swap_same_pack": ("new_serial", "The new pack is another pack than the failed one"),
    "battery_pack_serial_check": ("new_serial", "4 to 40 letters, digits, '/' or '-'"),
    "battery_fitment_current_idx": ("new_serial", "This pack is fitted in another vehicle"),
    "battery_fitment_one_vehicle_at_a_time": ("new_serial", "This pack is in another vehicle"),
    "pack_fitment_one_vehicle_at_a_time": ("new_serial", "This pack is in another vehicle"),
    "pack_fitment_current_idx": ("new_serial", "This pack is fitted in another vehicle"),
    "claim_pack_of_vehicle": ("old_pack_id", "This pack has not been in this vehicle"),
    "claim_line_pack_of_vehicle": ("old_pack_id", "This pack has not been in this vehicle"),
    "claim_line_claim_draft": (None, "The card's battery claim is submitted: raise a new one"),
}
RATE_ERRORS = {
    "labour_rate_no_overlap": ("effective_from", "The OEM has a rate from a later day: this one would overlap it"),
    "labour_rate_period": ("effective_from", "The rate in force ends before this day"),
    "labour_rate_rate_per_hour_check": ("rate_per_hour", "More than 0, at most 1,00,000"),
}
