"""Purchasing rules held by PostgreSQL (sql/0004_procurement.sql): who approves a purchase
order and when its lines freeze, what may be received against it, the supplier's invoice and
its GST heads, payments that never exceed the invoice, and what is still owed.
"""
from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, scalar

D = Decimal


class Shop(dict):
    __getattr__ = dict.__getitem__


@pytest.fixture
def shop(conn):
    """A Bengaluru showroom with its manager, a salesman, a Karnataka OEM's scooter and a spare part."""
    branch = b.branch(conn, prefix="BLR")
    cat = b.vehicle_catalog(conn, colours=("Red", "Blue"))
    return Shop(branch=branch, manager=b.staff(conn, branch, "MANAGER"), admin=b.staff(conn, branch, "ADMIN"),
                sales=b.staff(conn, branch, "SALES"), oem=cat.oem_id, variant=cat.variant_id,
                part=b.part(conn, unit="NOS"), coolant=b.part(conn, unit="LTR"))


def draft_po(conn, shop, vehicles=2, parts=10):
    """A draft PO for `vehicles` red scooters and `parts` brake shoes; returns (po_id, vehicle line, part line)."""
    po = b.purchase_order(conn, shop.branch, shop.oem)
    vline = b.po_line(conn, po, vehicles, "95000.00", variant_id=shop.variant, colour="Red") if vehicles else None
    pline = b.po_line(conn, po, parts, "240.00", part_id=shop.part) if parts else None
    return po, vline, pline


def sent_po(conn, shop, **lines):
    po, vline, pline = draft_po(conn, shop, **lines)
    b.approve_po(conn, po, shop.manager)
    b.send_po(conn, po)
    return po, vline, pline


def set_status(conn, po, status):
    conn.execute(sa.text("UPDATE procurement.purchase_order SET status = :s WHERE po_id = :po"), {"s": status, "po": po})


# ----------------------------------------------------------------------------- approval


def test_a_manager_or_an_administrator_approves_a_purchase_order(conn, shop):
    for approver in (shop.manager, shop.admin):
        po, _, _ = draft_po(conn, shop)
        assert b.approve_po(conn, po, approver).startswith("BLRPO/26/")
        assert b.po_status(conn, po) == "APPROVED"


def test_a_salesman_cannot_approve_a_purchase_order(conn, shop):
    po, _, _ = draft_po(conn, shop)
    with refused(conn, "purchase_order_approver"):
        b.approve_po(conn, po, shop.sales)


def test_a_manager_who_has_left_cannot_approve(conn, shop):
    po, _, _ = draft_po(conn, shop)
    gone = b.staff(conn, shop.branch, "MANAGER", active=False)
    with refused(conn, "purchase_order_approver"):
        b.approve_po(conn, po, gone)


def test_an_approval_names_its_approver(conn, shop):
    po, _, _ = draft_po(conn, shop)
    with refused(conn, "purchase_order_approver"):
        conn.execute(sa.text("""UPDATE procurement.purchase_order SET status = 'APPROVED', po_no = 'X1'
                                 WHERE po_id = :po"""), {"po": po})


def test_the_approver_cannot_be_swapped_for_a_salesman_afterwards(conn, shop):
    po, _, _ = draft_po(conn, shop)
    b.approve_po(conn, po, shop.manager)
    with refused(conn, "purchase_order_approver"):
        conn.execute(sa.text("UPDATE procurement.purchase_order SET approved_by = :s WHERE po_id = :po"),
                     {"s": shop.sales, "po": po})


def test_a_purchase_order_without_lines_cannot_be_approved(conn, shop):
    po = b.purchase_order(conn, shop.branch, shop.oem)
    with refused(conn, "purchase_order_has_lines"):
        b.approve_po(conn, po, shop.manager)


def test_a_purchase_order_is_born_a_draft(conn, shop):
    with refused(conn, "purchase_order_status_transition"):
        conn.execute(sa.text("""INSERT INTO procurement.purchase_order (branch_id, oem_id, status, po_no, approved_by)
                                VALUES (:b, :o, 'SENT', 'BLRPO/26/99', :s)"""),
                     {"b": shop.branch, "o": shop.oem, "s": shop.sales})


PO_STATUSES = ["DRAFT", "APPROVED", "SENT", "PART_RECEIVED", "RECEIVED", "CLOSED", "CANCELLED"]
PATH_TO = {
    "DRAFT": [], "APPROVED": ["APPROVED"], "SENT": ["APPROVED", "SENT"],
    "PART_RECEIVED": ["APPROVED", "SENT", "PART_RECEIVED"], "RECEIVED": ["APPROVED", "SENT", "RECEIVED"],
    "CLOSED": ["APPROVED", "SENT", "RECEIVED", "CLOSED"], "CANCELLED": ["CANCELLED"],
}


def test_a_purchase_order_moves_only_along_the_transition_table(conn, shop):
    allowed = set(conn.execute(sa.text("SELECT from_status, to_status FROM procurement.po_status_transition")).all())
    assert ("DRAFT", "APPROVED") in allowed and ("DRAFT", "SENT") not in allowed
    counts = {True: 0, False: 0}
    for old, new in itertools.permutations(PO_STATUSES, 2):
        po, _, _ = draft_po(conn, shop)
        conn.execute(sa.text("""UPDATE procurement.purchase_order
                                   SET approved_by = :m, po_no = master.next_document_no(branch_id, 'PO', order_date)
                                 WHERE po_id = :po"""), {"m": shop.manager, "po": po})
        for step in PATH_TO[old]:
            set_status(conn, po, step)
        if (old, new) in allowed:
            set_status(conn, po, new)
            assert b.po_status(conn, po) == new
        else:
            with refused(conn, "purchase_order_status_transition"):
                set_status(conn, po, new)
        counts[(old, new) in allowed] += 1
    assert counts == {True: 11, False: 31}


def test_the_supplier_and_branch_of_an_approved_order_are_fixed(conn, shop):
    po, _, _ = draft_po(conn, shop)
    conn.execute(sa.text("UPDATE procurement.purchase_order SET oem_id = :o WHERE po_id = :po"),
                 {"o": b.oem(conn), "po": po})                         # a draft may change supplier
    conn.execute(sa.text("UPDATE procurement.purchase_order SET oem_id = :o WHERE po_id = :po"),
                 {"o": shop.oem, "po": po})
    b.approve_po(conn, po, shop.manager)
    with refused(conn, "purchase_order_fixed"):
        conn.execute(sa.text("UPDATE procurement.purchase_order SET branch_id = :b WHERE po_id = :po"),
                     {"b": b.branch(conn), "po": po})


# ----------------------------------------------------------------------------- lines


def test_the_lines_of_an_approved_order_are_frozen(conn, shop):
    po, vline, pline = draft_po(conn, shop)
    b.approve_po(conn, po, shop.manager)
    with refused(conn, "po_line_draft_only"):
        conn.execute(sa.text("UPDATE procurement.po_line SET qty = 20 WHERE po_line_id = :l"), {"l": pline})
    with refused(conn, "po_line_draft_only"):
        conn.execute(sa.text("UPDATE procurement.po_line SET unit_price = 1 WHERE po_line_id = :l"), {"l": vline})
    with refused(conn, "po_line_draft_only"):
        conn.execute(sa.text("DELETE FROM procurement.po_line WHERE po_line_id = :l"), {"l": pline})
    with refused(conn, "po_line_draft_only"):
        b.po_line(conn, po, 1, part_id=shop.part)


def test_an_order_sent_back_to_draft_may_be_edited_again(conn, shop):
    po, _, pline = draft_po(conn, shop)
    b.approve_po(conn, po, shop.manager)
    set_status(conn, po, "DRAFT")
    conn.execute(sa.text("UPDATE procurement.po_line SET qty = 12 WHERE po_line_id = :l"), {"l": pline})
    conn.execute(sa.text("DELETE FROM procurement.po_line WHERE po_line_id = :l"), {"l": pline})


def test_receiving_still_counts_on_a_frozen_line(conn, shop):
    _, _, pline = sent_po(conn, shop)
    conn.execute(sa.text("UPDATE procurement.po_line SET received_qty = 4 WHERE po_line_id = :l"), {"l": pline})
    assert scalar(conn, "SELECT received_qty FROM procurement.po_line WHERE po_line_id = :l", l=pline) == 4


def test_a_line_is_a_vehicle_or_a_part_and_vehicles_come_whole(conn, shop):
    po = b.purchase_order(conn, shop.branch, shop.oem)
    with refused(conn, "po_line_vehicle_or_part"):
        b.po_line(conn, po, 1, variant_id=shop.variant, colour="Red", part_id=shop.part)
    with refused(conn, "po_line_vehicle_or_part"):
        b.po_line(conn, po, 1, variant_id=shop.variant)                       # which colour?
    with refused(conn, "po_line_vehicle_or_part"):
        b.po_line(conn, po, "1.5", variant_id=shop.variant, colour="Red")
    with refused(conn, "po_line_whole_units"):
        b.po_line(conn, po, "2.5", part_id=shop.part)
    b.po_line(conn, po, "2.5", part_id=shop.coolant)                          # litres


# ----------------------------------------------------------------------------- goods receipts


@pytest.mark.parametrize("status", ["DRAFT", "APPROVED", "RECEIVED", "CLOSED", "CANCELLED"])
def test_goods_are_received_only_against_a_sent_order(conn, shop, status):
    po, _, _ = draft_po(conn, shop)
    conn.execute(sa.text("""UPDATE procurement.purchase_order
                               SET approved_by = :m, po_no = master.next_document_no(branch_id, 'PO', order_date)
                             WHERE po_id = :po"""), {"m": shop.manager, "po": po})
    for step in PATH_TO[status]:
        set_status(conn, po, step)
    with refused(conn, "goods_receipt_po_open"):
        b.goods_receipt(conn, po, shop.branch)


def test_goods_are_received_at_the_branch_that_ordered_them(conn, shop):
    po, _, _ = sent_po(conn, shop)
    with refused(conn, "goods_receipt_branch"):
        b.goods_receipt(conn, po, b.branch(conn))


def test_receiving_vehicles_moves_the_order_to_part_received_then_received(conn, shop):
    po, vline, pline = sent_po(conn, shop, vehicles=2, parts=10)
    grn = b.goods_receipt(conn, po, shop.branch)
    b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Red", shop.branch))
    assert b.po_status(conn, po) == "PART_RECEIVED"
    b.receive_part(conn, grn, pline, 10, "240.00")
    assert b.po_status(conn, po) == "PART_RECEIVED"
    later = b.goods_receipt(conn, po, shop.branch, "2026-04-25")
    b.receive_vehicle(conn, later, vline, b.unit(conn, shop.variant, "Red", shop.branch))
    assert b.po_status(conn, po) == "RECEIVED"
    assert scalar(conn, "SELECT array_agg(received_qty ORDER BY line_no) FROM procurement.po_line WHERE po_id = :po",
                  po=po) == [2, 10]


def test_a_third_scooter_on_a_line_for_two_is_refused(conn, shop):
    po, vline, _ = sent_po(conn, shop, vehicles=2, parts=10)      # the parts keep the order open
    grn = b.goods_receipt(conn, po, shop.branch)
    for _ in range(2):
        b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Red", shop.branch))
    with refused(conn, "po_line_not_over_received"):
        b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Red", shop.branch))


def test_a_fully_received_order_takes_no_further_receipt(conn, shop):
    po, vline, _ = sent_po(conn, shop, vehicles=1, parts=0)
    b.receive_vehicle(conn, b.goods_receipt(conn, po, shop.branch), vline,
                      b.unit(conn, shop.variant, "Red", shop.branch))
    assert b.po_status(conn, po) == "RECEIVED"
    with refused(conn, "goods_receipt_po_open"):
        b.goods_receipt(conn, po, shop.branch)


def test_more_parts_than_ordered_are_refused(conn, shop):
    po, _, pline = sent_po(conn, shop, vehicles=0, parts=10)
    grn = b.goods_receipt(conn, po, shop.branch)
    b.receive_part(conn, grn, pline, 6, "240.00")
    later = b.goods_receipt(conn, po, shop.branch, "2026-04-25")
    with refused(conn, "po_line_not_over_received"):
        b.receive_part(conn, later, pline, 5, "240.00")
    b.receive_part(conn, later, pline, 4, "240.00")
    assert b.po_status(conn, po) == "RECEIVED"
    assert b.balance(conn, shop.branch, shop.part) == {"qty": D("10.000"), "value": D("2400.00")}


def test_a_received_vehicle_must_be_the_lines_variant_and_colour(conn, shop):
    po, vline, pline = sent_po(conn, shop, vehicles=2, parts=10)
    grn = b.goods_receipt(conn, po, shop.branch)
    with refused(conn, "grn_vehicle_matches_line"):
        b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Blue", shop.branch))
    other_variant = b.variant(conn, scalar(conn, "SELECT model_id FROM oem.variant WHERE variant_id = :v",
                                           v=shop.variant))
    b.colour(conn, other_variant, "Red")
    with refused(conn, "grn_vehicle_matches_line"):
        b.receive_vehicle(conn, grn, vline, b.unit(conn, other_variant, "Red", shop.branch))
    with refused(conn, "grn_vehicle_matches_line"):
        b.receive_vehicle(conn, grn, pline, b.unit(conn, shop.variant, "Red", shop.branch))   # a parts line


def test_parts_are_not_received_on_a_vehicle_line(conn, shop):
    po, vline, _ = sent_po(conn, shop)
    grn = b.goods_receipt(conn, po, shop.branch)
    move = b.receive(conn, shop.branch, shop.part, 1, "240.00")
    with refused(conn, "grn_part_matches_line"):
        conn.execute(sa.text("""INSERT INTO procurement.grn_part (grn_id, po_line_id, qty, unit_cost, move_id)
                                VALUES (:g, :l, 1, 240, :m)"""), {"g": grn, "l": vline, "m": move["move_id"]})


def test_a_receipt_counts_only_against_its_own_orders_lines(conn, shop):
    _, vline, _ = sent_po(conn, shop)
    other_po, _, _ = sent_po(conn, shop)
    grn = b.goods_receipt(conn, other_po, shop.branch)
    with refused(conn, "grn_line_same_po"):
        b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Red", shop.branch))


def test_the_stock_move_behind_a_parts_receipt_must_be_that_receipt(conn, shop):
    po, _, pline = sent_po(conn, shop, vehicles=0, parts=10)
    grn = b.goods_receipt(conn, po, shop.branch)

    def grn_part(move_id, qty=4):
        conn.execute(sa.text("""INSERT INTO procurement.grn_part (grn_id, po_line_id, qty, unit_cost, move_id)
                                VALUES (:g, :l, :q, 240, :m)"""), {"g": grn, "l": pline, "q": qty, "m": move_id})

    other_part = b.receive(conn, shop.branch, shop.coolant, 4, "240.00")
    with refused(conn, "grn_part_matches_move"):
        grn_part(other_part["move_id"])
    other_branch = b.receive(conn, b.branch(conn), shop.part, 4, "240.00")
    with refused(conn, "grn_part_matches_move"):
        grn_part(other_branch["move_id"])
    fewer = b.receive(conn, shop.branch, shop.part, 3, "240.00")
    with refused(conn, "grn_part_matches_move"):
        grn_part(fewer["move_id"])
    opening = b.stock_move(conn, shop.branch, shop.part, "OPENING", 4, "240.00")
    with refused(conn, "grn_part_matches_move"):
        grn_part(opening["move_id"])
    right = b.receive(conn, shop.branch, shop.part, 4, "240.00")
    grn_part(right["move_id"])


def test_a_goods_receipt_is_never_changed_or_deleted(conn, shop):
    po, vline, pline = sent_po(conn, shop)
    grn = b.goods_receipt(conn, po, shop.branch)
    unit = b.unit(conn, shop.variant, "Red", shop.branch)
    b.receive_vehicle(conn, grn, vline, unit)
    b.receive_part(conn, grn, pline, 5, "240.00")
    for sql in ("UPDATE procurement.goods_receipt SET dispatch_ref = 'EWB 1' WHERE grn_id = :g",
                "DELETE FROM procurement.goods_receipt WHERE grn_id = :g",
                "UPDATE procurement.grn_vehicle SET unit_id = unit_id WHERE grn_id = :g",
                "DELETE FROM procurement.grn_vehicle WHERE grn_id = :g",
                "UPDATE procurement.grn_part SET qty = 1 WHERE grn_id = :g",
                "DELETE FROM procurement.grn_part WHERE grn_id = :g"):
        with refused(conn, sqlstate="23001"):
            conn.execute(sa.text(sql), {"g": grn})


def test_one_chassis_is_received_once(conn, shop):
    po, vline, _ = sent_po(conn, shop, vehicles=2, parts=0)
    grn = b.goods_receipt(conn, po, shop.branch)
    unit = b.unit(conn, shop.variant, "Red", shop.branch)
    b.receive_vehicle(conn, grn, vline, unit)
    with refused(conn, "grn_vehicle_unit_id_key"):
        b.receive_vehicle(conn, b.goods_receipt(conn, po, shop.branch), vline, unit)


# ----------------------------------------------------------------------------- purchase invoices


@pytest.fixture
def suppliers(conn, shop):
    """The Karnataka OEM (same state as the branch) and a Tamil Nadu one."""
    return shop.oem, b.oem(conn, state="33")


def test_an_invoice_whose_figures_do_not_add_up_is_refused(conn, shop):
    with refused(conn, "purchase_invoice_adds_up"):
        b.purchase_invoice(conn, shop.branch, shop.oem, taxable="100000.00", cgst="2500.00", sgst="2500.00",
                           total="105000.01")
    b.purchase_invoice(conn, shop.branch, shop.oem, taxable="100000.40", cgst="2500.01", sgst="2500.01",
                       round_off="-0.42")      # 105,000.00


def test_a_supplier_in_our_state_charges_cgst_and_sgst_only(conn, shop, suppliers):
    same_state, _ = suppliers
    b.purchase_invoice(conn, shop.branch, same_state, cgst="2500.00", sgst="2500.00")
    with refused(conn, "purchase_invoice_tax_heads"):
        b.purchase_invoice(conn, shop.branch, same_state, igst="5000.00")


def test_a_supplier_in_another_state_charges_igst_only(conn, shop, suppliers):
    _, other_state = suppliers
    b.purchase_invoice(conn, shop.branch, other_state, igst="5000.00")
    with refused(conn, "purchase_invoice_tax_heads"):
        b.purchase_invoice(conn, shop.branch, other_state, cgst="2500.00", sgst="2500.00")


def test_igst_and_cgst_together_or_unequal_halves_are_refused(conn, shop):
    # The tax-heads trigger speaks first (purchase_invoice_one_kind_of_tax stays as a backstop).
    with refused(conn, "purchase_invoice_tax_heads"):
        b.purchase_invoice(conn, shop.branch, shop.oem, cgst="2500.00", sgst="2500.00", igst="1.00")
    with refused(conn, "purchase_invoice_cgst_equals_sgst"):
        b.purchase_invoice(conn, shop.branch, shop.oem, cgst="2500.00", sgst="2400.00")


def test_the_same_supplier_invoice_number_twice_in_a_year_is_refused_but_fine_next_year(conn, shop, suppliers):
    same_state, other_state = suppliers
    b.purchase_invoice(conn, shop.branch, same_state, invoice_no="AE/25-26/0412", invoice_date="2025-04-01")
    with refused(conn, "purchase_invoice_oem_id_supplier_invoice_no_fy_start_key"):
        b.purchase_invoice(conn, shop.branch, same_state, invoice_no="AE/25-26/0412", invoice_date="2026-03-31")
    b.purchase_invoice(conn, shop.branch, same_state, invoice_no="AE/25-26/0412", invoice_date="2026-04-01")
    b.purchase_invoice(conn, shop.branch, other_state, invoice_no="AE/25-26/0412", invoice_date="2025-06-01",
                       igst="5000.00")      # another supplier's number


def test_a_goods_receipt_is_billed_by_one_invoice_only(conn, shop):
    po, vline, _ = sent_po(conn, shop)
    grn = b.goods_receipt(conn, po, shop.branch)
    b.receive_vehicle(conn, grn, vline, b.unit(conn, shop.variant, "Red", shop.branch))
    bill = "INSERT INTO procurement.purchase_invoice_grn (pinv_id, grn_id) VALUES (:i, :g)"
    conn.execute(sa.text(bill), {"i": b.purchase_invoice(conn, shop.branch, shop.oem), "g": grn})
    with refused(conn, "purchase_invoice_grn_grn_id_key"):
        conn.execute(sa.text(bill), {"i": b.purchase_invoice(conn, shop.branch, shop.oem), "g": grn})


def test_an_invoice_is_due_on_or_after_its_date_and_its_number_fits_gst_rules(conn, shop):
    with refused(conn, "purchase_invoice_check"):
        b.purchase_invoice(conn, shop.branch, shop.oem, invoice_date="2026-04-22", due_date="2026-04-21")
    with refused(conn, "purchase_invoice_supplier_invoice_no_check"):
        b.purchase_invoice(conn, shop.branch, shop.oem, invoice_no="AE/2025-26/000412")   # 17 characters
    with refused(conn, "purchase_invoice_supplier_invoice_no_check"):
        b.purchase_invoice(conn, shop.branch, shop.oem, invoice_no="AE 412")


def test_an_order_is_not_expected_before_it_is_placed(conn, shop):
    with refused(conn, "purchase_order_check"):
        conn.execute(sa.text("""INSERT INTO procurement.purchase_order (branch_id, oem_id, order_date, expected_date)
                                VALUES (:b, :o, '2026-04-06', '2026-04-05')"""), {"b": shop.branch, "o": shop.oem})


# ----------------------------------------------------------------------------- payments and payables


def test_payments_never_exceed_the_invoice(conn, shop):
    inv = b.purchase_invoice(conn, shop.branch, shop.oem, taxable="100000.00", cgst="2500.00", sgst="2500.00")
    b.pay(conn, inv, "60000.00")
    with refused(conn, "supplier_payment_not_over_invoice"):
        b.pay(conn, inv, "45000.01")
    b.pay(conn, inv, "45000.00")
    with refused(conn, "supplier_payment_not_over_invoice"):
        b.pay(conn, inv, "0.01")


def test_an_invoice_cannot_be_lowered_below_what_was_paid(conn, shop):
    inv = b.purchase_invoice(conn, shop.branch, shop.oem, taxable="100000.00")
    b.pay(conn, inv, "80000.00")
    with refused(conn, "supplier_payment_not_over_invoice"):
        conn.execute(sa.text("UPDATE procurement.purchase_invoice SET taxable_value = 70000, total = 70000 "
                             "WHERE pinv_id = :i"), {"i": inv})
    conn.execute(sa.text("UPDATE procurement.purchase_invoice SET taxable_value = 90000, total = 90000 "
                         "WHERE pinv_id = :i"), {"i": inv})


def test_a_payment_is_never_edited_or_deleted(conn, shop):
    inv = b.purchase_invoice(conn, shop.branch, shop.oem)
    paid = b.pay(conn, inv, "100.00")
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE procurement.supplier_payment SET amount = 1 WHERE payment_id = :p"), {"p": paid})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM procurement.supplier_payment WHERE payment_id = :p"), {"p": paid})


def test_two_payments_at_once_that_together_overpay_one_of_them_fails(committed):
    with committed.begin() as conn:
        branch = b.branch(conn)
        inv = b.purchase_invoice(conn, branch, b.oem(conn), taxable="100000.00")
    start, first_in, release = threading.Barrier(2), threading.Event(), threading.Event()
    outcomes = {name: b.Outcome() for name in ("accounts-1", "accounts-2")}

    def pay_60k(name):
        out = outcomes[name]
        try:
            with committed.connect() as conn:
                b.tag(conn, f"pay-{name}")
                start.wait(timeout=10)
                b.pay(conn, inv, "60000.00")
                out.ok = True
                first_in.set()
                release.wait(timeout=10)
                conn.commit()
        except sa.exc.DBAPIError as exc:
            out.error = exc

    threads = [threading.Thread(target=pay_60k, args=(name,)) for name in outcomes]
    for t in threads:
        t.start()
    assert first_in.wait(10)
    winner = next(name for name, out in outcomes.items() if out.ok)
    loser = next(name for name in outcomes if name != winner)
    b.wait_until_blocked(committed, f"pay-{loser}")
    release.set()
    for t in threads:
        t.join(10)

    assert outcomes[winner].error is None
    assert b.constraint_of(outcomes[loser].error) == "supplier_payment_not_over_invoice"
    with committed.connect() as conn:
        assert scalar(conn, "SELECT paid FROM procurement.payable WHERE pinv_id = :i", i=inv) == D("60000.00")


def test_the_payables_list_shows_what_is_owed_and_how_late(conn, shop):
    """Due dates relative to today: not yet due, 1-30, 31-60, 61-90 and over 90 days late."""
    cases = [(5, "NOT_DUE"), (0, "NOT_DUE"), (-1, "1-30"), (-30, "1-30"), (-31, "31-60"), (-60, "31-60"),
             (-61, "61-90"), (-90, "61-90"), (-91, "90+"), (-400, "90+")]
    today = scalar(conn, "SELECT current_date")
    invoices = {}
    for days, bucket in cases:
        due = today + timedelta(days=days)
        inv_date = min(due, today) - timedelta(days=10)
        inv = b.purchase_invoice(conn, shop.branch, shop.oem, taxable="50000.00", cgst="1250.00", sgst="1250.00",
                                 invoice_date=inv_date.isoformat(), due_date=due.isoformat())
        invoices[inv] = (days, bucket)
    first = next(iter(invoices))
    b.pay(conn, first, "20000.00")
    b.pay(conn, first, "500.00")
    rows = {r["pinv_id"]: r for r in conn.execute(sa.text("SELECT * FROM procurement.payable")).mappings()}
    for inv, (days, bucket) in invoices.items():
        assert rows[inv]["age_bucket"] == bucket, days
        assert rows[inv]["days_overdue"] == -days
    assert (rows[first]["total"], rows[first]["paid"], rows[first]["outstanding"]) == (
        D("52500.00"), D("20500.00"), D("32000.00"))
    unpaid = list(invoices)[1]
    assert (rows[unpaid]["paid"], rows[unpaid]["outstanding"]) == (0, D("52500.00"))


def test_moves_and_receipt_rows_written_in_one_statement_pass_the_check(conn, shop):
    """The purchasing screen posts the ledger moves and the GRN rows in one INSERT ... WITH."""
    po, _, pline = sent_po(conn, shop, vehicles=0, parts=10)
    grn = b.goods_receipt(conn, po, shop.branch)
    conn.execute(sa.text(
        """WITH p AS (SELECT CAST(:line AS integer) AS po_line_id, CAST(:part AS integer) AS part_id,
                             CAST(4 AS numeric) AS qty, CAST(240.00 AS numeric) AS unit_cost),
                move AS (INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
                         SELECT :b, part_id, 'RECEIPT', qty, unit_cost, 0, 'GRN' FROM p RETURNING move_id, part_id)
           INSERT INTO procurement.grn_part (grn_id, po_line_id, qty, unit_cost, move_id)
           SELECT :g, p.po_line_id, p.qty, p.unit_cost, m.move_id FROM p JOIN move m USING (part_id)"""),
        {"line": pline, "part": shop.part, "b": shop.branch, "g": grn})
    assert scalar(conn, "SELECT received_qty FROM procurement.po_line WHERE po_line_id = :l", l=pline) == 4
