"""The expense form, the cash closing form, the statement import and the month close/reopen forms, with
the database's refusals as messages next to their fields."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from .. import validators as v
from ..forms import AmountField, DateField, FlaskForm, KeyField, Length, blank_to_none, choices, strip, upper_or_none
from .cash_queries import DENOMINATIONS

PAYMENT_MODES = {"CASH": "Cash", "BANK": "Bank (cheque, NEFT, RTGS)", "UPI": "UPI"}
GST_RATES = ("0", "5", "12", "18", "28")


class ExpenseForm(FlaskForm):
    key = KeyField()
    bank_line_id = HiddenField()
    expense_date = DateField("Date paid", validators=[DataRequired("Enter the date")])
    head_ledger_id = SelectField("Expense head", coerce=int, validators=[DataRequired("Choose the expense head")])
    supplier_name = StringField("Supplier", filters=[strip], validators=[DataRequired("Enter the supplier's name"),
                                                                         Length(min=2, max=120)])
    supplier_gstin = StringField("Supplier's GSTIN", filters=[upper_or_none], validators=[Optional(), v.GSTIN],
                                 description="Needed for GST input; blank for an unregistered supplier",
                                 render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    bill_no = StringField("Bill no.", filters=[strip], validators=[
        DataRequired("Enter the bill number"),
        Regexp(r"^[A-Za-z0-9/_.-]{1,30}\Z", message="Up to 30 letters, digits, / _ . or -")])
    bill_date = DateField("Bill date", validators=[DataRequired("Enter the bill's date")])
    taxable = AmountField("Taxable value (₹)", validators=[
        DataRequired("Enter the amount before GST"), NumberRange(min=Decimal("0.01"), message="More than zero"),
        NumberRange(max=Decimal("99999999.99"), message="Too large")])
    gst_rate = SelectField("GST rate", choices=choices((r, f"{r}%") for r in GST_RATES), default="0")
    itc_eligible = BooleanField("GST input credit can be taken", default=True,
                                description="Untick for blocked credit (food, personal use): the GST is then part of the expense")
    payment_mode = SelectField("Paid by", choices=choices(PAYMENT_MODES.items()), default="CASH")
    bank_ledger_id = SelectField("Bank account", coerce=int, validate_choice=False)
    payment_ref = StringField("UTR / UPI / cheque ref.", filters=[upper_or_none], validators=[
        Optional(), Regexp(r"^[A-Za-z0-9/_.-]{4,40}\Z", message="4 to 40 letters, digits, / _ . or -")])
    narration = TextAreaField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=300)],
                              render_kw={"rows": 2})
    bill = FileField("Bill (photo or PDF)", description="JPEG, PNG, WebP or PDF, at most 5 MB",
                     render_kw={"accept": "image/*,application/pdf"})

    def validate(self, extra_validators=None):
        """The checks across fields: GST needs the GSTIN, a bank or UPI payment its account, UPI its reference."""
        ok = super().validate(extra_validators)
        problems = []
        if self.gst_rate.data not in (None, "0") and not self.supplier_gstin.data and not self.supplier_gstin.errors:
            problems.append((self.supplier_gstin, "GST can be recorded only with the supplier's GSTIN"))
        if self.payment_mode.data in ("BANK", "UPI") and not self.bank_ledger_id.data:
            problems.append((self.bank_ledger_id, "Choose the bank account it was paid from"))
        if self.payment_mode.data == "UPI" and not self.payment_ref.data and not self.payment_ref.errors:
            problems.append((self.payment_ref, "Enter the UPI transaction reference"))
        for field, message in problems:
            field.errors = [*field.errors, message]
        return ok and not problems


EXPENSE_MESSAGES = {
    "expense_bill_before": ("bill_date", "The bill is dated on or before the payment, and within 400 days of it"),
    "expense_bill_once_idx": ("bill_no", "This supplier's bill is already recorded"),
    "expense_gst_needs_gstin": ("supplier_gstin", "GST can be recorded only with the supplier's GSTIN"),
    "expense_gst_by_state": ("supplier_gstin", "A supplier in another state charges IGST: check the GSTIN"),
    "expense_gst_halves": ("gst_rate", "CGST and SGST are the two halves of the tax"),
    "expense_one_gst_kind": ("gst_rate", "Either CGST and SGST, or IGST"),
    "expense_tax_at_rate": ("gst_rate", "The GST does not match the rate"),
    "expense_paid_from": ("bank_ledger_id", "Choose the bank account for a bank or UPI payment, none for cash"),
    "expense_upi_reference": ("payment_ref", "Enter the UPI transaction reference"),
    "expense_head_is_expense": ("head_ledger_id", "Choose a ledger under Direct or Indirect Expenses"),
    "expense_head_ledger_id_fkey": ("head_ledger_id", "Choose a ledger under Direct or Indirect Expenses"),
    "expense_bank_of_branch": ("bank_ledger_id", "Choose one of this branch's bank accounts"),
    "expense_bank_ledger_id_fkey": ("bank_ledger_id", "Choose one of this branch's bank accounts"),
    "expense_supplier_gstin_check": ("supplier_gstin", "Not a valid GSTIN"),
    "expense_supplier_name_check": ("supplier_name", "2 to 120 characters, without < or >"),
    "expense_bill_no_check": ("bill_no", "Up to 30 letters, digits, / _ . or -"),
    "expense_taxable_check": ("taxable", "More than zero and at most 9,99,99,999.99"),
    "expense_gst_rate_check": ("gst_rate", "Choose a GST rate"),
    "expense_payment_mode_check": ("payment_mode", "Choose how it was paid"),
    "expense_payment_ref_check": ("payment_ref", "4 to 40 letters, digits, / _ . or -"),
    "expense_narration_check": ("narration", "At most 300 characters"),
    "expense_expense_date_check": ("expense_date", "Enter a date after 2000"),
    "period_closed": ("expense_date", "That date is in a month closed in the books; a manager must reopen the month first"),
    "expense_bill_checksum": ("bill", "The bill's file was damaged on the way: upload it again"),
    "expense_bill_content_type_check": ("bill", "A bill is a JPEG, PNG or WebP photo, or a PDF"),
    "expense_bill_data_check": ("bill", "A bill of at most 5 MB"),
    "expense_bill_file_name_check": ("bill", "The file's name is too long: rename it"),
    "expense_bill_sha256_check": ("bill", "The bill's file was damaged on the way: upload it again"),
    "bank_match_amount": ("taxable", "The expense's total must be the statement line's amount"),
    "bank_match_pkey": (None, "That statement line was matched meanwhile: open the reconciliation again"),
    "bank_match_voucher_once": (None, "That statement line was matched meanwhile: open the reconciliation again"),
    "expense_bill_expense_id_fkey": ("bill", "The expense was not saved: enter it again"),
    "expense_posted": (None, "The expense could not be posted to the books: enter it again"),
    "expense_expense_no_check": (None, "The expense series cannot number this one: tell the administrator"),
    "expense_expense_no_key": (None, "The expense series cannot number this one: tell the administrator"),
    "expense_created_by_fkey": (None, "Your staff record was not found: log in again"),
    "expense_bill_added_by_fkey": (None, "Your staff record was not found: log in again"),
}


def _count(label: str):
    return IntegerField(label, default=0, validators=[Optional(), NumberRange(min=0, max=100000, message="0 to 1,00,000")],
                        render_kw={"inputmode": "numeric", "autocomplete": "off", "min": 0})


class CashClosingForm(FlaskForm):
    closing_date = DateField("Day", validators=[DataRequired("Enter the day")])
    notes_2000 = _count("₹2000 notes")
    notes_500 = _count("₹500 notes")
    notes_200 = _count("₹200 notes")
    notes_100 = _count("₹100 notes")
    notes_50 = _count("₹50 notes")
    notes_20 = _count("₹20 notes")
    notes_10 = _count("₹10 notes")
    coins_20 = _count("₹20 coins")
    coins_10 = _count("₹10 coins")
    coins_5 = _count("₹5 coins")
    coins_2 = _count("₹2 coins")
    coins_1 = _count("₹1 coins")
    remark = TextAreaField("Remark", filters=[blank_to_none], validators=[Optional(), Length(min=5, max=300)],
                           description="Why the count differs from the books (needed when it does)",
                           render_kw={"rows": 2})

    def counts(self) -> dict[str, int]:
        return {name: self[name].data or 0 for name, _ in DENOMINATIONS}

    def counted(self) -> Decimal:
        return Decimal(sum((self[name].data or 0) * value for name, value in DENOMINATIONS))


CASH_CLOSING_MESSAGES = {
    "cash_closing_one_a_day": ("closing_date", "This day's cash is already closed"),
    "cash_closing_difference_explained": ("remark", "The count differs from the books: say why in the remark"),
    "cash_closing_not_future": ("closing_date", "A day is closed on or after it, never before"),
    "cash_closing_remark_check": ("remark", "5 to 300 characters"),
    "cash_closing_closing_date_check": ("closing_date", "Enter a date after 2000"),
    "period_closed": ("closing_date", "That day is in a month closed in the books; a manager must reopen it first"),
    **{f"cash_closing_{name}_check": (name, "0 to 1,00,000") for name, _ in DENOMINATIONS},
    "cash_closing_closed_by_fkey": (None, "Your staff record was not found: log in again"),
}


class StatementUploadForm(FlaskForm):
    statement = FileField("Statement file (CSV or XLSX)", render_kw={"accept": ".csv,.xlsx,.txt"})


class StatementConfirmForm(FlaskForm):
    """The preview's form: the file's rows as text, its name and checksum, and the columns chosen."""
    text = HiddenField()
    file_name = HiddenField()
    file_sha256 = HiddenField(validators=[Regexp(r"^[0-9a-f]{64}\Z", message="The file's checksum was lost: upload it again")])
    shown = HiddenField()
    confirm = HiddenField()
    bank_code = SelectField("Bank", validate_choice=False)
    col_date = SelectField("Date", validate_choice=False)
    col_narration = SelectField("Narration", validate_choice=False)
    col_ref = SelectField("Cheque / ref. no.", validate_choice=False)
    col_value_date = SelectField("Value date", validate_choice=False)
    col_withdrawal = SelectField("Withdrawal", validate_choice=False)
    col_deposit = SelectField("Deposit", validate_choice=False)
    col_balance = SelectField("Balance", validate_choice=False)


STATEMENT_MESSAGES = {
    "bank_statement_file_once": (None, "This statement file was imported already"),
    "bank_line_already_imported": (None, "Some of these lines were imported already with another statement: "
                                         "export the statement from the day after the last one imported"),
    "bank_statement_file_name_check": (None, "The file's name is too long: rename it"),
    "bank_statement_file_sha256_check": (None, "The file's checksum was lost: upload it again"),
    "bank_statement_dates": (None, "The statement's dates are not in order"),
    "bank_statement_line_count_check": (None, "The statement has no transactions"),
    "bank_line_one_side": (None, "A line is a withdrawal or a deposit, not both"),
    "bank_line_narration_check": (None, "A line's narration is empty or too long"),
    "bank_line_ref_no_check": (None, "A line's reference is too long"),
    "bank_line_txn_date_check": (None, "A line's date is before 2000"),
    "bank_line_withdrawal_check": (None, "A withdrawal is not negative"),
    "bank_line_deposit_check": (None, "A deposit is not negative"),
    "bank_line_row_no_check": (None, "A line's row number is wrong"),
    "bank_layout_bank_code_check": ("bank_code", "Choose the bank"),
    "bank_layout_date_column_check": ("col_date", "Choose the column"),
    "bank_layout_narration_column_check": ("col_narration", "Choose the column"),
    "bank_layout_ref_column_check": ("col_ref", "Choose the column"),
    "bank_layout_value_date_column_check": ("col_value_date", "Choose the column"),
    "bank_layout_withdrawal_column_check": ("col_withdrawal", "Choose the column"),
    "bank_layout_deposit_column_check": ("col_deposit", "Choose the column"),
    "bank_layout_balance_column_check": ("col_balance", "Choose the column"),
    "period_closed": (None, "A line is dated in a month closed in the books"),
    "bank_layout_ledger_id_fkey": (None, "No such bank account"),
    "bank_statement_ledger_id_fkey": (None, "No such bank account"),
    "bank_line_ledger_id_fkey": (None, "No such bank account"),
    "bank_line_statement_id_fkey": (None, "The statement was not saved: import it again"),
    "bank_layout_saved_by_fkey": (None, "Your staff record was not found: log in again"),
    "bank_statement_imported_by_fkey": (None, "Your staff record was not found: log in again"),
}

MATCH_MESSAGES = {
    "bank_match_pkey": (None, "This statement line is already matched"),
    "bank_match_voucher_once": (None, "That voucher is already matched to another statement line"),
    "bank_match_amount": (None, "That voucher does not move this amount through this bank account on the same side"),
    "bank_match_voucher_id_fkey": (None, "No such voucher"),
    "bank_match_how_check": (None, "Choose how it was matched"),
    "bank_match_line_id_fkey": (None, "No such statement line"),
    "bank_match_matched_by_fkey": (None, "Your staff record was not found: log in again"),
}


class MonthCloseForm(FlaskForm):
    branch_id = IntegerField(validators=[DataRequired("Choose the branch")])
    month = StringField(validators=[DataRequired("Choose the month"), Regexp(r"^\d{4}-\d{2}\Z", message="A month")])


class MonthReopenForm(MonthCloseForm):
    reason = TextAreaField("Reason", filters=[blank_to_none], validators=[
        DataRequired("Say why the month is reopened"), Length(min=5, max=300)], render_kw={"rows": 2})


PERIOD_MESSAGES = {
    "closed_month_pkey": ("month", "That month is closed already"),
    "closed_month_ended": ("month", "Only a month that has ended can be closed"),
    "closed_month_open": ("month", "That month is not closed"),
    "period_event_reopen_reason": ("reason", "Say why the month is reopened"),
    "period_event_reason_check": ("reason", "5 to 300 characters"),
    "closed_month_month_check": ("month", "A month"),
    "period_event_month_check": ("month", "A month"),
    "closed_month_branch_id_fkey": ("branch_id", "No such branch"),
    "period_event_branch_id_fkey": ("branch_id", "No such branch"),
    "closed_month_closed_by_fkey": (None, "Your staff record was not found: log in again"),
    "period_event_action_check": (None, "Close or reopen a month"),
}
