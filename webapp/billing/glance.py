"""Billing's panel on the home screen, for those who keep the books: invoices today and this month,
what customers owe by age, and the margin per vehicle over six months. Each figure links to the
register behind it."""
from __future__ import annotations

from decimal import Decimal

from flask_login import current_user

from ..charts import column_chart
from ..formatting import inr, today_ist
from ..glance import by_month, periods
from ..security import can
from . import glance_queries, registers


def panel(conn, subject) -> dict | None:
    if not can("books.read"):
        return None
    p = periods(today_ist())
    branch_id = current_user.branch_id
    # The receivables register's own buckets over the kept balances, so the panel and the register agree.
    owed = registers.receivable_buckets(conn, branch_id, p.today)
    margins = glance_queries.month_totals(conn, branch_id, "VEHICLE", p.chart_start)
    values = by_month(margins, p.months, "margin")
    chart = column_chart(p.month_labels, [("Margin per vehicle", values)],
                         [inr(v) if v else "—" for v in values]) if margins else None
    return {"p": p, "inv": glance_queries.invoices(conn, branch_id, p.today, p.month_start),
            "owed": owed, "owed_total": sum((b["balance"] for b in owed.values()), Decimal(0)),
            "uncosted": sum(r.uncosted for r in margins), "chart": chart}
