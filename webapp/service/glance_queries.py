"""The workshop's figures for the home screen: open job cards by state, how many are late or at risk
of missing their promised time (the board's rule: promised within the hour and not ready), cards
opened today, and service revenue (service invoices' taxable value) by month."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def open_cards(conn: Connection, branch_id: int, today: date, at_risk_minutes: int):
    return conn.execute(sa.text("""
        SELECT count(*) AS open,
               count(*) FILTER (WHERE state <> 'READY' AND promised_at < now()) AS late,
               count(*) FILTER (WHERE state <> 'READY' AND promised_at >= now()
                                  AND promised_at < now() + make_interval(mins => :risk)) AS at_risk,
               count(*) FILTER (WHERE state = 'READY') AS ready,
               (SELECT count(*) FROM service.job_card
                 WHERE branch_id = :b AND opened_at >= CAST(:today AS date)::timestamp AT TIME ZONE 'Asia/Kolkata')
                   AS opened_today
          FROM service.job_card
         WHERE branch_id = :b AND state NOT IN ('DELIVERED', 'CANCELLED')"""),
        {"b": branch_id, "today": today, "risk": at_risk_minutes}).one()


def revenue_by_month(conn: Connection, branch_id: int, since: date) -> list:
    return conn.execute(sa.text("""
        SELECT date_trunc('month', invoice_date::timestamp)::date AS month, count(*) AS invoices, sum(taxable_value) AS value
          FROM billing.invoice
         WHERE branch_id = :b AND kind = 'SERVICE' AND invoice_date >= :since
         GROUP BY 1 ORDER BY 1"""), {"b": branch_id, "since": since}).all()
