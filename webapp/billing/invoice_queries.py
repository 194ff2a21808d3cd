"""SQL of the invoice screens (vehicle invoices, counter sales, credit notes, e-invoice details,
paying a counter sale later). Every function takes the request's connection and never commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def branch_state(conn: Connection, branch_id: int) -> str:
    return conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                        {"b": branch_id}).scalar_one()


def tcs_due(conn: Connection, grand_total: Decimal, on: date):
    """The TCS rule in force on the day that an invoice of this total falls under, with the amount."""
    return conn.execute(sa.text("""
        SELECT rate, above_amount, round(:g * rate / 100, 2) AS amount, description FROM billing.tcs_rule
         WHERE master.valid_during(effective_from, effective_to) @> CAST(:d AS date) AND :g > above_amount"""),
        {"g": grand_total, "d": on}).mappings().first()


def set_einvoice(conn: Connection, invoice_id: int, *, irn: str, ack_no: str, ack_date: date, signed_qr: str | None):
    return conn.execute(sa.text("""
            UPDATE billing.invoice SET irn = :irn, ack_no = :ack_no, ack_date = :ack_date, signed_qr = :qr
             WHERE invoice_id = :i"""), {"irn": irn, "ack_no": ack_no, "ack_date": ack_date, "qr": signed_qr,
                                         "i": invoice_id})


def credit_note_no(conn: Connection, credit_note_id: int) -> str | None:
    return conn.execute(sa.text("SELECT credit_note_no FROM billing.credit_note WHERE credit_note_id = :c"),
                        {"c": credit_note_id}).scalar()


# --------------------------------------------------------------------------- counter sale


def customers_by_mobile(conn: Connection, digits: str):
    """Customers whose mobile starts with the digits, the exact number first (at most 10)."""
    return conn.execute(sa.text("""
        SELECT c.customer_id, c.name, c.mobile, c.gstin, c.city FROM master.customer c
         WHERE c.mobile LIKE :m ORDER BY c.mobile = :exact DESC, c.name LIMIT 10"""),
        {"m": digits + "%", "exact": digits}).mappings().all()


def labour_operation(conn: Connection, operation_code: str):
    return conn.execute(sa.text("""
        SELECT operation_code, is_active FROM master.labour_operation WHERE operation_code = :c"""),
        {"c": operation_code}).mappings().first()


def part_by_no(conn: Connection, part_no: str):
    return conn.execute(sa.text("""
        SELECT part_id, part_no, is_active, whole_units, unit FROM master.part WHERE part_no = :n"""),
        {"n": part_no}).mappings().first()


def stock_of_parts(conn: Connection, branch_id: int, part_ids: list[int]):
    """Each of the parts with the quantity the branch holds (0 when none)."""
    return conn.execute(sa.text("""
        SELECT p.part_id, p.part_no, p.name, p.unit, coalesce(s.qty, 0) AS in_stock FROM master.part p
          LEFT JOIN inventory.part_stock s ON s.part_id = p.part_id AND s.branch_id = :b
         WHERE p.part_id = ANY(:ids) ORDER BY p.part_no"""), {"b": branch_id, "ids": part_ids}).mappings()


def b2c_address_threshold(conn: Connection, on: date) -> Decimal | None:
    """The taxable value from which an unregistered buyer's invoice needs the address (rule 46)."""
    return conn.execute(sa.text("SELECT billing.threshold_on('B2C_ADDRESS', CAST(:d AS date))"),
                        {"d": on}).scalar()


def counter_balance(conn: Connection, invoice_id: int) -> Decimal:
    """What a counter sale still owes (negative: an excess)."""
    return conn.execute(sa.text("SELECT due - received FROM billing.counter_balance WHERE invoice_id = :i"),
                        {"i": invoice_id}).scalar_one()


def receipt_no(conn: Connection, receipt_id: int) -> str:
    return conn.execute(sa.text("SELECT receipt_no FROM billing.receipt WHERE receipt_id = :r"),
                        {"r": receipt_id}).scalar_one()
