"""The chart of accounts: the groups as a tree with their ledgers and balances (the financial year to
date), a ledger added or edited (name, group, opening balance Dr / Cr, GSTIN, active), a sub-group
added or edited, and the company's bank accounts (bank, account number, IFSC, the one that takes a
branch's receipts). Tally's own groups and the ledgers the postings name keep their name and place:
PostgreSQL refuses the change (account_group_system, ledger_system in
sql/functions/95_finance_reports.sql) and the form says so."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import flash, render_template, request, url_for
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import AmountField, FlaskForm, Length, save_or_field_error, strip, upper_or_none
from ..pages import found_or_404
from ..security import allow
from ..validators import is_gstin, is_ifsc
from . import books_queries as q
from . import bp

LEDGER_MESSAGES = {
    "ledger_name_key": ("name", "Another ledger already has this name (a customer's ledger of another branch "
                                "counts too): choose another"),
    "ledger_name_check": ("name", "2 to 120 characters, without < or >"),
    "ledger_gstin_check": ("gstin", "Not a valid GSTIN: check the 15 characters and the last one"),
    "ledger_system": (None, "This ledger is one the postings use: its name and group stay as they are, and it "
                            "stays active (the opening balance and GSTIN may change)."),
    "ledger_group_id_fkey": ("group_id", "Choose a group from the list"),
}
GROUP_MESSAGES = {
    "account_group_name_key": ("name", "Another group already has this name"),
    "account_group_name_check": ("name", "2 to 60 characters"),
    "account_group_system": (None, "This group is one of Tally's own: its name and place stay as they are."),
    "account_group_not_own_parent": ("parent_id", "A group cannot sit under itself or one of its own sub-groups"),
    "account_group_user_has_parent": ("parent_id", "Choose the group this one sits under"),
    "account_group_parent_id_fkey": ("parent_id", "Choose a group from the list"),
}
BANK_MESSAGES = {
    "bank_account_number_key": ("account_no", "This account number and IFSC are already recorded"),
    "bank_account_account_no_check": ("account_no", "9 to 18 digits, as on the cheque book"),
    "bank_account_ifsc_check": ("ifsc", "Not an IFSC: 4 letters, 0, then 6 letters or digits"),
    "bank_account_bank_name_check": ("bank_name", "2 to 80 characters"),
    "bank_account_receipts_key": ("takes_receipts", "Another account of this branch was just made the one that takes "
                                                    "its receipts: save again to move them here"),
    **LEDGER_MESSAGES,
}
SIDES = [SelectChoice("DR", "Dr"), SelectChoice("CR", "Cr")]


def _gstin(_form, field):
    if field.data and not is_gstin(field.data):
        raise ValidationError("Not a valid GSTIN: check the 15 characters and the last one")


class LedgerForm(FlaskForm):
    name = StringField("Ledger name", filters=[strip], validators=[DataRequired("Enter the name"),
                                                                   Length(min=2, max=120)])
    group_id = SelectField("Under group", validators=[DataRequired("Choose the group")], validate_choice=True)
    opening_balance = AmountField("Opening balance (₹)", validators=[Optional(), NumberRange(
        max=Decimal("999999999999.99"), message="Too large")])
    opening_side = SelectField("Dr / Cr", choices=SIDES, default="DR")
    gstin = StringField("GSTIN", filters=[upper_or_none], validators=[Optional(), _gstin],
                        render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    is_active = BooleanField("Active", default=True)

    def signed_opening(self) -> Decimal:
        amount = self.opening_balance.data or Decimal("0")
        return -amount if self.opening_side.data == "CR" else amount


class GroupForm(FlaskForm):
    name = StringField("Group name", filters=[strip], validators=[DataRequired("Enter the name"),
                                                                  Length(min=2, max=60)])
    parent_id = SelectField("Under group", validators=[DataRequired("Choose the group it sits under")],
                            validate_choice=True)


def _account_no(_form, field):
    if field.data and not (field.data.isdigit() and 9 <= len(field.data) <= 18):
        raise ValidationError("9 to 18 digits, as on the cheque book")


def _ifsc(_form, field):
    if field.data and not is_ifsc(field.data):
        raise ValidationError("Not an IFSC: 4 letters, 0, then 6 letters or digits")


class BankAccountForm(FlaskForm):
    name = StringField("Ledger name", filters=[strip], validators=[DataRequired("Enter the ledger's name"),
                                                                   Length(min=2, max=120)],
                       description="How the books name it, e.g. HDFC Bank Indiranagar")
    bank_name = StringField("Bank", filters=[strip], validators=[DataRequired("Enter the bank"), Length(min=2, max=80)])
    account_no = StringField("Account number", filters=[strip], validators=[DataRequired("Enter the account number"),
                                                                             _account_no],
                             render_kw={"inputmode": "numeric", "autocomplete": "off"})
    ifsc = StringField("IFSC", filters=[upper_or_none], validators=[DataRequired("Enter the IFSC"), _ifsc],
                       render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    branch_id = SelectField("Branch", validators=[DataRequired("Choose the branch")], validate_choice=True)
    takes_receipts = BooleanField("The branch's receipts by UPI, card, cheque and transfer go to this account")
    opening_balance = LedgerForm.opening_balance
    opening_side = LedgerForm.opening_side

    signed_opening = LedgerForm.signed_opening


# --------------------------------------------------------------------------- queries (the chart's own)


def _group_choices(conn, exclude: int | None = None) -> list[SelectChoice]:
    tree = q.group_tree(q.groups(conn), {})
    skip = set()
    if exclude:
        node = next((n for n in q.walk(tree) if n.group_id == exclude), None)
        skip = set(q.subtree_ids(node)) if node else set()
    return [SelectChoice("", "Choose…")] + [SelectChoice(str(n.group_id), "· " * n.depth + n.name)
                                            for n in q.walk(tree) if n.group_id not in skip]


def _ledger_values(form: LedgerForm | BankAccountForm, group_id: int) -> dict:
    return {"name": form.name.data, "group": group_id, "opening": form.signed_opening(),
            "gstin": getattr(form, "gstin", None) and form.gstin.data,
            "active": form.is_active.data if hasattr(form, "is_active") else True}


def _insert_ledger(conn, v: dict) -> int:
    return conn.execute(sa.text(
        """INSERT INTO finance.ledger (name, group_id, opening_balance, gstin, is_active)
           VALUES (:name, :group, :opening, :gstin, :active) RETURNING ledger_id"""), v).scalar_one()


def _update_ledger(conn, ledger_id: int, v: dict) -> None:
    conn.execute(sa.text(
        """UPDATE finance.ledger SET name = :name, group_id = :group, opening_balance = :opening, gstin = :gstin,
                  is_active = :active WHERE ledger_id = :id"""), {**v, "id": ledger_id})


def _bank_group(conn) -> int:
    return conn.execute(sa.text("SELECT group_id FROM finance.account_group WHERE name = 'Bank Accounts' AND is_system")
                        ).scalar_one()


# --------------------------------------------------------------------------- the chart


@bp.get("/accounts")
@allow("accounts.setup")
def chart_of_accounts():
    """The groups as a tree, each with its ledgers (party ledgers counted, reached through the trial
    balance's drill-down) and their balances for the financial year to date."""
    conn = get_conn()
    today = today_ist()
    start = q.fy_start(today)
    roots = q.group_tree(q.groups(conn), q.balances_by_group(conn, start, today, None))
    ledgers = conn.execute(sa.text(
        """SELECT l.ledger_id, l.name, l.group_id, l.system_key, l.gstin, l.is_active,
                  coalesce(t.opening, 0) + coalesce(t.debit, 0) - coalesce(t.credit, 0) AS closing
             FROM finance.ledger l
             LEFT JOIN finance.ledger_totals(:from, :to, NULL) t ON t.ledger_id = l.ledger_id
            WHERE l.customer_id IS NULL AND l.oem_id IS NULL AND l.financier_id IS NULL AND l.insurer_id IS NULL
            ORDER BY lower(l.name)"""), {"from": start, "to": today}).mappings().all()
    parties = dict(conn.execute(sa.text(
        """SELECT group_id, count(*) FROM finance.ledger
            WHERE num_nonnulls(customer_id, oem_id, financier_id, insurer_id) = 1 GROUP BY group_id""")).all())
    by_group: dict[int, list] = {}
    for led in ledgers:
        by_group.setdefault(led["group_id"], []).append(led)
    banks = conn.execute(sa.text(
        """SELECT ba.*, l.name, b.branch_code FROM finance.bank_account ba JOIN finance.ledger l USING (ledger_id)
             JOIN master.branch b ON b.branch_id = ba.branch_id ORDER BY b.branch_code, l.name""")).mappings().all()
    return render_template("finance/books/chart.html", nodes=list(q.walk(roots)), by_group=by_group, parties=parties,
                           banks=banks, start=start, today=today)


# --------------------------------------------------------------------------- ledgers


@bp.route("/accounts/ledgers/new", methods=["GET", "POST"])
@allow("accounts.setup")
def ledger_new():
    conn = get_conn()
    form = LedgerForm(data={"group_id": request.args.get("group", "")} if request.method == "GET" else None)
    form.group_id.choices = _group_choices(conn)
    if form.validate_on_submit():
        ledger_id, saved = save_or_field_error(conn, form, LEDGER_MESSAGES, lambda: _insert_ledger(
            conn, _ledger_values(form, int(form.group_id.data))))
        if saved:
            flash(f"Ledger {form.name.data} added.", "success")
            return redirect_response(url_for("finance.chart_of_accounts"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/ledger_form.html", form=form, ledger=None), status


@bp.route("/accounts/ledgers/<int:ledger_id>/edit", methods=["GET", "POST"])
@allow("accounts.setup")
def ledger_edit(ledger_id: int):
    conn = get_conn()
    led = found_or_404(q.ledger(conn, ledger_id))
    data = None
    if request.method == "GET":
        opening = led["opening_balance"]
        data = {"name": led["name"], "group_id": str(led["group_id"]), "opening_balance": abs(opening),
                "opening_side": "CR" if opening < 0 else "DR", "gstin": led["gstin"], "is_active": led["is_active"]}
    form = LedgerForm(data=data)
    form.group_id.choices = _group_choices(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, LEDGER_MESSAGES, lambda: _update_ledger(
            conn, ledger_id, _ledger_values(form, int(form.group_id.data))))
        if saved:
            flash(f"Ledger {form.name.data} saved.", "success")
            return redirect_response(url_for("finance.ledger_account", ledger_id=ledger_id))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/ledger_form.html", form=form, ledger=led), status


# --------------------------------------------------------------------------- groups


def _group_or_404(conn, group_id: int):
    return found_or_404(conn.execute(sa.text("SELECT * FROM finance.account_group WHERE group_id = :id"),
                                     {"id": group_id}).mappings().first())


@bp.route("/accounts/groups/new", methods=["GET", "POST"])
@allow("accounts.setup")
def group_new():
    conn = get_conn()
    form = GroupForm(data={"parent_id": request.args.get("parent", "")} if request.method == "GET" else None)
    form.parent_id.choices = _group_choices(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, GROUP_MESSAGES, lambda: conn.execute(sa.text(
            """INSERT INTO finance.account_group (name, parent_id, nature)
               SELECT :name, group_id, nature FROM finance.account_group WHERE group_id = :parent"""),
            {"name": form.name.data, "parent": int(form.parent_id.data)}))
        if saved:
            flash(f"Group {form.name.data} added.", "success")
            return redirect_response(url_for("finance.chart_of_accounts"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/group_form.html", form=form, group=None), status


@bp.route("/accounts/groups/<int:group_id>/edit", methods=["GET", "POST"])
@allow("accounts.setup")
def group_edit(group_id: int):
    conn = get_conn()
    group = _group_or_404(conn, group_id)
    form = GroupForm(data={"name": group["name"], "parent_id": str(group["parent_id"] or "")}
                     if request.method == "GET" else None)
    form.parent_id.choices = _group_choices(conn, exclude=group_id)
    if group["parent_id"] is None:   # one of Tally's primary groups: it stays at the top
        form.parent_id.choices = [SelectChoice("", "(a primary group)")]
        form.parent_id.validators = [Optional()]
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, GROUP_MESSAGES, lambda: conn.execute(sa.text(
            """UPDATE finance.account_group SET name = :name, parent_id = CAST(:parent AS integer)
                WHERE group_id = :id"""),
            {"name": form.name.data, "parent": int(form.parent_id.data) if form.parent_id.data else None,
             "id": group_id}))
        if saved:
            flash(f"Group {form.name.data} saved.", "success")
            return redirect_response(url_for("finance.chart_of_accounts"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/group_form.html", form=form, group=group), status


# --------------------------------------------------------------------------- bank accounts


def _save_bank(conn, form: BankAccountForm, ledger_id: int | None) -> int:
    values = {**_ledger_values(form, _bank_group(conn)), "gstin": None, "active": True}
    branch_id = int(form.branch_id.data)
    if form.takes_receipts.data:   # the branch's receipts move to this account
        conn.execute(sa.text("UPDATE finance.bank_account SET takes_receipts = false "
                             "WHERE branch_id = :b AND takes_receipts AND ledger_id IS DISTINCT FROM :id"),
                     {"b": branch_id, "id": ledger_id})
    if ledger_id is None:
        ledger_id = _insert_ledger(conn, values)
        conn.execute(sa.text(
            """INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, takes_receipts)
               VALUES (:id, :b, :bank, :no, :ifsc, :takes)"""),
            {"id": ledger_id, "b": branch_id, "bank": form.bank_name.data, "no": form.account_no.data,
             "ifsc": form.ifsc.data, "takes": form.takes_receipts.data})
        return ledger_id
    led = q.ledger(conn, ledger_id)
    _update_ledger(conn, ledger_id, {**values, "group": led["group_id"]})
    conn.execute(sa.text(
        """UPDATE finance.bank_account SET branch_id = :b, bank_name = :bank, account_no = :no, ifsc = :ifsc,
                  takes_receipts = :takes WHERE ledger_id = :id"""),
        {"id": ledger_id, "b": branch_id, "bank": form.bank_name.data, "no": form.account_no.data,
         "ifsc": form.ifsc.data, "takes": form.takes_receipts.data})
    return ledger_id


def _branch_choices(conn) -> list[SelectChoice]:
    return [SelectChoice("", "Choose…")] + [SelectChoice(str(b["branch_id"]), f"{b['branch_code']} {b['name']}")
                                            for b in q.visible_branches(conn)]


@bp.route("/accounts/banks/new", methods=["GET", "POST"])
@allow("accounts.setup")
def bank_account_new():
    conn = get_conn()
    form = BankAccountForm()
    form.branch_id.choices = _branch_choices(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, BANK_MESSAGES, lambda: _save_bank(conn, form, None))
        if saved:
            flash(f"Bank account {form.name.data} added.", "success")
            return redirect_response(url_for("finance.chart_of_accounts"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/bank_form.html", form=form, bank=None), status


@bp.route("/accounts/banks/<int:bank_ledger_id>/edit", methods=["GET", "POST"])
@allow("accounts.setup")
def bank_account_edit(bank_ledger_id: int):
    conn = get_conn()
    bank = found_or_404(conn.execute(sa.text(
        """SELECT ba.*, l.name, l.opening_balance FROM finance.bank_account ba JOIN finance.ledger l USING (ledger_id)
            WHERE ba.ledger_id = :id"""), {"id": bank_ledger_id}).mappings().first())
    data = None
    if request.method == "GET":
        data = {**bank, "branch_id": str(bank["branch_id"]), "opening_balance": abs(bank["opening_balance"]),
                "opening_side": "CR" if bank["opening_balance"] < 0 else "DR"}
    form = BankAccountForm(data=data)
    form.branch_id.choices = _branch_choices(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, BANK_MESSAGES, lambda: _save_bank(conn, form, bank_ledger_id))
        if saved:
            flash(f"Bank account {form.name.data} saved.", "success")
            return redirect_response(url_for("finance.chart_of_accounts"))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/books/bank_form.html", form=form, bank=bank), status

