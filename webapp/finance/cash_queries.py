"""SQL of expenses and the daily cash closing. Functions take the connection and never commit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import api

DENOMINATIONS = (("notes_2000", 2000), ("notes_500", 500), ("notes_200", 200), ("notes_100", 100),
                 ("notes_50", 50), ("notes_20", 20), ("notes_10", 10), ("coins_20", 20), ("coins_10", 10),
                 ("coins_5", 5), ("coins_2", 2), ("coins_1", 1))


# --------------------------------------------------------------------------- expenses


def expense_heads(conn: Connection) -> list[tuple[int, str]]:
    """Ledgers under Direct or Indirect Expenses, by name."""
    return [(r.ledger_id, r.name) for r in conn.execute(sa.text("""
        SELECT ledger_id, name FROM finance.ledger
         WHERE is_active AND finance.is_expense_head(ledger_id) ORDER BY name"""))]


def bank_accounts(conn: Connection, branch_id: int) -> list[tuple[int, str]]:
    return [(r.ledger_id, f"{r.bank_name} ·{r.account_no[-4:]}") for r in conn.execute(sa.text("""
        SELECT ledger_id, bank_name, account_no FROM finance.bank_account WHERE branch_id = :b
         ORDER BY takes_receipts DESC, bank_name, ledger_id"""), {"b": branch_id})]


def branch_state(conn: Connection, branch_id: int) -> str:
    return conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                        {"b": branch_id}).scalar_one()


def insert_expense(conn: Connection, *, branch_id: int, key: str, data: dict) -> int:
    return conn.execute(sa.text("""
        INSERT INTO finance.expense (branch_id, expense_date, head_ledger_id, supplier_name, supplier_gstin, bill_no,
                                     bill_date, taxable, gst_rate, cgst, sgst, igst, itc_eligible, payment_mode,
                                     bank_ledger_id, payment_ref, narration, idempotency_key)
        VALUES (:b, :expense_date, :head_ledger_id, :supplier_name, :supplier_gstin, :bill_no, :bill_date, :taxable,
                :gst_rate, :cgst, :sgst, :igst, :itc_eligible, :payment_mode, :bank_ledger_id, :payment_ref,
                :narration, :key)
        RETURNING expense_id"""), {**data, "b": branch_id, "key": key}).scalar_one()


def post_expense_voucher(conn: Connection, expense_id: int) -> int:
    """The expense's PAYMENT voucher: the head (with any GST not taken as credit) and the input GST
    debited, cash or the bank credited."""
    e = conn.execute(sa.text("""
        SELECT expense_id, expense_no, branch_id, expense_date, head_ledger_id, supplier_name, bill_no, taxable,
               cgst, sgst, igst, itc_eligible, total, payment_mode, bank_ledger_id, payment_ref
          FROM finance.expense WHERE expense_id = :e"""), {"e": expense_id}).mappings().one()
    tax = e["cgst"] + e["sgst"] + e["igst"]
    lines = [api.Line(e["head_ledger_id"], e["taxable"] + (Decimal(0) if e["itc_eligible"] else tax))]
    if e["itc_eligible"]:
        lines += [api.Line(api.ledger_key(conn, f"INPUT_{head}"), e[head.lower()])
                  for head in ("CGST", "SGST", "IGST") if e[head.lower()]]
    paid_from = e["bank_ledger_id"] or api.ledger_key(conn, "CASH")
    lines.append(api.Line(paid_from, -e["total"]))
    narration = f"{e['supplier_name']}, bill {e['bill_no']}" + (f", ref {e['payment_ref']}" if e["payment_ref"] else "")
    return api.post_voucher(conn, branch_id=e["branch_id"], voucher_type="PAYMENT", on=e["expense_date"],
                            lines=lines, narration=narration, number=e["expense_no"],
                            source=("finance.expense", e["expense_id"]))


def add_bill(conn: Connection, expense_id: int, *, file_name: str, content_type: str, data: bytes, sha256: str) -> None:
    conn.execute(sa.text("""
        INSERT INTO finance.expense_bill (expense_id, file_name, content_type, data, sha256)
        VALUES (:e, :n, :t, :d, :s)"""), {"e": expense_id, "n": file_name[:120], "t": content_type, "d": data,
                                          "s": sha256})


def get_expense(conn: Connection, expense_id: int):
    return conn.execute(sa.text("""
        SELECT e.*, l.name AS head_name, ba.bank_name, ba.account_no, s.name AS created_by_name,
               b.file_name AS bill_file, b.content_type AS bill_type, b.sha256 AS bill_sha256,
               octet_length(b.data) AS bill_size, v.voucher_id, v.voucher_no
          FROM finance.expense e
          JOIN finance.ledger l ON l.ledger_id = e.head_ledger_id
          LEFT JOIN finance.bank_account ba ON ba.ledger_id = e.bank_ledger_id
          LEFT JOIN master.staff s ON s.staff_id = e.created_by
          LEFT JOIN finance.expense_bill b ON b.expense_id = e.expense_id
          LEFT JOIN finance.voucher v ON v.source_table = 'finance.expense' AND v.source_id = e.expense_id
         WHERE e.expense_id = :e"""), {"e": expense_id}).mappings().first()


def expense_bill(conn: Connection, expense_id: int):
    """The bill of an expense the request may see (the expense is under the branch policy)."""
    return conn.execute(sa.text("""
        SELECT b.data, b.content_type, b.file_name FROM finance.expense_bill b
          JOIN finance.expense e USING (expense_id) WHERE b.expense_id = :e"""), {"e": expense_id}).mappings().first()


def expenses(conn: Connection, branch_id: int, start: date, end: date):
    return conn.execute(sa.text("""
        SELECT e.expense_id, e.expense_no, e.expense_date, l.name AS head_name, e.supplier_name, e.bill_no,
               e.taxable, e.cgst + e.sgst + e.igst AS gst, e.itc_eligible, e.total, e.payment_mode,
               EXISTS (SELECT 1 FROM finance.expense_bill b WHERE b.expense_id = e.expense_id) AS has_bill,
               sum(e.total) OVER () AS period_total
          FROM finance.expense e JOIN finance.ledger l ON l.ledger_id = e.head_ledger_id
         WHERE e.branch_id = :b AND e.expense_date BETWEEN :s AND :e
         ORDER BY e.expense_date DESC, e.expense_id DESC LIMIT 200"""), {"b": branch_id, "s": start, "e": end}).mappings().all()


# --------------------------------------------------------------------------- the cash closing


def cash_position(conn: Connection, branch_id: int, on: date):
    """The cash book of a day: opening, received, paid, closing; and whether the day is closed."""
    return conn.execute(sa.text("""
        SELECT coalesce(sum(debit - credit) FILTER (WHERE voucher_date < :on), 0) AS opening,
               coalesce(sum(debit) FILTER (WHERE voucher_date = :on), 0) AS received,
               coalesce(sum(credit) FILTER (WHERE voucher_date = :on), 0) AS paid,
               coalesce(sum(debit - credit), 0) AS closing,
               (SELECT closing_id FROM finance.cash_closing WHERE branch_id = :b AND closing_date = :on) AS closing_id
          FROM finance.voucher_line
         WHERE ledger_id = finance.ledger_key('CASH') AND branch_id = :b AND voucher_date <= :on"""),
        {"b": branch_id, "on": on}).mappings().one()


def insert_cash_closing(conn: Connection, *, branch_id: int, on: date, counts: dict[str, int], remark: str | None) -> int:
    columns = ", ".join(name for name, _ in DENOMINATIONS)
    values = ", ".join(f":{name}" for name, _ in DENOMINATIONS)
    return conn.execute(sa.text(f"""
        INSERT INTO finance.cash_closing (branch_id, closing_date, {columns}, remark, book_balance)
        VALUES (:b, :on, {values}, :remark, 0) RETURNING closing_id"""),
        {"b": branch_id, "on": on, "remark": remark,
         **{name: counts.get(name) or 0 for name, _ in DENOMINATIONS}}).scalar_one()


def cash_closings(conn: Connection, branch_id: int, limit: int = 60):
    return conn.execute(sa.text("""
        SELECT c.*, c.counted_total - c.book_balance AS difference, s.name AS closed_by_name
          FROM finance.cash_closing c LEFT JOIN master.staff s ON s.staff_id = c.closed_by
         WHERE c.branch_id = :b ORDER BY c.closing_date DESC LIMIT :n"""), {"b": branch_id, "n": limit}).mappings().all()


# --------------------------------------------------------------------------- closing a month


def visible_branches(conn: Connection):
    return conn.execute(sa.text("""
        SELECT branch_id, branch_code, coalesce(trade_name, legal_name) AS name FROM master.branch
         WHERE branch_id = ANY (platform.visible_branch_ids()) ORDER BY branch_code""")).mappings().all()


def months(conn: Connection, branch_ids: list[int], first: date, last: date, today: date):
    """Each month from ``first`` to ``last`` (first days) for each branch: closed or open, and what it holds."""
    return conn.execute(sa.text("""
        SELECT b.branch_id, m.month::date AS month, c.closed_at, s.name AS closed_by_name,
               (SELECT count(*) FROM finance.voucher v WHERE v.branch_id = b.branch_id
                   AND v.voucher_date >= m.month AND v.voucher_date < m.month + interval '1 month') AS vouchers,
               (SELECT count(*) FROM finance.bank_line bl WHERE bl.branch_id = b.branch_id
                   AND bl.txn_date >= m.month AND bl.txn_date < m.month + interval '1 month'
                   AND NOT EXISTS (SELECT 1 FROM finance.bank_match x WHERE x.line_id = bl.line_id)) AS unreconciled,
               (SELECT count(*) FROM generate_series(m.month, least(m.month + interval '1 month' - interval '1 day',
                                                                    CAST(:today AS date)), interval '1 day') d
                 WHERE NOT EXISTS (SELECT 1 FROM finance.cash_closing cc WHERE cc.branch_id = b.branch_id
                                      AND cc.closing_date = d::date)) AS days_not_closed
          FROM unnest(CAST(:branches AS integer[])) AS b (branch_id)
          CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 month') AS m (month)
          LEFT JOIN finance.closed_month c ON c.branch_id = b.branch_id AND c.month = m.month::date
          LEFT JOIN master.staff s ON s.staff_id = c.closed_by
         ORDER BY b.branch_id, m.month DESC"""),
        {"branches": branch_ids, "first": first, "last": last, "today": today}).mappings().all()


def period_events(conn: Connection, limit: int = 50):
    return conn.execute(sa.text("""
        SELECT e.branch_id, br.branch_code, e.month, e.action, e.reason, e.at, s.name AS staff_name
          FROM finance.period_event e JOIN master.branch br ON br.branch_id = e.branch_id
          LEFT JOIN master.staff s ON s.staff_id = e.staff_id
         ORDER BY e.at DESC, e.event_id DESC LIMIT :n"""), {"n": limit}).mappings().all()


def close_month(conn: Connection, branch_id: int, month: date) -> None:
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": branch_id, "m": month})


def reopen_month(conn: Connection, branch_id: int, month: date, reason: str) -> None:
    conn.execute(sa.text("SELECT finance.reopen_month(:b, :m, :r)"), {"b": branch_id, "m": month, "r": reason})
