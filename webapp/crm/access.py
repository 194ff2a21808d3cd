"""Which of the branch's leads the signed-in user may open: a salesperson only their own; a manager,
an administrator and accounts all of the branch's (capability ``lead.all``). Row-level security
already keeps other branches' rows out."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy.engine import Connection

from ..security import can
from . import queries


def own_only() -> int | None:
    """The staff id lists must be limited to, or None when the user sees every lead of the branch."""
    return None if can("lead.all") else current_user.staff_id


def visible_or_404(row):
    if row is None or row["branch_id"] != current_user.branch_id:
        abort(404)
    mine = own_only()
    if mine is not None and row["salesperson_id"] != mine:
        abort(404)
    return row


def lead_or_404(conn: Connection, lead_id: int):
    return visible_or_404(queries.get_lead(conn, lead_id))


def test_ride_or_404(conn: Connection, test_ride_id: int):
    return visible_or_404(queries.get_test_ride(conn, test_ride_id))
