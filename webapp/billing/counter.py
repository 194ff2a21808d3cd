"""Counter sales: parts, accessories and labour sold over the counter (a preview that warns of what
the database will refuse, then the tax invoice and, unless it goes on the customer's account, its
receipt), and money taken later for a counter sale left on account.

Who: the roles holding "counter_sale.post" (webapp/capabilities.py).
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..security import allow
from ..submit_once import earlier_redirect, post_once
from ..validators import normalise_mobile
from . import bp, documents, invoice_queries, posting
from .invoice_forms import B2C_ADDRESS_NEEDED, CounterSaleForm
from .invoices import form_status, invoice_or_404

# htmx targets: the counter sale's customer and preview.
CUSTOMER_TARGET = "counter-customer"
PREVIEW_TARGET = "counter-preview"


def _post_counter_sale(conn, branch_id: int, lines, form, customer_id: int | None) -> int:
    """The counter sale's invoice and, unless it goes on the customer's account, the receipt for
    what it comes to, posted together (the receipt's key is derived from the form's)."""
    address, state = _delivery(form)
    invoice_id = posting.post_counter_invoice(conn, branch_id, lines, on=today_ist(), key=form.key.data,
                                              customer_id=customer_id, buyer_name=form.buyer_name.data,
                                              delivery_address=address, delivery_state=state,
                                              key_checked=True)  # counter_new looked the key up
    if form.paid_by.data != "ON_ACCOUNT":
        inv = documents.get_invoice(conn, invoice_id)
        posting.post_receipt(conn, on=today_ist(), mode=form.paid_by.data, amount=inv["amount_payable"],
                             key=str(uuid.uuid5(uuid.UUID(form.key.data), "receipt")),
                             received_from=inv["buyer_name"], invoice_id=invoice_id,
                             reference=form.payment_reference.data)
    return invoice_id


# --------------------------------------------------------------------------- counter sale


def _customers_by_mobile(conn, mobile: str | None):
    digits = normalise_mobile(mobile or "")
    if len(digits) < 4:
        return []
    return invoice_queries.customers_by_mobile(conn, digits)


def _customer_choices(customers) -> list[tuple[str, str]]:
    return [("", "Cash sale (no customer)")] + [
        (str(c["customer_id"]), f"{c['name']} · {c['mobile']}" + (f" · GSTIN {c['gstin']}" if c["gstin"] else ""))
        for c in customers]


def _delivery(form: CounterSaleForm) -> tuple[str | None, str | None]:
    """(address, state) the counter sale's goods are delivered to; (None, None) at the counter."""
    if form.delivered_to_address:
        return form.delivery_address.data, form.delivery_state.data or None
    return None, None


def _counter_lines(conn, form: CounterSaleForm) -> list[posting.CounterLine] | None:
    """The rows filled in (parts, labour and services), as counter lines; None after marking a
    row's errors."""
    lines, ok = [], True
    for entry in form.lines.entries:
        f = entry.form
        if f.is_blank():
            continue
        if f.qty.errors or f.unit_price.errors or f.discount.errors:
            ok = False
            continue
        labour = f.kind.data == "LABOUR"
        if not f.part_no.data:
            f.part_no.errors.append("Enter the labour code" if labour else "Enter the part number")
            ok = False
            continue
        part = operation = None
        if labour:
            operation = invoice_queries.labour_operation(conn, f.part_no.data)
            if operation is None:
                f.part_no.errors.append(f"No labour operation {f.part_no.data}")
                ok = False
            elif not operation["is_active"]:
                f.part_no.errors.append(f"{operation['operation_code']} is no longer offered")
                ok = False
        else:
            part = invoice_queries.part_by_no(conn, f.part_no.data)
            if part is None:
                f.part_no.errors.append(f"No part {f.part_no.data}")
                ok = False
            elif not part["is_active"]:
                f.part_no.errors.append(f"{part['part_no']} is no longer sold")
                ok = False
        if f.qty.data is None:
            f.qty.errors.append("Enter the quantity")
            ok = False
        elif part is not None and part["whole_units"] and f.qty.data != f.qty.data.to_integral_value():
            f.qty.errors.append(f"Counted in whole units ({part['unit']})")
            ok = False
        if ok and (part is not None or operation is not None):
            lines.append(posting.CounterLine(
                part["part_id"] if part else None, f.qty.data, f.discount.data or Decimal(0),
                operation_code=operation["operation_code"] if operation else None, unit_price=f.unit_price.data,
                price_includes_gst={"INCL": True, "EXCL": False}.get(f.price_basis.data)))
    if ok and not lines:
        form.form_errors.append("Enter at least one part number or labour code and its quantity")
        ok = False
    return lines if ok else None


def _short_of_stock(conn, branch_id: int, lines: list[posting.CounterLine]) -> list[str]:
    """Which parts the branch has fewer of than asked (to name them when the database refuses)."""
    asked: dict[int, Decimal] = {}
    for line in lines:
        if line.part_id is not None:
            asked[line.part_id] = asked.get(line.part_id, Decimal(0)) + line.qty
    rows = invoice_queries.stock_of_parts(conn, branch_id, list(asked))
    return [f"Not enough stock of {r['part_no']} ({r['name']}): {r['in_stock'].normalize():f} {r['unit']} in stock, "
            f"{asked[r['part_id']].normalize():f} asked" for r in rows if r["in_stock"] < asked[r["part_id"]]]


def _counter_preview(conn, branch_id: int, branch_state: str, form: CounterSaleForm, lines):
    """The draft counter invoice, or None after noting why it cannot be made."""
    _, state = _delivery(form)
    try:
        return posting.counter_sale(conn, branch_id, lines, today_ist(), place_of_supply=state,
                                    branch_state=branch_state)
    except posting.Refused as exc:
        form.form_errors.append(str(exc))
    except ValueError as exc:  # e.g. a discount above the line's value
        form.form_errors.append(f"A line cannot be invoiced: {exc}")
    return None


def _b2c_address_missing(conn, form: CounterSaleForm, draft, customers) -> bool:
    """Rule 46, as the database will check it on posting: an unregistered buyer at the B2C_ADDRESS
    threshold or above needs the address and state: the customer's on record, or the delivery
    address given."""
    if draft is None:
        return False
    customer = next((c for c in customers if str(c["customer_id"]) == form.customer_id.data), None)
    if customer is not None and customer["gstin"]:
        return False
    threshold = invoice_queries.b2c_address_threshold(conn, today_ist())
    if threshold is None or draft.computed.taxable_value < threshold:
        return False
    address, state = _delivery(form)
    return customer is None and not (address and state)


# What a counter sale may lack and still be previewed.
DELIVERY_FIELDS = frozenset({"delivery_address", "buyer_name"})


def _quiet(form: CounterSaleForm) -> None:
    """Drop the messages of a form that was only redrawn (what was typed stays)."""
    form.form_errors.clear()
    for field in form:
        if field.name == "lines":
            for entry in field.entries:
                for sub in entry.form:
                    sub.errors = []
        field.errors = []


def _counter_refusals() -> dict:
    return {
        "part_stock_not_negative": (None, "Not enough stock for this sale"),
        "stock_move_whole_units": (None, "A part counted in whole units has a fractional quantity"),
        "invoice_buyer_name_check": ("buyer_name", "2 to 200 characters"),
        "invoice_b2c_address": ("delivery_address", B2C_ADDRESS_NEEDED),
        "invoice_delivery_state": ("delivery_state", "Choose the state the goods are delivered in"),
        "invoice_delivery_address_check": ("delivery_address", "At most 400 characters"),
        "invoice_ship_to_address": ("delivery_address", ("Goods supplied in another state are delivered there: "
                                                         "enter the delivery address")),
        "invoice_ship_to_state": ("delivery_state", "The delivery state is the place of supply"),
        "invoice_line_rate": (None, ("The GST rate in the tax master changed while the sale was prepared: "
                                     "preview it again")),
        "receipt_cash_limit": ("paid_by", ("Cash for one sale must stay below the s.269ST limit "
                                           "(₹2,00,000): take UPI or card")),
    }


@bp.route("/counter-sale", methods=["GET", "POST"])
@allow("counter_sale.post")
def counter_new():
    """Parts, accessories and labour over the counter: rows priced with GST included (MRP) or
    excluded, handed over at the counter or delivered to an address (another state: IGST), a
    preview that warns of what the database will refuse, then the tax invoice; the parts leave
    stock in the same transaction."""
    conn = get_conn()
    branch_id = current_user.branch_id
    resent = earlier_redirect(conn, "invoice", request.form.get("key"), "billing.invoice_detail", "invoice_id")
    if resent is not None:
        return resent
    branch_state = invoice_queries.branch_state(conn, branch_id)
    form = CounterSaleForm(states=documents.states(conn), branch_state=branch_state)
    customers = _customers_by_mobile(conn, form.mobile.data or request.args.get("mobile"))
    form.customer_id.choices = _customer_choices(customers)
    if request.method == "GET" and request.htmx.target == CUSTOMER_TARGET:
        if customers and not form.customer_id.data:
            form.customer_id.data = str(customers[0]["customer_id"])
        response = current_app.make_response(render_template("billing/_counter_customer.html", form=form,
                                                             customers=customers, target=CUSTOMER_TARGET))
        response.vary.update(("HX-Request", "HX-Target"))
        return response
    draft = None
    valid = b2c_address_missing = False
    # A redraw for the delivery just chosen: the preview as far as the rows allow, no complaints yet.
    redraw = request.method == "POST" and request.form.get("action") == "delivery"
    if request.method == "GET":
        form.key.data = posting.new_key()
    elif request.method == "POST":
        valid = form.validate_on_submit()
    if request.method == "POST" and (valid or redraw or set(form.errors) <= DELIVERY_FIELDS):
        # The rows are previewed also when only the delivery is incomplete: rule 46 may be why it is needed.
        customer_id = int(form.customer_id.data) if (form.customer_id.data or "").isdigit() else None
        if customer_id is not None and customer_id not in {c["customer_id"] for c in customers}:
            form.customer_id.errors.append("Find the customer by their mobile number again")
        lines = _counter_lines(conn, form)
        if lines is not None and not form.customer_id.errors:
            draft = _counter_preview(conn, branch_id, branch_state, form, lines)
            b2c_address_missing = _b2c_address_missing(conn, form, draft, customers)
            if valid and draft is not None and request.form.get("action") == "post":
                # The database holds rule 46: a sale it refuses comes back with the message at the address.
                invoice_id, saved = post_once(conn, form, "invoice", _counter_refusals(),
                                              lambda: _post_counter_sale(conn, branch_id, lines, form, customer_id))
                if saved:
                    inv = documents.get_invoice(conn, invoice_id)
                    flash(f"Counter sale {inv['invoice_no']} posted: {inr(inv['amount_payable'])}.", "success")
                    return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
                if "Not enough stock for this sale" in form.form_errors:
                    form.form_errors.remove("Not enough stock for this sale")
                    form.form_errors.extend(_short_of_stock(conn, branch_id, lines) or ["Not enough stock for this sale"])
    if redraw:
        _quiet(form)
    if b2c_address_missing and request.form.get("action") == "post":
        form.delivery_address.errors = [B2C_ADDRESS_NEEDED]  # refused: why the address is asked for
    if b2c_address_missing or form.delivery_address.errors:
        form.delivery.data = "ADDRESS"  # rule 46 asks where the goods go: the address fields are opened
    context = {"form": form, "draft": draft, "customers": customers, "customer_target": CUSTOMER_TARGET,
               "preview_target": PREVIEW_TARGET, "b2c_address_missing": b2c_address_missing,
               "b2c_address_needed": B2C_ADDRESS_NEEDED, "branch_state_name": documents.state_name(conn, branch_state),
               "pos_name": documents.state_name(conn, draft.place_of_supply) if draft else None}
    # Row errors are added after validation (a FieldList keeps the errors it found then).
    rejected = request.method == "POST" and (draft is None or bool(form.errors or form.form_errors) or any(
        e.form.errors for e in form.lines.entries))
    if request.method == "POST" and request.htmx.target == PREVIEW_TARGET:
        # htmx swaps only successful answers: the preview with its messages comes back as 200.
        response = current_app.make_response(render_template("billing/_counter_preview.html", **context))
    else:
        response = current_app.make_response((render_template("billing/counter_new.html", **context),
                                              422 if rejected else 200))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


# --------------------------------------------------------------------------- paying a counter sale later


COUNTER_MODES = ("CASH", "UPI", "CARD", "CHEQUE", "BANK_TRANSFER")


@bp.route("/invoices/<int:invoice_id>/receipt", methods=["GET", "POST"])
@allow("counter_sale.post")
def counter_receipt_new(invoice_id: int):
    """Money for a counter sale left on the customer's account, or for a service invoice (cash, UPI
    with the QR of what is owed, card...): a receipt voucher against the invoice, never above what it
    still owes (the database refuses more)."""
    from .money_forms import ReceiptForm

    conn = get_conn()
    doc = invoice_or_404(invoice_id)
    inv = doc["inv"]
    if inv["kind"] == "VEHICLE":  # a vehicle sale's money is taken on its booking
        return redirect(url_for("billing.receipt_new", booking_id=inv["booking_id"]), 302)
    if inv["kind"] not in ("COUNTER", "SERVICE"):  # a transfer is paid between branches; a job sheet charges nothing
        abort(404)
    form = ReceiptForm()
    form.mode.choices = [(m, posting.RECEIPT_MODES[m]) for m in COUNTER_MODES]
    resent = earlier_redirect(conn, "receipt", form.key.data, "billing.receipt_detail", "receipt_id")
    if resent is not None:
        return resent
    balance = invoice_queries.counter_balance(conn, invoice_id)
    if request.method == "GET":
        form.mode.data, form.amount.data = "CASH", max(balance, Decimal("0.00"))
        form.received_from.data, form.key.data = inv["buyer_name"], posting.new_key()
    elif form.validate_on_submit():
        receipt_id, saved = post_once(conn, form, "receipt", {
            "receipt_not_over_due": ("amount", f"More than the {inr(max(balance, Decimal('0.00')))} this sale still owes"),
            "receipt_cash_limit": ("amount", "Cash for one sale must stay below the s.269ST limit (₹2,00,000)"),
        }, lambda: posting.post_receipt(conn, on=today_ist(), mode=form.mode.data, amount=form.amount.data,
                                        key=form.key.data, received_from=form.received_from.data,
                                        invoice_id=invoice_id, reference=form.reference.data, notes=form.notes.data,
                                        key_checked=True))
        if saved:
            receipt_no = invoice_queries.receipt_no(conn, receipt_id)
            flash(f"Receipt {receipt_no}: {inr(form.amount.data)} received against {inv['invoice_no']}.", "success")
            return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
    return render_template("billing/counter_receipt_form.html", form=form, inv=inv, balance=balance,
                           upi=doc["upi"]), form_status(form)
