"""Money against a sale: the sale page's money panel, taking a payment (receipt voucher), giving
back an excess (refund voucher), and the two vouchers on screen and as PDFs.

Who: a salesperson takes payments on their own bookings; ACCOUNTS, MANAGER and ADMIN on any
booking of their branch. Refunds are for ACCOUNTS, MANAGER and ADMIN. The database numbers each
voucher, refuses overpayment, cash of the s.269ST limit and more, and any change once posted;
here its refusals become messages next to the field they concern.
"""
from __future__ import annotations

from decimal import Decimal

from flask import current_app, flash, render_template, request, url_for

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..master.api import branch_for_print
from ..pdf import Kept, pdf_response, render_pdf
from ..sales.api import booking_or_404, own_only, sale_document_or_404, sale_url
from ..security import allow, may_open
from ..submit_once import earlier_redirect, post_once
from . import bp, money_queries, posting
from .money_forms import NO_REFERENCE_MODES, REFERENCE_HINTS, ReceiptForm, RefundForm
from .tax import amount_in_words

ZERO = Decimal("0.00")

# The element of the sale page the receipt and refund forms load into (htmx).
FORM_TARGET = "money-form"


# --------------------------------------------------------------------------- the sale page's panel


def money_context(conn, booking) -> dict:
    """What the sale page's money panel (templates/billing/_sale_money.html) needs.

    The panel reads ``money``; pass this either spread (``**money_context(...)``) or as
    ``money=money_context(...)``: the template accepts both. ``booking`` is the row
    sales.queries.get_booking read, which carries the booking's balance already.
    """
    booking_id = booking["booking_id"]
    balance = booking
    stage = booking["stage"]
    open_sale = stage != "CANCELLED"
    panel = {
        "booking_id": booking_id, "booking_no": booking["booking_no"], "stage": stage,
        "due": balance["due"], "received": balance["received"], "balance": balance["balance"],
        "customer_to_pay": max(balance["customer_balance"], ZERO) if open_sale else ZERO,
        "to_pay": {"loan": balance["loan_pending"], "exchange": balance["exchange_pending"],
                   "subsidy": balance["subsidy_pending"], "others": balance["others_pending"]},
        "invoice_id": booking["invoice_id"], "invoice_no": booking.get("invoice_no"),
        "invoice_date": booking.get("invoice_date"),
        "invoice_url": (url_for("billing.invoice_detail", invoice_id=booking["invoice_id"])
                        if booking["invoice_id"] and may_open("billing.invoice_detail") else None),
        "post_invoice_url": (url_for("billing.invoice_new", booking_id=booking_id)
                             if not booking["invoice_id"] and stage == "ALLOTTED" and may_open("billing.invoice_new")
                             else None),
        "receipts": money_queries.sale_receipts(conn, booking_id=booking_id),
        "refunds": money_queries.sale_refunds(conn, booking_id=booking_id),
        "may_take_payment": open_sale and balance["balance"] > 0 and may_open("billing.receipt_new"),
        "may_refund": balance["balance"] < 0 and may_open("billing.refund_new"),
        "may_see_refunds": may_open("billing.refund_detail"),
        "quick_modes": _quick_modes(conn, booking_id, balance["balance"]) if open_sale else [],
        "modes": posting.RECEIPT_MODES,
        "refund_modes": posting.REFUND_MODES,
        "form_target": FORM_TARGET,
    }
    return {"money": panel}


def _quick_modes(conn, booking_id: int, balance: Decimal) -> list[tuple[str, str, Decimal]]:
    """Loan disbursement, exchange value and subsidy still to credit: (mode, label, amount)."""
    if balance <= 0:
        return []
    limits = money_queries.receipt_limits(conn, booking_id, today_ist())
    quick = []
    for mode, label in (("FINANCE", "Record the loan disbursement"), ("EXCHANGE", "Set off the exchange value"),
                        ("SUBSIDY", "Credit the PM E-DRIVE subsidy")):
        room = money_queries.mode_room(limits, mode)
        if room:
            quick.append((mode, label, min(room, balance)))
    return quick


# --------------------------------------------------------------------------- taking a payment


def _receipt_refusals(conn, booking, balance: Decimal, mode: str) -> dict:
    """The database's refusals of a receipt, worded with this sale's figures."""
    limits = money_queries.receipt_limits(conn, booking["booking_id"], today_ist())
    room = money_queries.mode_room(limits, mode) or ZERO
    mode_label = posting.RECEIPT_MODES.get(mode, mode)
    mode_label = mode_label if mode == "SUBSIDY" else mode_label.lower()  # "PM E-DRIVE" keeps its capitals
    recorded = {"EXCHANGE": "the exchange vehicle's valuation", "SUBSIDY": "the subsidy the buyer is eligible for",
                "FINANCE": "the loan amount on the finance details"}.get(mode, "what is recorded")
    cash_limit = limits["cash_limit"]
    return {
        "receipt_not_over_due": ("amount", (f"More than the balance due: take {inr(max(balance, ZERO))} at most; "
                                           "an excess needs a refund voucher")),
        "receipt_cash_limit": ("amount", (
            f"Cash for one sale must stay below {inr(cash_limit)} (Income-tax s.269ST); "
            f"{inr(limits['cash_taken'])} already taken in cash. Take the rest by UPI, card, cheque or bank transfer")
            if cash_limit else "Cash above the s.269ST limit cannot be taken"),
        "receipt_mode_cap": ("amount", (f"More {mode_label} than {recorded} allows: {inr(room)} can still be credited"
                                       " (record or correct the details on the sale first)")),
        "receipt_sale_open": (None, f"Booking {booking['booking_no']} is cancelled: no money can be taken against it"),
        "receipt_reference": ("reference", f"Enter the {REFERENCE_HINTS.get(mode, 'reference')}"),
        "receipt_reference_check": ("reference", "3 to 60 characters"),
        "receipt_amount_check": ("amount", "More than zero"),
        "receipt_received_from_check": ("received_from", "2 to 200 characters"),
    }


def _form_response(template: str, partial: str, form, status: int | None = None, **context):
    """The whole page, or only the form when the sale page's panel asked for it (htmx): a
    fragment with errors is sent as 200, because htmx swaps only successful answers."""
    failed = request.method == "POST" and bool(form.errors or form.form_errors)
    if request.htmx.target == FORM_TARGET:
        response = current_app.make_response(render_template(partial, form=form, **context))
    else:
        response = current_app.make_response(render_template(template, form=form, **context))
        response.status_code = status or (422 if failed else 200)
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.route("/bookings/<int:booking_id>/receipt", methods=["GET", "POST"])
@allow("payment.take")
def receipt_new(booking_id: int):
    """Take a payment against a booking: one receipt voucher per payment, never above the balance."""
    conn = get_conn()
    booking = booking_or_404(conn, booking_id)
    form = ReceiptForm()
    resent = earlier_redirect(conn, "receipt", form.key.data, "billing.receipt_detail", "receipt_id")
    if resent is not None:
        return resent
    balances = posting.booking_balance(conn, booking_id)
    balance = balances["balance"]
    customer_to_pay = max(balances["customer_balance"], ZERO)
    names = money_queries.payer_names(conn, booking_id)
    if request.method == "GET":
        mode = request.args.get("mode", "")
        if mode in posting.RECEIPT_MODES:
            form.mode.data = mode
            room = money_queries.mode_room(money_queries.receipt_limits(conn, booking_id, today_ist()), mode)
            # The loan, exchange value or subsidy comes in at what is still to be credited; any
            # other mode is the customer's own money, so the customer's share.
            form.amount.data = max(min(balance, room) if room is not None else customer_to_pay, ZERO)
        else:
            form.amount.data = customer_to_pay
        form.received_from.data = names.get(form.mode.data, names["_"])
        form.key.data = posting.new_key()
    elif form.validate_on_submit():
        if booking["stage"] == "CANCELLED":
            form.form_errors.append(f"Booking {booking['booking_no']} is cancelled: no money can be taken against it")
        else:
            receipt_id, saved = post_once(
                conn, form, "receipt", _receipt_refusals(conn, booking, balance, form.mode.data),
                lambda: posting.post_receipt(
                    conn, on=today_ist(), mode=form.mode.data, amount=form.amount.data, key=form.key.data,
                    received_from=form.received_from.data, booking_id=booking_id, reference=form.reference.data,
                    notes=form.notes.data, key_checked=True))
            if saved:
                receipt = money_queries.get_receipt(conn, receipt_id)
                flash(f"Receipt {receipt['receipt_no']}: {inr(receipt['amount'])} received "
                      f"({posting.RECEIPT_MODES[receipt['mode']]}).", "success")
                return redirect_response(url_for("billing.receipt_detail", receipt_id=receipt_id))
    return _form_response("billing/receipt_form.html", "billing/_receipt_form.html", form,
                          booking=booking, balance=balance, customer_to_pay=customer_to_pay,
                          to_pay={"loan": balances["loan_pending"], "exchange": balances["exchange_pending"],
                                  "subsidy": balances["subsidy_pending"], "others": balances["others_pending"]},
                          sale_url=sale_url(booking_id),
                          no_reference_modes=NO_REFERENCE_MODES, names=names)


def _receipt_or_404(receipt_id: int):
    """The receipt if this user may see it: their branch, and their own booking if a salesperson."""
    conn = get_conn()
    # A counter sale is not a salesperson's own booking.
    return sale_document_or_404(conn, money_queries.get_receipt(conn, receipt_id),
                                unbooked_visible=lambda receipt: own_only() is None)


@bp.get("/receipts/<int:receipt_id>")
@allow("payment.take")
def receipt_detail(receipt_id: int):
    receipt = _receipt_or_404(receipt_id)
    return render_template("billing/receipt_detail.html", r=receipt, modes=posting.RECEIPT_MODES,
                           words=amount_in_words(receipt["amount"]), sale_url=sale_url(receipt["booking_id"]),
                           invoice_url=_invoice_url(receipt["any_invoice_id"]))


@bp.get("/receipts/<int:receipt_id>/pdf")
@allow("payment.take")
def receipt_pdf(receipt_id: int):
    """The receipt voucher, A4, served inline so the browser's viewer prints it."""
    receipt = _receipt_or_404(receipt_id)
    pdf = render_pdf("billing/receipt_pdf.html", kept=Kept("receipt", receipt_id), r=receipt, modes=posting.RECEIPT_MODES,
                     words=amount_in_words(receipt["amount"]),
                     branch=branch_for_print(get_conn(), receipt["branch_id"]))
    return pdf_response(pdf, f"receipt-{receipt['receipt_no']}.pdf".replace("/", "-"))


def _invoice_url(invoice_id: int | None) -> str | None:
    if invoice_id and may_open("billing.invoice_detail"):
        return url_for("billing.invoice_detail", invoice_id=invoice_id)
    return None


# --------------------------------------------------------------------------- giving back an excess


def _refund_refusals(booking, excess: Decimal) -> dict:
    return {
        "refund_not_above_excess": ("amount", (f"More than was received beyond what is due: give back "
                                              f"{inr(max(excess, ZERO))} at most")),
        "refund_reference": ("reference", "Enter the UTR, UPI or cheque number of the refund"),
        "refund_reference_check": ("reference", "3 to 60 characters"),
        "refund_reason_check": ("reason", "3 to 300 characters"),
        "refund_paid_to_check": ("paid_to", "2 to 200 characters"),
        "refund_something": ("amount", "More than zero"),
        "refund_amount_check": ("amount", "More than zero"),
    }


@bp.route("/bookings/<int:booking_id>/refund", methods=["GET", "POST"])
@allow("books.read")
def refund_new(booking_id: int):
    """Give back what was received beyond what the sale comes to (a refund voucher)."""
    conn = get_conn()
    booking = booking_or_404(conn, booking_id)
    form = RefundForm()
    resent = earlier_redirect(conn, "refund", form.key.data, "billing.refund_detail", "refund_id")
    if resent is not None:
        return resent
    excess = -posting.booking_balance(conn, booking_id)["balance"]
    if request.method == "GET":
        form.amount.data = max(excess, ZERO)
        form.paid_to.data = money_queries.payer_names(conn, booking_id)["_"]
        form.reason.data = f"Received beyond what booking {booking['booking_no']} comes to"
        form.key.data = posting.new_key()
    elif form.validate_on_submit():
        refund_id, saved = post_once(
            conn, form, "refund", _refund_refusals(booking, excess),
            lambda: posting.post_refund(
                conn, on=today_ist(), mode=form.mode.data, amount=form.amount.data, key=form.key.data,
                paid_to=form.paid_to.data, reason=form.reason.data, booking_id=booking_id,
                reference=form.reference.data))
        if saved:
            refund = money_queries.get_refund(conn, refund_id)
            flash(f"Refund {refund['refund_no']}: {inr(refund['amount'])} given back to {refund['paid_to']}.",
                  "success")
            return redirect_response(url_for("billing.refund_detail", refund_id=refund_id))
    return _form_response("billing/refund_form.html", "billing/_refund_form.html", form,
                          booking=booking, excess=excess, sale_url=sale_url(booking_id))


def _refund_or_404(refund_id: int):
    conn = get_conn()
    return sale_document_or_404(conn, money_queries.get_refund(conn, refund_id))


def _refund_context(refund) -> dict:
    conn = get_conn()
    receipts = money_queries.sale_receipts(conn, booking_id=refund["booking_id"], invoice_id=refund["invoice_id"])
    return {"f": refund, "modes": posting.REFUND_MODES, "receipt_modes": posting.RECEIPT_MODES,
            "words": amount_in_words(refund["amount"]), "receipts": receipts,
            "received": sum((r["amount"] for r in receipts), ZERO)}


@bp.get("/refunds/<int:refund_id>")
@allow("books.read")
def refund_detail(refund_id: int):
    refund = _refund_or_404(refund_id)
    return render_template("billing/refund_detail.html", **_refund_context(refund),
                           sale_url=sale_url(refund["booking_id"]), invoice_url=_invoice_url(refund["any_invoice_id"]))


@bp.get("/refunds/<int:refund_id>/pdf")
@allow("books.read")
def refund_pdf(refund_id: int):
    refund = _refund_or_404(refund_id)
    pdf = render_pdf("billing/refund_pdf.html", kept=Kept("refund", refund_id), **_refund_context(refund),
                     branch=branch_for_print(get_conn(), refund["branch_id"]))
    return pdf_response(pdf, f"refund-{refund['refund_no']}.pdf".replace("/", "-"))
