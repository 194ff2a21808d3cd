"""The workshop's bill held by PostgreSQL (sql/0025_service_invoice.sql, sql/functions/80_billing.sql),
posted through webapp.billing.api as the job card will post it: its own series per branch and financial
year, permanence, CGST + SGST at the workshop and IGST for work done in another state, GST-inclusive and
exclusive prices, round-off, warranty and free-service lines that charge the customer nothing, the
no-charge job sheet, parts that do not leave stock again, payment and balance, and credit notes.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, row, scalar

from webapp.billing import api, posting
from webapp.documents import Refused

D = date.fromisoformat
M = Decimal
ON = D("2026-06-02")


def key() -> str:
    return str(uuid.uuid4())


def labour(conn, code: str = "PS-GEN", rate: str = "1000.00", sac: str = "998714") -> str:
    conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, sac_code, standard_hours, rate)
                            VALUES (:c, :n, :s, 1.5, :r)"""), {"c": code, "n": f"Labour {code}", "s": sac, "r": M(rate)})
    return code


class Workshop:
    def __init__(self, conn, state: str = "29"):
        self.branch = b.branch(conn, prefix="BLR", state=state)
        self.manager = b.staff(conn, self.branch, "MANAGER")
        b.act_as(conn, self.manager)
        self.customer = b.customer(conn, self.branch, state=state)
        self.labour = labour(conn)
        self.part_id = b.part(conn, part_no="BRK-SHOE-01", purchase_price="100.00")   # MRP ₹200, 8714
        b.receive(conn, self.branch, self.part_id, 10, "100.00")


@pytest.fixture
def shop(conn):
    return Workshop(conn)


def post(conn, shop: Workshop, lines, on: date = ON, **kw) -> int:
    return api.post_service_invoice(conn, branch_id=shop.branch, customer_id=shop.customer, invoice_date=on,
                                    lines=lines, idempotency_key=kw.pop("idempotency_key", key()), **kw)


def service_labour(price="1000.00", coverage="CUSTOMER", **kw) -> dict:
    return {"kind": "LABOUR", "code": "PS-GEN", "qty": "1", "unit_price": price, "price_includes_gst": False,
            "coverage": coverage, **kw}


def brake_part(qty="1", coverage="CUSTOMER", **kw) -> dict:
    return {"kind": "PART", "code": "BRK-SHOE-01", "qty": qty, "coverage": coverage, **kw}


def invoice(conn, invoice_id: int):
    return row(conn, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)


def lines_of(conn, invoice_id: int):
    return conn.execute(sa.text("SELECT * FROM billing.invoice_line WHERE invoice_id = :i ORDER BY line_no"),
                        {"i": invoice_id}).mappings().all()


def lines_checked_now(conn) -> None:
    """Run the deferred checks now (a rolled-back test never reaches COMMIT)."""
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))


# ----------------------------------------------------------------------------- numbers


def test_service_invoices_have_their_own_series_per_branch_and_restart_on_1_april(conn, shop):
    first = post(conn, shop, [service_labour()], on=D("2026-03-30"))
    second = post(conn, shop, [service_labour()], on=D("2026-04-01"))
    third = post(conn, shop, [service_labour()], on=D("2026-04-02"))
    counter = posting.post_counter_invoice(conn, shop.branch, [posting.CounterLine(shop.part_id, M(1))],
                                           on=D("2026-04-02"), key=key())
    sheet = post(conn, shop, [service_labour(coverage="WARRANTY")], on=D("2026-04-02"))
    numbers = [invoice(conn, i)["invoice_no"] for i in (first, second, third, counter, sheet)]
    assert numbers == ["BLRSI/25/1", "BLRSI/26/1", "BLRSI/26/2", "BLRINV/26/1", "BLRJS/26/1"]
    assert all(len(n) <= 16 for n in numbers)
    lines_checked_now(conn)


def test_a_service_invoice_is_dated_in_order_within_its_series_only(conn, shop):
    posting.post_counter_invoice(conn, shop.branch, [posting.CounterLine(shop.part_id, M(1))], on=D("2026-06-05"),
                                 key=key())
    earlier = post(conn, shop, [service_labour()], on=D("2026-06-03"))   # the INV series is another series
    assert invoice(conn, earlier)["invoice_no"] == "BLRSI/26/1"
    with refused(conn, "invoice_date_in_order"):
        post(conn, shop, [service_labour()], on=D("2026-06-02"))
    assert invoice(conn, post(conn, shop, [service_labour()], on=D("2026-06-03")))["invoice_no"] == "BLRSI/26/2"


def test_the_same_bill_posted_twice_is_one_invoice(conn, shop):
    once = key()
    first = post(conn, shop, [service_labour()], idempotency_key=once)
    assert post(conn, shop, [service_labour()], idempotency_key=once) == first
    assert scalar(conn, "SELECT count(*) FROM billing.invoice") == 1


# ----------------------------------------------------------------------------- permanence


def test_a_posted_service_invoice_and_its_lines_never_change(conn, shop):
    inv = post(conn, shop, [service_labour(), brake_part(coverage="WARRANTY")])
    for sql in ("UPDATE billing.invoice SET buyer_name = 'Someone else' WHERE invoice_id = :i",
                "DELETE FROM billing.invoice WHERE invoice_id = :i"):
        with refused(conn, "invoice_is_permanent"):
            conn.execute(sa.text(sql), {"i": inv})
    for sql in ("UPDATE billing.invoice_line SET coverage = 'CUSTOMER' WHERE invoice_id = :i",
                "DELETE FROM billing.invoice_line WHERE invoice_id = :i"):
        with refused(conn, sqlstate="23001"):   # audit.refuse_change
            conn.execute(sa.text(sql), {"i": inv})


# ----------------------------------------------------------------------------- GST


def test_labour_at_the_workshop_is_cgst_and_sgst_under_sac_998714(conn, shop):
    inv = invoice(conn, post(conn, shop, [service_labour("1000.00")]))
    assert (inv["kind"], inv["place_of_supply"], inv["taxable_value"], inv["cgst"], inv["sgst"], inv["igst"]) == (
        "SERVICE", "29", M("1000.00"), M("90.00"), M("90.00"), M("0.00"))
    [line] = lines_of(conn, inv["invoice_id"])
    assert (line["hsn_code"], line["gst_rate"], line["operation_code"], line["total"]) == (
        "998714", M("18.00"), "PS-GEN", M("1180.00"))
    assert inv["grand_total"] == M("1180.00") and inv["tcs_amount"] == 0
    lines_checked_now(conn)


def test_work_done_at_an_address_in_another_state_is_igst_and_another_place_needs_a_reason(conn, shop):
    inv = invoice(conn, post(conn, shop, [service_labour("1000.00"), brake_part()],
                             delivery_address="Highway 48, km 12, Kolhapur", delivery_state="27"))
    assert (inv["place_of_supply"], inv["cgst"], inv["sgst"], inv["igst"]) == ("27", 0, 0, M("180.00") + M("30.51"))
    assert inv["delivery_state_code"] == "27"
    with pytest.raises(Refused, match="reason"):
        post(conn, shop, [service_labour()], place_of_supply="27")
    lines_checked_now(conn)


def test_each_line_is_priced_gst_inclusive_or_exclusive_as_entered(conn, shop):
    inv = post(conn, shop, [brake_part(),                                               # MRP ₹200 incl. 18%
                            brake_part(unit_price="200.00", price_includes_gst=False),  # ₹200 + 18%
                            service_labour("500.00", price_includes_gst=True)])         # ₹500 incl. 18%
    lines = lines_of(conn, inv)
    assert [(x["price_includes_gst"], x["taxable_value"], x["cgst"] + x["sgst"], x["total"]) for x in lines] == [
        (True, M("169.49"), M("30.51"), M("200.00")),
        (False, M("200.00"), M("36.00"), M("236.00")),
        (True, M("423.73"), M("76.27"), M("500.00"))]
    assert [x["hsn_code"] for x in lines] == ["8714", "8714", "998714"]
    head = invoice(conn, inv)
    assert head["taxable_value"] == M("793.22") and head["grand_total"] == M("936.00")
    lines_checked_now(conn)


def test_the_total_is_rounded_to_the_rupee_with_a_visible_round_off(conn, shop):
    inv = invoice(conn, post(conn, shop, [service_labour("333.33")]))   # 333.33 + 60.00 = 393.33
    assert (inv["taxable_value"], inv["cgst"] + inv["sgst"], inv["round_off"], inv["grand_total"]) == (
        M("333.33"), M("60.00"), M("-0.33"), M("393.00"))
    inv = invoice(conn, post(conn, shop, [service_labour("333.90")]))   # 333.90 + 60.10 = 394.00
    assert (inv["round_off"], inv["grand_total"]) == (M("0.00"), M("394.00"))
    inv = invoice(conn, post(conn, shop, [service_labour("334.32")]))   # 334.32 + 60.18 = 394.50
    assert (inv["round_off"], inv["grand_total"]) == (M("0.50"), M("395.00"))
    lines_checked_now(conn)


# ----------------------------------------------------------------------------- coverage


def test_warranty_and_free_service_lines_show_their_value_and_charge_the_customer_nothing(conn, shop):
    inv = post(conn, shop, [service_labour("1000.00"),                                  # the customer pays
                            brake_part("2", coverage="WARRANTY"),                         # 2 x MRP ₹200 incl.
                            service_labour("450.00", coverage="FREE_SERVICE")])
    lines = lines_of(conn, inv)
    assert [(x["coverage"], x["claimable_value"], x["taxable_value"], x["total"], x["gst_rate"]) for x in lines] == [
        ("CUSTOMER", M("0.00"), M("1000.00"), M("1180.00"), M("18.00")),
        ("WARRANTY", M("338.98"), M("0.00"), M("0.00"), M("18.00")),
        ("FREE_SERVICE", M("450.00"), M("0.00"), M("0.00"), M("18.00"))]
    head = invoice(conn, inv)
    assert (head["kind"], head["taxable_value"], head["cgst"], head["sgst"], head["grand_total"]) == (
        "SERVICE", M("1000.00"), M("90.00"), M("90.00"), M("1180.00"))
    lines_checked_now(conn)


def test_a_job_card_all_under_warranty_gets_a_numbered_zero_value_job_sheet(conn, shop):
    sheet = post(conn, shop, [brake_part(coverage="WARRANTY"), service_labour("450.00", coverage="FREE_SERVICE")],
                 vehicle="KA01AB1234 · VIN MD2A00000000000001 · 1,020 km", reference="BLRJC/26/7")
    head = invoice(conn, sheet)
    assert (head["kind"], head["invoice_no"], head["grand_total"], head["taxable_value"], head["round_off"]) == (
        "JOB_SHEET", "BLRJS/26/1", 0, 0, 0)
    assert (head["service_vehicle"], head["service_reference"]) == (
        "KA01AB1234 · VIN MD2A00000000000001 · 1,020 km", "BLRJC/26/7")
    assert [x["claimable_value"] for x in lines_of(conn, sheet)] == [M("169.49"), M("450.00")]
    lines_checked_now(conn)
    summary = api.service_invoice_balance(conn, sheet)
    assert (summary["due"], summary["balance"], summary["paid_in_full"]) == (0, 0, True)
    with refused(conn, "receipt_sale_open"):
        posting.post_receipt(conn, on=ON, mode="CASH", amount=M(1), key=key(), received_from="x", invoice_id=sheet)
    with refused(conn, "credit_note_not_for_job_sheet"):
        posting.post_credit_note(conn, sheet, on=ON, reason="nothing to credit", key=key())


def test_the_database_keeps_coverage_to_the_workshop_and_a_covered_line_free_of_charge(conn, shop):
    counter = posting.post_counter_invoice(conn, shop.branch, [posting.CounterLine(shop.part_id, M(1))], on=ON,
                                           key=key())
    inv = post(conn, shop, [service_labour("1000.00")])
    insert = """INSERT INTO billing.invoice_line (invoice_id, line_no, description, hsn_code, qty, unit_price,
                    price_includes_gst, taxable_value, gst_rate, cgst, sgst, igst, total, operation_code, coverage,
                    claimable_value)
                VALUES (:i, 9, 'Free labour', '998714', 1, 100, false, :t, 18, :h, :h, 0, :total, 'PS-GEN', :c, :v)"""
    with refused(conn, "invoice_line_coverage_on_service"):
        conn.execute(sa.text(insert), {"i": counter, "t": 0, "h": 0, "total": 0, "c": "WARRANTY", "v": 100})
    with refused(conn, "invoice_line_covered_no_charge"):     # a covered line that still charges the customer
        conn.execute(sa.text(insert), {"i": inv, "t": 100, "h": 9, "total": 118, "c": "WARRANTY", "v": 100})
    with refused(conn, "invoice_line_hsn_of_item"):           # labour under the parts' HSN
        conn.execute(sa.text(insert.replace("'998714'", "'8714'")),
                     {"i": inv, "t": 100, "h": 9, "total": 118, "c": "CUSTOMER", "v": 0})
    with refused(conn, "invoice_service_line_item"):          # neither a part nor a labour operation
        conn.execute(sa.text(insert.replace("'PS-GEN'", "NULL")),
                     {"i": inv, "t": 100, "h": 9, "total": 118, "c": "CUSTOMER", "v": 0})


def test_a_service_invoice_with_nothing_for_the_customer_is_refused_at_commit(conn, shop):
    """Written by hand as a SERVICE invoice, an all-warranty bill is refused: it is a job sheet."""
    draft = api.draft_service_invoice(conn, branch_id=shop.branch, invoice_date=ON,
                                      lines=[service_labour(coverage="WARRANTY")])
    assert api.is_job_sheet(draft)
    posting._insert_invoice(conn, {
        "branch_id": shop.branch, "invoice_date": ON, "kind": "SERVICE", "booking_id": None, "unit_id": None,
        "customer_id": shop.customer, "buyer_name": "Customer", "buyer_address": None, "buyer_state_code": None,
        "buyer_gstin": None, "buyer_mobile": None, "delivery_address": None, "pos_overridden": False,
        "pos_override_reason": None, "key": key()}, draft)
    with refused(conn, "invoice_service_charges_customer"):
        lines_checked_now(conn)


def test_bad_lines_are_refused_with_a_message_naming_the_line(conn, shop):
    cases = [
        ([service_labour(), brake_part(code="NO-SUCH")], "Line 2: no part NO-SUCH"),
        ([{"kind": "LABOUR", "code": "NOPE"}], "Line 1: no labour operation NOPE"),
        ([{"kind": "PAINT", "code": "X"}], "Line 1: a line is labour"),
        ([brake_part(qty=1.5)], "Line 1: the quantity must be a number"),
        ([brake_part(qty="1.5")], "whole units"),
        ([brake_part(qty="0")], "above zero"),
        ([brake_part(coverage="GOODWILL")], "coverage is CUSTOMER, WARRANTY or FREE_SERVICE"),
        ([brake_part(hsn_sac="8708")], "Line 1: BRK-SHOE-01 is under HSN/SAC 8714 in the master, not 8708"),
        ([service_labour("12.345")], "more than 2 decimals"),
        ([service_labour("NaN")], "a number in figures"),
        ([service_labour(coverage="WARRANTY", discount="10")], "takes no discount"),
        ([], "at least one line"),
    ]
    for lines, message in cases:
        with pytest.raises(Refused, match=message):
            post(conn, shop, lines)
    with pytest.raises(Refused, match="No such customer"):
        api.post_service_invoice(conn, branch_id=shop.branch, customer_id=-1, invoice_date=ON,
                                 lines=[service_labour()], idempotency_key=key())
    assert scalar(conn, "SELECT count(*) FROM billing.invoice") == 0


# ----------------------------------------------------------------------------- stock


def test_parts_issued_to_the_job_card_do_not_leave_stock_again_on_its_invoice_or_come_back_on_its_credit_note(
        conn, shop):
    b.issue(conn, shop.branch, shop.part_id, 3)                      # issued to the job card
    assert b.balance(conn, shop.branch, shop.part_id)["qty"] == M(7)
    inv = post(conn, shop, [brake_part("2"), brake_part("1", coverage="WARRANTY"), service_labour()])
    assert b.balance(conn, shop.branch, shop.part_id)["qty"] == M(7)
    posting.post_credit_note(conn, inv, on=ON, reason="Billed to the wrong customer", key=key())
    assert b.balance(conn, shop.branch, shop.part_id)["qty"] == M(7)
    kinds = conn.execute(sa.text("SELECT kind FROM inventory.stock_move WHERE part_id = :p ORDER BY move_id"),
                         {"p": shop.part_id}).scalars().all()
    assert kinds == ["RECEIPT", "ISSUE_JOB"]
    lines_checked_now(conn)


# ----------------------------------------------------------------------------- money


def test_a_service_invoice_is_paid_by_upi_and_card_and_then_is_paid_in_full(conn, shop):
    inv = post(conn, shop, [service_labour("1000.00"), brake_part()])          # 1,180 + 200 = 1,380
    owed = api.service_invoice_balance(conn, inv)
    assert (owed["kind"], owed["due"], owed["received"], owed["balance"], owed["paid_in_full"]) == (
        "SERVICE", M("1380.00"), 0, M("1380.00"), False)
    assert row(conn, "SELECT due, received FROM billing.invoice_balance WHERE invoice_id = :i", i=inv) == {
        "due": M("1380.00"), "received": M("0.00")}
    assert scalar(conn, "SELECT balance FROM billing.receivable WHERE invoice_id = :i", i=inv) == M("1380.00")
    posting.post_receipt(conn, on=ON, mode="UPI", amount=M("1000.00"), key=key(), received_from="Owner",
                         invoice_id=inv, reference="UTR12345678")
    assert api.invoice_paid_in_full(conn, inv) is False
    with refused(conn, "receipt_not_over_due"):
        posting.post_receipt(conn, on=ON, mode="CARD", amount=M("380.01"), key=key(), received_from="Owner",
                             invoice_id=inv, reference="CARD-4411")
    posting.post_receipt(conn, on=ON, mode="CARD", amount=M("380.00"), key=key(), received_from="Owner",
                         invoice_id=inv, reference="CARD-4411")
    paid = api.service_invoice_balance(conn, inv)
    assert (paid["received"], paid["balance"], paid["paid_in_full"]) == (M("1380.00"), 0, True)
    assert scalar(conn, "SELECT count(*) FROM billing.receivable WHERE invoice_id = :i", i=inv) == 0
    assert scalar(conn, "SELECT balance FROM billing.invoice_balance WHERE invoice_id = :i", i=inv) == 0
    lines_checked_now(conn)


def test_a_credit_note_corrects_a_service_invoice_which_then_releases_no_vehicle(conn, shop):
    inv = post(conn, shop, [service_labour("1000.00")])
    credit = posting.post_credit_note(conn, inv, on=ON, reason="Labour billed twice", key=key())
    cn = row(conn, "SELECT * FROM billing.credit_note WHERE credit_note_id = :c", c=credit)
    assert (cn["credit_note_no"], cn["grand_total"], cn["cgst"], cn["sgst"]) == (
        "BLRCRN/26/1", M("1180.00"), M("90.00"), M("90.00"))
    after = api.service_invoice_balance(conn, inv)
    assert (after["due"], after["reversed"], after["paid_in_full"]) == (0, True, False)
    assert scalar(conn, "SELECT count(*) FROM billing.receivable WHERE invoice_id = :i", i=inv) == 0
    lines_checked_now(conn)


def test_paid_in_full_says_nothing_of_other_kinds_of_invoice(conn, shop):
    counter = posting.post_counter_invoice(conn, shop.branch, [posting.CounterLine(shop.part_id, M(1))], on=ON,
                                           key=key())
    assert scalar(conn, "SELECT billing.invoice_paid_in_full(:i)", i=counter) is None
    assert api.service_invoice_balance(conn, counter) is None
