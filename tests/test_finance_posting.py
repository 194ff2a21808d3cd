"""Every posted document posts its voucher in its own transaction (sql/0046_finance_posting.sql,
sql/functions/96_finance_posting.sql): one balanced voucher per document with the document's number,
date and branch, its ledgers and amounts checked by hand; a rolled-back document leaves none; a
document dated in a closed month is refused (in the database and through a posting form); and the
backfill posts each missing voucher once."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import claim_ids as cb
import pytest
import sqlalchemy as sa
from builders import refused, row, scalar
from conftest import login
from test_cli import _migrated_template, run, showroom_db  # noqa: F401 (fixtures)

from webapp.billing import api as billing_api
from webapp.billing import posting
from webapp.formatting import today_ist
from webapp.sales import services

D = date.fromisoformat
M = Decimal


def key() -> str:
    return str(uuid.uuid4())


def checked(conn) -> None:
    """Run the deferred checks and postings now, as a commit would."""
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    conn.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))


def voucher(conn, table: str, source_id: int) -> dict | None:
    """The document's voucher: its header and {ledger: debit - credit}, a ledger named by its system
    key or, for a party, by kind and id (CUSTOMER:12, OEM:3)."""
    head = conn.execute(sa.text("SELECT * FROM finance.voucher WHERE source_table = :t AND source_id = :i"),
                        {"t": table, "i": source_id}).mappings().first()
    if head is None:
        return None
    lines = conn.execute(sa.text("""
        SELECT coalesce(g.system_key, CASE WHEN g.customer_id IS NOT NULL THEN 'CUSTOMER:' || g.customer_id
                                           WHEN g.oem_id IS NOT NULL THEN 'OEM:' || g.oem_id END, g.name) AS ledger,
               l.debit, l.credit
          FROM finance.voucher_line l JOIN finance.ledger g USING (ledger_id)
         WHERE l.voucher_id = :v ORDER BY l.line_no"""), {"v": head["voucher_id"]}).mappings().all()
    amounts: dict[str, Decimal] = {}
    for ln in lines:
        amounts[ln["ledger"]] = amounts.get(ln["ledger"], M(0)) + ln["debit"] - ln["credit"]
    assert sum(ln["debit"] for ln in lines) == sum(ln["credit"] for ln in lines)
    return {**head, "lines": amounts}


def count_vouchers(conn, table: str, source_id: int) -> int:
    return scalar(conn, "SELECT count(*) FROM finance.voucher WHERE source_table = :t AND source_id = :i",
                  t=table, i=source_id)


def last_month() -> date:
    return (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)


# ----------------------------------------------------------------------------- sales


def test_a_vehicle_invoice_within_the_state_posts_the_customer_sales_cgst_and_sgst(conn):
    s = b.sale_setup(conn)                       # 1,57,000 with 5% GST included
    _, inv = b.invoiced_booking(conn, s)
    checked(conn)
    v = voucher(conn, "billing.invoice", inv)
    no = scalar(conn, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=inv)
    assert (v["voucher_type"], v["voucher_no"], v["voucher_date"], v["branch_id"]) == ("SALES", no, D("2026-06-02"),
                                                                                      s.branch_id)
    # 1,57,000 / 1.05 = 1,49,523.81 taxable; 5% of it 7,476.19, halved 3,738.10 + 3,738.09 (the kernel's halves)
    assert v["lines"] == {f"CUSTOMER:{s.customer_id}": M("157000.00"), "SALES_VEHICLE": M("-149523.81"),
                          "OUTPUT_CGST": M("-3738.10"), "OUTPUT_SGST": M("-3738.09")}
    assert count_vouchers(conn, "billing.invoice", inv) == 1


def test_a_vehicle_delivered_to_another_state_posts_igst(conn):
    s = b.sale_setup(conn)
    _, inv = b.invoiced_booking(conn, s, delivery_state="27")
    checked(conn)
    assert voucher(conn, "billing.invoice", inv)["lines"] == {
        f"CUSTOMER:{s.customer_id}": M("157000.00"), "SALES_VEHICLE": M("-149523.81"), "OUTPUT_IGST": M("-7476.19")}


def test_tcs_on_a_dear_vehicle_goes_to_tcs_payable_and_the_customer_owes_it(conn):
    s = b.sale_setup(conn, ex_showroom="1200000.00")
    _, inv = b.invoiced_booking(conn, s)
    checked(conn)
    # 12,00,000 / 1.05 = 11,42,857.14; GST 57,142.86 = 28,571.43 + 28,571.43; TCS 1% of 12,00,000
    assert voucher(conn, "billing.invoice", inv)["lines"] == {
        f"CUSTOMER:{s.customer_id}": M("1212000.00"), "SALES_VEHICLE": M("-1142857.14"),
        "OUTPUT_CGST": M("-28571.43"), "OUTPUT_SGST": M("-28571.43"), "TCS_PAYABLE": M("-12000.00")}


def counter_shop(conn):
    branch = b.branch(conn, prefix="BLR")
    b.act_as(conn, b.staff(conn, branch, "ACCOUNTS"))
    brake = b.part(conn, purchase_price="100.00")                                  # MRP 200 with 18% (8714)
    charger = b.part(conn, hsn_code="8504", purchase_price="2999.50")              # MRP 5,999 with 5% (8504)
    b.receive(conn, branch, brake, 10, "100.00")
    b.receive(conn, branch, charger, 2, "2999.50")
    return branch, brake, charger


def test_a_counter_invoice_of_two_rates_posts_spares_its_tax_and_the_round_off(conn):
    branch, brake, charger = counter_shop(conn)
    customer = b.customer(conn, branch)
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(brake, M(3)), posting.CounterLine(charger, M(1))],
                                       on=D("2026-06-02"), key=key(), customer_id=customer)
    checked(conn)
    head = row(conn, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=inv)
    # 3 x 200 incl. 18% = 508.47 + 91.53 (45.77 + 45.76); 5,999 incl. 5% = 5,713.33 + 285.67 (142.84 + 142.83)
    assert (head["taxable_value"], head["cgst"], head["sgst"], head["round_off"], head["grand_total"]) == (
        M("6221.80"), M("188.61"), M("188.59"), M("0.00"), M("6599.00"))
    assert voucher(conn, "billing.invoice", inv)["lines"] == {
        f"CUSTOMER:{customer}": M("6599.00"), "SALES_PARTS": M("-6221.80"),
        "OUTPUT_CGST": M("-188.61"), "OUTPUT_SGST": M("-188.59")}


def test_a_walk_in_counter_sale_is_owed_by_the_walk_in_customers_ledger_and_its_round_off_posts(conn):
    branch, brake, _ = counter_shop(conn)
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(brake, M(1), unit_price=M("199.30"))],
                                       on=D("2026-06-02"), key=key())
    checked(conn)
    head = row(conn, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=inv)
    assert head["round_off"] != 0
    lines = voucher(conn, "billing.invoice", inv)["lines"]
    assert lines["COUNTER_CUSTOMERS"] == head["grand_total"]
    assert lines["ROUND_OFF"] == -head["round_off"]
    assert lines["SALES_PARTS"] == -head["taxable_value"]


def test_a_credit_note_reverses_the_invoice_s_voucher(conn):
    s = b.sale_setup(conn)
    _, inv = b.invoiced_booking(conn, s)
    cn = posting.post_credit_note(conn, inv, on=D("2026-06-04"), reason="wrong colour", key=key())
    checked(conn)
    v = voucher(conn, "billing.credit_note", cn)
    assert (v["voucher_type"], v["voucher_date"]) == ("CREDIT_NOTE", D("2026-06-04"))
    assert v["voucher_no"] == scalar(conn, "SELECT credit_note_no FROM billing.credit_note WHERE credit_note_id = :c", c=cn)
    assert v["lines"] == {f"CUSTOMER:{s.customer_id}": M("-157000.00"), "SALES_VEHICLE": M("149523.81"),
                          "OUTPUT_CGST": M("3738.10"), "OUTPUT_SGST": M("3738.09")}


def test_a_service_invoice_posts_labour_and_parts_and_a_job_sheet_posts_nothing(conn):
    branch = b.branch(conn, prefix="BLR")
    b.act_as(conn, b.staff(conn, branch, "MANAGER"))
    customer = b.customer(conn, branch)
    conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, sac_code, standard_hours, rate)
                            VALUES ('PS-GEN', 'General service', '998714', 1.5, 1000)"""))
    part = b.part(conn, part_no="BRK-SHOE-01", purchase_price="100.00")
    b.receive(conn, branch, part, 10, "100.00")

    def post(lines):
        return billing_api.post_service_invoice(conn, branch_id=branch, customer_id=customer, invoice_date=D("2026-06-02"),
                                                lines=lines, idempotency_key=key(), vehicle="KA01AB1234",
                                                reference="BLRJC/26/7")
    labour = {"kind": "LABOUR", "code": "PS-GEN", "qty": "1", "unit_price": "1000.00", "price_includes_gst": False}
    inv = post([{**labour, "coverage": "CUSTOMER"}, {"kind": "PART", "code": "BRK-SHOE-01", "qty": "1", "coverage": "CUSTOMER"},
                {"kind": "PART", "code": "BRK-SHOE-01", "qty": "1", "coverage": "WARRANTY"}])
    sheet = post([{**labour, "coverage": "FREE_SERVICE"}])
    checked(conn)
    # labour 1,000 + 18%; the part at MRP 200 with 18% included = 169.49 + 30.51; the warranty part charges nothing
    assert voucher(conn, "billing.invoice", inv)["lines"] == {
        f"CUSTOMER:{customer}": M("1380.00"), "SALES_LABOUR": M("-1000.00"), "SALES_PARTS": M("-169.49"),
        "OUTPUT_CGST": M("-105.26"), "OUTPUT_SGST": M("-105.25")}
    assert voucher(conn, "billing.invoice", sheet) is None


def test_a_transfer_invoice_posts_the_sender_s_outward_supply_and_the_receipt_the_receiver_s_input_credit(conn):
    from webapp.inventory import services as inventory
    sender = b.branch(conn, prefix="BLR")
    receiver = b.branch(conn, state="27", prefix="PUN")          # another state: another GSTIN, IGST
    b.act_as(conn, b.staff(conn, sender, "MANAGER"))
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, sender, part, 10, "100.00")
    transfer, _ = inventory.dispatch_transfer(conn, from_branch=sender, to_branch=receiver, parts=[(part, M(4))],
                                              unit_ids=[], notes=None, on=D("2026-06-02"))
    checked(conn)
    inv = scalar(conn, "SELECT invoice_id FROM billing.invoice WHERE transfer_id = :t", t=transfer)
    v = voucher(conn, "billing.invoice", inv)
    # 4 at the cost they left at (100) = 400, IGST 18% = 72: what the receiving branch owes the sending one
    assert (v["voucher_type"], v["branch_id"], v["lines"]) == (
        "SALES", sender, {"INTER_BRANCH": M("472.00"), "TRANSFER_OUT": M("-400.00"), "OUTPUT_IGST": M("-72.00")})
    assert voucher(conn, "inventory.stock_transfer", transfer) is None          # on the road
    b.act_as(conn, b.staff(conn, receiver, "MANAGER"))
    inventory.receive_transfer(conn, transfer)
    checked(conn)
    received = voucher(conn, "inventory.stock_transfer", transfer)
    # the receiving GSTIN's input credit; the inter-branch account nets to nothing across the two branches
    assert (received["voucher_type"], received["branch_id"], received["voucher_date"], received["lines"]) == (
        "PURCHASE", receiver, today_ist(),
        {"TRANSFER_IN": M("400.00"), "INPUT_IGST": M("72.00"), "INTER_BRANCH": M("-472.00")})


def test_the_backfill_posts_a_transfer_received_as_its_trigger_would(conn):
    from webapp.inventory import services as inventory
    sender, receiver = b.branch(conn, prefix="BLR"), b.branch(conn, state="27", prefix="PUN")
    b.act_as(conn, b.staff(conn, sender, "MANAGER"))
    part = b.part(conn, purchase_price="100.00")
    b.receive(conn, sender, part, 10, "100.00")
    transfer, _ = inventory.dispatch_transfer(conn, from_branch=sender, to_branch=receiver, parts=[(part, M(4))],
                                              unit_ids=[], notes=None, on=D("2026-06-02"))
    checked(conn)                       # the transfer's own deferred checks, before its table is altered
    conn.execute(sa.text("ALTER TABLE inventory.stock_transfer DISABLE TRIGGER stock_transfer_voucher"))
    inventory.receive_transfer(conn, transfer)
    conn.execute(sa.text("ALTER TABLE inventory.stock_transfer ENABLE TRIGGER stock_transfer_voucher"))
    assert voucher(conn, "inventory.stock_transfer", transfer) is None
    posted = {r.document: r.posted for r in conn.execute(sa.text("SELECT * FROM finance.backfill_vouchers()"))}
    assert posted["inventory.stock_transfer"] == 1
    checked(conn)
    v = voucher(conn, "inventory.stock_transfer", transfer)
    assert (v["voucher_type"], v["branch_id"], v["lines"]) == (
        "PURCHASE", receiver, {"TRANSFER_IN": M("400.00"), "INPUT_IGST": M("72.00"), "INTER_BRANCH": M("-472.00")})
    assert v["narration"].startswith("Transfer ") and " received on invoice " in v["narration"]


# ----------------------------------------------------------------------------- money in and out


def test_a_receipt_in_cash_debits_cash_and_by_upi_the_branch_s_bank_account(conn):
    s = b.sale_setup(conn)
    bk = b.booking(conn, s)
    b.act_as(conn, s.manager_id)
    cash = posting.post_receipt(conn, on=D("2026-06-01"), mode="CASH", amount=M("5000"), key=key(),
                                received_from="Customer", booking_id=bk)
    upi = posting.post_receipt(conn, on=D("2026-06-02"), mode="UPI", amount=M("20000"), key=key(),
                               received_from="Customer", booking_id=bk, reference="UPI123456")
    hdfc = scalar(conn, """INSERT INTO finance.ledger (name, group_id)
                           SELECT 'HDFC Current ' || :b, group_id FROM finance.account_group WHERE name = 'Bank Accounts'
                           RETURNING ledger_id""", b=s.branch_id)
    conn.execute(sa.text("""INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, takes_receipts)
                            VALUES (:l, :b, 'HDFC Bank', '50200012345678', 'HDFC0001234', true)"""),
                 {"l": hdfc, "b": s.branch_id})
    card = posting.post_receipt(conn, on=D("2026-06-02"), mode="CARD", amount=M("1000"), key=key(),
                                received_from="Customer", booking_id=bk, reference="CARD0001")
    checked(conn)
    party = f"CUSTOMER:{s.customer_id}"
    v = voucher(conn, "billing.receipt", cash)
    assert (v["voucher_type"], v["voucher_date"], v["lines"]) == ("RECEIPT", D("2026-06-01"),
                                                                   {"CASH": M("5000.00"), party: M("-5000.00")})
    assert voucher(conn, "billing.receipt", upi)["lines"] == {"BANK": M("20000.00"), party: M("-20000.00")}
    assert voucher(conn, "billing.receipt", card)["lines"] == {f"HDFC Current {s.branch_id}": M("1000.00"),
                                                                party: M("-1000.00")}


def test_a_refund_with_a_cancellation_charge_pays_back_the_rest_and_keeps_the_charge_as_income(conn):
    s = b.sale_setup(conn)
    bk = b.booking(conn, s)
    b.act_as(conn, s.manager_id)
    posting.post_receipt(conn, on=D("2026-06-01"), mode="UPI", amount=M("10000"), key=key(),
                         received_from="Customer", booking_id=bk, reference="UPI123456")
    refund = posting.cancel_booking(conn, bk, on=D("2026-06-05"), reason="customer moved city", key=key(),
                                    cancellation_charge=M("1000"), refund_mode="UPI", reference="UPI654321")
    checked(conn)
    v = voucher(conn, "billing.refund", refund)
    assert (v["voucher_type"], v["lines"]) == ("PAYMENT", {f"CUSTOMER:{s.customer_id}": M("10000.00"),
                                                          "BANK": M("-9000.00"), "CANCELLATION_INCOME": M("-1000.00")})


def test_a_subsidy_receipt_moves_the_subsidy_to_the_receivable_and_the_oem_s_credit_clears_it(conn):
    s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="10000.00")
    bk, inv = b.invoiced_booking(conn, s)
    subsidy = posting.post_receipt(conn, on=D("2026-06-02"), mode="SUBSIDY", amount=M("10000"), key=key(),
                                   received_from="PM E-DRIVE", booking_id=bk, reference="EDRV-2026-99")
    conn.execute(sa.text("""UPDATE sales.subsidy_claim SET buyer_signed_on = '2026-06-02', dealer_uploaded_on = '2026-06-03',
                                   claim_no = 'OEM-SUB-77', claim_raised_on = '2026-06-10'
                             WHERE booking_id = :b"""), {"b": bk})
    assert voucher(conn, "sales.subsidy_claim", bk) is None          # claimed, not yet credited
    conn.execute(sa.text("UPDATE sales.subsidy_claim SET credited_amount = 9500, credited_on = '2026-07-15' "
                         "WHERE booking_id = :b"), {"b": bk})
    checked(conn)
    party = f"CUSTOMER:{s.customer_id}"
    # the invoice is at the full price: the customer owes 1,57,000, the subsidy part of it is credited by the receipt
    assert voucher(conn, "billing.invoice", inv)["lines"][party] == M("157000.00")
    v = voucher(conn, "billing.receipt", subsidy)
    assert (v["voucher_type"], v["lines"]) == ("JOURNAL", {"SUBSIDY_RECEIVABLE": M("10000.00"), party: M("-10000.00")})
    credit = voucher(conn, "sales.subsidy_claim", bk)
    oem = f"OEM:{s.catalog.oem_id}"
    assert (credit["voucher_type"], credit["voucher_date"], credit["lines"]) == (
        "JOURNAL", D("2026-07-15"), {oem: M("9500.00"), "SUBSIDY_RECEIVABLE": M("-9500.00")})
    # the 500 the OEM did not credit stays receivable
    assert scalar(conn, """SELECT sum(debit - credit) FROM finance.voucher_line
                            WHERE ledger_id = finance.ledger_key('SUBSIDY_RECEIVABLE') AND branch_id = :b""",
                  b=s.branch_id) == M("500.00")
    with refused(conn, "subsidy_credit_posted"):                    # posted: it changes no more
        conn.execute(sa.text("UPDATE sales.subsidy_claim SET credited_on = '2026-07-16' WHERE booking_id = :b"), {"b": bk})
    assert count_vouchers(conn, "sales.subsidy_claim", bk) == 1


def test_exchange_and_finance_receipts_debit_the_exchange_stock_and_the_bank(conn):
    s = b.sale_setup(conn)
    bk = b.booking(conn, s)
    conn.execute(sa.text("INSERT INTO sales.exchange (booking_id, make_model, valuation, purchased_on) "
                         "VALUES (:b, 'Honda Activa 2016', 20000, '2026-06-01')"), {"b": bk})
    financier = scalar(conn, "INSERT INTO master.financier (name) VALUES ('Shriram Finance') RETURNING financier_id")
    conn.execute(sa.text("INSERT INTO sales.finance (booking_id, financier_id, loan_amount) VALUES (:b, :f, 100000)"),
                 {"b": bk, "f": financier})
    b.act_as(conn, s.manager_id)
    exchange = posting.post_receipt(conn, on=D("2026-06-01"), mode="EXCHANGE", amount=M("20000"), key=key(),
                                    received_from="Customer", booking_id=bk)
    loan = posting.post_receipt(conn, on=D("2026-06-02"), mode="FINANCE", amount=M("100000"), key=key(),
                                received_from="Shriram Finance", booking_id=bk, reference="UTR99887766")
    checked(conn)
    party = f"CUSTOMER:{s.customer_id}"
    assert voucher(conn, "billing.receipt", exchange)["lines"] == {"EXCHANGE_VEHICLE": M("20000.00"), party: M("-20000.00")}
    assert voucher(conn, "billing.receipt", loan)["lines"] == {"BANK": M("100000.00"), party: M("-100000.00")}


# ----------------------------------------------------------------------------- purchases


def test_a_purchase_invoice_splits_vehicles_and_spares_by_its_receipts_and_posts_input_gst(conn):
    branch = b.branch(conn)
    manager = b.staff(conn, branch, "MANAGER")
    b.act_as(conn, manager)
    cat = b.vehicle_catalog(conn)
    part = b.part(conn)
    po = b.purchase_order(conn, branch, cat.oem_id)
    vline = b.po_line(conn, po, 1, "90000.00", variant_id=cat.variant_id, colour=cat.colours[0])
    pline = b.po_line(conn, po, 10, "1000.00", part_id=part)
    b.approve_po(conn, po, manager)
    b.send_po(conn, po)
    grn = b.goods_receipt(conn, po, branch)
    unit = b.unit(conn, cat.variant_id, cat.colours[0], branch)
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 90000 WHERE unit_id = :u"), {"u": unit})
    b.receive_vehicle(conn, grn, vline, unit)
    b.receive_part(conn, grn, pline, 10, "1000.00")
    pinv = b.purchase_invoice(conn, branch, cat.oem_id, taxable="100000.00", cgst="2250.00", sgst="2250.00",
                              round_off="0.40", invoice_no="OEM/778")
    conn.execute(sa.text("INSERT INTO procurement.purchase_invoice_grn (pinv_id, grn_id) VALUES (:p, :g)"),
                 {"p": pinv, "g": grn})
    paid = b.pay(conn, pinv, "50000.00", paid_on="2026-05-05", mode="BANK_TRANSFER")
    checked(conn)
    v = voucher(conn, "procurement.purchase_invoice", pinv)
    oem = f"OEM:{cat.oem_id}"
    assert (v["voucher_type"], v["voucher_date"]) == ("PURCHASE", D("2026-04-22"))
    assert "OEM/778" in v["narration"]
    # 90,000 of vehicles and 10,000 of spares received: the taxable value splits 9:1
    assert v["lines"] == {"PURCHASE_VEHICLE": M("90000.00"), "PURCHASE_PARTS": M("10000.00"),
                          "INPUT_CGST": M("2250.00"), "INPUT_SGST": M("2250.00"), "ROUND_OFF": M("0.40"),
                          oem: M("-104500.40")}
    with refused(conn, "purchase_invoice_posted"):
        conn.execute(sa.text("UPDATE procurement.purchase_invoice SET taxable_value = taxable_value - 1, total = total - 1 "
                             "WHERE pinv_id = :p"), {"p": pinv})
    conn.execute(sa.text("UPDATE procurement.purchase_invoice SET due_date = due_date + 10 WHERE pinv_id = :p"), {"p": pinv})
    p = voucher(conn, "procurement.supplier_payment", paid)
    assert (p["voucher_type"], p["voucher_date"], p["lines"]) == (
        "PAYMENT", D("2026-05-05"), {oem: M("50000.00"), "BANK": M("-50000.00")})


# ----------------------------------------------------------------------------- OEM claims and commission


def test_a_settled_warranty_claim_debits_the_oem_and_credits_warranty_income(conn):
    w = cb.workshop(conn)
    b.act_as(conn, b.staff(conn, w.branch_id, "ACCOUNTS"))
    claim_id = cb.claim(conn, w)
    cb.labour_line(conn, claim_id, w.operation_code)
    cb.submit(conn, claim_id)
    cb.decide(conn, claim_id, "APPROVED")
    assert voucher(conn, "warranty.claim", claim_id) is None           # approved is not yet money
    cb.settle(conn, claim_id, "600.00", on=today_ist())
    checked(conn)
    v = voucher(conn, "warranty.claim", claim_id)
    assert (v["voucher_type"], v["voucher_date"], v["branch_id"]) == ("JOURNAL", today_ist(), w.branch_id)
    assert v["lines"] == {f"OEM:{w.oem_id}": M("600.00"), "WARRANTY_INCOME": M("-600.00")}


def test_an_insurance_commission_received_posts_once(conn):
    s = b.sale_setup(conn)
    bk = b.booking(conn, s)
    services.allot(conn, bk, s.unit_id)
    policy = b.insure(conn, bk)
    assert voucher(conn, "insurance.policy", policy) is None
    conn.execute(sa.text("UPDATE insurance.policy SET commission_amount = 1250, commission_received_on = '2026-07-01' "
                         "WHERE policy_id = :p"), {"p": policy})
    conn.execute(sa.text("UPDATE insurance.policy SET nominee_name = 'Asha Rao', nominee_relation = 'Spouse' "
                         "WHERE policy_id = :p"), {"p": policy})                 # the rest of the policy may change
    with refused(conn, "policy_commission_posted"):
        conn.execute(sa.text("UPDATE insurance.policy SET commission_received_on = '2026-07-02' WHERE policy_id = :p"),
                     {"p": policy})
    checked(conn)
    v = voucher(conn, "insurance.policy", policy)
    assert (v["voucher_type"], v["voucher_date"], v["lines"]) == (
        "RECEIPT", D("2026-07-01"), {"BANK": M("1250.00"), "INSURANCE_COMMISSION": M("-1250.00")})
    assert count_vouchers(conn, "insurance.policy", policy) == 1


# ----------------------------------------------------------------------------- all or nothing, the period lock


def test_a_rolled_back_document_leaves_no_voucher(conn):
    s = b.sale_setup(conn)
    bk = b.booking(conn, s)
    b.act_as(conn, s.manager_id)
    before = scalar(conn, "SELECT count(*) FROM finance.voucher")
    with pytest.raises(sa.exc.IntegrityError):
        with conn.begin_nested():
            posting.post_receipt(conn, on=D("2026-06-01"), mode="CASH", amount=M("5000"), key=key(),
                                 received_from="Customer", booking_id=bk)
            assert scalar(conn, "SELECT count(*) FROM finance.voucher") == before + 1
            posting.post_receipt(conn, on=D("2026-06-01"), mode="CASH", amount=M("500000"), key=key(),
                                 received_from="Customer", booking_id=bk)      # refused: above what is due
    assert scalar(conn, "SELECT count(*) FROM finance.voucher") == before
    # an invoice whose lines do not add up is refused at commit, and its voucher with it
    services.allot(conn, bk, s.unit_id)
    inv = posting.post_vehicle_invoice(conn, bk, on=D("2026-06-02"), key=key())
    conn.execute(sa.text("ALTER TABLE billing.invoice_line DISABLE TRIGGER invoice_line_post"))
    conn.execute(sa.text("""INSERT INTO billing.invoice_line (invoice_id, line_no, description, hsn_code, qty, unit_price,
                                price_includes_gst, taxable_value, gst_rate, cgst, sgst, igst, total)
                            VALUES (:i, 9, 'Extra', '8714', 1, 100, false, 100, 18, 9, 9, 0, 118)"""), {"i": inv})
    conn.execute(sa.text("ALTER TABLE billing.invoice_line ENABLE TRIGGER invoice_line_post"))
    with refused(conn, "invoice_lines_add_up"):
        checked(conn)
    assert scalar(conn, "SELECT count(*) FROM finance.voucher WHERE source_table = 'billing.invoice'") == \
        scalar(conn, "SELECT count(*) FROM finance.voucher WHERE source_table = 'billing.invoice' AND source_id <> :i", i=inv)


def test_a_document_dated_in_a_closed_month_is_refused(conn):
    s = b.sale_setup(conn, price_from=(last_month() - timedelta(days=40)).isoformat())
    bk = b.booking(conn, s, on=(last_month() - timedelta(days=5)).isoformat())
    b.act_as(conn, s.manager_id)
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": s.branch_id, "m": last_month()})
    with refused(conn, "period_closed"):
        posting.post_receipt(conn, on=last_month() + timedelta(days=3), mode="CASH", amount=M("5000"), key=key(),
                             received_from="Customer", booking_id=bk)
    with refused(conn, "period_closed"):
        pinv = b.purchase_invoice(conn, s.branch_id, s.catalog.oem_id, invoice_date=last_month().isoformat())
    posting.post_receipt(conn, on=today_ist(), mode="CASH", amount=M("5000"), key=key(),
                         received_from="Customer", booking_id=bk)              # this month is open
    pinv = b.purchase_invoice(conn, s.branch_id, s.catalog.oem_id, invoice_date=today_ist().isoformat())
    with refused(conn, "period_closed"):
        b.pay(conn, pinv, "100", paid_on=(last_month() + timedelta(days=1)).isoformat())
    checked(conn)


def test_a_payment_dated_in_a_closed_month_comes_back_as_a_form_error(app, engine, make_staff):
    with engine.begin() as conn:
        branch = b.branch(conn)
        oem = b.oem(conn)
        pinv = b.purchase_invoice(conn, branch, oem, invoice_date=(last_month() - timedelta(days=20)).isoformat(),
                                  taxable="1000.00")
        conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": branch, "m": last_month()})
    make_staff("AC71", "ACCOUNTS", "2580", branch_id=branch)
    client = app.test_client()
    assert login(client, "AC71", "2580").status_code == 303
    page = client.get(f"/procurement/invoices/{pinv}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page).group(1)
    response = client.post(f"/procurement/invoices/{pinv}/payments", data={
        "csrf_token": csrf, "paid_on": (last_month() + timedelta(days=2)).strftime("%d-%m-%Y"), "amount": "400",
        "mode": "CASH", "reference": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html
    assert "a month closed in the books" in html
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM procurement.supplier_payment WHERE pinv_id = :p", p=pinv) == 0


# ----------------------------------------------------------------------------- the backfill


def test_the_backfill_posts_each_missing_voucher_once_and_skips_a_closed_month(conn):
    s = b.sale_setup(conn, price_from=(last_month() - timedelta(days=40)).isoformat(), units=2)
    bk = b.booking(conn, s, on=(last_month() - timedelta(days=5)).isoformat())
    b.act_as(conn, s.manager_id)
    for trigger in ("receipt_voucher ON billing.receipt", "invoice_voucher ON billing.invoice"):
        conn.execute(sa.text(f"ALTER TABLE {trigger.split(' ON ')[1]} DISABLE TRIGGER {trigger.split(' ON ')[0]}"))
    old = posting.post_receipt(conn, on=last_month() + timedelta(days=2), mode="CASH", amount=M("5000"), key=key(),
                               received_from="Customer", booking_id=bk)
    services.allot(conn, bk, s.unit_id)
    inv = posting.post_vehicle_invoice(conn, bk, on=today_ist(), key=key())
    recent = posting.post_receipt(conn, on=today_ist(), mode="UPI", amount=M("1000"), key=key(),
                                  received_from="Customer", booking_id=bk, reference="UPI000111")
    checked(conn)             # the invoice's lines checked (its voucher trigger is off: nothing queued for it)
    for trigger in ("receipt_voucher ON billing.receipt", "invoice_voucher ON billing.invoice"):
        conn.execute(sa.text(f"ALTER TABLE {trigger.split(' ON ')[1]} ENABLE TRIGGER {trigger.split(' ON ')[0]}"))
    assert [voucher(conn, t, i) for t, i in (("billing.receipt", old), ("billing.invoice", inv),
                                            ("billing.receipt", recent))] == [None, None, None]
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": s.branch_id, "m": last_month()})

    def backfill():
        return {r.document: (r.posted, r.nothing_to_post, r.skipped_closed_month)
                for r in conn.execute(sa.text("SELECT * FROM finance.backfill_vouchers()"))}
    first = backfill()
    checked(conn)
    assert first["billing.invoice"][0] >= 1 and first["billing.receipt"][0] >= 1
    assert first["billing.receipt"][2] >= 1                                         # the one in the closed month
    assert voucher(conn, "billing.invoice", inv)["lines"][f"CUSTOMER:{s.customer_id}"] == M("157000.00")
    assert voucher(conn, "billing.receipt", recent)["lines"] == {"BANK": M("1000.00"),
                                                                  f"CUSTOMER:{s.customer_id}": M("-1000.00")}
    assert voucher(conn, "billing.receipt", old) is None
    again = backfill()
    assert all(posted == 0 for posted, _, _ in again.values())
    assert again["billing.receipt"][2] == first["billing.receipt"][2]
    conn.execute(sa.text("SELECT finance.reopen_month(:b, :m, 'the receipt of the 3rd was never posted')"),
                 {"b": s.branch_id, "m": last_month()})
    assert backfill()["billing.receipt"][0] >= 1
    checked(conn)
    assert voucher(conn, "billing.receipt", old)["lines"] == {"CASH": M("5000.00"), f"CUSTOMER:{s.customer_id}": M("-5000.00")}
    assert count_vouchers(conn, "billing.receipt", old) == 1


# ----------------------------------------------------------------------------- the command and the demo


def test_the_demo_s_documents_post_their_vouchers_and_books_backfill_then_posts_nothing(showroom_db):
    app, engine = showroom_db
    assert run(app, "seed-demo").exit_code == 0
    with engine.connect() as conn:
        kinds = set(conn.execute(sa.text("SELECT DISTINCT source_table FROM finance.voucher")).scalars())
        missing = conn.execute(sa.text("SELECT count(*) FROM finance.documents_without_voucher()")).scalar()
        unbalanced = conn.execute(sa.text("""SELECT count(*) FROM (SELECT voucher_id FROM finance.voucher_line
                                              GROUP BY voucher_id HAVING sum(debit) <> sum(credit)) x""")).scalar()
    assert {"billing.invoice", "billing.receipt"} <= kinds
    assert (missing, unbalanced) == (0, 0)
    result = run(app, "books", "backfill")
    assert result.exit_code == 0, result.output
    assert "every document has its voucher: nothing to post" in result.output
    # a receipt loaded with its trigger off (as an older showroom's documents are) is posted by the command, once
    with engine.begin() as conn:
        booking = conn.execute(sa.text("""SELECT booking_id FROM billing.booking_balance
                                           WHERE stage NOT IN ('CANCELLED', 'DELIVERED') AND due - received >= 1
                                           ORDER BY booking_id LIMIT 1""")).scalar()
        conn.execute(sa.text("ALTER TABLE billing.receipt DISABLE TRIGGER receipt_voucher"))
        receipt = conn.execute(sa.text("""
            INSERT INTO billing.receipt (receipt_no, branch_id, receipt_date, booking_id, received_from, mode, amount,
                                         idempotency_key)
            VALUES ('', 0, (now() AT TIME ZONE 'Asia/Kolkata')::date, :b, 'Customer', 'CASH', 1, gen_random_uuid())
            RETURNING receipt_id"""), {"b": booking}).scalar()
        conn.execute(sa.text("ALTER TABLE billing.receipt ENABLE TRIGGER receipt_voucher"))
    assert receipt
    posted = run(app, "books", "backfill")
    assert posted.exit_code == 0, posted.output
    assert "receipts: 1 posted" in posted.output and "1 vouchers posted" in posted.output
    assert "nothing to post" in run(app, "books", "backfill").output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM finance.voucher WHERE source_table = 'billing.receipt' "
                                    "AND source_id = :r"), {"r": receipt}).scalar() == 1
