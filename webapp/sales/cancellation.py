"""Cancelling a booking not yet invoiced: the charge kept, the refund voucher for the rest (after the
invoice a sale is undone by a credit note instead)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import flash, request

from ..billing import api as billing
from ..db import get_conn
from ..documents import Refused, new_key
from ..formatting import inr, today_ist
from ..forms import apply_db_error
from ..security import allow
from ..submit_once import twin_posted
from . import bp, step_queries
from .step_common import step_booking, step_page, to_sale
from .step_forms import CancelForm

# --------------------------------------------------------------------------- cancellation

CANCEL_ERRORS = {
    "refund_reference": ("reference", "Give the UTR or cheque number of the refund"),
    "refund_not_above_excess": ("cancellation_charge", "More than was received on this booking"),
    "booking_cancel_reason_check": ("reason", "3 to 200 characters"),
    "booking_cancel_without_unit": (None, "De-allot the unit before cancelling"),
    "booking_stage_transition": (None, "This booking can no longer be cancelled"),
}


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@allow("sale.change")
def cancel(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    form = CancelForm()
    if not form.key.data:
        form.key.data = new_key()
    if request.method == "POST" and booking["stage"] in ("BOOKED", "ALLOTTED") and form.validate_on_submit():
        try:
            with conn.begin_nested():
                refund_id = billing.cancel_booking(
                    conn, booking_id, on=today_ist(), reason=form.reason.data, key=form.key.data,
                    cancellation_charge=form.cancellation_charge.data or Decimal(0),
                    refund_mode=form.refund_mode.data, reference=form.reference.data)
        except Refused as exc:
            form.form_errors.append(str(exc))
        except sa.exc.IntegrityError as exc:
            if twin_posted(conn, exc, "refund", form.key.data):
                return to_sale(booking_id)
            if not apply_db_error(form, exc, CANCEL_ERRORS):
                raise
        else:
            refund = step_queries.refund_summary(conn, refund_id) if refund_id else None
            flash(f"Booking {booking['booking_no']} cancelled."
                  + (f" Refund voucher {refund['refund_no']} for {inr(refund['amount'])}." if refund else ""),
                  "success")
            return to_sale(booking_id)
    elif request.method == "POST" and booking["stage"] not in ("BOOKED", "ALLOTTED"):
        form.form_errors.append(f"Booking {booking['booking_no']} is {booking['stage'].lower()}: only a booking "
                                "not yet invoiced is cancelled here (after the invoice, a credit note).")
    received = billing.booking_balance(conn, booking_id)["received"]
    return step_page("sales/step_cancel.html", form, booking, received=received)
