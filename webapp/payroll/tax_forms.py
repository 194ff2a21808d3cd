"""Payroll tax forms: a person's declaration of the old regime's deductions, an arrears line, and a new set of
dated statutory rates (PF, ESI, a state's professional tax slabs, an income tax regime's year with its slabs, the
old regime's caps). The database holds the rules; its refusals come back next to the field through
TAX_MESSAGES."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError

from ..formatting import today_ist
from ..forms import AmountField, FlaskForm, Length, QuantityField, choices, strip

MONTH_SHAPE = r"^20[0-9]{2}-(0[1-9]|1[0-2])\Z"
YEAR_SHAPE = r"^20[0-9]{2}\Z"
MAX_AMOUNT = Decimal("9999999999.99")
SLAB_ROWS = 8

_USED = "An approved run used the rates up to that month: enter new ones from a later month."
_PCT = "A percentage from 0 to 100."
TAX_MESSAGES = {
    "pay_rate_used": ("effective_from", _USED),
    "pay_pf_rate_pkey": ("effective_from", "There are PF rates from that month already."),
    "pay_esi_rate_pkey": ("effective_from", "There are ESI rates from that month already."),
    "pay_pt_slab_pkey": ("effective_from", "The state has slabs from that month already, or two slabs start at "
                                           "the same gross."),
    "pay_pt_slab_state_code_fkey": ("state_code", "Choose a state from the list."),
    "pay_tds_regime_pkey": ("effective_from", "That regime has rates for that year already."),
    "pay_tds_slab_pkey": (None, "Two slabs start at the same income."),
    "pay_old_regime_limit_pkey": ("effective_from", "There are limits for that year already."),
    "pay_tds_regime_effective_from_check": ("effective_from", "A financial year's rates start on 1 April."),
    "pay_old_regime_limit_effective_from_check": ("effective_from", "A financial year's limits start on 1 April."),
    "pay_tax_declaration_fy_start_check": ("fy", "A financial year starts on 1 April."),
    "pay_arrears_run_open": ("paid_in", "That month's run is checked or approved: pay the arrears in a later month "
                                        "(or send a checked run back to draft first)."),
    "pay_arrears_later": ("paid_in", "Arrears are paid in a month after the month they are for."),
    "pay_arrears_amount_check": ("amount", "An amount other than zero (less than zero to recover an excess)."),
    "pay_arrears_reason_check": ("reason", "Say why, in 5 to 200 characters."),
    "pay_arrears_for_month_check": ("for_month", "A month, e.g. 2025-09."),
    "pay_arrears_paid_in_check": ("paid_in", "A month, e.g. 2025-10."),
    "pay_arrears_staff_id_fkey": ("staff_id", "Choose a person from the list."),
    "pay_tax_declaration_staff_id_fkey": (None, "Enter the person's employment details first."),
}
# Every range the forms check before the database would (mapped for the day a form lets one through).
for _table, _columns in {
    "pay_pf_rate": ("employee_pct", "eps_pct", "epf_pct", "edli_pct", "admin_pct", "wage_ceiling"),
    "pay_esi_rate": ("employee_pct", "employer_pct", "gross_limit"),
    "pay_pt_slab": ("gross_from", "monthly_tax", "february_tax"),
    "pay_tds_regime": ("standard_deduction", "rebate_income", "rebate_max", "cess_pct", "regime"),
    "pay_tds_slab": ("income_from", "rate_pct"),
    "pay_old_regime_limit": ("cap_80c", "cap_80d", "cap_24b", "rent_over_pct", "metro_pct", "other_pct"),
    "pay_tax_declaration": ("section_80c", "section_80d", "home_loan_interest", "rent_paid"),
}.items():
    for _column in _columns:
        _slab = _table in ("pay_pt_slab", "pay_tds_slab")
        TAX_MESSAGES[f"{_table}_{_column}_check"] = (
            None if _slab else _column, _PCT if _column.endswith("_pct") else "Zero or more.")


def month_of(text: str) -> date:
    year, month = (int(p) for p in text.split("-"))
    return date(year, month, 1)


def fy_start(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _month(label: str, **kwargs):
    return StringField(label, filters=[strip], render_kw={"type": "month"}, validators=[
        DataRequired("Choose the month"), Regexp(MONTH_SHAPE, message="A month, e.g. 2025-09")], **kwargs)


def _year(label: str):
    return StringField(label, filters=[strip], render_kw={"inputmode": "numeric", "autocomplete": "off"}, validators=[
        DataRequired("Enter the year"), Regexp(YEAR_SHAPE, message="A year, e.g. 2026 for 2026-27")])


def _money(label: str, required: bool = True, minimum: Decimal = Decimal(0)):
    return AmountField(label, validators=[InputRequired("Enter the amount") if required else Optional(),
                                          NumberRange(min=minimum, max=MAX_AMOUNT, message="Zero or more.")])


def _pct(label: str, required: bool = True):
    return QuantityField(label, places=2, validators=[InputRequired("Enter the percentage") if required else Optional(),
                                                      NumberRange(min=0, max=100, message=_PCT)])


# --------------------------------------------------------------------------- a person's tax


class DeclarationForm(FlaskForm):
    fy = _year("Financial year starting (YYYY)")
    section_80c = _money("80C investments (year)")
    section_80d = _money("80D health insurance (year)")
    rent_paid = _money("Rent paid (year)")
    metro = BooleanField("Lives in a metro city (HRA 50 %, else 40 %)")
    home_loan_interest = _money("Home-loan interest, 24(b) (year)")


def declaration_form_for(declarations, today: date) -> DeclarationForm:
    """The declaration form for this financial year, with what was declared for it (if anything)."""
    form = DeclarationForm(formdata=None)
    fy = fy_start(today)
    form.fy.data = str(fy.year)
    current = next((d for d in declarations if d["fy_start"] == fy), None)
    for name in ("section_80c", "section_80d", "rent_paid", "metro", "home_loan_interest"):
        getattr(form, name).data = current[name] if current else (False if name == "metro" else None)
    return form


class ArrearsForm(FlaskForm):
    staff_id = SelectField("Person", coerce=int, choices=[], validate_choice=True)
    for_month = _month("For the month of")
    paid_in = _month("Paid in the month of")
    amount = AmountField("Amount (less than zero to recover)", negative=True, validators=[
        InputRequired("Enter the amount"), NumberRange(min=-MAX_AMOUNT, max=MAX_AMOUNT)])
    reason = StringField("Reason", filters=[strip], validators=[
        DataRequired("Say why"), Length(min=5, max=200, message="Say why, in 5 to 200 characters.")])

    def validate_amount(self, field):
        if field.data == 0:
            raise ValidationError("An amount other than zero.")

    def validate_paid_in(self, field):
        if not (field.errors or self.for_month.errors) and field.data <= self.for_month.data:
            raise ValidationError("Arrears are paid in a month after the month they are for.")


# --------------------------------------------------------------------------- dated rates


class _FromMonth(FlaskForm):
    """A new rate row from a month: this month or a later one (rows from earlier months stay as they are)."""
    effective_from = _month("From the month")

    def validate_effective_from(self, field):
        if not field.errors and month_of(field.data) < today_ist().replace(day=1):
            raise ValidationError("From this month or a later one: rates of past months stay as they were.")


class _FromYear(FlaskForm):
    """A new financial year's row: this year or a later one."""
    effective_from = _year("Financial year starting (YYYY)")

    def validate_effective_from(self, field):
        if not field.errors and date(int(field.data), 4, 1) < fy_start(today_ist()):
            raise ValidationError("This financial year or a later one: past years' rates stay as they were.")


class PfRateForm(_FromMonth):
    employee_pct = _pct("Employee %")
    eps_pct = _pct("Employer: pension (EPS) %")
    epf_pct = _pct("Employer: EPF %")
    edli_pct = _pct("EDLI %")
    admin_pct = _pct("Admin charge %")
    wage_ceiling = _money("Wage ceiling (month)", minimum=Decimal("0.01"))


class EsiRateForm(_FromMonth):
    employee_pct = _pct("Employee %")
    employer_pct = _pct("Employer %")
    gross_limit = _money("Monthly gross limit", minimum=Decimal("0.01"))


class PtSlabForm(Form):
    gross_from = _money("Gross from", required=False)
    monthly_tax = _money("Tax a month", required=False)
    february_tax = _money("Tax in February", required=False)

    def is_blank(self) -> bool:
        return all(f.data is None and not f.errors for f in (self.gross_from, self.monthly_tax, self.february_tax))


class PtSlabsForm(_FromMonth):
    state_code = SelectField("State", choices=[], validate_choice=True)
    slabs = FieldList(FormField(PtSlabForm), min_entries=SLAB_ROWS, max_entries=SLAB_ROWS)

    def rows(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """The filled slabs; errors on half-filled ones and when none starts at a gross of zero."""
        out = []
        for entry in self.slabs:
            s = entry.form
            if s.is_blank():
                continue
            for f in (s.gross_from, s.monthly_tax, s.february_tax):
                if f.data is None and not f.errors:
                    f.errors = [*f.errors, "Enter it, or clear the row"]
            if not any(f.errors for f in (s.gross_from, s.monthly_tax, s.february_tax)):
                out.append((s.gross_from.data, s.monthly_tax.data, s.february_tax.data))
        if not any(f.errors for e in self.slabs for f in e.form) and not any(g == 0 for g, _, _ in out):
            self.form_errors.append("The first slab starts at a gross of 0 (with nil tax if none is due).")
        return out if not self.form_errors and not any(f.errors for e in self.slabs for f in e.form) else []


class TdsSlabForm(Form):
    income_from = _money("Income from", required=False)
    rate_pct = _pct("Rate %", required=False)

    def is_blank(self) -> bool:
        return all(f.data is None and not f.errors for f in (self.income_from, self.rate_pct))


class TdsRegimeForm(_FromYear):
    regime = SelectField("Regime", choices=choices([("NEW", "New regime"), ("OLD", "Old regime")]))
    standard_deduction = _money("Standard deduction")
    rebate_income = _money("Rebate 87A: taxable income up to")
    rebate_max = _money("Rebate 87A: at most")
    cess_pct = _pct("Health and education cess %")
    marginal_relief = BooleanField("Marginal relief just above the rebate's income")
    slabs = FieldList(FormField(TdsSlabForm), min_entries=SLAB_ROWS, max_entries=SLAB_ROWS)

    def rows(self) -> list[tuple[Decimal, Decimal]]:
        out = []
        for entry in self.slabs:
            s = entry.form
            if s.is_blank():
                continue
            for f in (s.income_from, s.rate_pct):
                if f.data is None and not f.errors:
                    f.errors = [*f.errors, "Enter it, or clear the row"]
            if not (s.income_from.errors or s.rate_pct.errors):
                out.append((s.income_from.data, s.rate_pct.data))
        if not any(f.errors for e in self.slabs for f in e.form) and not any(i == 0 for i, _ in out):
            self.form_errors.append("The first slab starts at an income of 0 (at 0 % if nil).")
        return out if not self.form_errors and not any(f.errors for e in self.slabs for f in e.form) else []


class OldRegimeLimitForm(_FromYear):
    cap_80c = _money("80C cap")
    cap_80d = _money("80D cap")
    cap_24b = _money("Home-loan interest 24(b) cap")
    rent_over_pct = _pct("HRA: rent paid less % of basic + DA")
    metro_pct = _pct("HRA: metro, % of basic + DA")
    other_pct = _pct("HRA: elsewhere, % of basic + DA")
