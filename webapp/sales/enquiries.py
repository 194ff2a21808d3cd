"""Sales screens before a booking: enquiries (walk-in, phone, referral, online), their follow-up or
loss, and the quotations made for them (on screen, live preview and PDF).

A salesperson sees only their own enquiries and quotations (access.own_only); everyone else
allowed into sales sees the whole branch."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..documents import new_key
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..master.api import branch_for_print
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import paged_capped
from ..pdf import pdf_response, render_pdf
from ..security import allow, can
from . import access, bp, queries, quoting, services
from .forms import BOOKING_ERRORS, ENQUIRY_ERRORS, BookingEditForm, EnquiryForm, LostForm, QuotationForm, with_charges

ENQUIRY_STATUS_LABELS = {"OPEN": "Open", "QUOTED": "Quoted", "BOOKED": "Booked", "LOST": "Lost"}


# --------------------------------------------------------------------------- enquiries


@bp.get("/enquiries")
@allow("sale.read")
def enquiry_list():
    conn = get_conn()
    status = choice_arg("status", queries.ENQUIRY_STATUSES)
    source = choice_arg("source", queries.ENQUIRY_SOURCES)
    q = search_text()
    rows, page = paged_capped(lambda number, size: queries.search_enquiries(
        conn, current_user.branch_id, own=access.own_only(), status=status or None, source=source or None, q=q,
        page=number, page_size=size))
    return rows_or_page("sales/enquiry_list.html", "sales/_enquiry_rows.html", "enquiry-results",
                        rows=rows, page=page, status=status, source=source, q=q,
                        statuses=ENQUIRY_STATUS_LABELS, sources=queries.ENQUIRY_SOURCES,
                        may_sell=can("sale.change"))


@bp.route("/enquiries/new", methods=["GET", "POST"])
@allow("sale.change")
def enquiry_new():
    conn = get_conn()
    form = EnquiryForm()
    form.model_id.choices = [(None, "— not decided —")] + queries.model_choices(conn)
    choose = can("salesperson.choose")
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
        if not quoting.form_failed(form):
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
@allow("sale.read")
def enquiry_detail(enquiry_id: int):
    conn = get_conn()
    enquiry = access.enquiry_or_404(conn, enquiry_id)
    return render_template("sales/enquiry_detail.html", enquiry=enquiry,
                           quotations=queries.enquiry_quotations(conn, enquiry_id), lost_form=LostForm(),
                           statuses=ENQUIRY_STATUS_LABELS, sources=queries.ENQUIRY_SOURCES,
                           may_sell=can("sale.change"))


@bp.post("/enquiries/<int:enquiry_id>/lost")
@allow("sale.change")
def enquiry_lost(enquiry_id: int):
    conn = get_conn()
    enquiry = access.enquiry_or_404(conn, enquiry_id)
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


def _stored_quote(quotation, items) -> services.OnRoadPrice:
    """A saved quotation as the same breakdown the live form shows."""
    return services.OnRoadPrice(
        quotation["variant_id"], quotation["colour"], quotation["quoted_on"], quotation["price_id"],
        quotation["ex_showroom"], quotation["gst_rate"], quotation["discount"], quotation["subsidy"],
        tuple(services.Charge(i["item_code"], i["description"], i["amount"], i["hsn_code"], i["gst_rate"])
              for i in items))


def _quotation_form(conn, on: date, model_id: int | None = None):
    items = quoting.charge_items(conn, on)
    form = with_charges(QuotationForm, items)()
    form.item.choices = quoting.vehicle_options(conn, on, model_id)
    return form, items


@bp.route("/enquiries/<int:enquiry_id>/quote", methods=["GET", "POST"])
@allow("sale.change")
def quotation_new(enquiry_id: int):
    conn = get_conn()
    enquiry = access.enquiry_or_404(conn, enquiry_id)
    today = today_ist()
    form, items = _quotation_form(conn, today, enquiry["model_id"])
    quote = None
    if enquiry["status"] == "LOST":
        form.form_errors.append("This enquiry is lost: open a new enquiry to quote again.")
    elif request.method == "GET":
        form.idempotency_key.data = new_key()
        quoting.prefill_charges(form, items)
    elif form.validate_on_submit():
        quote = quoting.quote_from(conn, form, today)
        if quote is not None:
            valid_until = today + timedelta(days=form.valid_days.data)
            quotation_id, saved = save_or_field_error(conn, form, BOOKING_ERRORS, lambda: services.save_quotation(
                conn, enquiry_id, current_user.branch_id, quote, valid_until, key=form.idempotency_key.data))
            if saved:
                flash(f"Quotation saved: on-road {inr(quote.on_road)}, the customer pays "
                      f"{inr(quote.customer_pays)}. Print it or book.", "success")
                return redirect(url_for("sales.quotation_detail", quotation_id=quotation_id), 303)
    elif form.vehicle():
        quote = quoting.quote_or_none(conn, form, today)
    if form.idempotency_key.errors:  # a damaged key is replaced, never reused
        form.idempotency_key.data, form.idempotency_key.errors = new_key(), []
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quotation_form.html", form=form, enquiry=enquiry, quote=quote,
                           gst_inside=quoting.gst_inside), status




@bp.get("/quotations/preview")
@allow("sale.change")
def quotation_preview():
    """The on-road breakdown for the quotation or booking form as typed (htmx, on every change)."""
    conn = get_conn()
    today = today_ist()
    items = quoting.charge_items(conn, today)
    booking_id = quoting.int_arg("booking_id")
    form_class = with_charges(BookingEditForm if booking_id else QuotationForm, items)
    form = form_class(formdata=request.args, meta={"csrf": False})
    form.validate()   # only to read the numbers as typed; nothing is saved
    message, quote = None, None
    try:
        if booking_id:
            booking = access.booking_or_404(conn, booking_id)
            quote = quoting.booking_quote(conn, booking, form.discount.data or quoting.ZERO, form.amounts(),
                                          today)
        else:
            form.item.choices = quoting.vehicle_options(conn, today)
            vehicle = form.vehicle()
            if vehicle is None or form.item.data not in {value for value, _ in form.item.choices if value}:
                message = "Choose the variant and colour to see the on-road price."
            else:
                quote = services.on_road_price(conn, vehicle[0], vehicle[1], today,
                                               discount=form.discount.data or quoting.ZERO, amounts=form.amounts())
    except services.Refused as exc:
        message = str(exc)
    response = current_app.make_response(render_template(
        "sales/_breakdown.html", quote=quote, message=message, gst_inside=quoting.gst_inside))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.get("/quotations/<int:quotation_id>")
@allow("sale.read")
def quotation_detail(quotation_id: int):
    conn = get_conn()
    quotation = access.quotation_or_404(conn, quotation_id)
    quote = _stored_quote(quotation, queries.quotation_items(conn, quotation_id))
    return render_template("sales/quotation_detail.html", quotation=quotation, quote=quote,
                           gst_inside=quoting.gst_inside, expired=quotation["valid_until"] < today_ist(),
                           may_sell=can("sale.change"))


@bp.get("/quotations/<int:quotation_id>/pdf")
@allow("sale.read")
def quotation_pdf(quotation_id: int):
    conn = get_conn()
    quotation = access.quotation_or_404(conn, quotation_id)
    quote = _stored_quote(quotation, queries.quotation_items(conn, quotation_id))
    pdf = render_pdf("sales/quotation_pdf.html", quotation=quotation, quote=quote, gst_inside=quoting.gst_inside,
                     branch=branch_for_print(conn, quotation["branch_id"]))
    return pdf_response(pdf, f"quotation-{quotation['quotation_no']}.pdf".replace("/", "-"))
