"""What the procurement screens share: a number from the query string, a quantity as a form shows
it, and the purchase order a page is about."""
from __future__ import annotations

from decimal import Decimal

from flask import request

from ..db import get_conn
from ..pages import found_or_404
from . import queries


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def plain(qty: Decimal) -> Decimal:
    """5.000 -> 5 and 7.500 -> 7.5 (never 1E+1) for a quantity shown in a form."""
    return Decimal(format(qty.normalize(), "f"))


def po_or_404(po_id: int):
    return found_or_404(queries.get_po(get_conn(), po_id))
