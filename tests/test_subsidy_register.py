"""The subsidy claims register reads the claims alone (sql/0022): each claim carries its booking's
branch, number, cancelled flag and listing date, kept by triggers through the sale's life; the
register finds, orders and totals exactly what it did when it read every claim through its booking
and invoice."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import builders as b
import pytest
import sqlalchemy as sa
from builders import scalar
from conftest import login

from seed.history import Sizes, generate_history
from webapp.billing import posting
from webapp.db import contains_pattern
from webapp.sales import services, step_queries
from webapp.sales.finance import SUBSIDY_FILTERS

D = date.fromisoformat


def key() -> str:
    return str(uuid.uuid4())


def listing(conn, booking_id: int):
    return conn.execute(sa.text(
        "SELECT branch_id, booking_no, booking_cancelled, listed_on FROM sales.subsidy_claim WHERE booking_id = :b"),
        {"b": booking_id}).one()


def claim_updates(conn) -> int:
    return scalar(conn, "SELECT count(*) FROM audit.log WHERE table_name = 'sales.subsidy_claim' AND action = 'UPDATE'")


def test_a_claim_is_listed_as_its_booking_stands_through_invoice_credit_note_and_cancellation(conn):
    s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
    booking_id = b.booking(conn, s, on="2026-06-01")
    number = scalar(conn, "SELECT booking_no FROM sales.booking WHERE booking_id = :b", b=booking_id)
    assert listing(conn, booking_id) == (s.branch_id, number, False, D("2026-06-01"))

    services.allot(conn, booking_id, s.unit_id)
    b.act_as(conn, s.manager_id)
    invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=D("2026-06-05"), key=key())
    assert listing(conn, booking_id) == (s.branch_id, number, False, D("2026-06-05"))   # under the invoice's date
    assert claim_updates(conn) == 0   # the booking's audit rows say what changed, not the claim's

    posting.post_credit_note(conn, invoice_id, on=D("2026-06-06"), reason="wrong colour", key=key())
    assert listing(conn, booking_id) == (s.branch_id, number, False, D("2026-06-01"))   # booked again

    posting.cancel_booking(conn, booking_id, on=D("2026-06-07"), reason="changed plans", key=key())
    assert listing(conn, booking_id) == (s.branch_id, number, True, D("2026-06-01"))


def test_nobody_lists_a_claim_otherwise_than_its_booking(conn):
    s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
    booking_id = b.booking(conn, s, on="2026-06-01")
    expected = listing(conn, booking_id)
    other = b.branch(conn)
    conn.execute(sa.text("""UPDATE sales.subsidy_claim
                               SET branch_id = :o, booking_no = 'X1', booking_cancelled = true, listed_on = '2020-01-01',
                                   voucher_id = 'EV-0001'
                             WHERE booking_id = :b"""), {"o": other, "b": booking_id})
    assert listing(conn, booking_id) == expected
    assert scalar(conn, "SELECT voucher_id FROM sales.subsidy_claim WHERE booking_id = :b", b=booking_id) == "EV-0001"
    assert claim_updates(conn) == 1   # the voucher's change is audited as before

    second = b.booking(conn, s, on="2026-06-02")
    conn.execute(sa.text("DELETE FROM sales.subsidy_claim WHERE booking_id = :b"), {"b": second})
    conn.execute(sa.text("""INSERT INTO sales.subsidy_claim (booking_id, eligible_amount, branch_id, booking_no,
                                                             booking_cancelled, listed_on)
                            VALUES (:b, 5000, :o, 'X2', true, '2020-01-01')"""), {"b": second, "o": other})
    assert listing(conn, second)[1:] != ("X2", True, D("2020-01-01"))
    assert listing(conn, second) == (s.branch_id, listing(conn, second).booking_no, False, D("2026-06-02"))


# The register as it was read before sql/0022: every claim through its booking and invoice (and the
# customer for a search), ordered by the invoice date else the booking date. The reference the
# claims' own columns must reproduce, row for row and rupee for rupee.
def old_register(conn, branch_id: int, step: str, q: str) -> tuple[list[int], tuple]:
    where = ["b.branch_id = :branch", "b.stage <> 'CANCELLED'"]
    if step:
        where.append(step_queries.SUBSIDY_PENDING_SQL[step])
    if q:
        where.append("(b.booking_no ILIKE :q OR c.name ILIKE :q OR sc.voucher_id ILIKE :q OR sc.claim_no ILIKE :q)")
    body = f"""FROM sales.subsidy_claim sc JOIN sales.booking b ON b.booking_id = sc.booking_id
                JOIN master.customer c ON c.customer_id = b.customer_id
                LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
               WHERE {' AND '.join(where)}"""
    params = {"branch": branch_id, "q": contains_pattern(q)}
    ids = conn.execute(sa.text(f"SELECT sc.booking_id {body} ORDER BY coalesce(i.invoice_date, b.booked_on), "
                               "b.booking_id"), params).scalars().all()
    totals = conn.execute(sa.text(f"""SELECT count(*), coalesce(sum(sc.eligible_amount), 0),
                                             coalesce(sum(sc.credited_amount), 0) {body}"""), params).one()
    return ids, tuple(totals)


def new_register(conn, branch_id: int, step: str, q: str, size: int) -> tuple[list[int], tuple]:
    claims = step_queries.subsidy_claim_filter(branch_id, step, q)
    ids, totals, number = [], None, 1
    while True:
        rows = step_queries.subsidy_claim_page(conn, claims, number, size)
        if not rows:
            break
        page_totals = (rows[0]["claims"], rows[0]["eligible"], rows[0]["credited"])
        assert totals in (None, page_totals)
        totals = page_totals
        ids += [r["booking_id"] for r in rows]
        number += 1
    empty = step_queries.subsidy_claim_totals(conn, claims)
    assert (empty["claims"], empty["eligible"], empty["credited"]) == (totals or (0, 0, 0))
    return ids, totals or (0, 0, 0)


@pytest.fixture
def history(engine, make_branch):
    """Two branches' generated sales, some claims taken further (signed, uploaded, claimed, credited),
    and a third branch's sales made through the services (invoiced, credited back, cancelled), so every
    step filter, both dates and the triggers' listing are met."""
    for n in (1, 2):
        make_branch(branch_code=f"SUB{n}", invoice_prefix=f"S{n}")
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=140, parts=5, moves=100, sales=120), seed=11, today=date(2026, 11, 23))
        conn.execute(sa.text("""
            UPDATE sales.subsidy_claim SET buyer_signed_on = listed_on + 1 WHERE voucher_id IS NOT NULL AND booking_id % 2 = 0;
            UPDATE sales.subsidy_claim SET dealer_uploaded_on = buyer_signed_on + 1
             WHERE buyer_signed_on IS NOT NULL AND booking_id % 3 <> 0;
            UPDATE sales.subsidy_claim SET claim_no = 'CLM/' || booking_id, claim_raised_on = dealer_uploaded_on + 2
             WHERE dealer_uploaded_on IS NOT NULL AND booking_id % 5 <> 0;
            UPDATE sales.subsidy_claim SET credited_on = claim_raised_on + 30, credited_amount = eligible_amount - 100
             WHERE claim_raised_on IS NOT NULL AND booking_id % 7 <> 0;"""))
        # A branch whose claims got their listing through the triggers: one invoiced, one invoiced
        # and credited back (booked again), one cancelled, two still booked; listed in another order
        # than they were booked in.
        sale = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00", units=2)
        b.invoiced_booking(conn, sale, on="2026-06-04")
        second_unit = scalar(conn, "SELECT max(unit_id) FROM inventory.vehicle_unit WHERE branch_id = :b",
                             b=sale.branch_id)
        _, invoice_id = b.invoiced_booking(conn, replace(sale, unit_id=second_unit), on="2026-06-05")
        posting.post_credit_note(conn, invoice_id, on=D("2026-06-06"), reason="wrong colour", key=key())
        cancelled = b.booking(conn, sale, on="2026-06-02")
        posting.cancel_booking(conn, cancelled, on=D("2026-06-03"), reason="changed plans", key=key())
        b.booking(conn, sale, on="2026-06-03")   # listed between the two invoiced ones
        b.booking(conn, sale, on="2026-06-07")
        b.act_as(conn, None)
    with engine.connect() as conn:
        branches = conn.execute(sa.text("SELECT DISTINCT branch_id FROM sales.booking ORDER BY 1")).scalars().all()
        surname = scalar(conn, """SELECT split_part(c.name, ' ', 2) FROM master.customer c
                                   JOIN sales.booking b USING (customer_id) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""")
        number = scalar(conn, "SELECT booking_no FROM sales.booking ORDER BY booking_id DESC LIMIT 1")
        voucher = scalar(conn, "SELECT voucher_id FROM sales.subsidy_claim WHERE voucher_id IS NOT NULL LIMIT 1")
    return branches, surname, number, voucher


def test_the_register_finds_orders_and_totals_what_it_did_through_the_bookings(engine, history):
    branches, surname, number, voucher = history
    searches = ["", surname.lower(), surname.upper(), number[:4].lower(), number[-5:], number, voucher[-6:].lower(),
                "clm/", "5", "%", "_", "nobody-like-this", "Ä"]
    with engine.connect() as conn:
        states = conn.execute(sa.text(
            """SELECT count(*) FILTER (WHERE booking_cancelled), count(*) FILTER (WHERE credited_on IS NOT NULL),
                      count(*) FILTER (WHERE listed_on <> (SELECT booked_on FROM sales.booking b
                                                            WHERE b.booking_id = sc.booking_id))
                 FROM sales.subsidy_claim sc""")).one()
        assert all(states), states   # cancelled, credited and invoice-dated claims are all there
        compared = 0
        for branch_id in branches:
            for step in SUBSIDY_FILTERS:
                for q in searches:
                    old = old_register(conn, branch_id, step, q)
                    assert new_register(conn, branch_id, step, q, size=2) == old, (branch_id, step, q)
                    compared += bool(old[0])
        assert compared > len(branches) * len(SUBSIDY_FILTERS) * 3   # most of the cases list some claims


def test_the_register_screen_lists_a_claim_under_its_invoice_date(app, engine, client, make_staff):
    with engine.begin() as conn:
        s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
        booked = b.booking(conn, s, on="2026-06-02")
        invoiced, _ = b.invoiced_booking(conn, s, on="2026-06-03")   # booked on 01-06, invoiced on 03-06
        numbers = [scalar(conn, "SELECT booking_no FROM sales.booking WHERE booking_id = :b", b=bk)
                   for bk in (booked, invoiced)]
    _, code, pin = make_staff("SUBM1", "MANAGER", branch_id=s.branch_id)
    assert login(client, code, pin).status_code == 303
    html = client.get("/sales/subsidy-claims?step=").get_data(as_text=True)
    assert html.index(numbers[0]) < html.index(numbers[1])   # 02-06 (booked) before 03-06 (invoiced)
    assert "03-06-2026" in html and "2 claims" in html and "10,000.00" in html
