"""Sales screens before a booking: the quotations made for a lead (on screen, live preview and PDF).
The lead itself (walk-in, phone, website, referral, event, OEM portal), its follow-ups, test rides and
loss are crm's (webapp/crm); this module reads a lead only through crm's api.py. The old enquiry
addresses (/sales/enquiries...) answer with a redirect to the lead's, for bookmarks.

A salesperson sees only their own leads and quotations; everyone else allowed into sales sees the
whole branch."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..crm import api as crm
from ..db import get_conn
from ..documents import new_key
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..master.api import branch_for_print
from ..pdf import pdf_response, render_pdf
from ..security import allow, can
from . import access, bp, queries, quoting, services
from .forms import BOOKING_ERRORS, BookingEditForm, QuotationForm, with_charges

# --------------------------------------------------------------------------- the old enquiry addresses


@bp.get("/enquiries")
@allow("lead.read")
def enquiry_list():
    query = request.query_string.decode("latin-1")
    return redirect(url_for("crm.lead_list") + (f"?{query}" if query else ""), 302)


@bp.get("/enquiries/new")
@allow("lead.change")
def enquiry_new():
    return redirect(url_for("crm.lead_new"), 302)


@bp.get("/enquiries/<int:enquiry_id>")
@allow("lead.read")
def enquiry_detail(enquiry_id: int):
    crm.lead_for_sale(get_conn(), enquiry_id)   # another's or another branch's: 404, as the lead's page
    return redirect(url_for("crm.lead_detail", lead_id=enquiry_id), 302)


@bp.get("/enquiries/<int:enquiry_id>/quote")
@allow("sale.change")
def enquiry_quote(enquiry_id: int):
    crm.lead_for_sale(get_conn(), enquiry_id)
    return redirect(url_for("sales.quotation_new", lead_id=enquiry_id), 302)


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


@bp.route("/leads/<int:lead_id>/quote", methods=["GET", "POST"])
@allow("sale.change")
def quotation_new(lead_id: int):
    conn = get_conn()
    lead = crm.lead_for_sale(conn, lead_id)
    today = today_ist()
    form, items = _quotation_form(conn, today, lead["model_id"])
    quote = None
    if lead["status"] == "LOST":
        form.form_errors.append("This lead is lost: open a new lead to quote again.")
    elif request.method == "GET":
        form.idempotency_key.data = new_key()
        quoting.prefill_charges(form, items)
    elif form.validate_on_submit():
        quote = quoting.quote_from(conn, form, today)
        if quote is not None:
            valid_until = today + timedelta(days=form.valid_days.data)
            quotation_id, saved = save_or_field_error(conn, form, BOOKING_ERRORS, lambda: services.save_quotation(
                conn, lead_id, current_user.branch_id, quote, valid_until, key=form.idempotency_key.data))
            if saved:
                flash(f"Quotation saved: on-road {inr(quote.on_road)}, the customer pays "
                      f"{inr(quote.customer_pays)}. Print it or book.", "success")
                return redirect(url_for("sales.quotation_detail", quotation_id=quotation_id), 303)
    elif form.vehicle():
        quote = quoting.quote_or_none(conn, form, today)
    if form.idempotency_key.errors:  # a damaged key is replaced, never reused
        form.idempotency_key.data, form.idempotency_key.errors = new_key(), []
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quotation_form.html", form=form, lead=lead, quote=quote,
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
