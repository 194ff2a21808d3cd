"""Expenses and petty cash: an expense with its supplier's bill (GSTIN, GST input where eligible, a
photo or PDF of the bill) paid in cash, from a bank account or by UPI, posted with its PAYMENT voucher
in the same transaction; the branch's cash book of a day and its closing by denomination.

An expense here is a bill already paid, so its voucher is always a PAYMENT (the head and the input GST
debited, cash or the bank credited); a bill bought on credit from a supplier is a purchase, whose voucher
is the creditor's (procurement), not an expense of this screen.

Who: accounts and the administrator record expenses (voucher.post); accountants and managers read them
(ledger.read) and close the day's cash (cash.close)."""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from decimal import Decimal

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user
from PIL import Image, UnidentifiedImageError

from ..db import get_conn
from ..documents import Refused, new_key, register_document
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import choices, date_arg, save_or_field_error
from ..gst import split_tax, tax_at_rate
from ..pages import found_or_404
from ..security import allow, can, may_open
from ..submit_once import earlier_redirect, post_once
from . import bank_queries, bp
from . import cash_queries as q
from .cash_forms import CASH_CLOSING_MESSAGES, EXPENSE_MESSAGES, PAYMENT_MODES, CashClosingForm, ExpenseForm

register_document("expense", "finance.expense", "expense_id")

# The books' screens of this module, linked from each other's pages (the menu has one link to them).
BOOKS_LINKS = (("Expenses", "finance.expense_list"), ("Cash closing", "finance.cash_closing"),
               ("Bank reconciliation", "finance.bank_accounts"), ("Closing months", "finance.months"))
MAX_BILL_BYTES = 5 * 1024 * 1024
BILL_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@bp.context_processor
def _books_links() -> dict:
    """books_links(current): the links of templates/finance/cash/_books_links.html this user may open."""
    def books_links(current: str):
        return [(label, url_for(endpoint), endpoint == current) for label, endpoint in BOOKS_LINKS if may_open(endpoint)]
    return {"books_links": books_links}


# --------------------------------------------------------------------------- the bill file


def bill_kind(data: bytes) -> str:
    """The content type of a bill's file: a JPEG, PNG or WebP photo, or a PDF; ValueError otherwise."""
    if data[:5] == b"%PDF-":
        return "application/pdf"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = BILL_IMAGE_TYPES.get(image.format)
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        kind = None
    if kind is None:
        raise ValueError("A bill is a photo (JPEG, PNG or WebP) or a PDF: this file is neither")
    return kind


def _read_bill(form: ExpenseForm) -> tuple[str, bytes] | None:
    """(file name, bytes) of the uploaded bill, None when none; a wrong file is an error on the field."""
    upload = form.bill.data
    if not upload or not hasattr(upload, "read"):
        return None
    data = upload.read(MAX_BILL_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_BILL_BYTES:
        form.bill.errors = ["A bill of at most 5 MB: photograph it again at a lower resolution"]
        return None
    try:
        bill_kind(data)
    except ValueError as exc:
        form.bill.errors = [str(exc)]
        return None
    return (upload.filename or "bill")[-120:], data


# --------------------------------------------------------------------------- expenses


def _expense_form(conn, **kw) -> ExpenseForm:
    form = ExpenseForm(**kw)
    form.head_ledger_id.choices = choices([(0, "Choose…")] + q.expense_heads(conn))
    form.bank_ledger_id.choices = choices([(0, "—")] + q.bank_accounts(conn, current_user.branch_id))
    return form


def _expense_data(conn, form: ExpenseForm) -> dict:
    """The columns: GST from the rate, CGST+SGST from a supplier in the branch's state, else IGST."""
    rate = Decimal(form.gst_rate.data or "0")
    gstin = form.supplier_gstin.data
    tax = tax_at_rate(form.taxable.data, rate) if gstin else Decimal("0.00")
    heads = split_tax(tax, intra_state=(gstin or "")[:2] == q.branch_state(conn, current_user.branch_id))
    mode = form.payment_mode.data
    return {"expense_date": form.expense_date.data, "head_ledger_id": form.head_ledger_id.data,
            "supplier_name": form.supplier_name.data, "supplier_gstin": gstin, "bill_no": form.bill_no.data,
            "bill_date": form.bill_date.data, "taxable": form.taxable.data, "gst_rate": rate if gstin else Decimal(0),
            "cgst": heads.cgst, "sgst": heads.sgst, "igst": heads.igst,
            "itc_eligible": bool(form.itc_eligible.data), "payment_mode": mode,
            "bank_ledger_id": form.bank_ledger_id.data if mode != "CASH" else None,
            "payment_ref": form.payment_ref.data, "narration": form.narration.data}


def _line_for_expense(conn, raw) -> dict | None:
    """The unmatched withdrawal of a bank statement an expense is being made from."""
    try:
        line_id = int(raw or 0)
    except ValueError:
        return None
    line = bank_queries.get_line(conn, line_id) if line_id else None
    return line if line and line["withdrawal"] > 0 and line["voucher_id"] is None else None


def _post_expense(conn, form: ExpenseForm, data: dict, bill, line) -> int:
    expense_id = q.insert_expense(conn, branch_id=current_user.branch_id, key=form.key.data, data=data)
    voucher_id = q.post_expense_voucher(conn, expense_id)
    if bill:
        name, content = bill
        q.add_bill(conn, expense_id, file_name=name, content_type=bill_kind(content), data=content,
                   sha256=hashlib.sha256(content).hexdigest())
    if line:
        if line["withdrawal"] != data["taxable"] + data["cgst"] + data["sgst"] + data["igst"]:
            raise Refused(f"The expense's total must be the statement line's {line['withdrawal']:,.2f}")
        bank_queries.match(conn, line["line_id"], voucher_id, "CREATED")
    return expense_id


@bp.route("/expenses/new", methods=["GET", "POST"])
@allow("voucher.post")
def expense_new():
    conn = get_conn()
    form = _expense_form(conn)
    earlier = earlier_redirect(conn, "expense", form.key.data, "finance.expense_detail", "expense_id")
    if earlier:
        return earlier
    line = _line_for_expense(conn, form.bank_line_id.data if request.method == "POST" else request.args.get("bank_line"))
    if request.method == "GET":
        form.key.data = new_key()
        form.expense_date.data = today_ist()
        form.bill_date.data = today_ist()
        if line:
            form.bank_line_id.data = str(line["line_id"])
            form.expense_date.data = form.bill_date.data = line["txn_date"]
            form.taxable.data = line["withdrawal"]
            form.payment_mode.data = "BANK"
            form.bank_ledger_id.data = line["ledger_id"]
            form.payment_ref.data = line["ref_no"] if line["ref_no"] and len(line["ref_no"]) >= 4 else None
            form.supplier_name.data = line["bank_name"]
            form.bill_no.data = f"STMT-{line['line_id']}"
            form.head_ledger_id.data = bank_queries.ledger_by_key(conn, "EXP_BANK_CHARGES")
            form.narration.data = line["narration"][:300]
    elif not form.key.data:
        form.key.data = new_key()
    if request.method == "POST" and form.bank_line_id.data and line is None:
        form.form_errors.append("That statement line is matched already (or is not a withdrawal of this branch): "
                                "open the reconciliation again")
    elif form.validate_on_submit():
        bill = _read_bill(form)
        if not form.bill.errors:
            data = _expense_data(conn, form)
            expense_id, saved = post_once(conn, form, "expense", EXPENSE_MESSAGES,
                                          lambda: _post_expense(conn, form, data, bill, line))
            if saved:
                flash("Expense recorded and posted.", "success")
                if line:
                    return redirect_response(url_for("finance.bank_reconcile", bank_id=line["ledger_id"]))
                return redirect_response(url_for("finance.expense_detail", expense_id=expense_id))
    status = 422 if request.method == "POST" else 200
    return render_template("finance/cash/expense_form.html", form=form, line=line), status


@bp.get("/expenses")
@allow("ledger.read")
def expense_list():
    conn = get_conn()
    today = today_ist()
    start_arg = date_arg("from", today.replace(day=1))
    end_arg = date_arg("to", today)
    start, end = start_arg.value, end_arg.value
    rows = q.expenses(conn, current_user.branch_id, start, end)
    return render_template("finance/cash/expense_list.html", rows=rows, start_arg=start_arg, end_arg=end_arg,
                           total=rows[0]["period_total"] if rows else Decimal(0), modes=PAYMENT_MODES,
                           may_add=can("voucher.post"))


@bp.get("/expenses/<int:expense_id>")
@allow("ledger.read")
def expense_detail(expense_id: int):
    conn = get_conn()
    expense = found_or_404(q.get_expense(conn, expense_id))
    return render_template("finance/cash/expense_detail.html", e=expense, modes=PAYMENT_MODES)


@bp.get("/expenses/<int:expense_id>/bill")
@allow("ledger.read")
def expense_bill(expense_id: int):
    found = found_or_404(q.expense_bill(get_conn(), expense_id))
    response = make_response(bytes(found["data"]))
    response.headers["Content-Type"] = found["content_type"]
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


# --------------------------------------------------------------------------- the cash closing


@bp.route("/cash", methods=["GET", "POST"])
@allow("cash.close")
def cash_closing():
    """The day's cash book and its closing: the count by denomination against the books."""
    conn = get_conn()
    form = CashClosingForm()
    if request.method == "GET":
        form.closing_date.data = today_ist()
    on = form.closing_date.data or today_ist()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CASH_CLOSING_MESSAGES, lambda: q.insert_cash_closing(
            conn, branch_id=current_user.branch_id, on=on, counts=form.counts(), remark=form.remark.data))
        if saved:
            flash(f"Cash closed for {on:%d-%m-%Y}.", "success")
            return redirect_response(url_for("finance.cash_closing"))
    position = q.cash_position(conn, current_user.branch_id, on)
    status = 422 if request.method == "POST" else 200
    return render_template("finance/cash/closing.html", form=form, position=position, on=on,
                           counted=form.counted() if not any(form[n].errors for n, _ in q.DENOMINATIONS) else None,
                           closings=q.cash_closings(conn, current_user.branch_id),
                           yesterday=on - timedelta(days=1)), status
