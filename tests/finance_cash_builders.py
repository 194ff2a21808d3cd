"""Builders for the books' expenses, bank accounts, statements and the cash closing (webapp/finance cash.py,
bank.py), in plain SQL like tests/builders.py: each takes a connection, never commits, returns ids."""
from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from datetime import date
from decimal import Decimal

import builders as b
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_n = itertools.count(1)


def bank_account(conn: Connection, branch_id: int, *, bank: str = "HDFC Bank", takes_receipts: bool = True) -> int:
    """A bank account of the branch with its ledger under Bank Accounts; returns the ledger id."""
    n = next(_n)
    ledger_id = b.scalar(conn, """
        INSERT INTO finance.ledger (name, group_id)
        SELECT :name, group_id FROM finance.account_group WHERE name = 'Bank Accounts' RETURNING ledger_id""",
        name=f"{bank} {branch_id}-{n} {uuid.uuid4().hex[:6]}")
    conn.execute(sa.text("""
        INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, takes_receipts)
        VALUES (:l, :b, :bank, :no, 'HDFC0001234', :r)"""),
        {"l": ledger_id, "b": branch_id, "bank": bank, "no": f"5010{branch_id:04d}{n:06d}", "r": takes_receipts})
    return ledger_id


def ledger(conn: Connection, key: str) -> int:
    return b.scalar(conn, "SELECT finance.ledger_key(:k)", k=key)


def expense(conn: Connection, branch_id: int, *, on: date, taxable: str = "1000.00", head: str = "EXP_RENT",
            gstin: str | None = None, rate: str = "0", cgst: str = "0", sgst: str = "0", igst: str = "0",
            eligible: bool = True, mode: str = "CASH", bank_ledger_id: int | None = None, ref: str | None = None,
            post: bool = True) -> int:
    """An expense and (``post``) its PAYMENT voucher, as webapp/finance/cash.py posts them."""
    n = next(_n)
    expense_id = b.scalar(conn, """
        INSERT INTO finance.expense (branch_id, expense_date, head_ledger_id, supplier_name, supplier_gstin, bill_no,
                                     bill_date, taxable, gst_rate, cgst, sgst, igst, itc_eligible, payment_mode,
                                     bank_ledger_id, payment_ref)
        VALUES (:b, :on, finance.ledger_key(:head), :supplier, :gstin, :bill, :on, :taxable, :rate, :cgst, :sgst, :igst,
                :eligible, :mode, :bank, :ref)
        RETURNING expense_id""", b=branch_id, on=on, head=head, supplier=f"Supplier {n}", gstin=gstin,
        bill=f"B-{n}", taxable=Decimal(taxable), rate=Decimal(rate), cgst=Decimal(cgst), sgst=Decimal(sgst),
        igst=Decimal(igst), eligible=eligible, mode=mode, bank=bank_ledger_id, ref=ref)
    if post:
        from webapp.finance import cash_queries

        cash_queries.post_expense_voucher(conn, expense_id)
    return expense_id


def voucher_through_bank(conn: Connection, branch_id: int, bank_ledger_id: int, on: date, amount: str,
                         *, receipt: bool = True, narration: str = "Receipt") -> int:
    """A voucher moving money into (receipt) or out of the bank, against Suspense."""
    amt = Decimal(amount) if receipt else -Decimal(amount)
    return b.scalar(conn, "SELECT finance.post_voucher(:b, :t, :on, NULL, :n, NULL, NULL, CAST(:lines AS jsonb))",
                    b=branch_id, t="RECEIPT" if receipt else "PAYMENT", on=on, n=narration,
                    lines=json.dumps([{"ledger_id": bank_ledger_id, "amount": str(amt)},
                                      {"ledger_id": ledger(conn, "SUSPENSE"), "amount": str(-amt)}]))


def statement(conn: Connection, bank_ledger_id: int, branch_id: int, lines: list[dict], *, name: str = "stmt.csv") -> int:
    """An imported statement with the given lines (txn_date, narration, withdrawal / deposit, ref_no, balance)."""
    first = min(ln["txn_date"] for ln in lines)
    last = max(ln["txn_date"] for ln in lines)
    statement_id = b.scalar(conn, """
        INSERT INTO finance.bank_statement (ledger_id, branch_id, file_name, file_sha256, first_date, last_date, line_count)
        VALUES (:l, :b, :n, :s, :f, :t, :c) RETURNING statement_id""", l=bank_ledger_id, b=branch_id, n=name,
        s=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), f=first, t=last, c=len(lines))
    for row_no, ln in enumerate(lines, start=1):
        conn.execute(sa.text("""
            INSERT INTO finance.bank_line (statement_id, ledger_id, branch_id, row_no, txn_date, narration, ref_no,
                                           withdrawal, deposit, balance)
            VALUES (:s, 0, 0, :r, :d, :n, :ref, :w, :dep, :bal)"""),
            {"s": statement_id, "r": row_no, "d": ln["txn_date"], "n": ln.get("narration", "NEFT"),
             "ref": ln.get("ref_no"), "w": Decimal(ln.get("withdrawal", "0")), "dep": Decimal(ln.get("deposit", "0")),
             "bal": ln.get("balance")})
    return statement_id


def png_bytes(colour: str = "red") -> bytes:
    """A small real PNG, as a phone's photo of a bill would be (smaller)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def bill(conn: Connection, expense_id: int, data: bytes | None = None) -> None:
    data = data or png_bytes()
    conn.execute(sa.text("""
        INSERT INTO finance.expense_bill (expense_id, file_name, content_type, data, sha256)
        VALUES (:e, 'bill.png', 'image/png', :d, :s)"""), {"e": expense_id, "d": data, "s": hashlib.sha256(data).hexdigest()})
