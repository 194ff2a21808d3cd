"""The workshop's panel on the home screen: open job cards, late and at risk, ready for delivery and
opened today (each to the board), and, for those who see prices, service revenue over six months."""
from __future__ import annotations

from flask_login import current_user

from ..billing import api as billing
from ..charts import column_chart
from ..formatting import inr, today_ist
from ..glance import by_month, periods
from ..security import can, may_open
from . import glance_queries
from .board import AT_RISK


def panel(conn, subject) -> dict | None:
    if not can("workshop.read"):
        return None
    p = periods(today_ist())
    branch_id = current_user.branch_id
    cards = glance_queries.open_cards(conn, branch_id, p.today, int(AT_RISK.total_seconds() // 60))
    chart = month_value = None
    if can("estimate.read"):     # never a technician: they do not see prices
        rows = billing.month_totals(conn, branch_id, "SERVICE", p.chart_start)
        values = by_month(rows, p.months)
        month_value = values[-1]
        chart = column_chart(p.month_labels, [("Service revenue", values)], [inr(v) if v else "—" for v in values])
    return {"cards": cards, "chart": chart, "month_value": month_value, "p": p,
            "register": may_open("billing.sales_register")}
