"""SQL of bank statements and their reconciliation. Functions take the connection and never commit."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .statement_file import FIELDS, Layout, Statement

# A suggestion's date window: a reference found in the narration reaches further than the amount alone.
DAYS_BY_AMOUNT = 7
DAYS_BY_REFERENCE = 30

# The vouchers on a bank ledger not yet matched, with the reference of the document each comes from
# (a receipt's or refund's UTR / cheque number, a supplier payment's, an expense's).
_CANDIDATES = """
    SELECT vl.voucher_id, v.voucher_no, v.voucher_type, v.voucher_date, v.narration, v.source_table, v.source_id,
           vl.debit, vl.credit,
           upper(regexp_replace(coalesce(r.reference, rf.reference, sp.reference, e.payment_ref, ''), '[^A-Za-z0-9]', '', 'g'))
               AS reference
      FROM finance.voucher_line vl
      JOIN finance.voucher v ON v.voucher_id = vl.voucher_id
      LEFT JOIN billing.receipt r ON v.source_table = 'billing.receipt' AND r.receipt_id = v.source_id
      LEFT JOIN billing.refund rf ON v.source_table = 'billing.refund' AND rf.refund_id = v.source_id
      LEFT JOIN procurement.supplier_payment sp ON v.source_table = 'procurement.supplier_payment' AND sp.payment_id = v.source_id
      LEFT JOIN finance.expense e ON v.source_table = 'finance.expense' AND e.expense_id = v.source_id
     WHERE vl.ledger_id = :l
       AND NOT EXISTS (SELECT 1 FROM finance.bank_match m WHERE m.voucher_id = vl.voucher_id)
"""
_REFERENCE_HIT = """(length(c.reference) >= 4 AND position(c.reference IN
        upper(regexp_replace(l.narration || ' ' || coalesce(l.ref_no, ''), '[^A-Za-z0-9]', '', 'g'))) > 0)"""


def ledger_by_key(conn: Connection, key: str) -> int | None:
    return conn.execute(sa.text("SELECT ledger_id FROM finance.ledger WHERE system_key = :k"), {"k": key}).scalar()


def accounts(conn: Connection, branch_id: int):
    """The branch's bank accounts with what waits to be reconciled."""
    return conn.execute(sa.text("""
        SELECT a.ledger_id, a.bank_name, a.account_no, a.ifsc, a.takes_receipts, l.name AS ledger_name,
               lay.bank_code,
               (SELECT count(*) FROM finance.bank_line bl WHERE bl.ledger_id = a.ledger_id
                   AND NOT EXISTS (SELECT 1 FROM finance.bank_match m WHERE m.line_id = bl.line_id)) AS unmatched_lines,
               (SELECT max(last_date) FROM finance.bank_statement s WHERE s.ledger_id = a.ledger_id) AS statement_to,
               (SELECT coalesce(sum(debit - credit), 0) FROM finance.voucher_line vl WHERE vl.ledger_id = a.ledger_id)
                   + l.opening_balance AS book_balance
          FROM finance.bank_account a JOIN finance.ledger l ON l.ledger_id = a.ledger_id
          LEFT JOIN finance.bank_layout lay ON lay.ledger_id = a.ledger_id
         WHERE a.branch_id = :b ORDER BY a.takes_receipts DESC, a.bank_name, a.ledger_id"""),
        {"b": branch_id}).mappings().all()


def account(conn: Connection, ledger_id: int):
    """A bank account the request may see (another branch's is no row)."""
    return conn.execute(sa.text("""
        SELECT a.*, l.name AS ledger_name, l.opening_balance,
               (SELECT coalesce(sum(debit - credit), 0) FROM finance.voucher_line vl WHERE vl.ledger_id = a.ledger_id)
                   + l.opening_balance AS book_balance,
               (SELECT balance FROM finance.bank_line bl WHERE bl.ledger_id = a.ledger_id AND balance IS NOT NULL
                 ORDER BY txn_date DESC, statement_id DESC, row_no DESC LIMIT 1) AS statement_balance
          FROM finance.bank_account a JOIN finance.ledger l ON l.ledger_id = a.ledger_id
         WHERE a.ledger_id = :l"""), {"l": ledger_id}).mappings().first()


def saved_layout(conn: Connection, ledger_id: int) -> Layout | None:
    row = conn.execute(sa.text("SELECT * FROM finance.bank_layout WHERE ledger_id = :l"), {"l": ledger_id}).mappings().first()
    if row is None:
        return None
    return Layout(row["bank_code"], {f: row[f"{f}_column"] for f in FIELDS})


def save_layout(conn: Connection, ledger_id: int, branch_id: int, layout: Layout) -> None:
    params = {"l": ledger_id, "b": branch_id, "bank": layout.bank_code,
              **{f: layout.columns.get(f) for f in FIELDS}}
    conn.execute(sa.text("""
        INSERT INTO finance.bank_layout (ledger_id, branch_id, bank_code, date_column, narration_column, ref_column,
                                         value_date_column, withdrawal_column, deposit_column, balance_column)
        VALUES (:l, :b, :bank, :date, :narration, :ref, :value_date, :withdrawal, :deposit, :balance)
        ON CONFLICT (ledger_id) DO UPDATE SET
            bank_code = EXCLUDED.bank_code, date_column = EXCLUDED.date_column,
            narration_column = EXCLUDED.narration_column, ref_column = EXCLUDED.ref_column,
            value_date_column = EXCLUDED.value_date_column, withdrawal_column = EXCLUDED.withdrawal_column,
            deposit_column = EXCLUDED.deposit_column, balance_column = EXCLUDED.balance_column,
            saved_by = audit.current_staff_id(), saved_at = now()"""), params)


def statement_imported(conn: Connection, ledger_id: int, sha256: str):
    return conn.execute(sa.text("""
        SELECT statement_id, file_name, imported_at FROM finance.bank_statement
         WHERE ledger_id = :l AND file_sha256 = :s"""), {"l": ledger_id, "s": sha256}).mappings().first()


def lines_already_imported(conn: Connection, ledger_id: int, statement: Statement) -> int:
    """How many of the statement's lines an earlier import brought in (same date, reference, narration,
    amounts and balance)."""
    if not statement.lines:
        return 0
    return conn.execute(sa.text("""
        SELECT count(*) FROM finance.bank_line bl
          JOIN (SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                    AS x (txn_date date, ref_no text, narration text, withdrawal numeric, deposit numeric, balance numeric)) x
            ON bl.txn_date = x.txn_date AND bl.ref_no IS NOT DISTINCT FROM x.ref_no AND bl.narration = x.narration
           AND bl.withdrawal = x.withdrawal AND bl.deposit = x.deposit AND bl.balance IS NOT DISTINCT FROM x.balance
         WHERE bl.ledger_id = :l"""), {"l": ledger_id, "rows": _rows_json(statement)}).scalar_one()


def _rows_json(statement: Statement) -> str:
    import json

    return json.dumps([{"row_no": ln.row_no, "txn_date": ln.txn_date.isoformat(),
                        "value_date": ln.value_date.isoformat() if ln.value_date else None,
                        "narration": ln.narration, "ref_no": ln.ref_no, "withdrawal": str(ln.withdrawal),
                        "deposit": str(ln.deposit), "balance": None if ln.balance is None else str(ln.balance)}
                       for ln in statement.lines])


def import_statement(conn: Connection, *, ledger_id: int, branch_id: int, file_name: str, sha256: str,
                     statement: Statement) -> int:
    statement_id = conn.execute(sa.text("""
        INSERT INTO finance.bank_statement (ledger_id, branch_id, file_name, file_sha256, first_date, last_date, line_count)
        VALUES (:l, :b, :n, :s, :first, :last, :count) RETURNING statement_id"""),
        {"l": ledger_id, "b": branch_id, "n": file_name[-120:] or "statement", "s": sha256,
         "first": statement.first_date, "last": statement.last_date, "count": len(statement.lines)}).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO finance.bank_line (statement_id, ledger_id, branch_id, row_no, txn_date, value_date, narration, ref_no,
                                       withdrawal, deposit, balance)
        SELECT :st, :l, :b, row_no, txn_date, value_date, narration, ref_no, withdrawal, deposit, balance
          FROM jsonb_to_recordset(CAST(:rows AS jsonb))
               AS x (row_no integer, txn_date date, value_date date, narration text, ref_no text, withdrawal numeric,
                     deposit numeric, balance numeric)
         ORDER BY row_no"""), {"st": statement_id, "l": ledger_id, "b": branch_id, "rows": _rows_json(statement)})
    return statement_id


def statements(conn: Connection, ledger_id: int, limit: int = 20):
    return conn.execute(sa.text("""
        SELECT s.statement_id, s.file_name, s.first_date, s.last_date, s.line_count, s.imported_at, st.name AS imported_by_name
          FROM finance.bank_statement s LEFT JOIN master.staff st ON st.staff_id = s.imported_by
         WHERE s.ledger_id = :l ORDER BY s.last_date DESC, s.statement_id DESC LIMIT :n"""),
        {"l": ledger_id, "n": limit}).mappings().all()


def get_line(conn: Connection, line_id: int):
    return conn.execute(sa.text("""
        SELECT bl.*, a.bank_name, m.voucher_id FROM finance.bank_line bl
          JOIN finance.bank_account a ON a.ledger_id = bl.ledger_id
          LEFT JOIN finance.bank_match m ON m.line_id = bl.line_id
         WHERE bl.line_id = :id"""), {"id": line_id}).mappings().first()


def unmatched_lines(conn: Connection, ledger_id: int, limit: int = 300):
    """Each statement line not yet matched, with the best voucher to suggest: the same amount on the same
    side, its document's reference (UTR, UPI, cheque number) found in the narration first, then the
    nearest date within the window."""
    return conn.execute(sa.text(f"""
        WITH c AS ({_CANDIDATES}),
        l AS (SELECT bl.* FROM finance.bank_line bl WHERE bl.ledger_id = :l
                 AND NOT EXISTS (SELECT 1 FROM finance.bank_match m WHERE m.line_id = bl.line_id)
               ORDER BY bl.txn_date, bl.line_id LIMIT :n)
        SELECT DISTINCT ON (l.txn_date, l.line_id)
               l.line_id, l.txn_date, l.narration, l.ref_no, l.withdrawal, l.deposit, l.balance,
               c.voucher_id AS suggested_id, c.voucher_no AS suggested_no, c.voucher_type AS suggested_type,
               c.voucher_date AS suggested_date, c.narration AS suggested_narration,
               coalesce({_REFERENCE_HIT}, false) AS by_reference
          FROM l LEFT JOIN c ON c.debit = l.deposit AND c.credit = l.withdrawal
               AND (abs(c.voucher_date - l.txn_date) <= {DAYS_BY_AMOUNT}
                    OR (abs(c.voucher_date - l.txn_date) <= {DAYS_BY_REFERENCE} AND {_REFERENCE_HIT}))
         ORDER BY l.txn_date, l.line_id, {_REFERENCE_HIT} DESC, abs(c.voucher_date - l.txn_date), c.voucher_id"""),
        {"l": ledger_id, "n": limit}).mappings().all()


def candidates(conn: Connection, line_id: int):
    """Vouchers a line may be matched to by hand: the same amount on the same side, nearest date first."""
    return conn.execute(sa.text(f"""
        WITH l AS (SELECT * FROM finance.bank_line WHERE line_id = :id), c AS ({_CANDIDATES})
        SELECT c.voucher_id, c.voucher_no, c.voucher_type, c.voucher_date, c.narration, {_REFERENCE_HIT} AS by_reference
          FROM l JOIN c ON c.debit = l.deposit AND c.credit = l.withdrawal
         ORDER BY {_REFERENCE_HIT} DESC, abs(c.voucher_date - l.txn_date), c.voucher_id LIMIT 20"""),
        {"id": line_id, "l": conn.execute(sa.text("SELECT ledger_id FROM finance.bank_line WHERE line_id = :id"),
                                          {"id": line_id}).scalar()}).mappings().all()


def unmatched_vouchers(conn: Connection, ledger_id: int, limit: int = 300):
    """Vouchers through the bank in the books that no statement line is matched to yet."""
    return conn.execute(sa.text(f"""
        SELECT c.voucher_id, c.voucher_no, c.voucher_type, c.voucher_date, c.narration, c.debit, c.credit
          FROM ({_CANDIDATES}) c ORDER BY c.voucher_date DESC, c.voucher_id DESC LIMIT :n"""),
        {"l": ledger_id, "n": limit}).mappings().all()


def matched_lines(conn: Connection, ledger_id: int, limit: int = 50):
    return conn.execute(sa.text("""
        SELECT bl.line_id, bl.txn_date, bl.narration, bl.withdrawal, bl.deposit, m.how, m.matched_at,
               v.voucher_id, v.voucher_no, v.voucher_type, v.voucher_date
          FROM finance.bank_match m JOIN finance.bank_line bl ON bl.line_id = m.line_id
          JOIN finance.voucher v ON v.voucher_id = m.voucher_id
         WHERE bl.ledger_id = :l ORDER BY m.matched_at DESC, bl.line_id DESC LIMIT :n"""),
        {"l": ledger_id, "n": limit}).mappings().all()


def match(conn: Connection, line_id: int, voucher_id: int, how: str) -> None:
    conn.execute(sa.text("""
        INSERT INTO finance.bank_match (line_id, voucher_id, branch_id, how)
        SELECT line_id, :v, branch_id, :how FROM finance.bank_line WHERE line_id = :id"""),
        {"id": line_id, "v": voucher_id, "how": how})


def unmatch(conn: Connection, line_id: int) -> bool:
    return conn.execute(sa.text("DELETE FROM finance.bank_match WHERE line_id = :id"), {"id": line_id}).rowcount > 0
