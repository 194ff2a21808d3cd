"""Invoice screens: posting a vehicle sale's tax invoice, counter sales, credit notes, the
invoice and credit note PDFs, e-invoice details.

Who: ACCOUNTS, MANAGER and ADMIN post and read invoices and credit notes; a service advisor
also sells parts over the counter and may open the counter invoices of the branch. The
database numbers every document, computes TCS, checks the place of supply and the rule-46
address, takes parts out of stock and puts back what a credit note reverses; here its
refusals become messages on the form.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..pdf import pdf_response, render_pdf, render_pdf_copies
from ..sales.queries import booking_or_404, sale_url
from ..security import may_open, roles
from ..submit_once import earlier_document, post_once
from ..validators import normalise_mobile
from . import bp, documents, posting
from .invoice_forms import B2C_ADDRESS_NEEDED, CounterSaleForm, CreditNoteForm, EInvoiceForm, VehicleInvoiceForm

INVOICERS = ("ACCOUNTS", "MANAGER", "ADMIN")
COUNTER_SELLERS = (*INVOICERS, "SERVICE_ADVISOR")
ONLY_COUNTER = frozenset({"SERVICE_ADVISOR"})  # roles that see counter invoices only

COPIES = {
    "original": "ORIGINAL FOR RECIPIENT",
    "duplicate": "DUPLICATE FOR TRANSPORTER",
    "triplicate": "TRIPLICATE FOR SUPPLIER",
}

# htmx targets: the draft under the place-of-supply select, the counter sale's customer and preview.
DRAFT_TARGET = "invoice-draft"
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


def _status(form) -> int:
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
    return conn.execute(sa.text("""
        SELECT rate, above_amount, round(:g * rate / 100, 2) AS amount, description FROM billing.tcs_rule
         WHERE master.valid_during(effective_from, effective_to) @> CAST(:d AS date) AND :g > above_amount"""),
        {"g": grand_total, "d": today_ist()}).mappings().first()


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
@roles(*INVOICERS)
def invoice_new(booking_id: int):
    """The tax invoice a booking gets today (draft, place of supply), then posted once."""
    conn = get_conn()
    booking = booking_or_404(conn, booking_id)
    if request.method == "POST":
        earlier = earlier_document(conn, "invoice", request.form.get("key"))
        if earlier:
            return redirect_response(url_for("billing.invoice_detail", invoice_id=earlier))
    if booking["invoice_id"]:
        flash(f"Booking {booking['booking_no']} is already invoiced ({booking['invoice_no']}).", "info")
        return redirect_response(url_for("billing.invoice_detail", invoice_id=booking["invoice_id"]))
    states = documents.states(conn)
    branch_state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                                {"b": booking["branch_id"]}).scalar_one()
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
    response = current_app.make_response((render_template(template, form=form, **context), _status(form)))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


# --------------------------------------------------------------------------- an invoice on screen and printed


def _invoice_or_404(invoice_id: int) -> dict:
    """The invoice document if this user may see it: their branch; counter sales only for some roles."""
    doc = documents.invoice_document(get_conn(), invoice_id)
    if doc is None or doc["inv"]["branch_id"] != current_user.branch_id:
        abort(404)
    if current_user.role in ONLY_COUNTER and doc["inv"]["kind"] != "COUNTER":
        abort(404)
    return doc


def _detail_response(doc: dict, einvoice_form: EInvoiceForm | None = None, status: int = 200):
    inv = doc["inv"]
    form = einvoice_form
    if form is None and inv["buyer_gstin"] and not inv["irn"]:
        form = EInvoiceForm(formdata=None)
    return render_template(
        "billing/invoice_detail.html", **doc, einvoice_form=form, copies=COPIES, sale_url=sale_url(inv["booking_id"]),
        may_credit=may_open("billing.credit_note_new") and inv["credit_note_id"] is None and inv["kind"] != "TRANSFER",
        may_einvoice=may_open("billing.invoice_einvoice") and bool(inv["buyer_gstin"]) and not inv["irn"],
        may_see_credit_note=may_open("billing.credit_note_detail"),
    ), status


@bp.get("/invoices/<int:invoice_id>")
@roles(*COUNTER_SELLERS)
def invoice_detail(invoice_id: int):
    return _detail_response(_invoice_or_404(invoice_id))


@bp.get("/invoices/<int:invoice_id>/pdf")
@roles(*COUNTER_SELLERS)
def invoice_pdf(invoice_id: int):
    """The tax invoice, A4, in triplicate (one copy with ?copy=original|duplicate|triplicate),
    served inline so the browser's viewer prints it."""
    doc = _invoice_or_404(invoice_id)
    chosen = request.args.get("copy", "")
    titles = [COPIES[chosen]] if chosen in COPIES else list(COPIES.values())
    pdf = render_pdf_copies("billing/invoice_pdf.html", titles, **doc)
    suffix = f"-{chosen}" if chosen in COPIES else ""
    return pdf_response(pdf, f"invoice-{doc['inv']['invoice_no']}{suffix}.pdf".replace("/", "-"))


EINVOICE_REFUSALS = {
    "invoice_is_permanent": (None, "The e-invoice details of this invoice are already entered; they are entered once"),
    "invoice_einvoice_complete": (None, "Enter the IRN, the acknowledgement number and its date together"),
    "invoice_irn_check": ("irn", "The IRN is 64 hexadecimal characters"),
    "invoice_ack_no_check": ("ack_no", "10 to 20 digits"),
    "invoice_signed_qr_check": ("signed_qr", "At most 4,000 characters"),
}


@bp.post("/invoices/<int:invoice_id>/einvoice")
@roles(*INVOICERS)
def invoice_einvoice(invoice_id: int):
    """Record the IRN, acknowledgement and signed QR the e-invoice portal gave a B2B invoice (once)."""
    conn = get_conn()
    doc = _invoice_or_404(invoice_id)
    inv = doc["inv"]
    form = EInvoiceForm()
    if not inv["buyer_gstin"]:
        form.form_errors.append("E-invoice details are for invoices to a registered buyer (with a GSTIN)")
    elif inv["irn"]:
        form.form_errors.append("The e-invoice details of this invoice are already entered; they are entered once")
    elif form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, EINVOICE_REFUSALS, lambda: conn.execute(sa.text("""
            UPDATE billing.invoice SET irn = :irn, ack_no = :ack_no, ack_date = :ack_date, signed_qr = :qr
             WHERE invoice_id = :i"""), {"irn": form.irn.data, "ack_no": form.ack_no.data,
                                         "ack_date": form.ack_date.data, "qr": form.signed_qr.data,
                                         "i": invoice_id}))
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
    }


@bp.route("/invoices/<int:invoice_id>/credit-note", methods=["GET", "POST"])
@roles(*INVOICERS)
def credit_note_new(invoice_id: int):
    """Reverse an invoice in full: the vehicle or the parts go back to stock, the booking to booked."""
    conn = get_conn()
    doc = _invoice_or_404(invoice_id)
    inv = doc["inv"]
    if request.method == "POST":
        earlier = earlier_document(conn, "credit_note", request.form.get("key"))
        if earlier:
            return redirect_response(url_for("billing.credit_note_detail", credit_note_id=earlier))
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
            no = conn.execute(sa.text("SELECT credit_note_no FROM billing.credit_note WHERE credit_note_id = :c"),
                              {"c": credit_note_id}).scalar()
            flash(f"Credit note {no} posted against invoice {inv['invoice_no']}.", "success")
            return redirect_response(url_for("billing.credit_note_detail", credit_note_id=credit_note_id))
    return render_template("billing/credit_note_new.html", form=form, **doc,
                           effects=documents.what_a_credit_note_does(conn, inv)), _status(form)


def _credit_note_or_404(credit_note_id: int) -> dict:
    doc = documents.credit_note_document(get_conn(), credit_note_id)
    if doc is None or doc["cn"]["branch_id"] != current_user.branch_id:
        abort(404)
    return doc


@bp.get("/credit-notes/<int:credit_note_id>")
@roles(*INVOICERS)
def credit_note_detail(credit_note_id: int):
    doc = _credit_note_or_404(credit_note_id)
    return render_template("billing/credit_note_detail.html", **doc, sale_url=sale_url(doc["inv"]["booking_id"]))


@bp.get("/credit-notes/<int:credit_note_id>/pdf")
@roles(*INVOICERS)
def credit_note_pdf(credit_note_id: int):
    doc = _credit_note_or_404(credit_note_id)
    pdf = render_pdf("billing/credit_note_pdf.html", **doc)
    return pdf_response(pdf, f"credit-note-{doc['cn']['credit_note_no']}.pdf".replace("/", "-"))


# --------------------------------------------------------------------------- counter sale


def _customers_by_mobile(conn, mobile: str | None):
    digits = normalise_mobile(mobile or "")
    if len(digits) < 4:
        return []
    return conn.execute(sa.text("""
        SELECT c.customer_id, c.name, c.mobile, c.gstin, c.city FROM master.customer c
         WHERE c.mobile LIKE :m ORDER BY c.mobile = :exact DESC, c.name LIMIT 10"""),
        {"m": digits + "%", "exact": digits}).mappings().all()


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
            operation = conn.execute(sa.text("""
                SELECT operation_code, is_active FROM master.labour_operation WHERE operation_code = :c"""),
                {"c": f.part_no.data}).mappings().first()
            if operation is None:
                f.part_no.errors.append(f"No labour operation {f.part_no.data}")
                ok = False
            elif not operation["is_active"]:
                f.part_no.errors.append(f"{operation['operation_code']} is no longer offered")
                ok = False
        else:
            part = conn.execute(sa.text("""
                SELECT part_id, part_no, is_active, whole_units, unit FROM master.part WHERE part_no = :n"""),
                {"n": f.part_no.data}).mappings().first()
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
    rows = conn.execute(sa.text("""
        SELECT p.part_id, p.part_no, p.name, p.unit, coalesce(s.qty, 0) AS in_stock FROM master.part p
          LEFT JOIN inventory.part_stock s ON s.part_id = p.part_id AND s.branch_id = :b
         WHERE p.part_id = ANY(:ids) ORDER BY p.part_no"""), {"b": branch_id, "ids": list(asked)}).mappings()
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
    threshold = conn.execute(sa.text("SELECT billing.threshold_on('B2C_ADDRESS', CAST(:d AS date))"),
                             {"d": today_ist()}).scalar()
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
@roles(*COUNTER_SELLERS)
def counter_new():
    """Parts, accessories and labour over the counter: rows priced with GST included (MRP) or
    excluded, handed over at the counter or delivered to an address (another state: IGST), a
    preview that warns of what the database will refuse, then the tax invoice; the parts leave
    stock in the same transaction."""
    conn = get_conn()
    branch_id = current_user.branch_id
    if request.method == "POST":
        earlier = earlier_document(conn, "invoice", request.form.get("key"))
        if earlier:
            return redirect_response(url_for("billing.invoice_detail", invoice_id=earlier))
    branch_state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                                {"b": branch_id}).scalar_one()
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
@roles(*COUNTER_SELLERS)
def counter_receipt_new(invoice_id: int):
    """Money for a counter sale left on the customer's account: a receipt voucher against the
    invoice, never above what it still owes (the database refuses more)."""
    from .money_forms import ReceiptForm

    conn = get_conn()
    doc = _invoice_or_404(invoice_id)
    inv = doc["inv"]
    if inv["kind"] != "COUNTER":  # a vehicle sale's money is taken on its booking
        return redirect(url_for("billing.receipt_new", booking_id=inv["booking_id"]), 302)
    form = ReceiptForm()
    form.mode.choices = [(m, posting.RECEIPT_MODES[m]) for m in COUNTER_MODES]
    if request.method == "POST":
        earlier = earlier_document(conn, "receipt", form.key.data)
        if earlier:
            return redirect_response(url_for("billing.receipt_detail", receipt_id=earlier))
    balance = conn.execute(sa.text("SELECT due - received FROM billing.counter_balance WHERE invoice_id = :i"),
                           {"i": invoice_id}).scalar_one()
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
            receipt_no = conn.execute(sa.text("SELECT receipt_no FROM billing.receipt WHERE receipt_id = :r"),
                                      {"r": receipt_id}).scalar_one()
            flash(f"Receipt {receipt_no}: {inr(form.amount.data)} received against {inv['invoice_no']}.", "success")
            return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
    return render_template("billing/counter_receipt_form.html", form=form, inv=inv, balance=balance), _status(form)
