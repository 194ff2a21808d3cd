"""Which of the branch's leads the signed-in user may open: a salesperson only their own; a manager,
an administrator and accounts all of the branch's (capability ``lead.all``). Row-level security
already keeps other branches' rows out."""
from __future__ import annotations

from sqlalchemy.engine import Connection

from .. import security
from . import queries

ALL = "lead.all"


def own_only() -> int | None:
    """The staff id lists must be limited to, or None when the user sees every lead of the branch."""
    return security.own_only(ALL)


def visible_or_404(row):
    return security.own_or_404(row, ALL)


def lead_or_404(conn: Connection, lead_id: int):
    return visible_or_404(queries.get_lead(conn, lead_id))


def test_ride_or_404(conn: Connection, test_ride_id: int):
    return visible_or_404(queries.get_test_ride(conn, test_ride_id))
