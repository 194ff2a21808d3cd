"""Invoice screens: posting a vehicle sale's tax invoice, credit notes, the invoice and credit note
PDFs, e-invoice details (counter sales and their payment: counter.py; the SQL: invoice_queries.py).

Who: ACCOUNTS, MANAGER and ADMIN post and read invoices and credit notes; a service advisor
also sells parts over the counter and may open the counter invoices of the branch. The
database numbers every document, computes TCS, checks the place of supply and the rule-46
address, takes parts out of stock and puts back what a credit note reverses; here its
refusals become messages on the form.
"""
from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..pdf import Kept, pdf_response, render_pdf, render_pdf_copies
from ..sales.api import booking_or_404, sale_url
from ..security import allow, can, may_open
from ..submit_once import earlier_redirect, post_once
from . import bp, documents, invoice_queries, posting
from .invoice_forms import CreditNoteForm, EInvoiceForm, VehicleInvoiceForm

COPIES = {
    "original": "ORIGINAL FOR RECIPIENT",
    "duplicate": "DUPLICATE FOR TRANSPORTER",
    "triplicate": "TRIPLICATE FOR SUPPLIER",
}

# A job sheet is no tax invoice: one copy for the customer to keep, one signed for the workshop.
JOB_SHEET_COPIES = {
    "customer": "CUSTOMER COPY",
    "workshop": "WORKSHOP COPY (signed by the customer)",
}


def copies_of(inv) -> dict:
    return JOB_SHEET_COPIES if inv["kind"] == "JOB_SHEET" else COPIES


# htmx target: the draft under the place-of-supply select.
DRAFT_TARGET = "invoice-draft"


def form_status(form) -> int:
    return 422 if request.method == "POST" and (form.errors or form.form_errors) else 200


# --------------------------------------------------------------------------- vehicle invoice


def _invoice_refusals(booking) -> dict:
    no = booking["booking_no"]
    return {
        "invoice_booking_allotted": (None, f"Booking {no} has no unit allotted now: allot a unit before invoicing"),
        "invoice_discount_decided": (None, (f"The discount on booking {no} is waiting for a manager's decision or was "
                                            "rejected: decide it (or change the discount) before invoicing")),
        "invoice_matches_booking": (None, (f"Booking {no} changed while the invoice was prepared (customer or allotted "
                                           "unit): check the draft and post again")),
        "invoice_b2c_address": (None, ("The buyer has no GSTIN and the value is above the rule-46 limit: the invoice "
                                       "needs the delivery address and state. Complete the customer's address or the "
                                       "booking's delivery address")),
        "invoice_date_in_order": (None, ("An invoice with a later date is already posted in this branch: invoices "
                                         "are numbered in date order. Ask the administrator to check the PC's date")),
        "invoice_line_rate": (None, ("The GST rate in the tax master changed while the invoice was prepared: "
                                     "check the draft and post again")),
        "invoice_place_of_supply": ("place_of_supply", ("This differs from where the vehicle is delivered: give "
                                                        "the reason for the override")),
        "invoice_override_reason": ("override_reason", "Give the reason for the other place of supply"),
        "invoice_ship_to_address": ("delivery_address", ("A place of supply in another state is where the vehicle "
                                                         "is delivered: give the delivery address there")),
        "invoice_ship_to_state": ("delivery_address", "The delivery address must be in the place of supply"),
        "invoice_delivery_state": ("delivery_address", "Give the delivery address with its state"),
        "invoice_pos_override_reason_check": ("override_reason", "3 to 200 characters"),
        "invoice_b2b_state": (None, ("The customer's GSTIN is of another state than their address: correct the "
                                     "customer first")),
        "invoice_buyer_address_check": (None, "The customer's address is longer than 400 characters: shorten it"),
        "invoice_delivery_address_check": ("delivery_address", "At most 400 characters"),
        "invoice_buyer_name_check": (None, "The customer's name must be 2 to 200 characters"),
    }


def _tcs_note(conn, grand_total: Decimal):
    """TCS the database will add on posting (s.206C(1F)), from the rule in force today."""
    return invoice_queries.tcs_due(conn, grand_total, today_ist())


def _draft_context(conn, booking, place_of_supply: str) -> dict:
    """The invoice the booking would get today with this place of supply (or why it cannot)."""
    try:
        draft = posting.vehicle_sale(conn, booking["booking_id"], today_ist(), place_of_supply)
    except posting.Refused as exc:
        return {"draft": None, "problem": str(exc), "tcs": None}
    except ValueError as exc:  # a line the tax arithmetic refuses (e.g. discount above the price)
        return {"draft": None, "problem": f"The booking's amounts cannot be invoiced: {exc}", "tcs": None}
    return {"draft": draft, "problem": None, "tcs": _tcs_note(conn, draft.computed.grand_total),
            "pos_name": documents.state_name(conn, draft.place_of_supply)}


def _blockers(booking) -> list[str]:
    """What stops this booking from being invoiced now, in the order the showroom fixes it."""
    found = []
    if booking["stage"] != "ALLOTTED":
        found.append(f"Booking {booking['booking_no']} is {booking['stage'].lower()}: "
                     "only a booking with a unit allotted is invoiced")
    if booking["discount_status"] in ("PENDING", "REJECTED"):
        found.append(f"The discount of {inr(booking['discount'])} is {booking['discount_status'].lower()}: "
                     "a manager decides it before the invoice")
    return found


@bp.route("/bookings/<int:booking_id>/invoice", methods=["GET", "POST"])
@allow("invoice.post")
def invoice_new(booking_id: int):
    """The tax invoice a booking gets today (draft, place of supply), then posted once."""
    conn = get_conn()
    booking = booking_or_404(conn, booking_id)
    resent = earlier_redirect(conn, "invoice", request.form.get("key"), "billing.invoice_detail", "invoice_id")
    if resent is not None:
        return resent
    if booking["invoice_id"]:
        flash(f"Booking {booking['booking_no']} is already invoiced ({booking['invoice_no']}).", "info")
        return redirect_response(url_for("billing.invoice_detail", invoice_id=booking["invoice_id"]))
    states = documents.states(conn)
    branch_state = invoice_queries.branch_state(conn, booking["branch_id"])
    # Where the vehicle is delivered: the booking's delivery state, else the showroom's.
    default_pos = booking["delivery_state_code"] or branch_state
    form = VehicleInvoiceForm(states=states, default_pos=default_pos, branch_state=branch_state)
    # Choosing another state redraws the draft below it (CGST + SGST or IGST).
    form.place_of_supply.render_kw = {"hx-get": url_for("billing.invoice_new", booking_id=booking_id),
                                      "hx-target": f"#{DRAFT_TARGET}", "hx-trigger": "change"}
    if request.method == "GET":
        chosen = request.args.get("place_of_supply")
        form.place_of_supply.data = chosen if chosen in dict(states) else default_pos
        form.key.data = posting.new_key()
    elif form.validate_on_submit():
        pos = form.place_of_supply.data
        invoice_id, saved = post_once(
            conn, form, "invoice", _invoice_refusals(booking),
            lambda: posting.post_vehicle_invoice(conn, booking_id, on=today_ist(), key=form.key.data,
                                                 place_of_supply=pos, override_reason=form.override_reason.data,
                                                 delivery_address=form.delivery_address.data, key_checked=True))
        if saved:
            inv = documents.get_invoice(conn, invoice_id)
            flash(f"Tax invoice {inv['invoice_no']} posted: {inr(inv['amount_payable'])} for "
                  f"{inv['buyer_name']}.", "success")
            return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
    pos = form.place_of_supply.data if form.place_of_supply.data in dict(states) else default_pos
    context = dict(booking=booking, default_pos=default_pos, default_pos_name=documents.state_name(conn, default_pos),
                   blockers=_blockers(booking), sale_url=sale_url(booking_id), draft_target=DRAFT_TARGET,
                   **_draft_context(conn, booking, pos))
    template = "billing/_invoice_draft.html" if request.htmx.target == DRAFT_TARGET else "billing/invoice_new.html"
    response = current_app.make_response((render_template(template, form=form, **context), form_status(form)))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


# --------------------------------------------------------------------------- an invoice on screen and printed


def invoice_or_404(invoice_id: int) -> dict:
    """The invoice document if this user may see it: their branch; counter sales for the counter, the
    workshop's service invoices and job sheets for those who post them, the rest for accounts."""
    doc = documents.invoice_document(get_conn(), invoice_id)
    if doc is None or doc["inv"]["branch_id"] != current_user.branch_id:
        abort(404)
    kind = doc["inv"]["kind"]
    if kind in documents.SERVICE_KINDS:
        if not can("service_invoice.post"):
            abort(404)
    elif kind != "COUNTER" and not can("invoice.read_vehicle"):
        abort(404)
    return doc


def _detail_response(doc: dict, einvoice_form: EInvoiceForm | None = None, status: int = 200):
    inv = doc["inv"]
    form = einvoice_form
    if form is None and inv["buyer_gstin"] and not inv["irn"]:
        form = EInvoiceForm(formdata=None)
    return render_template(
        "billing/invoice_detail.html", **doc, einvoice_form=form, copies=copies_of(inv),
        sale_url=sale_url(inv["booking_id"]),
        may_credit=(may_open("billing.credit_note_new") and inv["credit_note_id"] is None
                    and inv["kind"] not in ("TRANSFER", "JOB_SHEET")),
        may_take_payment=inv["kind"] in ("COUNTER", "SERVICE") and may_open("billing.counter_receipt_new"),
        may_einvoice=may_open("billing.invoice_einvoice") and bool(inv["buyer_gstin"]) and not inv["irn"],
        may_see_credit_note=may_open("billing.credit_note_detail"),
    ), status


@bp.get("/invoices/<int:invoice_id>")
@allow("counter_sale.post")
def invoice_detail(invoice_id: int):
    return _detail_response(invoice_or_404(invoice_id))


@bp.get("/invoices/<int:invoice_id>/pdf")
@allow("counter_sale.post")
def invoice_pdf(invoice_id: int):
    """The tax invoice, A4, in triplicate (one copy with ?copy=original|duplicate|triplicate),
    served inline so the browser's viewer prints it."""
    doc = invoice_or_404(invoice_id)
    copies = copies_of(doc["inv"])
    chosen = request.args.get("copy", "")
    titles = [copies[chosen]] if chosen in copies else list(copies.values())
    pdf = render_pdf_copies("billing/invoice_pdf.html", titles, kept=Kept("invoice", invoice_id), **doc)
    suffix = f"-{chosen}" if chosen in copies else ""
    name = "job-sheet" if doc["inv"]["kind"] == "JOB_SHEET" else "invoice"
    return pdf_response(pdf, f"{name}-{doc['inv']['invoice_no']}{suffix}.pdf".replace("/", "-"))


EINVOICE_REFUSALS = {
    "invoice_is_permanent": (None, "The e-invoice details of this invoice are already entered; they are entered once"),
    "invoice_einvoice_complete": (None, "Enter the IRN, the acknowledgement number and its date together"),
    "invoice_irn_check": ("irn", "The IRN is 64 hexadecimal characters"),
    "invoice_ack_no_check": ("ack_no", "10 to 20 digits"),
    "invoice_signed_qr_check": ("signed_qr", "At most 4,000 characters"),
}


@bp.post("/invoices/<int:invoice_id>/einvoice")
@allow("invoice.post")
def invoice_einvoice(invoice_id: int):
    """Record the IRN, acknowledgement and signed QR the e-invoice portal gave a B2B invoice (once)."""
    conn = get_conn()
    doc = invoice_or_404(invoice_id)
    inv = doc["inv"]
    form = EInvoiceForm()
    if not inv["buyer_gstin"]:
        form.form_errors.append("E-invoice details are for invoices to a registered buyer (with a GSTIN)")
    elif inv["irn"]:
        form.form_errors.append("The e-invoice details of this invoice are already entered; they are entered once")
    elif form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, EINVOICE_REFUSALS, lambda: invoice_queries.set_einvoice(
            conn, invoice_id, irn=form.irn.data, ack_no=form.ack_no.data, ack_date=form.ack_date.data,
            signed_qr=form.signed_qr.data))
        if saved:
            flash(f"E-invoice details of {inv['invoice_no']} recorded.", "success")
            return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
    return _detail_response(doc, form, 422)


# --------------------------------------------------------------------------- credit notes


def _credit_note_refusals(inv) -> dict:
    return {
        "credit_note_after_invoice": (None, f"A credit note cannot be dated before invoice {inv['invoice_no']}"),
        "credit_note_invoice_id_key": (None, f"Invoice {inv['invoice_no']} is already reversed by a credit note"),
        "credit_note_reason_check": ("reason", "3 to 300 characters"),
        "credit_note_not_for_transfer": (None, "A stock transfer is undone by a transfer back, not by a credit note"),
        "credit_note_not_for_job_sheet": (None, "A job sheet charged the customer nothing: there is nothing to credit"),
    }


@bp.route("/invoices/<int:invoice_id>/credit-note", methods=["GET", "POST"])
@allow("invoice.post")
def credit_note_new(invoice_id: int):
    """Reverse an invoice in full: the vehicle or the parts go back to stock, the booking to booked."""
    conn = get_conn()
    doc = invoice_or_404(invoice_id)
    inv = doc["inv"]
    resent = earlier_redirect(conn, "credit_note", request.form.get("key"), "billing.credit_note_detail", "credit_note_id")
    if resent is not None:
        return resent
    if inv["credit_note_id"] is not None:
        flash(f"Invoice {inv['invoice_no']} is already reversed by credit note {inv['credit_note_no']}.", "info")
        return redirect_response(url_for("billing.credit_note_detail", credit_note_id=inv["credit_note_id"]))
    form = CreditNoteForm()
    if request.method == "GET":
        form.key.data = posting.new_key()
    elif form.validate_on_submit():
        credit_note_id, saved = post_once(
            conn, form, "credit_note", _credit_note_refusals(inv),
            lambda: posting.post_credit_note(conn, invoice_id, on=today_ist(), reason=form.reason.data,
                                             key=form.key.data))
        if saved:
            no = invoice_queries.credit_note_no(conn, credit_note_id)
            flash(f"Credit note {no} posted against invoice {inv['invoice_no']}.", "success")
            return redirect_response(url_for("billing.credit_note_detail", credit_note_id=credit_note_id))
    return render_template("billing/credit_note_new.html", form=form, **doc,
                           effects=documents.what_a_credit_note_does(conn, inv)), form_status(form)


def _credit_note_or_404(credit_note_id: int) -> dict:
    doc = documents.credit_note_document(get_conn(), credit_note_id)
    if doc is None or doc["cn"]["branch_id"] != current_user.branch_id:
        abort(404)
    return doc


@bp.get("/credit-notes/<int:credit_note_id>")
@allow("invoice.post")
def credit_note_detail(credit_note_id: int):
    doc = _credit_note_or_404(credit_note_id)
    return render_template("billing/credit_note_detail.html", **doc, sale_url=sale_url(doc["inv"]["booking_id"]))


@bp.get("/credit-notes/<int:credit_note_id>/pdf")
@allow("invoice.post")
def credit_note_pdf(credit_note_id: int):
    doc = _credit_note_or_404(credit_note_id)
    pdf = render_pdf("billing/credit_note_pdf.html", kept=Kept("credit_note", credit_note_id), **doc)
    return pdf_response(pdf, f"credit-note-{doc['cn']['credit_note_no']}.pdf".replace("/", "-"))
