"""Reading receipt and refund vouchers: a sale's money, one voucher for the screen and the PDF,
and the limits a receipt is checked against (only to word a refusal; the database decides)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# What a sale still owed once this voucher was written: today's due less what was received up
# to it (receipts up to and including it, refunds posted before it).
RECEIPT_SQL = """
    SELECT r.*, b.booking_no, b.salesperson_id, b.stage AS booking_stage,
           coalesce(bi.invoice_no, ci.invoice_no) AS invoice_no, coalesce(bi.invoice_id, ci.invoice_id) AS any_invoice_id,
           coalesce(bi.invoice_date, ci.invoice_date) AS invoice_date,
           ps.name AS posted_by_name,
           coalesce(bb.due, cb.due) AS due_now,
           coalesce(bb.due, cb.due)
             - (SELECT coalesce(sum(amount), 0) FROM billing.receipt x
                 WHERE x.receipt_id <= r.receipt_id
                   AND (x.booking_id = r.booking_id OR x.invoice_id = r.invoice_id))
             + (SELECT coalesce(sum(amount), 0) FROM billing.refund f
                 WHERE f.posted_at < r.posted_at
                   AND (f.booking_id = r.booking_id OR f.invoice_id = r.invoice_id)) AS balance_after,
           coalesce(tp.others_after, 0) AS others_after
      FROM billing.receipt r
      LEFT JOIN sales.booking b ON b.booking_id = r.booking_id
      LEFT JOIN billing.invoice bi ON bi.invoice_id = b.invoice_id
      LEFT JOIN billing.invoice ci ON ci.invoice_id = r.invoice_id
      LEFT JOIN billing.booking_balance bb ON bb.booking_id = r.booking_id
      LEFT JOIN billing.counter_balance cb ON cb.invoice_id = r.invoice_id
      LEFT JOIN master.staff ps ON ps.staff_id = r.posted_by
      -- What the loan, exchange value and subsidy still had to cover once this voucher was written.
      LEFT JOIN LATERAL (
          SELECT greatest(coalesce(fi.loan_amount, 0) - coalesce(sum(x.amount) FILTER (WHERE x.mode = 'FINANCE'), 0), 0)
                 + greatest(coalesce(ex.valuation, 0) - coalesce(sum(x.amount) FILTER (WHERE x.mode = 'EXCHANGE'), 0), 0)
                 + greatest(b.subsidy_eligible - coalesce(sum(x.amount) FILTER (WHERE x.mode = 'SUBSIDY'), 0), 0) AS others_after
            FROM (SELECT amount, mode FROM billing.receipt
                   WHERE booking_id = r.booking_id AND receipt_id <= r.receipt_id
                  UNION ALL SELECT 0, 'NONE') x
            LEFT JOIN sales.finance fi ON fi.booking_id = r.booking_id
            LEFT JOIN sales.exchange ex ON ex.booking_id = r.booking_id
           WHERE b.stage <> 'CANCELLED'
           GROUP BY fi.loan_amount, ex.valuation) tp ON r.booking_id IS NOT NULL
     WHERE r.receipt_id = :id"""

REFUND_SQL = """
    SELECT f.*, b.booking_no, b.salesperson_id, b.stage AS booking_stage,
           b.cancelled_on, coalesce(bi.invoice_no, ci.invoice_no) AS invoice_no,
           coalesce(bi.invoice_id, ci.invoice_id) AS any_invoice_id, ps.name AS posted_by_name
      FROM billing.refund f
      LEFT JOIN sales.booking b ON b.booking_id = f.booking_id
      LEFT JOIN billing.invoice bi ON bi.invoice_id = b.invoice_id
      LEFT JOIN billing.invoice ci ON ci.invoice_id = f.invoice_id
      LEFT JOIN master.staff ps ON ps.staff_id = f.posted_by
     WHERE f.refund_id = :id"""


def get_receipt(conn: Connection, receipt_id: int):
    return conn.execute(sa.text(RECEIPT_SQL), {"id": receipt_id}).mappings().first()


def get_refund(conn: Connection, refund_id: int):
    return conn.execute(sa.text(REFUND_SQL), {"id": refund_id}).mappings().first()


def sale_receipts(conn: Connection, *, booking_id: int | None = None, invoice_id: int | None = None) -> list:
    """The receipts of one sale (a booking, or a counter sale's invoice), oldest first."""
    return conn.execute(sa.text("""
        SELECT receipt_id, receipt_no, receipt_date, mode, amount, reference, received_from, is_advance
          FROM billing.receipt
         WHERE booking_id = CAST(:b AS integer) OR invoice_id = CAST(:i AS integer)
         ORDER BY receipt_id"""), {"b": booking_id, "i": invoice_id}).mappings().all()


def sale_refunds(conn: Connection, *, booking_id: int | None = None, invoice_id: int | None = None) -> list:
    return conn.execute(sa.text("""
        SELECT refund_id, refund_no, refund_date, mode, amount, cancellation_charge, reference, paid_to, reason
          FROM billing.refund
         WHERE booking_id = CAST(:b AS integer) OR invoice_id = CAST(:i AS integer)
         ORDER BY refund_id"""), {"b": booking_id, "i": invoice_id}).mappings().all()


def payer_names(conn: Connection, booking_id: int) -> dict[str, str]:
    """Who a receipt of each mode normally comes from: the customer, or the financier for a loan."""
    row = conn.execute(sa.text("""
        SELECT c.name AS customer, fi.name AS financier
          FROM sales.booking b JOIN master.customer c USING (customer_id)
          LEFT JOIN sales.finance f ON f.booking_id = b.booking_id
          LEFT JOIN master.financier fi ON fi.financier_id = f.financier_id
         WHERE b.booking_id = :b"""), {"b": booking_id}).mappings().one()
    names = {"_": row["customer"]}
    if row["financier"]:
        names["FINANCE"] = row["financier"]
    return names


def receipt_limits(conn: Connection, booking_id: int, on: date) -> dict:
    """What the database will hold a receipt against, to word its refusal with figures: the cash
    taken so far and the s.269ST limit, and for exchange, subsidy and finance what is recorded and
    what has been credited already."""
    return dict(conn.execute(sa.text("""
        SELECT billing.threshold_on('CASH_RECEIPT_LIMIT', :on) AS cash_limit,
               coalesce((SELECT sum(amount) FROM billing.receipt WHERE booking_id = b.booking_id AND mode = 'CASH'), 0)
                   AS cash_taken,
               coalesce((SELECT valuation FROM sales.exchange WHERE booking_id = b.booking_id), 0) AS EXCHANGE_cap,
               b.subsidy_eligible AS SUBSIDY_cap,
               coalesce((SELECT loan_amount FROM sales.finance WHERE booking_id = b.booking_id), 0) AS FINANCE_cap,
               coalesce((SELECT sum(amount) FROM billing.receipt WHERE booking_id = b.booking_id AND mode = 'EXCHANGE'), 0)
                   AS EXCHANGE_taken,
               coalesce((SELECT sum(amount) FROM billing.receipt WHERE booking_id = b.booking_id AND mode = 'SUBSIDY'), 0)
                   AS SUBSIDY_taken,
               coalesce((SELECT sum(amount) FROM billing.receipt WHERE booking_id = b.booking_id AND mode = 'FINANCE'), 0)
                   AS FINANCE_taken
          FROM sales.booking b WHERE b.booking_id = :b"""), {"b": booking_id, "on": on}).mappings().one())


def mode_room(limits: dict, mode: str) -> Decimal | None:
    """How much more of an exchange, subsidy or finance receipt the sale can take (None: no cap)."""
    cap = limits.get(f"{mode.lower()}_cap")
    if cap is None:
        return None
    return max(cap - limits[f"{mode.lower()}_taken"], Decimal(0))
