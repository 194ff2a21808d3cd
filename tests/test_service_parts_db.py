"""The work on a job card held by PostgreSQL (sql/0027_service_parts.sql, the "Estimate, approval and
parts issued to a job card" section of sql/functions/91_service.sql): parts issued and returned
through the stock ledger, what is issued kept on the line, the customer's approvals and the extra
work that needs another one, technicians per line, lines done, and parts requests."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from tests import builders as bld
from tests import service_builders as sb
from tests import service_work_builders as wb
from tests.builders import refused, row, scalar


def card_with_stock(conn, *, qty="5", cost="100.00"):
    """(branch, job card, part) with ``qty`` of the part received at ``cost`` each."""
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    part = bld.part(conn, purchase_price="100.00")
    if Decimal(qty):
        bld.receive(conn, branch, part, qty, cost)
    return branch, jc, part


def ledger(conn, part: int):
    return conn.execute(sa.text("SELECT kind, qty, unit_cost, value, reference FROM inventory.stock_move "
                                "WHERE part_id = :p ORDER BY move_id"), {"p": part}).mappings().all()


def issued(conn, line: int) -> Decimal:
    return scalar(conn, "SELECT issued_qty FROM service.job_line WHERE job_line_id = :l", l=line)


# ----------------------------------------------------------------------------- issue and return


def test_an_issue_leaves_stock_at_the_weighted_cost_in_the_same_transaction_and_a_return_comes_back_at_it(conn):
    branch, jc, part = card_with_stock(conn, qty="2", cost="100.00")
    bld.receive(conn, branch, part, "2", "130.00")            # 4 at 460.00: 115.00 each
    line = wb.line(conn, jc, part_id=part, qty="3")
    wb.approve(conn, jc)
    wb.issue(conn, jc, line, "3")
    assert bld.balance(conn, branch, part) == {"qty": Decimal("1.000"), "value": Decimal("115.00")}
    number = scalar(conn, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=jc)
    out = ledger(conn, part)[-1]
    assert (out["kind"], out["qty"], out["unit_cost"], out["value"], out["reference"]) == (
        "ISSUE_JOB", Decimal("-3.000"), Decimal("115.0000"), Decimal("-345.00"), number)
    assert issued(conn, line) == 3
    wb.issue(conn, jc, line, "1", kind="RETURN")
    back = ledger(conn, part)[-1]
    assert (back["kind"], back["qty"], back["unit_cost"], back["value"]) == (
        "RETURN_JOB", Decimal("1.000"), Decimal("115.0000"), Decimal("115.00"))
    assert bld.balance(conn, branch, part) == {"qty": Decimal("2.000"), "value": Decimal("230.00")}
    assert issued(conn, line) == 2
    # Every issue and return names its stock move.
    assert scalar(conn, "SELECT count(*) FROM service.part_issue i JOIN inventory.stock_move m USING (move_id) "
                        "WHERE i.job_line_id = :l", l=line) == 2


def test_a_part_not_in_stock_is_refused_and_nothing_is_half_saved(conn):
    branch, jc, part = card_with_stock(conn, qty="1")
    line = wb.line(conn, jc, part_id=part, qty="2")
    wb.approve(conn, jc)
    moves = len(ledger(conn, part))
    with refused(conn, "part_stock_not_negative"):
        wb.issue(conn, jc, line, "2")
    assert len(ledger(conn, part)) == moves
    assert issued(conn, line) == 0
    assert scalar(conn, "SELECT count(*) FROM service.part_issue WHERE job_line_id = :l", l=line) == 0
    assert bld.balance(conn, branch, part)["qty"] == 1


def test_issues_stay_within_the_line_and_returns_within_what_is_out(conn):
    _, jc, part = card_with_stock(conn, qty="10")
    line = wb.line(conn, jc, part_id=part, qty="2")
    wb.approve(conn, jc)
    wb.issue(conn, jc, line, "2")
    with refused(conn, "part_issue_beyond_line"):
        wb.issue(conn, jc, line, "1")
    with refused(conn, "part_issue_return_within_issued"):
        wb.issue(conn, jc, line, "3", kind="RETURN")
    with refused(conn, "part_issue_qty_check"):
        wb.issue(conn, jc, line, "0")
    with refused(conn, "stock_move_whole_units"):
        wb.issue(conn, jc, line, "0.5", kind="RETURN")


def test_customer_paid_parts_are_issued_once_approved_and_warranty_parts_at_once(conn):
    _, jc, part = card_with_stock(conn, qty="10")
    paid = wb.line(conn, jc, part_id=part, qty="1")
    covered = wb.line(conn, jc, part_id=part, qty="1", coverage="WARRANTY")
    with refused(conn, "part_issue_line_approved"):
        wb.issue(conn, jc, paid, "1")
    wb.issue(conn, jc, covered, "1")
    assert issued(conn, covered) == 1


def test_parts_go_only_to_a_part_line_of_the_same_open_card(conn):
    branch, jc, part = card_with_stock(conn, qty="10")
    other = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    op = wb.labour(conn)
    labour = wb.line(conn, jc, operation_code=op)
    line = wb.line(conn, jc, part_id=part, qty="1", coverage="WARRANTY")
    with refused(conn, "part_issue_part_line"):
        wb.issue(conn, jc, labour, "1")
    with refused(conn, "part_issue_part_line"):
        wb.issue(conn, other, line, "1")
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                         "WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, "part_issue_card_open"):
        wb.issue(conn, jc, line, "1")


def test_what_is_issued_changes_only_by_issues_and_the_ledger_and_issues_are_permanent(conn):
    _, jc, part = card_with_stock(conn, qty="10")
    line = wb.line(conn, jc, part_id=part, qty="2", coverage="WARRANTY")
    with refused(conn, "job_line_issued_through_issues"):
        conn.execute(sa.text("UPDATE service.job_line SET issued_qty = 2 WHERE job_line_id = :l"), {"l": line})
    done = wb.issue(conn, jc, line, "1")
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE service.part_issue SET qty = 2 WHERE issue_id = :i"), {"i": done})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM service.part_issue WHERE issue_id = :i"), {"i": done})
    with refused(conn, "job_line_issued_fixed"):
        conn.execute(sa.text("UPDATE service.job_line SET part_id = :p WHERE job_line_id = :l"),
                     {"p": bld.part(conn), "l": line})
    with refused(conn, "job_line_issued_within"):
        conn.execute(sa.text("UPDATE service.job_line SET qty = 0.5 WHERE job_line_id = :l"), {"l": line})


def test_parts_out_are_returned_before_a_line_is_declined_or_the_card_cancelled(conn):
    _, jc, part = card_with_stock(conn, qty="10")
    line = wb.line(conn, jc, part_id=part, qty="1", coverage="WARRANTY")
    wb.issue(conn, jc, line, "1")
    with refused(conn, "job_line_return_before_decline"):
        conn.execute(sa.text("UPDATE service.job_line SET status = 'DECLINED' WHERE job_line_id = :l"), {"l": line})
    with refused(conn, "job_card_parts_out"):
        conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                             "WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, "part_issue_job_line_id_fkey"):
        conn.execute(sa.text("DELETE FROM service.job_line WHERE job_line_id = :l"), {"l": line})
    wb.issue(conn, jc, line, "1", kind="RETURN")
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DECLINED' WHERE job_line_id = :l"), {"l": line})
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                         "WHERE job_card_id = :j"), {"j": jc})


# ----------------------------------------------------------------------------- approvals


def test_an_approval_needs_proposed_work_and_approves_it_and_the_card(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    with refused(conn, "job_approval_needs_lines"):
        wb.approve(conn, jc)
    op = wb.labour(conn)
    first = wb.line(conn, jc, operation_code=op)
    sb.move(conn, jc, "ESTIMATE_SENT")
    approval = wb.approve(conn, jc, mode="PHONE")
    got = row(conn, "SELECT status, approval_id FROM service.job_line WHERE job_line_id = :l", l=first)
    assert (got["status"], got["approval_id"]) == ("APPROVED", approval)
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=jc) == "APPROVED"
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=jc) is True
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE service.job_approval SET amount = 1 WHERE approval_id = :a"), {"a": approval})


def test_work_added_after_the_approval_needs_another_before_it_can_be_billed(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    op = wb.labour(conn)
    wb.line(conn, jc, operation_code=op)
    first = wb.approve(conn, jc)
    sb.move(conn, jc, "IN_PROGRESS")
    extra = wb.line(conn, jc, operation_code=op, qty="2")
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=jc) is False
    # Covered work needs no customer approval; declined work none either.
    free = wb.line(conn, jc, operation_code=op, coverage="FREE_SERVICE")
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l"), {"l": free})
    with refused(conn, "job_line_approved"):
        conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l"), {"l": extra})
    second = wb.approve(conn, jc, mode="PHONE", amount="1062")
    assert scalar(conn, "SELECT approval_id FROM service.job_line WHERE job_line_id = :l", l=extra) == second
    assert second != first
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=jc) == "IN_PROGRESS"
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=jc) is True
    declined = wb.line(conn, jc, operation_code=op)
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=jc) is False
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DECLINED' WHERE job_line_id = :l"), {"l": declined})
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=jc) is True


def test_a_card_moves_to_approved_only_with_its_customer_work_approved(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    wb.line(conn, jc, operation_code=wb.labour(conn))
    with refused(conn, "job_card_work_not_approved"):
        sb.move(conn, jc, "APPROVED")
    empty = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    sb.move(conn, empty, "APPROVED")   # nothing to approve: approved at the counter


# ----------------------------------------------------------------------------- technicians and done


def test_a_line_is_assigned_to_an_active_technician_of_the_cards_branch(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    op = wb.labour(conn)
    for who in (bld.staff(conn, branch, "SERVICE_ADVISOR"), bld.staff(conn, bld.branch(conn), "TECHNICIAN"),
                bld.staff(conn, branch, "TECHNICIAN", active=False)):
        with refused(conn, "job_line_technician"):
            wb.line(conn, jc, operation_code=op, technician_id=who)
    tech = bld.staff(conn, branch, "TECHNICIAN")
    assert wb.line(conn, jc, operation_code=op, technician_id=tech)


def test_a_line_done_is_dated_and_a_part_line_only_once_issued(conn):
    branch, jc, part = card_with_stock(conn, qty="3")
    tech = bld.staff(conn, branch, "TECHNICIAN")
    labour = wb.line(conn, jc, operation_code=wb.labour(conn), technician_id=tech)
    parts = wb.line(conn, jc, part_id=part, qty="1", technician_id=tech)
    wb.approve(conn, jc)
    bld.act_as(conn, tech)
    with refused(conn, "job_line_done_parts_issued"):
        conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l"), {"l": parts})
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l"), {"l": labour})
    got = row(conn, "SELECT done_by, done_at FROM service.job_line WHERE job_line_id = :l", l=labour)
    assert got["done_by"] == tech and got["done_at"] is not None
    wb.issue(conn, jc, parts, "1")
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l"), {"l": parts})
    with refused(conn, "job_line_done_parts_issued"):
        wb.issue(conn, jc, parts, "1", kind="RETURN")


# ----------------------------------------------------------------------------- parts requests


def test_a_parts_request_is_the_cards_branchs_and_moves_open_ordered_received(conn):
    branch, jc, part = card_with_stock(conn, qty="0")
    line = wb.line(conn, jc, part_id=part, qty="2")
    other_part = bld.part(conn)
    request = scalar(conn, """INSERT INTO service.parts_request (branch_id, job_card_id, job_line_id, part_id, qty)
                              VALUES (:b, :j, :l, :p, 2) RETURNING request_id""",
                     b=bld.branch(conn), j=jc, l=line, p=part)
    got = row(conn, "SELECT branch_id, status FROM service.parts_request WHERE request_id = :r", r=request)
    assert (got["branch_id"], got["status"]) == (branch, "OPEN")
    with refused(conn, "parts_request_one_per_line_idx"):
        conn.execute(sa.text("INSERT INTO service.parts_request (branch_id, job_card_id, job_line_id, part_id, qty) "
                             "VALUES (:b, :j, :l, :p, 1)"), {"b": branch, "j": jc, "l": line, "p": part})
    with refused(conn, "parts_request_part_line"):
        conn.execute(sa.text("INSERT INTO service.parts_request (branch_id, job_card_id, job_line_id, part_id, qty) "
                             "VALUES (:b, :j, :l, :p, 1)"), {"b": branch, "j": jc, "l": line, "p": other_part})
    with refused(conn, "parts_request_status_move"):
        conn.execute(sa.text("UPDATE service.parts_request SET status = 'RECEIVED' WHERE request_id = :r"), {"r": request})
    with refused(conn, "parts_request_fixed"):
        conn.execute(sa.text("UPDATE service.parts_request SET qty = 5 WHERE request_id = :r"), {"r": request})
    conn.execute(sa.text("UPDATE service.parts_request SET status = 'ORDERED' WHERE request_id = :r"), {"r": request})
    conn.execute(sa.text("UPDATE service.parts_request SET status = 'RECEIVED' WHERE request_id = :r"), {"r": request})
    with refused(conn, "parts_request_status_move"):
        conn.execute(sa.text("UPDATE service.parts_request SET status = 'CANCELLED' WHERE request_id = :r"), {"r": request})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM service.parts_request WHERE request_id = :r"), {"r": request})
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                         "WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, "parts_request_card_open"):
        conn.execute(sa.text("INSERT INTO service.parts_request (branch_id, job_card_id, part_id, qty) "
                             "VALUES (:b, :j, :p, 1)"), {"b": branch, "j": jc, "p": part})


# ----------------------------------------------------------------------------- what the invoice bills


def test_the_invoice_bills_labour_at_its_quantity_and_parts_at_what_was_issued(conn):
    _, jc, part = card_with_stock(conn, qty="10")
    op = wb.labour(conn)
    labour = wb.line(conn, jc, operation_code=op, qty="1.5")
    used = wb.line(conn, jc, part_id=part, qty="4")
    unused = wb.line(conn, jc, part_id=part, qty="1")
    declined = wb.line(conn, jc, operation_code=op)
    wb.approve(conn, jc)
    wb.issue(conn, jc, used, "3")
    wb.issue(conn, jc, used, "1", kind="RETURN")
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DECLINED' WHERE job_line_id = :l"), {"l": declined})
    extra = wb.line(conn, jc, operation_code=op)
    billed = {r["job_line_id"]: r for r in conn.execute(sa.text(
        "SELECT * FROM service.job_line_billable WHERE job_card_id = :j"), {"j": jc}).mappings()}
    assert set(billed) == {labour, used, extra} and unused not in billed
    assert billed[labour]["bill_qty"] == Decimal("1.5") and billed[labour]["hsn_code"] == "998714"
    assert billed[used]["bill_qty"] == 2 and billed[used]["approved"] is True
    assert billed[extra]["approved"] is False
