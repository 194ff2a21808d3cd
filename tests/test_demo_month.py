"""seed-demo's month of documents (seed/finance_month_demo.py): last month's GSTR-1 has every section
a dealership's month has, no document the portal would refuse, and every document its voucher; every
scooter invoiced is handed over in the month, so last month's sales incentives are S01's and S02's,
hand-checked against the demo's rules (seed/demo.py DEMO_INCENTIVES)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from webapp.finance import returns_queries as q
from webapp.formatting import today_ist


@pytest.fixture
def demo(conn, app):
    from seed.demo import seed_demo

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))   # the deferred postings, as at seed-demo's commit
    gstin = conn.execute(sa.text("SELECT gstin FROM master.branch WHERE branch_code = 'BLR1'")).scalar_one()
    return gstin, q.period_of(None, False, today_ist().replace(day=1) - timedelta(days=1))


def test_last_month_s_gstr1_has_b2b_b2cl_b2cs_cdnr_hsn_and_doc_issue_and_nothing_refused(conn, demo):
    from seed.finance_month_demo import FLEET_GSTIN

    gstin, last_month = demo
    assert q.problems(conn, gstin, last_month) == []
    j = q.gstr1(conn, gstin, last_month).json
    assert [b2b["ctin"] for b2b in j["b2b"]] == [FLEET_GSTIN]
    fleet_invoices = j["b2b"][0]["inv"]
    assert len(fleet_invoices) == 2                     # the scooter, and the parts later credited
    assert {item["itm_det"]["rt"] for inv in fleet_invoices for item in inv["itms"]} == {5, 18}
    assert [b2cl["pos"] for b2cl in j["b2cl"]] == ["33"]
    (hosur,) = j["b2cl"][0]["inv"]
    assert hosur["val"] > 100000 and set(hosur["itms"][0]["itm_det"]) == {"txval", "rt", "iamt", "csamt"}
    assert {(row["sply_ty"], row["pos"], row["rt"]) for row in j["b2cs"]} >= {("INTRA", "29", 5), ("INTRA", "29", 18)}
    assert [cdnr["ctin"] for cdnr in j["cdnr"]] == [FLEET_GSTIN]
    assert "cdnur" not in j                             # no B2C-large invoice was credited
    hsn = {row["hsn_sc"] for table in j["hsn"].values() for row in table}
    assert {"871160", "871410", "850440"} <= hsn   # six digits, as a bigger showroom must
    kinds = {d["doc_num"]: d["docs"] for d in j["doc_issue"]["doc_det"]}
    assert set(kinds) >= {1, 5, 6}                      # invoices, the credit note, receipts
    assert all(doc["cancel"] == 0 for docs in kinds.values() for doc in docs)


def test_the_month_s_purchases_and_sales_are_in_the_books_and_gstr3b(conn, demo):
    gstin, last_month = demo
    assert conn.execute(sa.text("SELECT count(*) FROM finance.documents_without_voucher()")).scalar() == 0
    unbalanced = conn.execute(sa.text("""SELECT count(*) FROM (SELECT voucher_id FROM finance.voucher_line
                                          GROUP BY voucher_id HAVING sum(debit) <> sum(credit)) x""")).scalar()
    assert unbalanced == 0
    kinds = set(conn.execute(sa.text("""SELECT DISTINCT source_table FROM finance.voucher
                                         WHERE voucher_date BETWEEN :f AND :l"""),
                             {"f": last_month.first, "l": last_month.last}).scalars())
    assert {"billing.invoice", "billing.receipt", "billing.credit_note", "procurement.purchase_invoice",
            "procurement.supplier_payment"} <= kinds
    itc = q.gstr3b(conn, gstin, last_month)["itc"]
    assert itc["igst"] > 0 and itc["cgst"] > 0 and itc["cgst"] == itc["sgst"]    # Bajaj from Pune, Ather local
    payable = conn.execute(sa.text("SELECT count(*) FROM procurement.payable WHERE outstanding > 0")).scalar()
    assert payable == 1                                                          # Bajaj's invoice
    # The month stays open, for the accountant to close.
    closed = conn.execute(sa.text("SELECT count(*) FROM finance.closed_month")).scalar()
    assert closed == 0


def test_the_month_s_bank_lines_are_on_the_demo_statement(conn, demo):
    from seed.finance_cash_demo import demo_statement_rows

    bank = conn.execute(sa.text("SELECT ledger_id FROM finance.bank_account")).scalar_one()
    rows = demo_statement_rows(conn, bank)
    texts = [text for _, text, *_ in rows]
    assert any(t.startswith("NEFT DR-HDFCN52026111877-ATHER ENERGY") for t in texts)
    assert any(t.startswith("NEFT CR-HDFCN52026110088-GREENLINE") for t in texts)
    assert any(deposit == Decimal("127243.00") for *_, deposit in rows)         # the Hosur scooter, by UPI


def test_every_scooter_invoiced_last_month_is_handed_over_insured_and_registered_in_the_month(conn, demo):
    _, last_month = demo
    rows = conn.execute(sa.text("""
        SELECT i.invoice_no, i.invoice_date, d.delivery_no, d.delivered_on, b.stage, u.status,
               least(p.od_from, p.tp_from) AS insured_from, r.form20_on, sp.staff_code,
               (SELECT max(c.checked_at AT TIME ZONE 'Asia/Kolkata')::date FROM sales.pdi_check c
                 WHERE c.booking_id = b.booking_id AND c.is_ok) AS pdi_on
          FROM billing.invoice i
          JOIN sales.booking b ON b.invoice_id = i.invoice_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          LEFT JOIN sales.delivery d ON d.booking_id = b.booking_id
          LEFT JOIN inventory.vehicle_unit u ON u.unit_id = d.unit_id
          LEFT JOIN insurance.policy p ON p.booking_id = b.booking_id
          LEFT JOIN sales.registration r ON r.booking_id = b.booking_id
         WHERE i.kind = 'VEHICLE' AND i.invoice_date BETWEEN :f AND :l
         ORDER BY i.invoice_date"""), {"f": last_month.first, "l": last_month.last}).mappings().all()
    assert len(rows) == 4
    for row in rows:
        assert row["delivery_no"] is not None, row["invoice_no"]
        assert row["invoice_date"] < row["delivered_on"] <= last_month.last
        assert (row["stage"], row["status"]) == ("DELIVERED", "DELIVERED")
        assert row["invoice_date"] <= row["insured_from"] <= row["delivered_on"]
        assert row["form20_on"] is not None and row["form20_on"] <= row["delivered_on"]
        assert row["invoice_date"] <= row["pdi_on"] <= row["delivered_on"]   # the delivery note prints it
    assert sorted(row["staff_code"] for row in rows) == ["S01", "S01", "S02", "S02"]
    # the financed sale: its delivery order came in the month, its loan is in the bank, nothing is owed
    (financed,) = conn.execute(sa.text("""
        SELECT f.do_received_on, f.loan_amount, bb.received, bb.due, bb.customer_balance, bb.loan_pending
          FROM sales.finance f JOIN billing.booking_balance bb USING (booking_id)""")).mappings().all()
    assert last_month.first <= financed["do_received_on"] <= last_month.last
    assert financed["received"] == financed["due"] and financed["customer_balance"] == financed["loan_pending"] == 0


def test_last_month_s_sales_incentives_are_s01_s_and_s02_s_hand_checked(conn, demo):
    from webapp.payroll import incentive_queries as iq

    _, last_month = demo
    blr = conn.execute(sa.text("SELECT branch_id FROM master.branch WHERE branch_code = 'BLR1'")).scalar_one()
    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff "
                                      "WHERE staff_code IN ('S01', 'S02')")).all())
    iq.compute(conn, blr, last_month.first)

    def kinds(code):
        found = {}
        for line in iq.lines(conn, blr, last_month.first, staff[code]):
            found.setdefault(line.kind, []).append((line.model_name, line.amount))
            assert line.document_no and last_month.first <= line.document_date <= last_month.last
        return {k: sorted(v, key=str) for k, v in found.items()}

    # S01: two Riztas (Nandakumar's, the fleet's) at the Rizta's Rs 750, their two policies at Rs 200
    assert kinds("S01") == {"PER_VEHICLE_DELIVERED": [("Rizta", Decimal(750))] * 2,
                            "PER_INSURANCE_CASE": [(None, Decimal(200))] * 2}
    # S02: a 450X and a Chetak at Rs 500, their two policies at Rs 200, Shalini's loan at Rs 300
    assert kinds("S02") == {"PER_VEHICLE_DELIVERED": [(None, Decimal(500))] * 2,
                            "PER_INSURANCE_CASE": [(None, Decimal(200))] * 2,
                            "PER_FINANCE_CASE": [(None, Decimal(300))]}
    totals = {row.staff_code: (row.documents, row.computed, row.adjusted, row.total)
              for row in iq.person_totals(conn, blr, last_month.first)}
    # 750 + 750 + 200 + 200 = 1,900 and the manager's exchange-bonus adjustment of 1,000 (seed/demo.py)
    assert totals["S01"] == (4, Decimal(1900), Decimal(1000), Decimal(2900))
    # 500 + 500 + 200 + 200 + 300 = 1,700
    assert totals["S02"] == (5, Decimal(1700), Decimal(0), Decimal(1700))



def test_the_incentives_screen_of_last_month_shows_s02_s_documents_linked_to_their_sales(app, engine):
    from conftest import csrf_from, login

    from seed.demo import seed_demo

    with engine.begin() as conn, app.app_context():
        seed_demo(conn, lambda: "2580")
        # as if accounts and the manager had chosen their own PINs at their first sign-in
        conn.execute(sa.text("UPDATE master.staff SET must_change_pin = false WHERE staff_code IN ('AC01', 'MGR1')"))
    last_month = today_ist().replace(day=1) - timedelta(days=1)
    month = f"{last_month:%Y-%m}"
    with engine.connect() as conn:
        s02 = conn.execute(sa.text("SELECT staff_id FROM master.staff WHERE staff_code = 'S02'")).scalar_one()
        deliveries = conn.execute(sa.text("""
            SELECT d.delivery_no, d.booking_id FROM sales.delivery d JOIN sales.booking b USING (booking_id)
             WHERE b.salesperson_id = :s AND to_char(d.delivered_on, 'YYYY-MM') = :m"""), {"s": s02, "m": month}).all()
    assert len(deliveries) == 2

    accounts = app.test_client()
    assert login(accounts, "AC01", "2580").status_code == 303
    page = accounts.get(f"/payroll/incentives?month={month}").get_data(as_text=True)
    assert accounts.post(f"/payroll/incentives/compute?month={month}",
                         data={"csrf_token": csrf_from(page)}).status_code == 303
    month_page = accounts.get(f"/payroll/incentives?month={month}").get_data(as_text=True)
    assert f"/payroll/incentives/people/{s02}?month={month}" in month_page and "₹1,700.00" in month_page

    manager = app.test_client()
    assert login(manager, "MGR1", "2580").status_code == 303
    person = manager.get(f"/payroll/incentives/people/{s02}?month={month}").get_data(as_text=True)
    for delivery_no, booking in deliveries:   # each delivery note, linked to its sale
        assert f'<a href="/sales/bookings/{booking}">{delivery_no}</a>' in person
    assert "HDFC/TW/DO/441902" in person and "Computed from 5 documents" in person and "₹1,700.00" in person
