"""Stock's panel on the home screen: vehicles in stock and on demo valued at landed cost by age (the
ageing report's own figures), and spare parts' value and how many need reordering (the parts
list's). Each links to the list behind it."""
from __future__ import annotations

from flask_login import current_user

from ..security import can
from . import queries


def panel(conn, subject) -> dict | None:
    if not can("vehicle.read"):
        return None
    branch_id = current_user.branch_id
    ageing = queries.stock_ageing(conn, branch_id)
    total = ageing[0].total if ageing else queries.AgeingLine("Branch total")
    parts = queries.branch_stock_totals(conn, branch_id) if can("part.read") else None
    return {"vehicles": total, "buckets": queries.AGE_BUCKETS, "parts": parts}
