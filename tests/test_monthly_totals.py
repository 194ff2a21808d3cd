"""The figures kept for the owner's home screen (sql/0058): billing.invoice_month stays the sum of the
invoices and credit notes through vehicle invoices with and without a landed cost, a counter sale, a
service invoice and a job sheet, a credit note in a later month, a landed cost set after the invoice
and a rolled-back invoice; finance.oem_pending_day stays the sum of the claims pending through every
step of a subsidy and a warranty claim. Each drift check finds a difference made by hand, and the
rebuild makes the rows again as the triggers kept them. The home screen's figures read from them are
the ones the documents add up to."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import claim_ids as cb
import sqlalchemy as sa
from builders import scalar
from test_finance_oem_receivables import seed_subsidy, seed_workshop

from webapp.billing import api as billing_api
from webapp.billing import glance_queries, posting
from webapp.finance import receivable_queries
from webapp.formatting import today_ist

M = Decimal
JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)
INVOICE_DRIFT = "SELECT count(*) FROM billing.invoice_month_drift()"
PENDING_DRIFT = "SELECT count(*) FROM finance.oem_pending_drift()"


def key() -> str:
    return str(uuid.uuid4())


def kept(conn, branch_id: int) -> dict:
    rows = conn.execute(sa.text("SELECT * FROM billing.invoice_month WHERE branch_id = :b"), {"b": branch_id}).mappings()
    return {(r["kind"], r["doc"], r["month"]): dict(r) for r in rows}


def invoice(conn, invoice_id: int):
    return b.row(conn, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)


def _service_invoice(conn, branch: int, customer: int, on: date, coverage: str = "CUSTOMER") -> int:
    labour = {"kind": "LABOUR", "code": "PS-GEN", "qty": "1", "unit_price": "1000.00", "price_includes_gst": False,
              "coverage": coverage}
    return billing_api.post_service_invoice(conn, branch_id=branch, customer_id=customer, invoice_date=on,
                                            lines=[labour], idempotency_key=key(), vehicle="KA01AB1234",
                                            reference="BLRJC/26/7")


def test_invoices_and_credit_notes_add_to_their_months(conn):
    s = b.sale_setup(conn, units=2)
    second_unit = scalar(conn, "SELECT unit_id FROM inventory.vehicle_unit WHERE branch_id = :b AND unit_id <> :u",
                         b=s.branch_id, u=s.unit_id)
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 120000 WHERE unit_id = :u"), {"u": s.unit_id})
    booking_id, first = b.invoiced_booking(conn, s, on="2026-06-02")
    inv = invoice(conn, first)
    assert {k: v for k, v in kept(conn, s.branch_id)[("VEHICLE", "INV", JUNE)].items()
            if k in ("b2b", "documents", "taxable_value", "grand_total", "tcs_amount", "costed", "costed_taxable",
                     "cost")} == {
        "b2b": False, "documents": 1, "taxable_value": inv.taxable_value, "grand_total": inv.grand_total,
        "tcs_amount": inv.tcs_amount, "costed": 1, "costed_taxable": inv.taxable_value, "cost": M("120000.00")}

    # a counter sale, a service invoice and a job sheet in June: each kind its own row
    b.act_as(conn, s.manager_id)
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, s.branch_id, part, 10, "100.00")
    counter = posting.post_counter_invoice(conn, s.branch_id, [posting.CounterLine(part, M(2))], on=date(2026, 6, 3),
                                           key=key())
    conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, sac_code, standard_hours, rate)
                            VALUES ('PS-GEN', 'General service', '998714', 1.5, 1000)"""))
    service = _service_invoice(conn, s.branch_id, s.customer_id, date(2026, 6, 4))
    _service_invoice(conn, s.branch_id, s.customer_id, date(2026, 6, 4), coverage="FREE_SERVICE")   # a job sheet
    rows = kept(conn, s.branch_id)
    assert rows[("COUNTER", "INV", JUNE)]["grand_total"] == invoice(conn, counter).grand_total
    assert rows[("SERVICE", "INV", JUNE)]["taxable_value"] == invoice(conn, service).taxable_value == M("1000.00")
    assert rows[("JOB_SHEET", "INV", JUNE)]["documents"] == 1
    assert scalar(conn, INVOICE_DRIFT) == 0

    # the vehicle invoice credited in July: a CRN row of July, the June invoice row unchanged
    posting.post_credit_note(conn, first, on=date(2026, 7, 1), reason="wrong colour", key=key())
    rows = kept(conn, s.branch_id)
    assert rows[("VEHICLE", "CRN", JULY)]["taxable_value"] == inv.taxable_value
    assert rows[("VEHICLE", "CRN", JULY)]["cost"] == M("120000.00")
    assert rows[("VEHICLE", "INV", JUNE)]["documents"] == 1
    assert scalar(conn, INVOICE_DRIFT) == 0

    # the booking invoiced again in July with the second unit, which has no landed cost yet: uncosted
    from webapp.sales import services
    services.allot(conn, booking_id, second_unit)
    b.act_as(conn, s.manager_id)
    again = posting.post_vehicle_invoice(conn, booking_id, on=date(2026, 7, 2), key=key())
    july = kept(conn, s.branch_id)[("VEHICLE", "INV", JULY)]
    assert (july["documents"], july["costed"], july["cost"]) == (1, 0, M("0.00"))
    # its landed cost entered afterwards, and the first unit's corrected: every row of theirs follows
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 100000 WHERE unit_id = :u"),
                 {"u": second_unit})
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 125000 WHERE unit_id = :u"),
                 {"u": s.unit_id})
    rows = kept(conn, s.branch_id)
    assert (rows[("VEHICLE", "INV", JULY)]["costed"], rows[("VEHICLE", "INV", JULY)]["cost"]) == (1, M("100000.00"))
    assert rows[("VEHICLE", "INV", JULY)]["costed_taxable"] == invoice(conn, again).taxable_value
    assert rows[("VEHICLE", "INV", JUNE)]["cost"] == rows[("VEHICLE", "CRN", JULY)]["cost"] == M("125000.00")
    assert scalar(conn, INVOICE_DRIFT) == 0


def _counter_sale_shop(conn) -> tuple[int, int]:
    """A branch with a part in stock and one counter sale of it on 02-06-2026: (branch, part)."""
    branch = b.branch(conn, prefix="BLR")
    b.act_as(conn, b.staff(conn, branch, "ACCOUNTS"))
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, branch, part, 10, "100.00")
    posting.post_counter_invoice(conn, branch, [posting.CounterLine(part, M(1))], on=date(2026, 6, 2), key=key())
    return branch, part


def test_a_rolled_back_invoice_leaves_its_month_as_it_was(conn):
    branch, part = _counter_sale_shop(conn)
    before = kept(conn, branch)
    savepoint = conn.begin_nested()
    posting.post_counter_invoice(conn, branch, [posting.CounterLine(part, M(3))], on=date(2026, 6, 2), key=key())
    assert kept(conn, branch)[("COUNTER", "INV", JUNE)]["documents"] == 2
    savepoint.rollback()
    assert kept(conn, branch) == before and before[("COUNTER", "INV", JUNE)]["documents"] == 1
    assert scalar(conn, INVOICE_DRIFT) == 0


def test_the_drift_check_finds_a_total_changed_by_hand_and_the_rebuild_mends_it(conn):
    branch, _ = _counter_sale_shop(conn)
    before = kept(conn, branch)
    conn.execute(sa.text("UPDATE billing.invoice_month SET taxable_value = taxable_value + 1 WHERE branch_id = :b"),
                 {"b": branch})
    drift = conn.execute(sa.text("SELECT * FROM billing.invoice_month_drift() WHERE branch_id = :b"), {"b": branch}).all()
    assert [(d.kind, d.doc, d.month) for d in drift] == [("COUNTER", "INV", JUNE)]
    assert M(str(drift[0].kept["taxable_value"])) == M(str(drift[0].documents["taxable_value"])) + 1
    conn.execute(sa.text("SELECT billing.rebuild_invoice_month()"))
    assert kept(conn, branch) == before and scalar(conn, INVOICE_DRIFT) == 0


def test_the_home_screen_month_figures_are_what_the_invoices_add_up_to(conn):
    s = b.sale_setup(conn, units=2)
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 120000 WHERE unit_id = :u"), {"u": s.unit_id})
    b.invoiced_booking(conn, s, on="2026-06-02")
    other = b.sale_setup(conn)   # another branch's sale counts nothing here
    b.invoiced_booking(conn, other, on="2026-06-02")
    live = conn.execute(sa.text("""
        SELECT count(*) AS vehicles, round(avg(i.taxable_value - u.purchase_cost), 2) AS margin,
               count(*) FILTER (WHERE u.purchase_cost IS NULL) AS uncosted, sum(i.taxable_value) AS value
          FROM billing.invoice i JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id
         WHERE i.branch_id = :b AND i.kind = 'VEHICLE' AND i.invoice_date >= :m"""), {"b": s.branch_id, "m": JUNE}).one()
    [month] = glance_queries.month_totals(conn, s.branch_id, "VEHICLE", JUNE)
    assert (month.month, month.invoices, month.margin, month.uncosted, month.value) == (
        JUNE, live.vehicles, live.margin, live.uncosted, live.value)
    assert live.margin is not None and live.vehicles == 1
    figures = glance_queries.invoices(conn, s.branch_id, date(2026, 6, 2), JUNE)
    payable = scalar(conn, "SELECT amount_payable FROM billing.invoice WHERE branch_id = :b", b=s.branch_id)
    assert tuple(figures) == (1, payable, 1, payable)


def test_the_oem_dues_by_age_are_kept_through_every_step_of_a_claim(conn):
    seeded = seed_subsidy(conn)
    branch = seeded["sale"].branch_id
    assert scalar(conn, PENDING_DRIFT) == 0
    # one not yet claimed (10 days), two claimed 45 and 100 days ago; credited and cancelled ones not pending
    assert receivable_queries.pending_by_age(conn, branch, today_ist()) == {
        0: (1, M("5000.00")), 1: (1, M("5000.00")), 3: (1, M("5000.00"))}
    # the one claimed 45 days ago is credited: no longer pending; its day's row goes
    conn.execute(sa.text("UPDATE sales.subsidy_claim SET credited_on = current_date, credited_amount = 5000 "
                         "WHERE booking_id = :b"), {"b": seeded["bookings"][1]})
    assert receivable_queries.pending_by_age(conn, branch, today_ist()) == {0: (1, M("5000.00")), 3: (1, M("5000.00"))}
    assert scalar(conn, PENDING_DRIFT) == 0

    workshop = seed_workshop(conn, b.branch(conn))
    assert scalar(conn, PENDING_DRIFT) == 0
    a = workshop["amounts"]
    # drafted 3 days ago and the free-service labour claimed 20 days ago; submitted 40; approved 95 days ago
    assert receivable_queries.pending_by_age(conn, workshop["branch_id"], today_ist()) == {
        0: (2, a[workshop["draft"]] + a[workshop["free_claim"]]), 1: (1, a[workshop["submitted"]]),
        3: (1, M("675.00"))}
    cb.decide(conn, workshop["submitted"], "REJECTED", reason="Damage by water", on=today_ist())
    assert 1 not in receivable_queries.pending_by_age(conn, workshop["branch_id"], today_ist())
    conn.execute(sa.text("DELETE FROM sales.subsidy_claim WHERE booking_id = :b"), {"b": seeded["bookings"][0]})
    assert receivable_queries.pending_by_age(conn, branch, today_ist()) == {3: (1, M("5000.00"))}
    assert scalar(conn, PENDING_DRIFT) == 0

    conn.execute(sa.text("UPDATE finance.oem_pending_day SET claims = claims + 1 WHERE branch_id = :b"), {"b": branch})
    assert scalar(conn, PENDING_DRIFT) == 1   # the one day still pending there
    conn.execute(sa.text("SELECT finance.rebuild_oem_pending()"))
    assert scalar(conn, PENDING_DRIFT) == 0


def test_the_cash_book_balance_is_every_cash_line_of_the_branch_to_the_day(conn):
    from webapp.finance import api as finance

    a, other = b.branch(conn), b.branch(conn)
    conn.execute(sa.text("UPDATE finance.ledger SET opening_balance = 5000 WHERE system_key = 'CASH'"))  # the company's
    cash, suspense = finance.ledger_key(conn, "CASH"), finance.ledger_key(conn, "SUSPENSE")
    for branch, on, amount in ((a, "2026-04-10", "1000"), (a, "2026-05-20", "250"), (a, "2026-06-03", "40"),
                               (a, "2026-06-05", "7"), (other, "2026-06-01", "900")):
        finance.post_voucher(conn, branch_id=branch, voucher_type="RECEIPT", on=date.fromisoformat(on),
                             narration="Cash in", lines=[finance.Line(cash, M(amount)), finance.Line(suspense, -M(amount))])
    days = [date(2026, 5, 31), date(2026, 6, 3), date(2026, 6, 4), date(2026, 7, 1)]
    kept_way = [scalar(conn, "SELECT finance.cash_book_balance(:b, :d)", b=a, d=d) for d in days]
    lines = [scalar(conn, """SELECT sum(debit - credit) FROM finance.voucher_line
                              WHERE ledger_id = :l AND branch_id = :b AND voucher_date <= :d""", l=cash, b=a, d=d)
             for d in days]
    assert kept_way == lines == [M("1250.00"), M("1290.00"), M("1290.00"), M("1297.00")]


def test_the_home_screen_money_owed_is_the_receivables_register_s(conn):
    from webapp.billing import registers

    today = today_ist()
    s = b.sale_setup(conn)
    b.invoiced_booking(conn, s, on=str(today - timedelta(days=40)))
    b.act_as(conn, s.manager_id)
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, s.branch_id, part, 10, "100.00")
    posting.post_counter_invoice(conn, s.branch_id, [posting.CounterLine(part, M(2))], on=today, key=key())
    _, listed, _ = registers.receivable_page(conn, registers.ReceivableFilter(s.branch_id, today, None, None, ""), 1, 0)
    kept_way = registers.receivable_buckets(conn, s.branch_id, today)
    assert {k: (v["n"], v["balance"]) for k, v in kept_way.items()} == {
        k: (v["n"], v["balance"]) for k, v in listed.items()}
    assert (kept_way["0-30"]["n"], kept_way["31-60"]["n"], kept_way["90+"]["balance"]) == (1, 1, M("0.00"))


def test_the_sales_register_totals_read_whole_months_kept_and_the_part_months_live(conn):
    from webapp.billing import registers

    s = b.sale_setup(conn, units=2)
    b.act_as(conn, s.manager_id)
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, s.branch_id, part, 50, "100.00")

    def counter(on: str, qty: int) -> None:
        posting.post_counter_invoice(conn, s.branch_id, [posting.CounterLine(part, M(qty))], on=date.fromisoformat(on),
                                     key=key())
    counter("2026-05-20", 1)
    counter("2026-06-01", 2)
    _, vehicle = b.invoiced_booking(conn, s, on="2026-06-10")   # one series: posted in date order
    b.act_as(conn, s.manager_id)
    counter("2026-06-30", 3)
    counter("2026-07-15", 4)
    posting.post_credit_note(conn, vehicle, on=date(2026, 7, 20), reason="wrong colour", key=key())
    counter("2026-08-02", 5)
    assert registers.whole_months(date(2026, 5, 20), date(2026, 7, 31)) == (JUNE, date(2026, 8, 1))
    assert registers.whole_months(date(2026, 6, 2), date(2026, 6, 29)) is None
    for start, end, kind, party in ((date(2026, 5, 20), date(2026, 7, 16), None, None),   # part, whole, part
                                    (date(2026, 6, 1), date(2026, 7, 31), None, None),    # whole months only
                                    (date(2026, 5, 1), date(2026, 8, 31), "COUNTER", None),
                                    (date(2026, 5, 21), date(2026, 8, 1), "VEHICLE", "B2C"),
                                    (date(2026, 6, 2), date(2026, 6, 29), None, None)):   # no whole month
        f = registers.SalesFilter(s.branch_id, start, end, kind, party)
        assert registers.sales_totals(conn, f) == registers.sales_totals(conn, f, kept=False), (start, end, kind)
    everything = registers.sales_totals(conn, registers.SalesFilter(s.branch_id, date(2026, 5, 1), date(2026, 8, 31)))
    assert (everything["rows_found"], everything["invoices"], everything["credit_notes"]) == (7, 6, 1)
    searched = registers.SalesFilter(s.branch_id, date(2026, 5, 1), date(2026, 8, 31), q=invoice(conn, vehicle).invoice_no)
    assert registers.sales_totals(conn, searched)["rows_found"] == 2    # the invoice and its credit note
    # the whole months are read from the kept rows: a June total changed by hand shows in June as a whole month only
    conn.execute(sa.text("UPDATE billing.invoice_month SET taxable_value = taxable_value + 1 "
                         "WHERE branch_id = :b AND month = :m AND kind = 'COUNTER'"), {"b": s.branch_id, "m": JUNE})
    june = registers.SalesFilter(s.branch_id, JUNE, date(2026, 6, 30))
    assert (registers.sales_totals(conn, june)["taxable_value"]
            == registers.sales_totals(conn, june, kept=False)["taxable_value"] + 1)
    part_of_june = registers.SalesFilter(s.branch_id, JUNE, date(2026, 6, 29))
    assert registers.sales_totals(conn, part_of_june) == registers.sales_totals(conn, part_of_june, kept=False)
