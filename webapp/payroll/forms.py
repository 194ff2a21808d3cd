"""Payroll forms: a new run (the month), a salary structure, a step of the run. The database holds the
rules; its refusals come back next to the field through CONSTRAINT_MESSAGES."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from ..finance import api as finance
from ..forms import AmountField, DateField, FlaskForm, Length, strip

CONSTRAINT_MESSAGES = {
    **{name: (None, message) for name, message in finance.CONSTRAINT_MESSAGES.items()},
    "payroll_run_month_closed": ("month", "HR has not closed the attendance of that month yet (Attendance sheet)."),
    "payroll_run_once_a_month": ("month", "That month already has a run: open it from the list."),
    "payroll_run_step": (None, "A run goes draft -> checked -> approved -> paid."),
    "payroll_run_has_lines": (None, "A run without anyone in it cannot be checked: enter salary structures first."),
    "voucher_source_key": (None, "This run is already approved: its salary voucher is posted."),
    "payroll_run_four_eyes": (None, "The run must be approved by someone other than the person who checked it."),
    "payroll_run_permanent": (None, "An approved run is permanent; a correction is an arrears line of a later month."),
    "payroll_run_incentives_current": (None, "Incentives changed since the run was computed: recompute it."),
    "payroll_run_settlement_current": (None, "A leaver's settlement changed since the run was computed: recompute it."),
    "incentive_month_permanent": (None, "The month's incentives are already settled by its run."),
    "payroll_line_incentive_not_negative": (None, "Someone's incentive adjustments take away more than the month's "
                                                  "documents now earn: adjust it (Incentives) and recompute."),
    "payroll_line_net_not_negative": (None, "Someone's deductions exceed their pay this month: check their loans and deductions."),
    "pay_structure_adds_up": ("monthly_gross", "Basic, DA, HRA, conveyance, special and other earnings must add up to the monthly gross."),
    "pay_structure_once_a_date": ("effective_from", "There is already a structure from that date."),
    "pay_structure_deductions_within": ("other_deductions", "Other deductions must be below the monthly gross."),
    "pay_structure_effective_from_check": ("effective_from", "A structure starts on the first of a month."),
    "pay_regime_pkey": ("fy", "The regime of that year is already chosen."),
    "pay_loan_instalment_within": ("instalment", "The instalment cannot be more than the amount."),
    "pay_loan_amount_check": ("amount", "More than zero."),
    "pay_loan_instalment_check": ("instalment", "More than zero."),
    "pay_structure_paid": (None, "An approved month was paid by this structure."),
    "pay_structure_monthly_gross_check": ("monthly_gross", "The monthly gross must be more than zero."),
    "pay_structure_basic_check": ("basic", "The basic pay must be more than zero."),
    "pay_structure_da_check": ("da", "Zero or more."),
    "pay_structure_hra_check": ("hra", "Zero or more."),
    "pay_structure_conveyance_check": ("conveyance", "Zero or more."),
    "pay_structure_special_check": ("special", "Zero or more."),
    "pay_structure_other_earnings_check": ("other_earnings", "Zero or more."),
    "pay_structure_other_deductions_check": ("other_deductions", "Zero or more."),
}


class RunForm(FlaskForm):
    month = StringField("Month", filters=[strip], validators=[DataRequired("Choose the month"), Regexp(
        r"^20[0-9]{2}-(0[1-9]|1[0-2])\Z", message="A month, e.g. 2025-09")])


class StepForm(FlaskForm):
    """A button's form: only its CSRF token."""


class StructureForm(FlaskForm):
    effective_from = DateField("From (first of a month)", validators=[DataRequired("Enter the date")])
    monthly_gross = AmountField("Monthly gross", validators=[DataRequired("Enter the monthly gross")])
    basic = AmountField("Basic", validators=[DataRequired("Enter the basic pay")])
    da = AmountField("DA", validators=[Optional()])
    hra = AmountField("HRA", validators=[Optional()])
    conveyance = AmountField("Conveyance", validators=[Optional()])
    special = AmountField("Special allowance", validators=[Optional()])
    other_earnings = AmountField("Other earnings", validators=[Optional()])
    other_deductions = AmountField("Other deductions", validators=[Optional()])


class RegimeForm(FlaskForm):
    fy = StringField("Financial year starting (YYYY)", filters=[strip], validators=[
        DataRequired("Enter the year"), Regexp(r"^20[0-9]{2}\Z", message="A year, e.g. 2025 for 2025-26")])
    regime = SelectField("Tax regime", choices=[("NEW", "New regime"), ("OLD", "Old regime")])


class LoanForm(FlaskForm):
    kind = SelectField("Kind", choices=[("ADVANCE", "Salary advance"), ("LOAN", "Loan")])
    amount = AmountField("Amount", validators=[DataRequired("Enter the amount")])
    instalment = AmountField("Monthly instalment", validators=[DataRequired("Enter the instalment")])
    first_month = StringField("First month recovered", filters=[strip], validators=[
        DataRequired("Choose the month"), Regexp(r"^20[0-9]{2}-(0[1-9]|1[0-2])\Z", message="A month, e.g. 2025-09")])
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Say what it is for"), Length(min=3, max=200)])
