"""What the step pages of a sale share: the booking they belong to, the page
they draw and the saving of one step's row (finance, exchange, subsidy, registration)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request

from ..db import get_conn
from ..forms import save_or_field_error
from . import access, step_queries
from .access import sale_url


def step_booking(booking_id: int, *, lock: bool = False):
    return access.booking_or_404(get_conn(), booking_id, lock=lock)


def to_sale(booking_id: int):
    return redirect(sale_url(booking_id), 303)


def step_page(template: str, form, booking, failed: bool = False, **context):
    status = 422 if request.method == "POST" and (failed or form.errors or form.form_errors) else 200
    return render_template(template, form=form, booking=booking, sale_url=sale_url(booking["booking_id"]),
                           **context), status


def save_step(conn, form, table: str, booking_id: int, values: dict, errors: dict, message: str):
    """Save one step's row (finance, exchange, subsidy, registration): back to the sale page with the
    message, or None with the database's refusal shown on the form."""
    _, saved = save_or_field_error(conn, form, errors,
                                   lambda: step_queries.upsert_step(conn, table, booking_id, values))
    if not saved:
        return None
    flash(message, "success")
    return to_sale(booking_id)
