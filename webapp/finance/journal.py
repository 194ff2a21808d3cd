"""The manual journal and contra voucher: lines of a ledger and a debit or credit amount (a line added
with htmx), a narration and a date. PostgreSQL refuses a voucher whose debits and credits differ
(voucher_balanced, checked here before the form is answered) and one dated in a closed month
(period_closed); the message comes back next to the lines or the date, with what was typed. The form
carries an idempotency key kept in finance.voucher.idempotency_key, so a second click or a reload
finds the voucher the first one posted (webapp.submit_once)."""
from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from flask import flash, render_template, request, url_for
from flask_login import current_user
from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from ..db import get_conn
from ..documents import new_key, register_document
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import AmountField, DateField, FlaskForm, KeyField, Length, blank_to_none
from ..security import allow
from ..submit_once import earlier_redirect, post_once
from . import api, bp
from . import books_queries as q

register_document("journal", "finance.voucher", "voucher_id")

JOURNAL_ROWS = 4
MAX_ROWS = 40
JOURNAL_TYPES = {"JOURNAL": "Journal", "CONTRA": "Contra (cash and bank)"}
MAX_AMOUNT = Decimal("999999999999.99")

# What the database refuses, where the form shows it.
JOURNAL_MESSAGES = {
    "voucher_balanced": (None, "Debits and credits must be equal, on at least two lines: "
                               "the lines below do not balance."),
    "period_closed": ("voucher_date", api.CONSTRAINT_MESSAGES["period_closed"]),
    "voucher_line_one_side": (None, "Each line is either a debit or a credit."),
    "voucher_voucher_date_check": ("voucher_date", "The books start in 2000: enter a later date"),
    "voucher_line_ledger_id_fkey": (None, "A ledger chosen is no longer there: choose the ledgers again"),
}


class JournalLineForm(Form):
    ledger_id = SelectField("Ledger", choices=[], validate_choice=False)
    debit = AmountField("Debit (₹)", validators=[Optional(), NumberRange(min=Decimal("0.01"), max=MAX_AMOUNT,
                                                                         message="More than zero")])
    credit = AmountField("Credit (₹)", validators=[Optional(), NumberRange(min=Decimal("0.01"), max=MAX_AMOUNT,
                                                                           message="More than zero")])

    def is_blank(self) -> bool:
        return not self.ledger_id.data and self.debit.data is None and self.credit.data is None \
            and not (self.debit.errors or self.credit.errors)


class JournalForm(FlaskForm):
    voucher_type = SelectField("Voucher", default="JOURNAL",
                               choices=[SelectChoice(k, v) for k, v in JOURNAL_TYPES.items()])
    voucher_date = DateField("Date", validators=[DataRequired("Enter the date")])
    narration = StringField("Narration", filters=[blank_to_none],
                            validators=[Optional(), Length(max=500, message="At most 500 characters")],
                            render_kw={"autocomplete": "off"})
    lines = FieldList(FormField(JournalLineForm), min_entries=JOURNAL_ROWS, max_entries=MAX_ROWS)
    key = KeyField()

    def check_lines(self, allowed: set[str]) -> list[tuple[int, Decimal]]:
        """The filled lines as (ledger, signed amount); errors on lines that are half filled."""
        filled, ok = [], True
        for entry in self.lines:
            line = entry.form
            if line.is_blank():
                continue
            if not line.ledger_id.data or line.ledger_id.data not in allowed:
                line.ledger_id.errors = [*line.ledger_id.errors, "Choose the ledger"]
                ok = False
            if (line.debit.data is None) == (line.credit.data is None) and not (line.debit.errors or line.credit.errors):
                line.debit.errors = [*line.debit.errors, "Enter a debit or a credit, not both"]
                ok = False
            if ok and line.debit.errors + line.credit.errors == []:
                amount = line.debit.data if line.debit.data is not None else -line.credit.data
                filled.append((int(line.ledger_id.data), amount))
        if ok and len(filled) < 2:
            self.form_errors.append("A voucher has at least two lines: a debit and a credit.")
            ok = False
        return filled if ok else []


def _choices(conn, voucher_type: str) -> list:
    if voucher_type == "CONTRA":   # money moved between cash and bank, nothing else
        rows = q.ledgers_in_groups_named(conn, "Cash-in-Hand") + q.ledgers_in_groups_named(conn, "Bank Accounts")
        return [{"ledger_id": r["ledger_id"], "name": r["name"], "group_name": ""} for r in rows]
    return q.ledger_choices(conn)


def _set_choices(form: JournalForm, ledgers) -> None:
    options = [SelectChoice("", "Choose…")] + [
        SelectChoice(str(r["ledger_id"]), r["name"] + (f" ({r['group_name']})" if r["group_name"] else ""))
        for r in ledgers]
    for entry in form.lines:
        entry.form.ledger_id.choices = options


def post_journal(conn, *, branch_id: int, voucher_type: str, on, narration: str | None, key: str,
                 lines: list[tuple[int, Decimal]]) -> int:
    """Post the voucher with the form's key and its lines, numbered in its series (JV, CV), and have
    PostgreSQL check now that it balances (the check is otherwise at commit)."""
    vid = conn.execute(sa.text(
        """INSERT INTO finance.voucher (branch_id, voucher_type, voucher_date, narration, idempotency_key)
           VALUES (:b, :t, :on, :narration, :key) RETURNING voucher_id"""),
        {"b": branch_id, "t": voucher_type, "on": on, "narration": narration, "key": key}).scalar_one()
    conn.execute(sa.text(
        """INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit, credit)
           SELECT :v, ord, (e ->> 'ledger_id')::integer, greatest((e ->> 'amount')::numeric, 0),
                  greatest(-(e ->> 'amount')::numeric, 0)
             FROM jsonb_array_elements(CAST(:lines AS jsonb)) WITH ORDINALITY AS x (e, ord)"""),
        {"v": vid, "lines": json.dumps([{"ledger_id": ledger, "amount": str(amount)} for ledger, amount in lines])})
    conn.execute(sa.text("SET CONSTRAINTS finance.voucher_balanced IMMEDIATE"))
    return vid


@bp.route("/journal/new", methods=["GET", "POST"])
@allow("voucher.post")
def journal_new():
    """A journal or contra voucher keyed in at the user's branch."""
    conn = get_conn()
    resent = earlier_redirect(conn, "journal", request.form.get("key"), "finance.voucher_detail", "voucher_id")
    if resent:
        return resent
    form = JournalForm()
    if request.method == "GET":
        form.voucher_date.data = today_ist()
        form.key.data = new_key()
        if request.args.get("type") in JOURNAL_TYPES:
            form.voucher_type.data = request.args["type"]
    voucher_type = form.voucher_type.data if form.voucher_type.data in JOURNAL_TYPES else "JOURNAL"
    ledgers = _choices(conn, voucher_type)
    _set_choices(form, ledgers)
    if form.validate_on_submit():
        lines = form.check_lines({str(r["ledger_id"]) for r in ledgers})
        if lines:
            try:
                voucher_id, saved = post_once(conn, form, "journal", JOURNAL_MESSAGES, lambda: post_journal(
                    conn, branch_id=current_user.branch_id, voucher_type=voucher_type, on=form.voucher_date.data,
                    narration=form.narration.data, key=form.key.data, lines=lines))
            finally:   # the balance of any later voucher in this request is again checked at commit
                conn.execute(sa.text("SET CONSTRAINTS finance.voucher_balanced DEFERRED"))
            if saved:
                flash("Voucher posted.", "success")
                return redirect_response(url_for("finance.voucher_detail", voucher_id=voucher_id))
    debit = sum((e.form.debit.data or 0 for e in form.lines), Decimal(0))
    credit = sum((e.form.credit.data or 0 for e in form.lines), Decimal(0))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/journal.html", form=form, types=JOURNAL_TYPES, debit=debit, credit=credit,
                           next_index=len(form.lines)), status


@bp.get("/journal/line")
@allow("voucher.post")
def journal_line():
    """One more empty line for the journal form (htmx), numbered after the last one."""
    conn = get_conn()
    raw = request.args.get("n", "")
    index = int(raw) if raw.isdigit() and int(raw) < MAX_ROWS else None
    voucher_type = request.args.get("voucher_type") if request.args.get("voucher_type") in JOURNAL_TYPES else "JOURNAL"
    form = JournalForm(formdata=None)
    if index is None:
        return render_template("finance/books/_journal_line.html", entry=None, index=MAX_ROWS)
    while len(form.lines) <= index:
        form.lines.append_entry()
    _set_choices(form, _choices(conn, voucher_type))
    return render_template("finance/books/_journal_line.html", entry=form.lines[index], index=index)
