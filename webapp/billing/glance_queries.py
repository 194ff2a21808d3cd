"""Billing's figures for the home screen: invoices today and this month and the margin per vehicle (the invoice's taxable value less the unit's landed cost) by month.
Transfer invoices between our own branches are not sales, and no-charge job sheets bill nothing:
both are left out."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def invoices(conn: Connection, branch_id: int, today: date, month_start: date):
    return conn.execute(sa.text("""
        SELECT count(*) FILTER (WHERE invoice_date = :today) AS today_count,
               coalesce(sum(amount_payable) FILTER (WHERE invoice_date = :today), 0) AS today_value,
               count(*) AS month_count, coalesce(sum(amount_payable), 0) AS month_value
          FROM billing.invoice
         WHERE branch_id = :b AND invoice_date >= :m AND kind NOT IN ('TRANSFER', 'JOB_SHEET')"""),
        {"b": branch_id, "today": today, "m": month_start}).one()


def margin_by_month(conn: Connection, branch_id: int, since: date) -> list:
    """Per month: vehicles invoiced, the average margin per vehicle over the units with a landed
    cost, and how many had none (their margin cannot be known)."""
    return conn.execute(sa.text("""
        SELECT date_trunc('month', i.invoice_date::timestamp)::date AS month, count(*) AS vehicles,
               round(avg(i.taxable_value - u.purchase_cost), 2) AS value,
               count(*) FILTER (WHERE u.purchase_cost IS NULL) AS uncosted
          FROM billing.invoice i
          JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id
         WHERE i.branch_id = :b AND i.kind = 'VEHICLE' AND i.invoice_date >= :since
         GROUP BY 1 ORDER BY 1"""), {"b": branch_id, "since": since}).all()
