"""Step 1 of a sale: allotting a unit in stock to the booking (oldest first), and taking it back."""
from __future__ import annotations

from flask import flash, request

from ..db import get_conn
from ..documents import Refused
from ..forms import save_or_field_error
from ..security import allow
from . import bp, services, step_queries
from .step_common import step_booking, step_page, to_sale
from .step_forms import AllotForm, DeallotForm

# --------------------------------------------------------------------------- 1. allotment

ALLOT_ERRORS = {
    "allotment_unit_in_stock": ("unit_id", "This unit was just allotted to another booking; pick another"),
    "allotment_unit_on_test_ride": ("unit_id", "This unit is out on a test ride; pick another"),
    "allotment_unit_once": ("unit_id", "This unit was just allotted to another booking; pick another"),
    "allotment_booking_waiting": ("unit_id", "This booking is no longer waiting for a unit (allotted or closed)"),
    "allotment_booking_once": ("unit_id", "This booking already holds a unit: de-allot it first"),
    "allotment_unit_matches": ("unit_id", "That unit is not the booked variant and colour at this branch"),
    "allotment_unit_id_fkey": ("unit_id", "That unit is not one of those listed: choose one of them"),
}


def _allot_page(booking, form, deallot_form, failed=False):
    units = services.suggested_units(get_conn(), booking["booking_id"])
    form.unit_id.choices = [
        (u["unit_id"], f"{u['vin']} · motor {u['motor_no']} · made {u['mfg_month']:%m-%Y}"
                       + (f" · in stock {u['age_days']} days" if u["age_days"] is not None else ""))
        for u in units]
    ids = [u["unit_id"] for u in units]
    if ids and form.unit_id.data not in ids:
        form.unit_id.data = ids[0]   # oldest first, pre-selected
    return step_page("sales/step_allot.html", form, booking, failed, units=units, deallot_form=deallot_form)


@bp.route("/bookings/<int:booking_id>/allot", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def allot(booking_id: int):
    booking = step_booking(booking_id)
    form = AllotForm()
    if request.method == "POST" and form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, ALLOT_ERRORS,
                                       lambda: services.allot(conn, booking_id, form.unit_id.data))
        if saved:
            vin = step_queries.unit_vin(conn, form.unit_id.data)
            flash(f"Unit {vin} allotted to booking {booking['booking_no']}.", "success")
            return to_sale(booking_id)
        booking = step_booking(booking_id)
    return _allot_page(booking, form, DeallotForm(formdata=None))


@bp.post("/bookings/<int:booking_id>/deallot")
@allow("sale.change")
def deallot(booking_id: int):
    booking = step_booking(booking_id)
    form = DeallotForm()
    if form.validate_on_submit():
        conn = get_conn()
        try:
            with conn.begin_nested():
                released = services.deallot(conn, booking_id, form.reason.data)
        except Refused as exc:
            form.form_errors.append(str(exc))
        else:
            if released:
                flash(f"Unit {booking['vin']} is back in stock; booking {booking['booking_no']} waits for a unit.",
                      "success")
            return to_sale(booking_id)
    page, _ = _allot_page(booking, AllotForm(formdata=None), form)
    return page, 422
