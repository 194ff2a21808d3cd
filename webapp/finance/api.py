"""What other modules may use of finance: post a balanced voucher, name a system or party ledger,
and ask whether a month is closed. Query functions take the connection and never commit.

A document posted by trigger (an invoice, a receipt...) posts its voucher in SQL through
finance.post_voucher (sql/functions/95_finance.sql); Python-side documents (an expense, a manual
journal, a salary run) call ``post_voucher`` here, in the request's transaction, so the document
and its voucher are saved together or not at all.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

VOUCHER_TYPES = ("SALES", "CREDIT_NOTE", "DEBIT_NOTE", "RECEIPT", "PAYMENT", "PURCHASE", "JOURNAL", "CONTRA")  # data, not access
PARTY_KINDS = ("CUSTOMER", "OEM", "FINANCIER", "INSURER")

# What the database says when a posting is refused, in the words a form shows next to the field.
CONSTRAINT_MESSAGES = {
    "period_closed": "That date is in a month closed in the books; a manager must reopen the month first.",
    "voucher_balanced": "Debits and credits must be equal.",
    "closed_month_ended": "Only a month that has ended can be closed.",
    "closed_month_open": "That month is not closed.",
}


@dataclass(frozen=True)
class Line:
    """One side of a voucher: a positive amount is a debit, a negative one a credit."""
    ledger_id: int
    amount: Decimal


def post_voucher(conn: Connection, *, branch_id: int, voucher_type: str, on: date, lines: list[Line],
                 narration: str | None = None, number: str | None = None,
                 source: tuple[str, int] | None = None) -> int:
    """Post a voucher and its lines; the database refuses it unless debits equal credits (checked at
    commit) and its month is open. ``number`` None takes the next number of the type's series;
    ``source`` (table, id) ties it to the document it comes from, at most one voucher each."""
    if voucher_type not in VOUCHER_TYPES:
        raise ValueError(f"no voucher type {voucher_type!r}")
    payload = json.dumps([{"ledger_id": ln.ledger_id, "amount": str(ln.amount)} for ln in lines])
    table, source_id = source if source else (None, None)
    return conn.execute(sa.text(
        "SELECT finance.post_voucher(:b, :t, :on, :no, :narration, :st, :sid, CAST(:lines AS jsonb))"),
        {"b": branch_id, "t": voucher_type, "on": on, "no": number, "narration": narration,
         "st": table, "sid": source_id, "lines": payload}).scalar_one()


def ledger_key(conn: Connection, key: str) -> int:
    """The id of a system ledger (CASH, BANK, OUTPUT_CGST, ROUND_OFF...)."""
    return conn.execute(sa.text("SELECT finance.ledger_key(:k)"), {"k": key}).scalar_one()


def party_ledger(conn: Connection, kind: str, party_id: int) -> int:
    """The ledger of a customer, OEM, financier or insurer, made the first time it is needed."""
    if kind not in PARTY_KINDS:
        raise ValueError(f"no party kind {kind!r}")
    return conn.execute(sa.text("SELECT finance.party_ledger(:k, :id)"), {"k": kind, "id": party_id}).scalar_one()


def month_is_closed(conn: Connection, branch_id: int, on: date) -> bool:
    return bool(conn.execute(sa.text("SELECT finance.month_is_closed(:b, :on)"), {"b": branch_id, "on": on}).scalar())


__all__ = ["CONSTRAINT_MESSAGES", "Line", "PARTY_KINDS", "VOUCHER_TYPES", "ledger_key", "month_is_closed",
           "party_ledger", "post_voucher"]
