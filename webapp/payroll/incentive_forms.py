"""Incentive and settlement forms: a rule with up to four slabs, its end, a manager's adjustment, the month to
compute, a leaver's notice shortfall. The database holds the rules; its refusals come back next to the field
through INCENTIVE_MESSAGES."""
from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Optional

from ..forms import AmountField, DateField, FlaskForm, Length, period_check, strip
from .incentive_queries import KINDS

SLAB_ROWS = 4

INCENTIVE_MESSAGES = {
    "incentive_rule_no_overlap": ("valid_from", "This role already has a rule of this kind (and model) in force "
                                                "on some of these dates: end that one first."),
    "incentive_rule_amount": ("amount", "A per-document rule has an amount; a service-revenue rule has slabs instead."),
    "incentive_rule_slab_any_model": ("model_id", "Service revenue is counted for every model: leave the model empty."),
    "incentive_rule_dates": ("valid_to", "The end is before the start."),
    "incentive_rule_amount_not_negative": ("amount", "Zero or more."),
    "incentive_rule_permanent": (None, "A rule's terms do not change: end it and enter a new one."),
    "incentive_rule_end_after_paid": ("valid_to", "The rule paid a checked or approved month after that day."),
    "incentive_slab_pct_or_fixed": (None, "Each slab has either a percentage or a fixed amount, not both."),
    "incentive_slab_pct_range": (None, "A slab's percentage is between 0 and 100."),
    "incentive_slab_fixed_not_negative": (None, "A slab's fixed amount is zero or more."),
    "incentive_slab_from_not_negative": (None, "A slab starts at zero or more."),
    "incentive_slab_pkey": (None, "Two slabs start at the same revenue."),
    "incentive_slab_used": (None, "The rule has paid incentives: its slabs stay."),
    "incentive_month_permanent": (None, "The month's payroll run is checked or approved: its incentives no longer "
                                        "change (send a checked run back to draft first)."),
    "incentive_adjustment_by_manager": (None, "Only a manager or an administrator adjusts an incentive."),
    "incentive_adjustment_not_own": (None, "Nobody adjusts their own incentive."),
    "incentive_adjustment_branch": (None, "That person is not of this branch."),
    "incentive_adjustment_within": ("amount", "That takes away more than the month's incentive."),
    "incentive_adjustment_not_zero": ("amount", "An adjustment is more or less than zero."),
    "incentive_adjustment_reason": ("reason", "Say why, in 5 to 200 characters."),
    "notice_shortfall_days": ("days", "Between 0.5 and 180 days."),
    "notice_shortfall_reason": ("reason", "Say why, in 5 to 200 characters."),
    "notice_shortfall_settled": (None, "The settlement is already checked or approved."),
}


class RuleForm(FlaskForm):
    role_code = SelectField("Role", validators=[DataRequired("Choose the role")])
    kind = SelectField("Pays", choices=list(KINDS.items()))
    model_id = SelectField("Model (empty: any)", validators=[Optional()])
    amount = AmountField("Amount per document", validators=[Optional()],
                         description="Per vehicle, finance case or policy; empty for service revenue slabs")
    valid_from = DateField("From", validators=[DataRequired("Enter the first day")])
    valid_to = DateField("Until (empty: until further notice)", validators=[Optional()])
    note = StringField("Note", filters=[strip], validators=[Optional(), Length(max=200)])
    slab_from_1 = AmountField("Revenue from", validators=[Optional()])
    slab_pct_1 = AmountField("%", validators=[Optional()])
    slab_fixed_1 = AmountField("or fixed", validators=[Optional()])
    slab_from_2 = AmountField("Revenue from", validators=[Optional()])
    slab_pct_2 = AmountField("%", validators=[Optional()])
    slab_fixed_2 = AmountField("or fixed", validators=[Optional()])
    slab_from_3 = AmountField("Revenue from", validators=[Optional()])
    slab_pct_3 = AmountField("%", validators=[Optional()])
    slab_fixed_3 = AmountField("or fixed", validators=[Optional()])
    slab_from_4 = AmountField("Revenue from", validators=[Optional()])
    slab_pct_4 = AmountField("%", validators=[Optional()])
    slab_fixed_4 = AmountField("or fixed", validators=[Optional()])

    def slab_rows(self):
        return [(getattr(self, f"slab_from_{n}"), getattr(self, f"slab_pct_{n}"), getattr(self, f"slab_fixed_{n}"))
                for n in range(1, SLAB_ROWS + 1)]

    def slabs(self):
        """(from, pct, fixed) of the rows filled in (a row with a percentage or an amount and no start: from 0)."""
        return [(f.data or 0, p.data, x.data) for f, p, x in self.slab_rows()
                if f.data is not None or p.data is not None or x.data is not None]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators) and period_check(self, "valid_from", "valid_to")
        if ok and self.kind.data == "SERVICE_REVENUE_SLAB" and not self.slabs():
            self.slab_from_1.errors.append("Enter at least one slab")
            ok = False
        if ok and self.kind.data != "SERVICE_REVENUE_SLAB" and self.amount.data is None:
            self.amount.errors.append("Enter the amount per document")
            ok = False
        return ok


class EndRuleForm(FlaskForm):
    rule_id = SelectField("Rule", validators=[DataRequired("Choose the rule")])
    valid_to = DateField("Last day", validators=[DataRequired("Enter the last day")])


class AdjustForm(FlaskForm):
    amount = AmountField("Amount (minus to take away)", negative=True, validators=[DataRequired("Enter the amount")])
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Say why"), Length(min=5, max=200)])


class ComputeForm(FlaskForm):
    """The month's button: only its CSRF token (the month is in the address)."""


class NoticeForm(FlaskForm):
    days = AmountField("Notice not served (days)", places=1, validators=[DataRequired("Enter the days")])
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Say why"), Length(min=5, max=200)])
