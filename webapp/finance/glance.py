"""Finance's panel on the home screen, for those who read the books: cash in hand and each bank
account's balance at the end of today, and what the OEM still owes the branch on subsidy and warranty
claims by age (OEM receivables' own definitions; free services not yet claimed carry no amount and are
listed there). Each links to the list behind it."""
from __future__ import annotations

from decimal import Decimal

from flask_login import current_user

from ..formatting import today_ist
from ..security import can
from . import books_queries, receivable_queries

ZERO = Decimal("0.00")


def panel(conn, subject) -> dict | None:
    if not can("ledger.read"):
        return None
    today = today_ist()
    branch_id = current_user.branch_id
    money = books_queries.cash_and_bank(conn, today, branch_id)
    owed = receivable_queries.pending_by_age(conn, branch_id, today)
    buckets = [(label, owed.get(k, (0, ZERO))[1], owed.get(k, (0, ZERO))[0])
               for k, label in enumerate(receivable_queries.BUCKETS)]
    return {"today": today, "money": money,
            "buckets": buckets, "pending": sum((amount for _, amount, _ in buckets), ZERO)}
