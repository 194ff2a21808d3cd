"""The last step of a sale: handing the vehicle over (the delivery, with its gate of what is still
outstanding), a manager's release of that gate, and the delivery note and gate pass."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..documents import new_key
from ..forms import apply_db_error, constraint_name, save_or_field_error
from ..master.api import branch_for_print
from ..pages import found_or_404
from ..pdf import Kept, pdf_response, render_pdf
from ..security import allow, can
from ..submit_once import twin_posted
from . import bp, queries, services, step_queries
from .step_common import step_booking, step_page, to_sale
from .step_forms import DeliveryForm, HandoverReleaseForm

# --------------------------------------------------------------------------- delivery


def _db_message(exc: sa.exc.DBAPIError) -> str:
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "message_primary", None) or str(exc.orig)


DELIVERY_ERRORS = {
    "delivery_needs_invoice": (None, "Post the tax invoice before handing over the vehicle."),
    "delivery_gate": (None, "The vehicle cannot be handed over yet: see what is outstanding above, "
                            "or ask a manager to release it with a reason."),
    "delivery_odometer_km_check": ("odometer_km", "A new vehicle shows 0 to 1,000 km"),
    "delivery_invoice_id_key": (None, "This vehicle was handed over a moment ago: open the sale again."),
}


def _default_accessories(conn, booking_id: int) -> str | None:
    names = step_queries.accessory_names(conn, booking_id)
    return ", ".join(names) or None


@bp.route("/bookings/<int:booking_id>/deliver", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def deliver(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    form = DeliveryForm()
    if request.method == "GET":
        form.received_by_name.data = booking["customer_name"]
        form.accessories_fitted.data = _default_accessories(conn, booking_id)
    if not form.key.data:
        form.key.data = new_key()
    if request.method == "POST" and form.validate_on_submit():
        try:
            with conn.begin_nested():
                services.deliver(conn, booking_id, on=form.delivered_on.data,
                                 received_by_name=form.received_by_name.data, key=form.key.data,
                                 accessories_fitted=form.accessories_fitted.data,
                                 odometer_km=form.odometer_km.data)
        except sa.exc.IntegrityError as exc:
            if twin_posted(conn, exc, "delivery", form.key.data):
                return to_sale(booking_id)
            if constraint_name(exc) == "delivery_needs_pdi":
                missing = _db_message(exc).split(":", 1)[-1].strip()
                form.form_errors.append(f"PDI is not complete. Still to be checked OK: {missing}")
            elif not apply_db_error(form, exc, DELIVERY_ERRORS):
                raise
        else:
            flash(f"Vehicle handed over to {form.received_by_name.data}. Print the delivery note and gate pass.",
                  "success")
            return to_sale(booking_id)
    return _deliver_page(conn, form, booking)


def _deliver_page(conn, form, booking, release_form=None):
    booking_id = booking["booking_id"]
    delivery_id = step_queries.last_delivery_id(conn, booking_id)
    gate = queries.handover_gate(conn, booking_id) if booking["stage"] == "INVOICED" else None
    if release_form is None and gate and gate["missing"] and not gate["release"] and can("discount.decide"):
        release_form = HandoverReleaseForm(formdata=None)
    failed = bool(release_form is not None and release_form.errors)
    return step_page("sales/step_deliver.html", form, booking, failed=failed, delivery_id=delivery_id, gate=gate,
                     release_form=release_form)


RELEASE_ERRORS = {
    "handover_release_invoiced": (None, "Only an invoiced sale waiting for its hand-over is released."),
    "handover_release_by_manager": (None, "Only a manager or an administrator releases a vehicle."),
    "handover_release_invoice_id_key": (None, "This sale's hand-over is already released."),
    "handover_release_reason_check": ("reason", "5 to 300 characters"),
}


@bp.post("/bookings/<int:booking_id>/deliver/release")
@allow("discount.decide")
def release_handover(booking_id: int):
    """A manager lets the vehicle go with something outstanding: the reason and what was missing are
    kept (audited) and shown on the sale page."""
    booking = step_booking(booking_id, lock=True)
    conn = get_conn()
    release_form = HandoverReleaseForm()
    if release_form.validate_on_submit():
        _, saved = save_or_field_error(conn, release_form, RELEASE_ERRORS, lambda: step_queries.insert_handover_release(
            conn, booking_id, release_form.reason.data))
        if saved:
            flash("Hand-over released: the vehicle may go with what is outstanding.", "success")
            return redirect(url_for("sales.deliver", booking_id=booking_id), 303)
    form = DeliveryForm(formdata=None)
    form.received_by_name.data = booking["customer_name"]
    form.key.data = new_key()
    return _deliver_page(conn, form, booking, release_form)


@bp.get("/deliveries/<int:delivery_id>/delivery-note.pdf")
@allow("sale.read")
def delivery_pdf(delivery_id: int):
    conn = get_conn()
    booking_id = found_or_404(step_queries.delivery_booking_id(conn, delivery_id))
    step_booking(booking_id)   # the branch's, and a salesperson's own
    note = step_queries.delivery_note(conn, delivery_id)
    pdf = render_pdf("sales/delivery_pdf.html", kept=Kept("delivery_note", delivery_id), note=note, branch=branch_for_print(conn, current_user.branch_id))
    return pdf_response(pdf, f"delivery-{note['delivery_no']}.pdf".replace("/", "-"))
