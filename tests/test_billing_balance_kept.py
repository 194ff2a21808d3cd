"""The balances the billing triggers keep for the receivables register (billing.invoice_balance,
sql/0020) stay equal to what the balance views compute, through every document that moves them:
an advance before the invoice, the invoice, receipts after it, a credit note, the sale invoiced
again; and on a counter sale its receipt, credit note and refund."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import builders as b
import sqlalchemy as sa
from builders import scalar

from webapp.billing import posting
from webapp.sales import services

D = date.fromisoformat
M = Decimal

# Every invoice whose kept balance differs from the views' (or is kept when it should not be, or
# missing): empty when the triggers kept up.
DIFFERENCES = """
    SELECT invoice_id, k.due AS kept_due, k.received AS kept_received, c.due, c.received
      FROM billing.invoice_balance k
      FULL JOIN (SELECT i.invoice_id, bb.due, bb.received
                   FROM billing.invoice i
                   JOIN billing.booking_balance bb ON bb.booking_id = i.booking_id AND bb.invoice_id = i.invoice_id
                  WHERE i.kind = 'VEHICLE'
                 UNION ALL
                 SELECT invoice_id, due, received FROM billing.counter_balance) c USING (invoice_id)
     WHERE (k.due, k.received) IS DISTINCT FROM (c.due, c.received)"""


def key() -> str:
    return str(uuid.uuid4())


def differences(conn) -> list:
    return conn.execute(sa.text(DIFFERENCES)).all()


def kept(conn, invoice_id: int):
    return conn.execute(sa.text("SELECT due, received, balance FROM billing.invoice_balance WHERE invoice_id = :i"),
                        {"i": invoice_id}).one_or_none()


def receive(conn, amount: str, on: str, **sale) -> int:
    return posting.post_receipt(conn, on=D(on), mode="UPI", amount=M(amount), key=key(), received_from="Customer",
                                reference="UTR0000000042", **sale)


def test_a_vehicle_sale_keeps_its_balance_through_receipts_a_credit_note_and_a_second_invoice(conn):
    s = b.sale_setup(conn)
    booking_id = b.booking(conn, s)
    b.act_as(conn, s.manager_id)
    receive(conn, "10000", "2026-06-01", booking_id=booking_id)        # an advance: nothing invoiced yet
    assert scalar(conn, "SELECT count(*) FROM billing.invoice_balance") == 0

    services.allot(conn, booking_id, s.unit_id)
    b.act_as(conn, s.manager_id)
    first = posting.post_vehicle_invoice(conn, booking_id, on=D("2026-06-02"), key=key())
    due = posting.booking_balance(conn, booking_id)["due"]
    assert kept(conn, first) == (due, M("10000.00"), due - M("10000.00"))
    assert differences(conn) == []

    receive(conn, "25000", "2026-06-03", booking_id=booking_id)
    assert kept(conn, first).received == M("35000.00") and differences(conn) == []
    owed = scalar(conn, "SELECT balance FROM billing.receivable WHERE invoice_id = :i", i=first)
    assert owed == due - M("35000.00")

    posting.post_credit_note(conn, first, on=D("2026-06-04"), reason="wrong colour", key=key())
    assert kept(conn, first) is None and differences(conn) == []       # no longer the sale's invoice
    assert scalar(conn, "SELECT count(*) FROM billing.receivable WHERE invoice_id = :i", i=first) == 0

    receive(conn, "5000", "2026-06-04", booking_id=booking_id)         # on the booking again
    services.allot(conn, booking_id, s.unit_id)
    b.act_as(conn, s.manager_id)
    second = posting.post_vehicle_invoice(conn, booking_id, on=D("2026-06-05"), key=key())
    assert kept(conn, second).received == M("40000.00") and differences(conn) == []

    rest = posting.booking_balance(conn, booking_id)["balance"]
    receive(conn, str(rest), "2026-06-06", booking_id=booking_id)     # paid in full: off the register
    assert kept(conn, second).balance == 0 and differences(conn) == []
    assert scalar(conn, "SELECT count(*) FROM billing.receivable WHERE invoice_id = :i", i=second) == 0


def test_a_counter_sale_keeps_its_balance_through_a_receipt_a_credit_note_and_the_refund(conn):
    branch = b.branch(conn, prefix="BLR")
    b.act_as(conn, b.staff(conn, branch, "ACCOUNTS"))
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, branch, part, 10, "100.00")
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(part, M(2))], on=D("2026-06-02"), key=key())
    total = scalar(conn, "SELECT amount_payable FROM billing.invoice WHERE invoice_id = :i", i=inv)
    assert kept(conn, inv) == (total, M("0.00"), total) and differences(conn) == []

    receive(conn, "100", "2026-06-02", invoice_id=inv)
    assert kept(conn, inv).balance == total - M("100.00") and differences(conn) == []

    posting.post_credit_note(conn, inv, on=D("2026-06-03"), reason="returned unused", key=key())
    assert kept(conn, inv) == (M("0.00"), M("100.00"), M("-100.00")) and differences(conn) == []
    assert scalar(conn, "SELECT count(*) FROM billing.receivable WHERE invoice_id = :i", i=inv) == 0

    posting.post_refund(conn, on=D("2026-06-03"), mode="CASH", amount=M("100"), key=key(), paid_to="Customer",
                        reason="returned unused", invoice_id=inv)
    assert kept(conn, inv) == (M("0.00"), M("0.00"), M("0.00")) and differences(conn) == []


def test_rebuilding_the_kept_balances_gives_what_the_triggers_kept(conn):
    s = b.sale_setup(conn)
    booking_id, invoice_id = b.invoiced_booking(conn, s)
    receive(conn, "15000", "2026-06-03", booking_id=booking_id)
    before = conn.execute(sa.text("SELECT * FROM billing.invoice_balance ORDER BY invoice_id")).all()
    conn.execute(sa.text("SELECT billing.rebuild_invoice_balance()"))
    assert conn.execute(sa.text("SELECT * FROM billing.invoice_balance ORDER BY invoice_id")).all() == before
    assert [r.invoice_id for r in before] == [invoice_id]
