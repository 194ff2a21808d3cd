"""Accessories sold with a vehicle: one line each (a part from the parts list or an item typed in),
with HSN, quantity, unit price and whether the price includes GST. Each becomes its own line of
the tax invoice; a part line takes the part out of stock when the invoice is posted. The lines
change only until the invoice (sales.booking_accessory's trigger)."""
from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for

from ..db import get_conn
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..gst import InvoiceLine, compute_line
from ..master.api import hsn_choices
from ..security import allow, can
from . import access, bp, step_queries
from .access import sale_url
from .step_forms import AccessoryForm

ACCESSORY_ERRORS = {
    "booking_terms_fixed": (None, "This sale is invoiced: its accessories cannot change (a credit note first)."),
    "booking_accessory_hsn_code_fkey": ("hsn_code", "Choose an HSN / SAC code from the list"),
    "booking_accessory_description_check": ("description", "2 to 200 characters"),
    "booking_accessory_qty_check": ("qty", "0.001 to 9,999"),
    "booking_accessory_pkey": (None, "Someone added a line at the same moment: add it again"),
}


def accessory_lines(conn, booking_id: int) -> list[dict]:
    """The lines with what each comes to with GST at today's rate (the invoice uses its own date's)."""
    rows = step_queries.accessory_rows(conn, booking_id, today_ist())
    lines = []
    for r in rows:
        line = dict(r)
        if r["gst_rate"] is not None:
            computed = compute_line(InvoiceLine(description=r["description"], hsn_code=r["hsn_code"], qty=r["qty"],
                                                unit_price=r["unit_price"], gst_rate=r["gst_rate"],
                                                price_includes_gst=r["price_includes_gst"]), intra_state=True)
            line.update(taxable_value=computed.taxable_value, tax=computed.tax, total=computed.total)
        lines.append(line)
    return lines


def _part(conn, part_no: str | None):
    if not part_no:
        return None
    return step_queries.part_by_no(conn, part_no)


def _page(conn, booking, form, status: int = 200):
    form.hsn_code.choices = [("", "— choose —")] + hsn_choices(conn, today_ist())
    lines = accessory_lines(conn, booking["booking_id"])
    return render_template("sales/step_accessories.html", booking=booking, form=form, lines=lines,
                           total=sum((line.get("total", Decimal(0)) for line in lines), Decimal(0)),
                           may_change=can("sale.change") and booking["stage"] in ("BOOKED", "ALLOTTED"),
                           sale_url=sale_url(booking["booking_id"])), status


@bp.route("/bookings/<int:booking_id>/accessories", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def accessories(booking_id: int):
    """The accessory lines of a sale, and a line added to them."""
    conn = get_conn()
    booking = access.booking_or_404(conn, booking_id, lock=request.method == "POST")
    form = AccessoryForm()
    if request.method == "POST":
        if form.validate_on_submit():
            part = _part(conn, form.part_no.data)
            if form.part_no.data and part is None:
                form.part_no.errors.append("No part with this number in the parts list")
            else:
                values = {
                    "part_id": part["part_id"] if part else None,
                    "description": form.description.data or (part["name"] if part else None),
                    "hsn_code": form.hsn_code.data or (part["hsn_code"] if part else None),
                    "unit": part["unit"] if part else "NOS",
                    "unit_price": form.unit_price.data if form.unit_price.data is not None
                    else (part["mrp"] if part else None),
                    "price_includes_gst": form.price_includes_gst.data == "yes",
                    "qty": form.qty.data,
                }
                for name, message in (("description", "Enter what the accessory is"),
                                      ("hsn_code", "Choose the HSN / SAC code"),
                                      ("unit_price", "Enter the unit price")):
                    if values[name] is None:
                        getattr(form, name).errors.append(message)
                if not form.errors:
                    _, saved = save_or_field_error(conn, form, ACCESSORY_ERRORS, lambda: step_queries.add_accessory(
                        conn, booking_id, values))
                    if saved:
                        flash(f"Added: {values['description']}.", "success")
                        return redirect(url_for("sales.accessories", booking_id=booking_id), 303)
        return _page(conn, booking, form, 422)
    return _page(conn, booking, form)


@bp.post("/bookings/<int:booking_id>/accessories/<int:line_no>/remove")
@allow("sale.change")
def accessory_remove(booking_id: int, line_no: int):
    conn = get_conn()
    booking = access.booking_or_404(conn, booking_id, lock=True)
    form = AccessoryForm(formdata=None)
    _, saved = save_or_field_error(conn, form, ACCESSORY_ERRORS, lambda: step_queries.remove_accessory(
        conn, booking_id, line_no))
    if not saved:
        return _page(conn, booking, form, 422)
    flash("Accessory line removed.", "success")
    return redirect(url_for("sales.accessories", booking_id=booking_id), 303)
