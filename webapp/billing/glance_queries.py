"""Billing's figures for the home screen: invoices today and this month and the margin per vehicle (the invoice's taxable value less the unit's landed cost) by month.
Transfer invoices between our own branches are not sales, and no-charge job sheets bill nothing:
both are left out. The month figures are the monthly totals the postings keep (billing.invoice_month,
sql/0058: the sums of the invoices, exact by construction), a few rows per month; only today's are
read from the invoices themselves."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def invoices(conn: Connection, branch_id: int, today: date, month_start: date):
    return conn.execute(sa.text("""
        SELECT t.today_count, t.today_value, m.month_count, m.month_value
          FROM (SELECT count(*) AS today_count, coalesce(sum(amount_payable), 0) AS today_value
                  FROM billing.invoice
                 WHERE branch_id = :b AND kind IN ('VEHICLE', 'COUNTER', 'SERVICE') AND invoice_date = :today) t,
               (SELECT coalesce(sum(documents), 0) AS month_count,
                       coalesce(sum(grand_total + tcs_amount), 0) AS month_value
                  FROM billing.invoice_month
                 WHERE branch_id = :b AND kind IN ('VEHICLE', 'COUNTER', 'SERVICE') AND doc = 'INV'
                   AND month = :m) m"""), {"b": branch_id, "today": today, "m": month_start}).one()


def month_totals(conn: Connection, branch_id: int, kind: str, since: date) -> list:
    """Per month from ``since`` (a first of the month) on, the branch's invoices of one kind: how many
    (invoices), their taxable value (value), and for vehicles the average margin over the units with a
    landed cost (margin) and how many had none (uncosted: their margin cannot be known). Credit notes
    are not taken off: what was invoiced in the month."""
    return conn.execute(sa.text("""
        SELECT month, sum(documents) AS invoices, sum(taxable_value) AS value,
               round((sum(costed_taxable) - sum(cost)) / nullif(sum(costed), 0), 2) AS margin,
               sum(documents - costed) AS uncosted
          FROM billing.invoice_month
         WHERE branch_id = :b AND kind = :kind AND doc = 'INV' AND month >= :since
         GROUP BY month ORDER BY month"""), {"b": branch_id, "kind": kind, "since": since}).all()
