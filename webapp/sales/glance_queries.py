"""Sales' figures for the home screen: bookings and deliveries today and this month, bookings waiting
for delivery (and how many are past their promised date), and vehicles delivered per model and
month. Each is one indexed statement."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def counts(conn: Connection, branch_id: int, own: int | None, today: date, month_start: date):
    return conn.execute(sa.text("""
        SELECT (SELECT count(*) FILTER (WHERE booked_on = :today) FROM sales.booking
                 WHERE branch_id = :b AND booked_on >= :m AND cancelled_on IS NULL
                   AND (CAST(:own AS integer) IS NULL OR salesperson_id = :own)) AS booked_today,
               (SELECT count(*) FROM sales.booking
                 WHERE branch_id = :b AND booked_on >= :m AND cancelled_on IS NULL
                   AND (CAST(:own AS integer) IS NULL OR salesperson_id = :own)) AS booked_month,
               (SELECT count(*) FILTER (WHERE d.delivered_on = :today) FROM sales.delivery d
                  JOIN sales.booking bk USING (booking_id)
                 WHERE bk.branch_id = :b AND d.delivered_on >= :m
                   AND (CAST(:own AS integer) IS NULL OR bk.salesperson_id = :own)) AS delivered_today,
               (SELECT count(*) FROM sales.delivery d JOIN sales.booking bk USING (booking_id)
                 WHERE bk.branch_id = :b AND d.delivered_on >= :m
                   AND (CAST(:own AS integer) IS NULL OR bk.salesperson_id = :own)) AS delivered_month,
               (SELECT count(*) FROM sales.booking
                 WHERE branch_id = :b AND stage IN ('BOOKED', 'ALLOTTED', 'INVOICED')
                   AND (CAST(:own AS integer) IS NULL OR salesperson_id = :own)) AS waiting,
               (SELECT count(*) FROM sales.booking
                 WHERE branch_id = :b AND stage IN ('BOOKED', 'ALLOTTED', 'INVOICED') AND expected_delivery < :today
                   AND (CAST(:own AS integer) IS NULL OR salesperson_id = :own)) AS waiting_late"""),
        {"b": branch_id, "own": own, "today": today, "m": month_start}).one()


def deliveries_by_model(conn: Connection, branch_id: int, since: date) -> list:
    return conn.execute(sa.text("""
        SELECT date_trunc('month', d.delivered_on::timestamp)::date AS month, mo.name AS model, count(*) AS value
          FROM sales.delivery d
          JOIN sales.booking bk USING (booking_id)
          JOIN oem.variant v ON v.variant_id = bk.variant_id
          JOIN oem.model mo ON mo.model_id = v.model_id
         WHERE bk.branch_id = :b AND d.delivered_on >= :since
         GROUP BY 1, 2 ORDER BY 2, 1"""), {"b": branch_id, "since": since}).all()

