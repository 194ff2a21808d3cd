"""Which of the branch's sales records the signed-in user may open: a salesperson only their own
quotations and bookings (their leads: crm's access); everyone else the sales pages admit, all of the branch's
(capability ``sale.all_bookings``). Row-level security already keeps other branches' rows out."""
from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user
from sqlalchemy.engine import Connection

from .. import security
from . import queries

ALL = "sale.all_bookings"


def own_only() -> int | None:
    """The staff id lists must be limited to, or None when the user sees every booking."""
    return security.own_only(ALL)


def visible_or_404(row):
    """The quotation or booking row if this user may see it; else the 404 page."""
    return security.own_or_404(row, ALL)


def sale_document_or_404(conn: Connection, row, unbooked_visible=lambda row: True):
    """A document of the branch (receipt, refund, policy) if this user may see it: the user's branch,
    and the booking it belongs to one they may see; one of no booking if `unbooked_visible(row)`."""
    if row is None or row["branch_id"] != current_user.branch_id:
        abort(404)
    if row["booking_id"] is not None:
        booking_or_404(conn, row["booking_id"])
    elif not unbooked_visible(row):
        abort(404)
    return row


def booking_or_404(conn: Connection, booking_id: int, *, lock: bool = False):
    return visible_or_404(queries.get_booking(conn, booking_id, lock=lock))


def quotation_or_404(conn: Connection, quotation_id: int):
    return visible_or_404(queries.get_quotation(conn, quotation_id))


def sale_url(booking_id: int | None) -> str | None:
    """The sale's page, where every step and document of a booking leads back to."""
    return url_for("sales.booking_detail", booking_id=booking_id) if booking_id else None
