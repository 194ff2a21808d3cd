"""Finance's panel on the home screen, for those who read the books: cash in hand and each bank
account's balance at the end of today, and what the OEM still owes the branch (subsidy, warranty and
free-service claims) by age: the OEM receivables' own figures. Each links to the list behind it."""
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
    owed = receivable_queries.summary(conn, branch_id, today)
    buckets = [(label, sum((r[f"b{k}"] or ZERO for r in owed), ZERO), sum(r[f"n{k}"] or 0 for r in owed))
               for k, label in enumerate(receivable_queries.BUCKETS)]
    return {"today": today, "money": money, "money_total": sum((m.balance for m in money), ZERO),
            "buckets": buckets, "pending": sum((r["pending"] or ZERO for r in owed), ZERO)}
