"""The demo's expenses, petty cash and bank (seed-demo): Indiranagar's HDFC current account, which its
non-cash receipts and payments to the OEMs go through; a week of expenses (rent by NEFT, an AC service with GST input paid by UPI,
stationery from a Maharashtra supplier with IGST, fuel in cash); petty cash drawn from the bank; the
day's cash closed yesterday; and a bank statement of those days, generated from the books as HDFC's
net banking exports it, to import and reconcile (written to the instance folder, its path printed).

Posted through the same queries as the screens (webapp/finance/cash_queries.py), so the vouchers are
what an accountant's entries would make."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.engine import Connection

from webapp.finance import cash_queries
from webapp.formatting import today_ist
from webapp.validators import gstin_check_character

STATEMENT_NAME = "demo-hdfc-statement.csv"


def _gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


def seed_bank_account(conn: Connection, branch_ids: dict[str, int]) -> int:
    """BLR1's HDFC current account, which takes its receipts: made before the demo's sales, so their
    receipts by UPI, card and transfer are in its books and on its statement."""
    bank = conn.execute(sa.text("""
        INSERT INTO finance.ledger (name, group_id)
        SELECT 'HDFC Bank - Current A/c 4521', group_id FROM finance.account_group WHERE name = 'Bank Accounts'
        RETURNING ledger_id""")).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, takes_receipts)
        VALUES (:l, :b, 'HDFC Bank', '50200012344521', 'HDFC0000523', true)"""), {"l": bank, "b": branch_ids["BLR1"]})
    return bank


def seed_finance_cash(conn: Connection, branch_ids: dict[str, int], folder: Path | None = None) -> Path | None:
    """Everything above for BLR1; returns where the statement file was written (None without a folder)."""
    blr = branch_ids["BLR1"]
    today = today_ist()
    accountant = conn.execute(sa.text("SELECT staff_id FROM master.staff WHERE staff_code = 'AC01'")).scalar()
    conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(accountant or "")})
    bank = conn.execute(sa.text("SELECT finance.bank_ledger_for(:b)"), {"b": blr}).scalar_one()
    key = {k: conn.execute(sa.text("SELECT finance.ledger_key(:k)"), {"k": k}).scalar_one()
           for k in ("CASH", "EXP_RENT", "EXP_REPAIRS", "EXP_STATIONERY", "EXP_FUEL")}

    # Petty cash drawn from the bank by a self cheque.
    drawn_on = today - timedelta(days=7)
    conn.execute(sa.text("SELECT finance.post_voucher(:b, 'CONTRA', :on, NULL, :n, NULL, NULL, CAST(:lines AS jsonb))"),
                 {"b": blr, "on": drawn_on, "n": "Cash withdrawn for petty cash, self cheque 000123",
                  "lines": json.dumps([{"ledger_id": key["CASH"], "amount": "10000.00"},
                                       {"ledger_id": bank, "amount": "-10000.00"}])})
    expenses = [  # days ago, head, supplier, GSTIN, bill no., taxable, rate, intra-state, mode, reference
        (6, "EXP_RENT", "Sri Lakshmi Estates", None, "RENT/2026/11", "45000.00", "0", True, "BANK", "N33626004512"),
        (4, "EXP_REPAIRS", "Cool Air Services", _gstin("29AAKFC5521M1Z"), "CAS/1187", "3500.00", "18", True, "UPI",
         "634512398765"),
        (3, "EXP_STATIONERY", "Navneet Office Supplies", _gstin("27AABCN7741R1Z"), "NOS/88412", "1200.00", "12", False,
         "BANK", "N33626007788"),
        (2, "EXP_FUEL", "Indian Oil - Old Airport Road", None, "IOC-55210", "600.00", "0", True, "CASH", None),
    ]
    for days, head, supplier, gstin, bill_no, taxable, rate, intra, mode, ref in expenses:
        on = today - timedelta(days=days)
        tax = (Decimal(taxable) * Decimal(rate) / 100).quantize(Decimal("0.01"))
        half = (tax / 2).quantize(Decimal("0.01"))
        expense_id = cash_queries.insert_expense(conn, branch_id=blr, key=str(uuid.uuid4()), data={
            "expense_date": on, "head_ledger_id": key[head], "supplier_name": supplier, "supplier_gstin": gstin,
            "bill_no": bill_no, "bill_date": on, "taxable": Decimal(taxable), "gst_rate": Decimal(rate),
            "cgst": half if intra else Decimal(0), "sgst": tax - half if intra else Decimal(0),
            "igst": Decimal(0) if intra else tax, "itc_eligible": True, "payment_mode": mode,
            "bank_ledger_id": bank if mode != "CASH" else None, "payment_ref": ref, "narration": None})
        cash_queries.post_expense_voucher(conn, expense_id)

    # Yesterday's cash counted: the books' balance in notes and coins, ten rupees short.
    yesterday = today - timedelta(days=1)
    book = conn.execute(sa.text("SELECT finance.cash_book_balance(:b, :d)"), {"b": blr, "d": yesterday}).scalar_one()
    if book >= 10:
        counts, left = {}, int(book) - 10
        for name, value in cash_queries.DENOMINATIONS:
            counts[name], left = divmod(left, value)
        cash_queries.insert_cash_closing(conn, branch_id=blr, on=yesterday, counts=counts,
                                         remark="Ten rupees short: change given for the parking token")
    if folder is None and has_app_context():
        folder = Path(current_app.instance_path)
    if folder is None:
        return None
    path = _write_statement(conn, bank, folder)
    click.echo(f"Demo bank statement to import under Accounts > Bank reconciliation: {path}")
    return path


def demo_statement_rows(conn: Connection, bank: int) -> list[tuple]:
    """The statement's lines from the books: every voucher through the account (a deposit for a receipt,
    a withdrawal for a payment), the bank's narration built from the document's reference, and the
    quarter's SMS charges the books do not have yet."""
    rows = conn.execute(sa.text("""
        SELECT v.voucher_date, vl.debit, vl.credit, v.narration, v.voucher_type,
               coalesce(r.reference, e.payment_ref, sp.reference) AS reference,
               coalesce(r.received_from, e.supplier_name, o.legal_name) AS party
          FROM finance.voucher_line vl JOIN finance.voucher v USING (voucher_id)
          LEFT JOIN billing.receipt r ON v.source_table = 'billing.receipt' AND r.receipt_id = v.source_id
          LEFT JOIN finance.expense e ON v.source_table = 'finance.expense' AND e.expense_id = v.source_id
          LEFT JOIN procurement.supplier_payment sp
                 ON v.source_table = 'procurement.supplier_payment' AND sp.payment_id = v.source_id
          LEFT JOIN procurement.purchase_invoice pi ON pi.pinv_id = sp.pinv_id
          LEFT JOIN oem.oem o ON o.oem_id = pi.oem_id
         WHERE vl.ledger_id = :l ORDER BY v.voucher_date, v.voucher_id"""), {"l": bank}).all()
    out = []
    for on, debit, credit, narration, kind, reference, party in rows:
        party = (party or "").upper()[:30]
        if kind == "CONTRA":
            text, ref = "CHQ PAID-SELF-000123", "000123"
        elif reference and reference.isdigit() and len(reference) == 12:
            text, ref = f"UPI-{party}-{reference}-PAYMENT", f"0000{reference}"
        elif reference:
            text, ref = f"NEFT {'CR' if debit else 'DR'}-{reference}-{party}", reference
        else:
            text, ref = (narration or kind)[:60].upper(), ""
        out.append((on + timedelta(days=1 if kind == "RECEIPT" else 0), text, ref, credit or "", debit or ""))
    last = max((r[0] for r in out), default=today_ist())
    out.append((last, "CHRG: SMS ALERT CHARGES QTR INCL GST", "", Decimal("17.70"), ""))
    return sorted(out, key=lambda r: r[0])


def _write_statement(conn: Connection, bank: int, folder: Path) -> Path:
    lines = ["HDFC BANK Ltd.,,,,,,", "Statement of account,,,,,,",
             '"Account No :50200012344521  VOLT MOTORS PRIVATE LIMITED",,,,,,', ",,,,,,",
             "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance",
             "********,********,********,********,********,********,********"]
    balance = Decimal("250000.00")
    for on, text, ref, withdrawal, deposit in demo_statement_rows(conn, bank):
        balance += Decimal(deposit or 0) - Decimal(withdrawal or 0)
        money = [f'"{Decimal(a):,.2f}"' if a != "" else "" for a in (withdrawal, deposit)]
        lines.append(f'{on:%d/%m/%y},{text},{ref},{on:%d/%m/%y},{money[0]},{money[1]},"{balance:,.2f}"')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STATEMENT_NAME
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
