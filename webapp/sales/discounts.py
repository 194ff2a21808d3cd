"""Step 2 of a sale: a manager's decision on a discount above the giver's limit (the list of those
waiting, and the decision from the list or the sale's page)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import inr
from ..forms import save_or_field_error
from ..security import allow
from . import bp, services, step_queries
from .access import sale_url
from .step_common import step_booking, to_sale
from .step_forms import DiscountDecisionForm

# --------------------------------------------------------------------------- 2. discount approval


@bp.get("/discounts")
@allow("discount.decide")
def discount_list():
    rows = step_queries.pending_discounts(get_conn(), current_user.branch_id)
    return render_template("sales/step_discounts.html", rows=rows, sale_link=sale_url)


DISCOUNT_ERRORS = {
    "booking_discount_decider": ("decision", "Only a manager or an administrator decides on a discount."),
    "booking_discount_decision": ("decision", "This discount is not waiting for a decision any more."),
}


@bp.post("/bookings/<int:booking_id>/discount")
@allow("discount.decide")
def discount_decide(booking_id: int):
    booking = step_booking(booking_id)
    form = DiscountDecisionForm()
    back_to_list = form.back.data == "list"
    if form.validate_on_submit():
        conn = get_conn()
        approve = form.decision.data == "approve"
        _, saved = save_or_field_error(conn, form, DISCOUNT_ERRORS, lambda: services.decide_discount(
            conn, booking_id, approve, current_user.staff_id, form.note.data))
        if saved:
            flash(f"Discount of {inr(booking['discount'])} on booking {booking['booking_no']} "
                  f"{'approved' if approve else 'rejected'}.", "success")
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")
    for error in form.form_errors:
        flash(error, "error")
    if back_to_list:
        return redirect(url_for("sales.discount_list"), 303)
    return to_sale(booking_id)
