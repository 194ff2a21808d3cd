"""Sales screens: the pipeline, the bookings list, a sale's page, booking and changing a booking
(quotations: quotations.py; leads are crm's, read through webapp/crm/api.py; the steps after booking: steps.py and the modules it names).

Who: SALES, MANAGER and ADMIN sell; ACCOUNTS may read every page. A salesperson sees only their
own leads, quotations and bookings (access.own_only / booking_or_404); everyone else sees
the whole branch. The rules (stages, discount limits, numbering, no overpayment) are the
database's; the views turn its constraint names into what the showroom reads.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import panels
from ..billing import api as billing
from ..crm import api as crm
from ..db import get_conn
from ..documents import new_key
from ..formatting import inr, today_ist
from ..forms import date_arg, save_or_field_error, url_date
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import paged_capped
from ..security import allow, can, role_may_use
from ..submit_once import post_once
from . import access, bp, queries, services
from .accessories import accessory_lines
from .forms import BOOKING_ERRORS, BookingEditForm, BookingForm, with_charges
from .quoting import (
    ZERO,
    booking_quote,
    charge_items,
    form_failed,
    gst_inside,
    int_arg,
    prefill_charges,
    quote_from,
    quote_or_none,
    vehicle_options,
)
from .steps import steps_context

EDITABLE_STAGES = ("BOOKED", "ALLOTTED")
CARDS_PER_STAGE = 12

STAGE_LABELS = {
    "BOOKED": "Booked", "ALLOTTED": "Unit allotted", "INVOICED": "Invoiced, awaiting delivery",
    "DELIVERED": "Delivered", "CANCELLED": "Cancelled",
}
DISCOUNT_LABELS = {"NONE": "No discount", "WITHIN_LIMIT": "Within the giver's limit",
                   "PENDING": "Awaiting manager approval", "APPROVED": "Approved", "REJECTED": "Rejected"}


# --------------------------------------------------------------------------- the pipeline and the list


@bp.get("/")
@allow("sale.read")
def pipeline():
    """The board: one column per stage, oldest first, with a count and a link to the rest."""
    conn = get_conn()
    today = today_ist()
    board = queries.pipeline(conn, current_user.branch_id, access.own_only(), today, CARDS_PER_STAGE)
    return render_template("sales/pipeline.html", board=board, stages=queries.PIPELINE_STAGES,
                           labels=STAGE_LABELS, since=today - timedelta(days=queries.DELIVERED_DAYS),
                           may_sell=can("sale.change"))


@bp.get("/bookings")
@allow("sale.read")
def booking_list():
    conn = get_conn()
    own = access.own_only()
    stage = choice_arg("stage", queries.BOOKING_STAGES)
    salesperson_id = int_arg("salesperson") if own is None else None
    from_arg, to_arg = date_arg("from"), date_arg("to")
    date_from, date_to = from_arg.value, to_arg.value
    q = search_text()
    rows, page = paged_capped(lambda number, size: queries.search_bookings(
        conn, current_user.branch_id, own=own, stage=stage or None, salesperson_id=salesperson_id,
        date_from=date_from, date_to=date_to, q=q, today=today_ist(), page=number, page_size=size))
    args = {"q": q, "stage": stage, "salesperson": salesperson_id or "",
            "from": url_date(date_from), "to": url_date(date_to)}
    return rows_or_page(
        "sales/booking_list.html", "sales/_booking_rows.html", "booking-results",
        rows=rows, page=page, args=args, stage=stage, salesperson_id=salesperson_id,
        date_from=date_from, date_to=date_to, from_arg=from_arg, to_arg=to_arg, q=q, labels=STAGE_LABELS,
        salespeople=queries.salespeople(conn, current_user.branch_id) if own is None else [],
        may_sell=can("sale.change"))


# --------------------------------------------------------------------------- a sale's page


def _checklist(booking, progress) -> list[dict]:
    """What the sale still waits for, in the order the showroom does it."""
    stage = booking["stage"]
    cancelled = stage == "CANCELLED"
    invoiced = booking["invoice_id"] is not None or stage in ("INVOICED", "DELIVERED")
    items = []

    def add(label, done, detail="", skip=False):
        items.append({"label": label, "done": bool(done), "detail": detail, "skip": skip})

    add("Unit allotted", booking["unit_id"] is not None or invoiced,
        f"VIN {booking['vin']}" if booking["vin"] else "No unit yet")
    status = booking["discount_status"]
    add("Discount decided", status != "PENDING",
        f"{inr(booking['discount'])}: {DISCOUNT_LABELS[status].lower()}" if booking["discount"] else "No discount")
    if booking["finance_needed"]:
        add("Finance delivery order received", progress["do_received_on"] is not None,
            f"DO {progress['do_number']}" if progress["do_number"] else
            ("Finance details not recorded" if not progress["has_finance"] else "DO awaited"))
    else:
        add("Finance", True, "Not needed", skip=True)
    add("Tax invoice", invoiced, booking["invoice_no"] or "Not yet invoiced")
    balance, own = booking["balance"], booking["customer_balance"]
    others = f"; {inr(booking['others_pending'])} from the loan, exchange or subsidy to come" \
        if booking["others_pending"] > 0 else ""
    add("Paid by the customer", own <= 0,
        (f"{inr(own)} due from the customer" if own > 0 else
         "Fully paid" if balance == 0 else f"{inr(-balance)} excess" if balance < 0 else "Customer's share paid")
        + others)
    add("Insurance policy", progress["policies"] > 0, "Recorded" if progress["policies"] else "Not recorded")
    if booking["is_low_speed"]:
        add("Registration", True, "Low-speed model: no RTO registration", skip=True)
    else:
        add("Registration", progress["reg_no"] is not None,
            progress["reg_no"] or (f"Temporary {progress['temp_reg_no']}" if progress["temp_reg_no"] else "Not yet"))
    add("PDI", progress["pdi_items"] and progress["pdi_ok"] == progress["pdi_items"],
        f"{progress['pdi_ok']} of {progress['pdi_items']} items OK")
    add("Delivered", stage == "DELIVERED",
        f"on {progress['delivered_on']:%d-%m-%Y}" if progress["delivered_on"] and stage == "DELIVERED" else "Not yet")
    if cancelled:
        for item in items:
            item["skip"] = True
    return items


@bp.get("/bookings/<int:booking_id>")
@allow("sale.read")
def booking_detail(booking_id: int):
    conn = get_conn()
    booking = access.booking_or_404(conn, booking_id)
    progress = queries.booking_progress(conn, booking_id)
    items = queries.booking_items(conn, booking_id)
    checklist = _checklist(booking, progress)
    accessories = accessory_lines(conn, booking_id)
    # Other modules' panels (billing's money, insurance's policy...) are registered on the "sale" slot.
    context = {**steps_context(conn, booking, accessories), "panels": panels.draw("sale", conn, booking)}
    return render_template(
        "sales/booking_detail.html", booking=booking, progress=progress, items=items, checklist=checklist,
        accessories=accessories,
        pending=[c for c in checklist if not c["done"] and not c["skip"]], labels=STAGE_LABELS,
        discount_labels=DISCOUNT_LABELS,
        may_edit=can("sale.change") and booking["stage"] in EDITABLE_STAGES,
        customer_link=role_may_use(current_user.role, "master.customer_detail"), **context)


# --------------------------------------------------------------------------- booking


def _state_choices(conn):
    return [("", "At the showroom")] + [(code, f"Customer's address in {name}")
                                        for code, name in queries.states(conn)]


def _customer_options(conn, q: str, chosen: int | None):
    """Customers matching the search box, with the chosen one always among them."""
    found = list(queries.find_customers(conn, q)) if q else []
    if chosen and chosen not in {c["customer_id"] for c in found}:
        customer = queries.get_customer(conn, chosen)
        if customer:
            found.insert(0, customer)
    return found


@bp.get("/customers/search")
@allow("sale.change")
def customer_search():
    """The booking form's customer search box: matching customers as radio options (htmx)."""
    conn = get_conn()
    q = search_text("customer_q")
    chosen = int_arg("customer_id")
    response = current_app.make_response(render_template(
        "sales/_customer_options.html", customers=_customer_options(conn, q, chosen), chosen=chosen,
        customer_q=q))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def _booking_source(conn):
    """The lead and quotation the booking comes from (?lead_id= / ?quotation_id=; ?enquiry_id= of
    links made before leads were crm's)."""
    quotation = lead = None
    if int_arg("quotation_id"):
        quotation = access.quotation_or_404(conn, int_arg("quotation_id"))
        lead = crm.lead_for_sale(conn, quotation["lead_id"])
    elif int_arg("lead_id") or int_arg("enquiry_id"):
        lead = crm.lead_for_sale(conn, int_arg("lead_id") or int_arg("enquiry_id"))
    return lead, quotation


@bp.route("/bookings/new", methods=["GET", "POST"])
@allow("sale.change")
def booking_new():
    """A booking, with the advance taken now posted as a receipt voucher in the same transaction.
    The form carries two idempotency keys (booking, receipt): a repeated submission finds them."""
    conn = get_conn()
    today = today_ist()
    lead, quotation = _booking_source(conn)
    items = charge_items(conn, today)
    form = with_charges(BookingForm, items)()
    form.item.choices = vehicle_options(conn, today, lead["model_id"] if lead else None)
    form.delivery_state_code.choices = _state_choices(conn)
    customer_q = search_text("customer_q")
    quote = None
    if request.method == "GET":
        form.idempotency_key.data, form.advance_key.data = new_key(), new_key()
        if quotation is not None:
            form.item.data = f"{quotation['variant_id']}:{quotation['colour']}"
            form.discount.data = quotation["discount"] or None
            prefill_charges(form, items, {i["item_code"]: i["amount"]
                                          for i in queries.quotation_items(conn, quotation["quotation_id"])})
        else:
            prefill_charges(form, items)
        if lead is not None:  # the lead's customer, finance need and expected date (crm.api)
            prefill = crm.booking_prefill(lead, today)
            form.customer_id.data = prefill["customer_id"]
            form.finance_needed.data = prefill["finance_needed"]
            form.expected_delivery.data = prefill["expected_delivery"]
            customer_q = customer_q or prefill["customer_q"]
        quote = quote_or_none(conn, form, today)
    elif form.validate_on_submit():
        quote = quote_from(conn, form, today)
        customer = queries.get_customer(conn, form.customer_id.data)
        if customer is None:
            form.customer_id.errors.append("Find and choose the customer")
        if form.advance_amount.data is not None and form.advance_amount.data <= 0:
            form.advance_amount.data = None
        if quote is not None and customer is not None:
            saved_id = _save_booking(conn, form, quote, customer, lead, quotation, today)
            if saved_id:
                return redirect(url_for("sales.booking_detail", booking_id=saved_id), 303)
    else:
        quote = quote_or_none(conn, form, today)
    # Never show a second form with a key that may have been used: a fresh one if it was damaged.
    for key in (form.idempotency_key, form.advance_key):
        if key.errors:
            key.data, key.errors = new_key(), []
            form.form_errors.append("The form was damaged: check it and book again.")
    customers = _customer_options(conn, customer_q, form.customer_id.data)
    if request.method == "GET" and lead is not None and not form.customer_id.data and len(customers) == 1:
        # The lead's mobile finds exactly one customer: that is who is booking.
        form.customer_id.data = customers[0]["customer_id"]
    status = 422 if request.method == "POST" else 200
    return render_template("sales/booking_form.html", form=form, lead=lead, quotation=quotation,
                           quote=quote, gst_inside=gst_inside, customers=customers, customer_q=customer_q,
                           chosen=form.customer_id.data), status


def _save_booking(conn, form, quote, customer, lead, quotation, today: date) -> int | None:
    key = form.idempotency_key.data
    salesperson = lead["salesperson_id"] if lead is not None else current_user.staff_id

    def book():
        booking_id = services.create_booking(
            conn, branch_id=current_user.branch_id, customer_id=customer["customer_id"], salesperson_id=salesperson,
            quote=quote, booked_on=today, key=key, expected_delivery=form.expected_delivery.data,
            finance_needed=form.finance_needed.data,
            lead_id=lead["lead_id"] if lead else None,
            quotation_id=quotation["quotation_id"] if quotation else None,
            delivery_state_code=form.delivery_state_code.data or None,
            delivery_address=form.delivery_address.data if form.delivery_state_code.data else None)
        if form.advance_amount.data:
            billing.post_receipt(conn, on=today, mode=form.advance_mode.data, amount=form.advance_amount.data,
                                 key=form.advance_key.data, received_from=customer["name"], booking_id=booking_id,
                                 reference=form.advance_reference.data, notes="Booking advance")
        return booking_id

    booking_id, saved = post_once(conn, form, "booking", BOOKING_ERRORS, book, key=key)
    if not saved:
        return None
    booking = queries.get_booking(conn, booking_id)
    message = f"Booking {booking['booking_no']} made for {customer['name']}."
    if form.advance_amount.data:
        message += f" Advance of {inr(form.advance_amount.data)} received."
    if booking["discount_status"] == "PENDING":
        message += f" The discount of {inr(booking['discount'])} is awaiting manager approval."
    flash(message, "success")
    return booking_id


@bp.route("/bookings/<int:booking_id>/edit", methods=["GET", "POST"])
@allow("sale.change")
def booking_edit(booking_id: int):
    conn = get_conn()
    booking = access.booking_or_404(conn, booking_id)
    if booking["stage"] not in EDITABLE_STAGES:
        flash(f"Booking {booking['booking_no']} is {STAGE_LABELS[booking['stage']].lower()}: its terms can no "
              "longer change (after the invoice, a credit note first).", "error")
        return redirect(url_for("sales.booking_detail", booking_id=booking_id), 303)
    today = today_ist()
    items = charge_items(conn, today)
    form = with_charges(BookingEditForm, items)()
    vehicle = f"{booking['variant_id']}:{booking['colour']}"
    form.item.choices = [(vehicle, f"{booking['model_name']} {booking['variant_name']} · {booking['colour']}")]
    form.delivery_state_code.choices = _state_choices(conn)
    quote = None
    if request.method == "GET":
        form.item.data = vehicle
        form.expected_delivery.data = booking["expected_delivery"]
        form.finance_needed.data = booking["finance_needed"]
        form.discount.data = booking["discount"] or None
        form.delivery_state_code.data = booking["delivery_state_code"] or ""
        form.delivery_address.data = booking["delivery_address"]
        prefill_charges(form, items, {i["item_code"]: i["amount"] for i in queries.booking_items(conn, booking_id)})
    else:
        form.item.data = vehicle   # what was booked stays; a new variant is a new booking
        if form.validate_on_submit():
            discount = form.discount.data or ZERO
            if discount >= booking["ex_showroom"]:
                form.discount.errors.append("The discount must be less than the ex-showroom price")
            else:
                try:
                    quote = booking_quote(conn, booking, discount, form.amounts(), today)
                except services.Refused as exc:
                    form.form_errors.append(str(exc))
            if quote is not None and not form_failed(form):
                data = {"expected_delivery": form.expected_delivery.data, "finance_needed": form.finance_needed.data,
                        "discount": discount, "delivery_state_code": form.delivery_state_code.data or None,
                        "delivery_address": form.delivery_address.data if form.delivery_state_code.data else None}

                def change():
                    queries.update_booking_terms(conn, booking_id, data)
                    services.replace_booking_items(conn, booking_id, quote.charges)

                _, saved = save_or_field_error(conn, form, BOOKING_ERRORS, change)
                if saved:
                    after = queries.get_booking(conn, booking_id)
                    message = f"Booking {booking['booking_no']} changed."
                    if after["discount_status"] == "PENDING":
                        message += f" The discount of {inr(after['discount'])} is awaiting manager approval."
                    flash(message, "success")
                    return redirect(url_for("sales.booking_detail", booking_id=booking_id), 303)
    if quote is None:
        try:
            quote = booking_quote(conn, booking, form.discount.data or ZERO, form.amounts(), today)
        except services.Refused:
            quote = None
    status = 422 if request.method == "POST" else 200
    return render_template("sales/booking_edit.html", form=form, booking=booking, quote=quote,
                           gst_inside=gst_inside), status
