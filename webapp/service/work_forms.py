"""Forms for the work on a job card: a line of the estimate, the customer's approval, an issue or
return of parts, a parts request's next status. The database holds the rules
(sql/0027_service_parts.sql, sql/functions/91_service.sql); WORK_MESSAGES puts its refusals next
to the fields."""
from __future__ import annotations

from decimal import Decimal

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from ..forms import AmountField, FlaskForm, KeyField, Length, QuantityField, blank_to_none, choices, strip

COVERAGES = [("CUSTOMER", "Customer pays"), ("WARRANTY", "Warranty (OEM)"), ("FREE_SERVICE", "Free service (OEM)"),
             ("RECALL", "Recall (OEM)"), ("GOODWILL", "Goodwill (showroom)")]
COVERAGE_LABELS = dict(COVERAGES)
STATUS_LABELS = {"PROPOSED": "Proposed", "APPROVED": "Approved", "DONE": "Done", "DECLINED": "Declined"}
MODES = [("IN_PERSON", "In person"), ("PHONE", "By phone")]
MODE_LABELS = dict(MODES)
REQUEST_STATUS_LABELS = {"OPEN": "Open", "ORDERED": "Ordered", "RECEIVED": "Received", "CANCELLED": "Cancelled"}
# The moves purchasing (or the counter) makes on a request, and the button for each.
REQUEST_MOVES = {"OPEN": [("ORDERED", "Ordered"), ("CANCELLED", "Cancel")],
                 "ORDERED": [("RECEIVED", "Received"), ("CANCELLED", "Cancel")]}
MAX_QTY = Decimal(10000)


class LineForm(FlaskForm):
    """A labour operation or a part; blank quantity and price take the master's (standard hours
    and rate; one at the part's MRP)."""
    operation_code = SelectField("Labour operation", validators=[Optional()])
    part_id = SelectField("Part", coerce=int, validators=[Optional()])
    description = StringField("Description", filters=[strip, blank_to_none], validators=[Optional(), Length(max=300)],
                              description="Blank: the operation's or part's name")
    qty = QuantityField("Quantity (hours for labour)", validators=[
        Optional(), NumberRange(Decimal("0.001"), MAX_QTY, "More than 0, at most 10,000")],
        description="Blank: the standard hours, or 1 part")
    unit_price = AmountField("Unit price (₹)", validators=[Optional(), NumberRange(Decimal(0), None, "Not below 0")],
                             description="Blank: the labour rate, or the part's MRP")
    price_includes_gst = SelectField("GST", choices=choices([("", "As priced (labour plus GST, parts at MRP)"),
                                                            ("no", "GST extra"), ("yes", "GST included")]),
                                     validators=[Optional()])
    coverage = SelectField("Who pays", choices=choices(COVERAGES), default="CUSTOMER", validators=[DataRequired()])
    technician_id = SelectField("Technician", coerce=int, validators=[Optional()])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.operation_code.data and not self.part_id.data:
            self.operation_code.errors = [*self.operation_code.errors, "Choose a labour operation or a part"]
            valid = False
        elif self.operation_code.data and self.part_id.data:
            self.part_id.errors = [*self.part_id.errors, "One line is a labour operation or a part, not both"]
            valid = False
        return valid


class ApprovalForm(FlaskForm):
    approved_by_name = StringField("Approved by (the customer's name)", filters=[strip, blank_to_none],
                                   validators=[DataRequired("Who approved it?"), Length(min=2, max=120)])
    mode = SelectField("How", choices=choices(MODES), validators=[DataRequired("In person or by phone?")])
    amount = AmountField("Amount approved, GST included (₹)", validators=[
        InputRequired("Enter the amount the customer approved"), NumberRange(Decimal(0), None, "Not below 0")])
    key = KeyField()


class IssueForm(FlaskForm):
    """One issue (or return) of a part line's part."""
    job_line_id = IntegerField(validators=[DataRequired("Choose the line")])
    qty = QuantityField("Quantity", validators=[InputRequired("Enter the quantity"),
                                                NumberRange(Decimal("0.001"), MAX_QTY, "More than 0, at most 10,000")])
    key = KeyField()


class RequestStatusForm(FlaskForm):
    from_status = StringField(validators=[DataRequired(), Length(max=20)])
    to_status = SelectField(choices=choices([(s, s) for s in REQUEST_STATUS_LABELS]), validators=[DataRequired()])


LINE_MESSAGES = {
    "job_line_card_open": (None, "This job card is closed: its work does not change"),
    "job_line_labour_or_part": ("operation_code", "Choose a labour operation or a part"),
    "job_line_qty_check": ("qty", "More than 0, at most 10,000"),
    "job_line_unit_price_check": ("unit_price", "Not below 0"),
    "job_line_description_check": ("description", "1 to 300 characters"),
    "job_line_coverage_check": ("coverage", "Choose who pays from the list"),
    "job_line_operation_code_fkey": ("operation_code", "Choose the operation from the list"),
    "job_line_part_id_fkey": ("part_id", "Choose the part from the list"),
    "job_line_technician_id_fkey": ("technician_id", "Choose the technician from the list"),
    "job_line_technician": ("technician_id", "Choose a technician of this branch"),
    "stock_move_whole_units": ("qty", "This part is counted in whole units"),
    "job_line_approved_fixed": (None, "An approved line keeps what the customer approved: decline it instead"),
    "job_line_return_before_decline": (None, "Parts of this line are issued: return them first"),
    "job_line_issued_within": ("qty", "Not below what is already issued"),
    "part_issue_job_line_id_fkey": (None, "Parts of this line were issued: return them and decline it"),
    "job_line_done_parts_issued": (None, "Issue the part before marking the line done"),
    "job_line_approved": (None, "The customer has not approved this work yet"),
    # Warranty cover on the day the card was opened at its odometer (sql/0028_service_bill.sql).
    "job_line_warranty_expired_by_date": ("coverage", "Warranty expired by date before this visit: the customer pays"),
    "job_line_warranty_expired_by_km": ("coverage", "Warranty expired by km (the odometer is past its limit): the "
                                                    "customer pays"),
    "job_line_warranty_none": ("coverage", "No warranty covers this (no warranty term, or not started): the "
                                           "customer pays"),
    "job_line_card_billed": (None, "This job card is billed: its work does not change"),
}

APPROVAL_MESSAGES = {
    "job_approval_needs_lines": (None, "There is no proposed work to approve: add the lines of the estimate first"),
    "job_approval_card_open": (None, "This job card is closed: it takes no approval"),
    "job_approval_approved_by_name_check": ("approved_by_name", "2 to 120 characters"),
    "job_approval_amount_check": ("amount", "Not below 0"),
    "job_approval_mode_check": ("mode", "In person or by phone"),
    "job_card_work_not_approved": (None, "Some customer-paid work is still not approved"),
    "job_card_state_transition": (None, "The card cannot move there from where it is now"),
    "job_card_parts_out": (None, "Parts are issued to this card: return them to stock before cancelling it"),
}

ISSUE_MESSAGES = {
    "part_stock_not_negative": ("qty", "Not that many in stock"),
    "part_issue_card_open": (None, "This job card is closed: parts are not issued to it or returned from it"),
    "part_issue_part_line": ("job_line_id", "Choose a part line of this job card"),
    "part_issue_line_approved": ("qty", "The customer has not approved this line yet: record the approval first"),
    "part_issue_beyond_line": ("qty", "More than the line's quantity: add a line for the rest (the customer "
                                      "approves it)"),
    "part_issue_return_within_issued": ("qty", "More than is issued to this line"),
    "part_issue_qty_check": ("qty", "More than 0, at most 10,000"),
    "stock_move_whole_units": ("qty", "This part is counted in whole units"),
    "job_line_done_parts_issued": ("qty", "The line is done: its part stays issued"),
    "job_line_issued_within": ("qty", "More than the line's quantity"),
}

REQUEST_MESSAGES = {
    "parts_request_status_move": (None, "The request cannot move there from where it is now"),
    "parts_request_card_open": (None, "This job card is closed: no parts are requested for it"),
    "parts_request_part_line": (None, "Choose a part line of this job card"),
    "parts_request_one_per_line_idx": (None, "This line already has a parts request in hand"),
    "parts_request_fixed": (None, "A parts request keeps what was asked for"),
    "parts_request_qty_check": (None, "More than 0, at most 10,000"),
}

WORK_MESSAGES = {**LINE_MESSAGES, **APPROVAL_MESSAGES, **ISSUE_MESSAGES, **REQUEST_MESSAGES}
