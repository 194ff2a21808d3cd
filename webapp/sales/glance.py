"""Sales' panel on the home screen: bookings and deliveries today and this month, bookings waiting
for delivery and how many are late, and (for those who see every booking) vehicles delivered per
model over six months. A salesperson sees their own bookings' figures; each links to its list."""
from __future__ import annotations

from flask_login import current_user

from ..charts import column_chart
from ..formatting import today_ist
from ..glance import by_month, periods
from ..security import can
from . import access, glance_queries


def panel(conn, subject) -> dict | None:
    if not can("sale.read"):
        return None
    own = access.own_only()
    p = periods(today_ist())
    branch_id = current_user.branch_id
    counts = glance_queries.counts(conn, branch_id, own, p.today, p.month_start)
    chart = None
    if own is None:
        rows = glance_queries.deliveries_by_model(conn, branch_id, p.chart_start)
        models = sorted({r.model for r in rows})
        series = [(m, by_month([r for r in rows if r.model == m], p.months)) for m in models]
        totals = [sum(v[i] for _, v in series) for i in range(len(p.months))]
        chart = column_chart(p.month_labels, series, [str(t) for t in totals]) if rows else None
    return {"c": counts, "p": p, "chart": chart, "mine": own is not None}
