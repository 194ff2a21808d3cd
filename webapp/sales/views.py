"""Sales screens: enquiries, quotations, bookings, the pipeline and a sale's page.

Who: SALES, MANAGER and ADMIN sell; ACCOUNTS may read every page. A salesperson sees only their
own enquiries, quotations and bookings (queries.own_only / booking_or_404); everyone else sees
the whole branch. The rules (stages, discount limits, numbering, no overpayment) are the
database's; the views turn its constraint names into what the showroom reads.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..billing import posting
from ..billing.documents import branch_for_print
from ..db import get_conn
from ..formatting import inr, today_ist
from ..forms import date_arg, save_or_field_error, url_date
from ..gst import taxable_within
from ..pages import rows_or_page, search_text
from ..paging import Page, requested_page
from ..pdf import pdf_response, render_pdf
from ..security import role_may_use, roles
from ..submit_once import post_once
from . import bp, queries, services
from .accessories import accessory_lines
from .forms import (
    BOOKING_ERRORS,
    ENQUIRY_ERRORS,
    BookingEditForm,
    BookingForm,
    EnquiryForm,
    LostForm,
    QuotationForm,
    with_charges,
)

SELLERS = ("SALES", "MANAGER", "ADMIN")
READERS = (*SELLERS, "ACCOUNTS")
CHOOSE_SALESPERSON = ("MANAGER", "ADMIN")
EDITABLE_STAGES = ("BOOKED", "ALLOTTED")
CARDS_PER_STAGE = 12
ZERO = Decimal("0.00")

STAGE_LABELS = {
    "BOOKED": "Booked", "ALLOTTED": "Unit allotted", "INVOICED": "Invoiced, awaiting delivery",
    "DELIVERED": "Delivered", "CANCELLED": "Cancelled",
}
ENQUIRY_STATUS_LABELS = {"OPEN": "Open", "QUOTED": "Quoted", "BOOKED": "Booked", "LOST": "Lost"}
DISCOUNT_LABELS = {"NONE": "No discount", "WITHIN_LIMIT": "Within the giver's limit",
                   "PENDING": "Awaiting manager approval", "APPROVED": "Approved", "REJECTED": "Rejected"}


# --------------------------------------------------------------------------- helpers


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _failed(form) -> bool:
    return bool(form.errors or form.form_errors)


def gst_inside(amount: Decimal, rate: Decimal | None) -> Decimal | None:
    """The GST contained in a GST-inclusive amount, worked back as the invoice works it (taxable value
    to the paisa, the tax the rest), so the quotation shows the tax the invoice will carry."""
    if rate is None:
        return None
    return amount - taxable_within(amount, rate)


def _vehicle_choices(conn, on: date, model_id: int | None = None, keep: str | None = None):
    """(value, label) of the variants and colours with a price on the day; `keep` stays listed."""
    rows = queries.vehicle_choices(conn, on, model_id)
    choices = [("", "— choose —")] + [
        (f"{r['variant_id']}:{r['colour']}",
         f"{r['brand']} {r['model_name']} {r['variant_name']} · {r['colour']} · {inr(r['ex_showroom'])}")
        for r in rows]
    return choices


def _charge_items(conn, on: date):
    return services.onroad_items(conn, on)


def _prefill_charges(form, items, amounts: dict | None = None) -> None:
    """Each charge field at the amount given, else the item's default amount."""
    amounts = amounts if amounts is not None else {i["item_code"]: i["default_amount"] for i in items}
    for code, field in form.charges():
        value = amounts.get(code)
        field.data = value if value else None


def _quote_from(conn, form, on: date):
    """The on-road breakdown for what the form holds, or None after marking what is wrong."""
    vehicle = form.vehicle()
    valid = {value for value, _ in form.item.choices if value}
    if vehicle is None or form.item.data not in valid:
        form.item.errors = [*form.item.errors, "Choose the variant and colour from the list"]
        return None
    try:
        return services.on_road_price(conn, vehicle[0], vehicle[1], on, discount=form.discount.data or ZERO,
                                      amounts=form.amounts())
    except services.Refused as exc:
        target = form.discount if "discount" in str(exc) else form.item
        target.errors = [*target.errors, str(exc)]
        return None


def _booking_quote(conn, booking, discount: Decimal, amounts: dict, on: date) -> services.OnRoadPrice:
    """The breakdown of a booking at its agreed price, with the discount and charges given."""
    rate = conn.execute(sa.text("SELECT master.gst_rate_on(:h, :d)"), {"h": booking["hsn_code"], "d": on}).scalar()
    charges = []
    for item in _charge_items(conn, on):
        amount = amounts.get(item["item_code"])
        if amount and amount > 0:
            if item["hsn_code"] and item["gst_rate"] is None:
                raise services.Refused(f"The tax master has no GST rate for {item['name']} on {on:%d-%m-%Y}")
            charges.append(services.Charge(item["item_code"], item["name"], amount, item["hsn_code"],
                                           item["gst_rate"]))
    return services.OnRoadPrice(booking["variant_id"], booking["colour"], on, 0, booking["ex_showroom"], rate,
                                discount, booking["subsidy_eligible"], tuple(charges))


def _stored_quote(quotation, items) -> services.OnRoadPrice:
    """A saved quotation as the same breakdown the live form shows."""
    return services.OnRoadPrice(
        quotation["variant_id"], quotation["colour"], quotation["quoted_on"], quotation["price_id"],
        quotation["ex_showroom"], quotation["gst_rate"], quotation["discount"], quotation["subsidy"],
        tuple(services.Charge(i["item_code"], i["description"], i["amount"], i["hsn_code"], i["gst_rate"])
              for i in items))


# --------------------------------------------------------------------------- the pipeline and the list


@bp.get("/")
@roles(*READERS)
def pipeline():
    """The board: one column per stage, oldest first, with a count and a link to the rest."""
    conn = get_conn()
    today = today_ist()
    board = queries.pipeline(conn, current_user.branch_id, queries.own_only(), today, CARDS_PER_STAGE)
    return render_template("sales/pipeline.html", board=board, stages=queries.PIPELINE_STAGES,
                           labels=STAGE_LABELS, since=today - timedelta(days=queries.DELIVERED_DAYS),
                           may_sell=current_user.role in SELLERS)


@bp.get("/bookings")
@roles(*READERS)
def booking_list():
    conn = get_conn()
    own = queries.own_only()
    stage = request.args.get("stage", "")
    stage = stage if stage in queries.BOOKING_STAGES else ""
    salesperson_id = _int_arg("salesperson") if own is None else None
    from_arg, to_arg = date_arg("from"), date_arg("to")
    date_from, date_to = from_arg.value, to_arg.value
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_bookings(
        conn, current_user.branch_id, own=own, stage=stage or None, salesperson_id=salesperson_id,
        date_from=date_from, date_to=date_to, q=q, today=today_ist(), page=number, page_size=size)
    args = {"q": q, "stage": stage, "salesperson": salesperson_id or "",
            "from": url_date(date_from), "to": url_date(date_to)}
    return rows_or_page(
        "sales/booking_list.html", "sales/_booking_rows.html", "booking-results",
        rows=rows, page=Page(number, size, total), args=args, stage=stage, salesperson_id=salesperson_id,
        date_from=date_from, date_to=date_to, from_arg=from_arg, to_arg=to_arg, q=q, labels=STAGE_LABELS,
        salespeople=queries.salespeople(conn, current_user.branch_id) if own is None else [],
        may_sell=current_user.role in SELLERS)


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
@roles(*READERS)
def booking_detail(booking_id: int):
    # The panels belong to other parts of the system; their context functions fill them.
    from ..billing.views import money_context
    from ..insurance.views import policy_context
    from .steps import steps_context

    conn = get_conn()
    booking = queries.booking_or_404(conn, booking_id)
    progress = queries.booking_progress(conn, booking_id)
    items = queries.booking_items(conn, booking_id)
    checklist = _checklist(booking, progress)
    accessories = accessory_lines(conn, booking_id)
    context = {}
    context.update(steps_context(conn, booking, accessories))
    context.update(money_context(conn, booking))
    context.update(policy_context(conn, booking))
    return render_template(
        "sales/booking_detail.html", booking=booking, progress=progress, items=items, checklist=checklist,
        accessories=accessories,
        pending=[c for c in checklist if not c["done"] and not c["skip"]], labels=STAGE_LABELS,
        discount_labels=DISCOUNT_LABELS,
        may_edit=current_user.role in SELLERS and booking["stage"] in EDITABLE_STAGES,
        customer_link=role_may_use(current_user.role, "master.customer_detail"), **context)


# --------------------------------------------------------------------------- enquiries


@bp.get("/enquiries")
@roles(*READERS)
def enquiry_list():
    conn = get_conn()
    status = request.args.get("status", "")
    status = status if status in queries.ENQUIRY_STATUSES else ""
    source = request.args.get("source", "")
    source = source if source in queries.ENQUIRY_SOURCES else ""
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_enquiries(conn, current_user.branch_id, own=queries.own_only(),
                                           status=status or None, source=source or None, q=q, page=number,
                                           page_size=size)
    return rows_or_page("sales/enquiry_list.html", "sales/_enquiry_rows.html", "enquiry-results",
                        rows=rows, page=Page(number, size, total), status=status, source=source, q=q,
                        statuses=ENQUIRY_STATUS_LABELS, sources=queries.ENQUIRY_SOURCES,
                        may_sell=current_user.role in SELLERS)


@bp.route("/enquiries/new", methods=["GET", "POST"])
@roles(*SELLERS)
def enquiry_new():
    conn = get_conn()
    form = EnquiryForm()
    form.model_id.choices = [(None, "— not decided —")] + queries.model_choices(conn)
    choose = current_user.role in CHOOSE_SALESPERSON
    people = queries.salespeople(conn, current_user.branch_id) if choose else []
    form.salesperson_id.choices = people
    if request.method == "GET":
        form.salesperson_id.data = current_user.staff_id
    if form.validate_on_submit():
        salesperson = current_user.staff_id
        if choose and form.salesperson_id.data:
            if form.salesperson_id.data not in {p for p, _ in people}:
                form.salesperson_id.errors.append("Choose a salesperson of this branch")
            salesperson = form.salesperson_id.data
        if form.model_id.data and form.model_id.data not in {m for m, _ in form.model_id.choices}:
            form.model_id.errors.append("Choose a model from the list")
        if not _failed(form):
            data = {name: getattr(form, name).data for name in (
                "source", "name", "mobile", "email", "model_id", "test_ride_on", "follow_up_on", "notes")}
            data["salesperson_id"] = salesperson
            enquiry_id, saved = save_or_field_error(conn, form, ENQUIRY_ERRORS, lambda: queries.insert_enquiry(
                conn, current_user.branch_id, today_ist(), data))
            if saved:
                flash(f"Enquiry of {data['name']} saved. Quote a price when they are ready.", "success")
                return redirect(url_for("sales.enquiry_detail", enquiry_id=enquiry_id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("sales/enquiry_form.html", form=form, choose=choose), status


@bp.get("/enquiries/<int:enquiry_id>")
@roles(*READERS)
def enquiry_detail(enquiry_id: int):
    conn = get_conn()
    enquiry = queries.enquiry_or_404(conn, enquiry_id)
    return render_template("sales/enquiry_detail.html", enquiry=enquiry,
                           quotations=queries.enquiry_quotations(conn, enquiry_id), lost_form=LostForm(),
                           statuses=ENQUIRY_STATUS_LABELS, sources=queries.ENQUIRY_SOURCES,
                           may_sell=current_user.role in SELLERS)


@bp.post("/enquiries/<int:enquiry_id>/lost")
@roles(*SELLERS)
def enquiry_lost(enquiry_id: int):
    conn = get_conn()
    enquiry = queries.enquiry_or_404(conn, enquiry_id)
    form = LostForm()
    if form.validate_on_submit():
        if queries.mark_lost(conn, enquiry_id, form.reason.data):
            flash(f"Enquiry of {enquiry['name']} marked lost: {form.reason.data}.", "success")
            return redirect(url_for("sales.enquiry_detail", enquiry_id=enquiry_id), 303)
        form.reason.errors.append(f"This enquiry is {ENQUIRY_STATUS_LABELS[enquiry['status']].lower()}: "
                                  "only an open or quoted enquiry can be lost")
    return render_template("sales/enquiry_detail.html", enquiry=enquiry,
                           quotations=queries.enquiry_quotations(conn, enquiry_id), lost_form=form,
                           statuses=ENQUIRY_STATUS_LABELS, sources=queries.ENQUIRY_SOURCES,
                           may_sell=True), 422


# --------------------------------------------------------------------------- quotations


def _quotation_form(conn, on: date, model_id: int | None = None):
    items = _charge_items(conn, on)
    form = with_charges(QuotationForm, items)()
    form.item.choices = _vehicle_choices(conn, on, model_id)
    return form, items


@bp.route("/enquiries/<int:enquiry_id>/quote", methods=["GET", "POST"])
@roles(*SELLERS)
def quotation_new(enquiry_id: int):
    conn = get_conn()
    enquiry = queries.enquiry_or_404(conn, enquiry_id)
    today = today_ist()
    form, items = _quotation_form(conn, today, enquiry["model_id"])
    quote = None
    if enquiry["status"] == "LOST":
        form.form_errors.append("This enquiry is lost: open a new enquiry to quote again.")
    elif request.method == "GET":
        form.idempotency_key.data = posting.new_key()
        _prefill_charges(form, items)
    elif form.validate_on_submit():
        quote = _quote_from(conn, form, today)
        if quote is not None:
            valid_until = today + timedelta(days=form.valid_days.data)
            quotation_id, saved = save_or_field_error(conn, form, BOOKING_ERRORS, lambda: services.save_quotation(
                conn, enquiry_id, current_user.branch_id, quote, valid_until, key=form.idempotency_key.data))
            if saved:
                flash(f"Quotation saved: on-road {inr(quote.on_road)}, the customer pays "
                      f"{inr(quote.customer_pays)}. Print it or book.", "success")
                return redirect(url_for("sales.quotation_detail", quotation_id=quotation_id), 303)
    elif form.vehicle():
        quote = _quote_or_none(conn, form, today)
    if form.idempotency_key.errors:  # a damaged key is replaced, never reused
        form.idempotency_key.data, form.idempotency_key.errors = posting.new_key(), []
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quotation_form.html", form=form, enquiry=enquiry, quote=quote,
                           gst_inside=gst_inside), status


def _quote_or_none(conn, form, on: date):
    """The breakdown for what is typed so far, quietly None when it is not complete yet."""
    vehicle = form.vehicle()
    if vehicle is None or form.item.data not in {value for value, _ in form.item.choices if value}:
        return None
    try:
        return services.on_road_price(conn, vehicle[0], vehicle[1], on, discount=form.discount.data or ZERO,
                                      amounts=form.amounts())
    except services.Refused:
        return None


@bp.get("/quotations/preview")
@roles(*SELLERS)
def quotation_preview():
    """The on-road breakdown for the quotation or booking form as typed (htmx, on every change)."""
    conn = get_conn()
    today = today_ist()
    items = _charge_items(conn, today)
    booking_id = _int_arg("booking_id")
    form_class = with_charges(BookingEditForm if booking_id else QuotationForm, items)
    form = form_class(formdata=request.args, meta={"csrf": False})
    form.validate()   # only to read the numbers as typed; nothing is saved
    message, quote = None, None
    try:
        if booking_id:
            booking = queries.booking_or_404(conn, booking_id)
            quote = _booking_quote(conn, booking, form.discount.data or ZERO, form.amounts(), today)
        else:
            form.item.choices = _vehicle_choices(conn, today)
            vehicle = form.vehicle()
            if vehicle is None or form.item.data not in {value for value, _ in form.item.choices if value}:
                message = "Choose the variant and colour to see the on-road price."
            else:
                quote = services.on_road_price(conn, vehicle[0], vehicle[1], today,
                                               discount=form.discount.data or ZERO, amounts=form.amounts())
    except services.Refused as exc:
        message = str(exc)
    response = current_app.make_response(render_template(
        "sales/_breakdown.html", quote=quote, message=message, gst_inside=gst_inside))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.get("/quotations/<int:quotation_id>")
@roles(*READERS)
def quotation_detail(quotation_id: int):
    conn = get_conn()
    quotation = queries.quotation_or_404(conn, quotation_id)
    quote = _stored_quote(quotation, queries.quotation_items(conn, quotation_id))
    return render_template("sales/quotation_detail.html", quotation=quotation, quote=quote, gst_inside=gst_inside,
                           expired=quotation["valid_until"] < today_ist(), may_sell=current_user.role in SELLERS)


@bp.get("/quotations/<int:quotation_id>/pdf")
@roles(*READERS)
def quotation_pdf(quotation_id: int):
    conn = get_conn()
    quotation = queries.quotation_or_404(conn, quotation_id)
    quote = _stored_quote(quotation, queries.quotation_items(conn, quotation_id))
    pdf = render_pdf("sales/quotation_pdf.html", quotation=quotation, quote=quote, gst_inside=gst_inside,
                     branch=branch_for_print(conn, quotation["branch_id"]))
    return pdf_response(pdf, f"quotation-{quotation['quotation_no']}.pdf".replace("/", "-"))


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
@roles(*SELLERS)
def customer_search():
    """The booking form's customer search box: matching customers as radio options (htmx)."""
    conn = get_conn()
    q = search_text("customer_q")
    chosen = _int_arg("customer_id")
    response = current_app.make_response(render_template(
        "sales/_customer_options.html", customers=_customer_options(conn, q, chosen), chosen=chosen,
        customer_q=q))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def _booking_source(conn):
    """The enquiry and quotation the booking comes from (?enquiry_id= / ?quotation_id=)."""
    quotation = enquiry = None
    if _int_arg("quotation_id"):
        quotation = queries.quotation_or_404(conn, _int_arg("quotation_id"))
        enquiry = queries.enquiry_or_404(conn, quotation["enquiry_id"])
    elif _int_arg("enquiry_id"):
        enquiry = queries.enquiry_or_404(conn, _int_arg("enquiry_id"))
    return enquiry, quotation


@bp.route("/bookings/new", methods=["GET", "POST"])
@roles(*SELLERS)
def booking_new():
    """A booking, with the advance taken now posted as a receipt voucher in the same transaction.
    The form carries two idempotency keys (booking, receipt): a repeated submission finds them."""
    conn = get_conn()
    today = today_ist()
    enquiry, quotation = _booking_source(conn)
    items = _charge_items(conn, today)
    form = with_charges(BookingForm, items)()
    form.item.choices = _vehicle_choices(conn, today, enquiry["model_id"] if enquiry else None)
    form.delivery_state_code.choices = _state_choices(conn)
    customer_q = search_text("customer_q")
    quote = None
    if request.method == "GET":
        form.idempotency_key.data, form.advance_key.data = posting.new_key(), posting.new_key()
        if quotation is not None:
            form.item.data = f"{quotation['variant_id']}:{quotation['colour']}"
            form.discount.data = quotation["discount"] or None
            _prefill_charges(form, items, {i["item_code"]: i["amount"]
                                           for i in queries.quotation_items(conn, quotation["quotation_id"])})
        else:
            _prefill_charges(form, items)
        if enquiry is not None:
            form.customer_id.data = enquiry["customer_id"]
            customer_q = customer_q or enquiry["mobile"]
        quote = _quote_or_none(conn, form, today)
    elif form.validate_on_submit():
        quote = _quote_from(conn, form, today)
        customer = queries.get_customer(conn, form.customer_id.data)
        if customer is None:
            form.customer_id.errors.append("Find and choose the customer")
        if form.advance_amount.data is not None and form.advance_amount.data <= 0:
            form.advance_amount.data = None
        if quote is not None and customer is not None:
            saved_id = _save_booking(conn, form, quote, customer, enquiry, quotation, today)
            if saved_id:
                return redirect(url_for("sales.booking_detail", booking_id=saved_id), 303)
    else:
        quote = _quote_or_none(conn, form, today)
    # Never show a second form with a key that may have been used: a fresh one if it was damaged.
    for key in (form.idempotency_key, form.advance_key):
        if key.errors:
            key.data, key.errors = posting.new_key(), []
            form.form_errors.append("The form was damaged: check it and book again.")
    customers = _customer_options(conn, customer_q, form.customer_id.data)
    if request.method == "GET" and enquiry is not None and not form.customer_id.data and len(customers) == 1:
        # The enquiry's mobile finds exactly one customer: that is who is booking.
        form.customer_id.data = customers[0]["customer_id"]
    status = 422 if request.method == "POST" else 200
    return render_template("sales/booking_form.html", form=form, enquiry=enquiry, quotation=quotation,
                           quote=quote, gst_inside=gst_inside, customers=customers, customer_q=customer_q,
                           chosen=form.customer_id.data), status


def _save_booking(conn, form, quote, customer, enquiry, quotation, today: date) -> int | None:
    key = form.idempotency_key.data
    salesperson = enquiry["salesperson_id"] if enquiry is not None else current_user.staff_id

    def book():
        booking_id = services.create_booking(
            conn, branch_id=current_user.branch_id, customer_id=customer["customer_id"], salesperson_id=salesperson,
            quote=quote, booked_on=today, key=key, expected_delivery=form.expected_delivery.data,
            finance_needed=form.finance_needed.data,
            enquiry_id=enquiry["enquiry_id"] if enquiry else None,
            quotation_id=quotation["quotation_id"] if quotation else None,
            delivery_state_code=form.delivery_state_code.data or None,
            delivery_address=form.delivery_address.data if form.delivery_state_code.data else None)
        if form.advance_amount.data:
            posting.post_receipt(conn, on=today, mode=form.advance_mode.data, amount=form.advance_amount.data,
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
@roles(*SELLERS)
def booking_edit(booking_id: int):
    conn = get_conn()
    booking = queries.booking_or_404(conn, booking_id)
    if booking["stage"] not in EDITABLE_STAGES:
        flash(f"Booking {booking['booking_no']} is {STAGE_LABELS[booking['stage']].lower()}: its terms can no "
              "longer change (after the invoice, a credit note first).", "error")
        return redirect(url_for("sales.booking_detail", booking_id=booking_id), 303)
    today = today_ist()
    items = _charge_items(conn, today)
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
        _prefill_charges(form, items, {i["item_code"]: i["amount"] for i in queries.booking_items(conn, booking_id)})
    else:
        form.item.data = vehicle   # what was booked stays; a new variant is a new booking
        if form.validate_on_submit():
            discount = form.discount.data or ZERO
            if discount >= booking["ex_showroom"]:
                form.discount.errors.append("The discount must be less than the ex-showroom price")
            else:
                try:
                    quote = _booking_quote(conn, booking, discount, form.amounts(), today)
                except services.Refused as exc:
                    form.form_errors.append(str(exc))
            if quote is not None and not _failed(form):
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
            quote = _booking_quote(conn, booking, form.discount.data or ZERO, form.amounts(), today)
        except services.Refused:
            quote = None
    status = 422 if request.method == "POST" else 200
    return render_template("sales/booking_edit.html", form=form, booking=booking, quote=quote,
                           gst_inside=gst_inside), status
