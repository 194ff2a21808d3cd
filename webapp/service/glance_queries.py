"""The workshop's figures for the home screen: open job cards by state, how many are late or at risk
of missing their promised time (the board's rule: promised within the hour and not ready), cards
opened today. Service revenue by month (service invoices' taxable value) is billing's kept monthly
totals (billing.api.month_totals)."""
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

