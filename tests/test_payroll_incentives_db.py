"""Incentives and the full and final settlement held by PostgreSQL (sql/0055_payroll_incentives.sql,
sql/functions/99_payroll_incentive.sql), hand-checked: an incentive from three deliveries (with a model's own
rule from the middle of the month, their policies and a financed sale) carried into the payroll line's gross and
ESI wages but not PF wages; service-revenue slabs at their boundaries, and the month's service invoices shared
between their advisor and technicians; a manager's adjustment with its reason;
an approved month's incentive lines refused to change; gratuity at 4 years 7 months (counted as 5) and at 4
years 5 months (nil), leave encashment, the notice shortfall and a loan recovered in full."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import hr_builders as hr
import pytest
import service_builders as sb
import service_work_builders as wb
import sqlalchemy as sa
from builders import refused
from test_payroll_db import attend, close

from webapp.payroll import incentive_queries as iq
from webapp.payroll import queries

D = Decimal
JUNE = date(2026, 6, 1)


def rule(conn, role, kind, amount=None, *, model=None, valid_from="2026-01-01", valid_to=None, slabs=()):
    return iq.add_rule(conn, role_code=role, kind=kind, model_id=model, amount=None if amount is None else D(amount),
                       valid_from=date.fromisoformat(valid_from),
                       valid_to=valid_to and date.fromisoformat(valid_to), note=None,
                       slabs=[(D(f), None if p is None else D(p), None if x is None else D(x)) for f, p, x in slabs])


def deliver(conn, sale, unit_id, on: str) -> int:
    """A booking of the sale's salesperson through invoice, policy, registration and hand-over, delivered on `on`."""
    from webapp.billing import posting
    from webapp.sales import services
    booking = b.booking(conn, sale, on=on)
    services.allot(conn, booking, unit_id)
    b.act_as(conn, sale.manager_id)
    posting.post_vehicle_invoice(conn, booking, on=date.fromisoformat(on), key=str(uuid.uuid4()))
    b.ready_for_handover(conn, booking, on)
    b.release_handover(conn, booking, sale.manager_id)
    services.deliver(conn, booking, on=date.fromisoformat(on), received_by_name="Asha Rao", key=str(uuid.uuid4()))
    return booking


@pytest.fixture
def showroom(conn):
    """A showroom with three scooters, its salesperson and manager employed on Rs 21,000 (basic 15,000)."""
    sale = b.sale_setup(conn, units=3)
    hr.shift(conn, sale.branch_id)
    for staff in (sale.manager_id, sale.sales_id):
        conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on) VALUES (:s, '2025-01-01')"), {"s": staff})
        queries.add_structure(conn, staff, date(2025, 1, 1), D(21000), basic=D(15000), hra=D(6000))
    units = conn.execute(sa.text("SELECT unit_id FROM inventory.vehicle_unit WHERE branch_id = :b ORDER BY unit_id"),
                         {"b": sale.branch_id}).scalars().all()
    return sale, units


def june_run(conn, sale):
    admin = b.staff(conn, sale.branch_id, "ADMIN")   # marks the manager's own days (nobody marks their own)
    b.act_as(conn, None)                              # the markers, not the last poster, write the punches
    for staff in (sale.manager_id, sale.sales_id):
        attend(conn, sale.branch_id, staff, JUNE, sale.manager_id if staff != sale.manager_id else admin)
    close(conn, sale.branch_id, JUNE, sale.manager_id)
    return queries.create_run(conn, sale.branch_id, JUNE)


def test_an_incentive_from_three_deliveries_hand_checked(conn, showroom):
    sale, units = showroom
    model = b.scalar(conn, "SELECT model_id FROM oem.variant WHERE variant_id = :v", v=sale.catalog.variant_id)
    rule(conn, "SALES", "PER_VEHICLE_DELIVERED", "500")
    rule(conn, "SALES", "PER_VEHICLE_DELIVERED", "750", model=model, valid_from="2026-06-15")   # the model's own
    rule(conn, "SALES", "PER_INSURANCE_CASE", "200")
    rule(conn, "SALES", "PER_FINANCE_CASE", "300")
    bookings = [deliver(conn, sale, unit, on) for unit, on in zip(units, ("2026-06-05", "2026-06-10", "2026-06-20"))]
    financier = b.scalar(conn, "INSERT INTO master.financier (name) VALUES ('HDFC Bank') RETURNING financier_id")
    conn.execute(sa.text("""INSERT INTO sales.finance (booking_id, financier_id, loan_amount, do_number, do_received_on)
                            VALUES (:b, :f, 100000, 'DO-7781', '2026-06-12')"""), {"b": bookings[1], "f": financier})
    run_id = june_run(conn, sale)

    lines = iq.lines(conn, sale.branch_id, JUNE, sale.sales_id)
    by_kind = {}
    for line in lines:
        by_kind.setdefault(line.kind, []).append(line.amount)
    # 500 + 500 before the model's rule, 750 on the 20th; three policies at 200; one delivery order at 300
    assert sorted(by_kind["PER_VEHICLE_DELIVERED"]) == [D(500), D(500), D(750)]
    assert by_kind["PER_INSURANCE_CASE"] == [D(200)] * 3
    assert by_kind["PER_FINANCE_CASE"] == [D(300)]
    deliveries = [x for x in lines if x.kind == "PER_VEHICLE_DELIVERED"]
    assert {x.source_table for x in deliveries} == {"sales.delivery"}
    assert {x.document_no for x in deliveries} == set(conn.execute(sa.text(
        "SELECT delivery_no FROM sales.delivery WHERE booking_id = ANY(:b)"), {"b": bookings}).scalars())
    assert [x.document_no for x in lines if x.kind == "PER_FINANCE_CASE"] == ["DO-7781"]

    pay = queries.line(conn, run_id, sale.sales_id)
    # 21,000 + 2,650; ESI on the whole gross (177.38 and 768.63 rounded up), PF on basic only
    assert (pay.incentive, pay.gross, pay.esi_wages, pay.esi_employee, pay.esi_employer, pay.pf_wages, pay.pf_employee) == (
        D(2650), D(23650), D(23650), D(178), D(769), D(15000), D(1800))
    assert pay.net_pay == pay.gross - pay.pf_employee - pay.esi_employee - pay.professional_tax - pay.tds
    assert queries.line(conn, run_id, sale.manager_id).incentive == 0   # no rule for managers


def test_service_revenue_slabs_at_their_boundaries(conn):
    percent = rule(conn, "SERVICE_ADVISOR", "SERVICE_REVENUE_SLAB",
                   slabs=[("0", "0", None), ("50000", "1", None), ("100000", "2", None)])
    fixed = rule(conn, "TECHNICIAN", "SERVICE_REVENUE_SLAB", slabs=[("100000", None, "1000"), ("200000", None, "1500")])

    def amount(rule_id, revenue):
        return b.scalar(conn, "SELECT hr.incentive_slab_amount(:r, :v)", r=rule_id, v=D(revenue))

    # 1 % of what is above 50,000, 2 % of what is above 1,00,000; to the rupee, half up
    assert [amount(percent, v) for v in ("49999.99", "50000", "50049.99", "50050", "80000", "100000", "120000")] == [
        0, 0, 0, 1, D(300), D(500), D(900)]
    # a fixed amount from its slab on, the slabs reached adding up
    assert [amount(fixed, v) for v in ("99999.99", "100000", "199999.99", "200000")] == [0, D(1000), D(1000), D(2500)]
    with refused(conn, "incentive_rule_amount"):
        rule(conn, "SALES", "SERVICE_REVENUE_SLAB", "100", valid_from="2027-01-01")
    with refused(conn, "incentive_slab_pct_or_fixed"):
        rule(conn, "SALES", "SERVICE_REVENUE_SLAB", slabs=[("0", "1", "100")], valid_from="2027-01-01")
    with refused(conn, "incentive_rule_no_overlap"):
        rule(conn, "TECHNICIAN", "SERVICE_REVENUE_SLAB", valid_from="2026-06-01", slabs=[("0", "1", None)])
    with refused(conn, "incentive_rule_amount_not_negative"):
        rule(conn, "SALES", "PER_FINANCE_CASE", "-1")
    with refused(conn, "incentive_rule_permanent"):
        conn.execute(sa.text("UPDATE hr.incentive_rule SET role_code = 'SALES' WHERE rule_id = :r"), {"r": fixed})


def serviced(conn, branch, advisor, technician, rate: str, on: str) -> int:
    """A job card of the advisor with one hour of labour at `rate` (GST extra) by the technician, billed on `on`."""
    from webapp.billing import api as billing
    card = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch), odometer_km=3000, advisor_id=advisor)
    wb.line(conn, card, operation_code=wb.labour(conn, hours="1.00", rate=rate), technician_id=technician)
    wb.approve(conn, card, amount="100000")
    sb.move(conn, card, "APPROVED", "IN_PROGRESS", "QC", "READY")
    c = conn.execute(sa.text("SELECT customer_id, job_card_no FROM service.job_card WHERE job_card_id = :j"),
                     {"j": card}).one()
    lines = [{"kind": "LABOUR", "code": r.operation_code, "qty": r.bill_qty, "unit_price": r.unit_price,
              "price_includes_gst": r.price_includes_gst, "coverage": r.coverage}
             for r in conn.execute(sa.text("SELECT * FROM service.job_line_billable WHERE job_card_id = :j"), {"j": card})]
    invoice = billing.post_service_invoice(conn, branch_id=branch, customer_id=c.customer_id,
                                           invoice_date=date.fromisoformat(on), lines=lines,
                                           idempotency_key=str(uuid.uuid4()), reference=c.job_card_no)
    conn.execute(sa.text("UPDATE service.job_card SET invoice_id = :i WHERE job_card_id = :j"), {"i": invoice, "j": card})
    return invoice


def test_service_revenue_of_the_advisor_and_the_technician_from_their_invoices(conn):
    branch = b.branch(conn)
    advisor, technician, other = (b.staff(conn, branch, role) for role in ("SERVICE_ADVISOR", "TECHNICIAN", "TECHNICIAN"))
    rule(conn, "SERVICE_ADVISOR", "SERVICE_REVENUE_SLAB", slabs=[("0", "0", None), ("50000", "1", None)])
    rule(conn, "TECHNICIAN", "SERVICE_REVENUE_SLAB", slabs=[("40000", None, "500")])
    first = serviced(conn, branch, advisor, other, "30000", "2026-06-08")
    second = serviced(conn, branch, advisor, technician, "40000", "2026-06-22")
    serviced(conn, branch, advisor, technician, "90000", "2026-07-01")     # next month's
    iq.compute(conn, branch, JUNE)

    mine = {x.source_id: x for x in iq.lines(conn, branch, JUNE, advisor)}
    # 70,000 in June: 1 % of 20,000 = 200, shared 30 : 40 over the two invoices, to the paisa
    assert set(mine) == {first, second} and all(x.source_table == "billing.invoice" for x in mine.values())
    assert (mine[first].basis, mine[first].amount, mine[second].basis, mine[second].amount) == (
        D(30000), D("85.71"), D(40000), D("114.29"))
    assert [x.amount for x in iq.lines(conn, branch, JUNE, technician)] == [D(500)]   # 40,000 reaches the slab
    assert [x.amount for x in iq.lines(conn, branch, JUNE, other)] == [0]              # 30,000 does not


def test_a_credit_note_takes_its_service_revenue_out_of_the_month_it_is_dated_in(conn):
    from webapp.billing import posting
    branch = b.branch(conn)
    advisor, technician = (b.staff(conn, branch, role) for role in ("SERVICE_ADVISOR", "TECHNICIAN"))
    rule(conn, "SERVICE_ADVISOR", "SERVICE_REVENUE_SLAB", slabs=[("0", "0", None), ("50000", "1", None)])
    big = serviced(conn, branch, advisor, technician, "60000", "2026-06-08")
    returned = serviced(conn, branch, advisor, technician, "30000", "2026-06-10")
    note = posting.post_credit_note(conn, returned, on=date(2026, 6, 25), reason="Billed twice", key=str(uuid.uuid4()))
    late = posting.post_credit_note(conn, big, on=date(2026, 7, 2), reason="Goodwill: job redone", key=str(uuid.uuid4()))
    iq.compute(conn, branch, JUNE)
    # June: 60,000 + 30,000 - 30,000 = 60,000, 1 % of 10,000 = 100, shared by the running revenue
    # (60,000 -> 90,000 -> 60,000): 100.00, then 150 - 100 = 50.00, then 100 - 150 = -50.00
    june = [(x.source_table, x.source_id, x.basis, x.amount) for x in iq.lines(conn, branch, JUNE, advisor)]
    assert june == [("billing.invoice", big, D(60000), D(100)), ("billing.invoice", returned, D(30000), D(50)),
                    ("billing.credit_note", note, D(-30000), D(-50))]
    assert iq.person_totals(conn, branch, JUNE)[0].total == D(100)
    # July: only the credit note of June's invoice: revenue below nothing, no incentive (and never below zero)
    iq.compute(conn, branch, date(2026, 7, 1))
    july = iq.lines(conn, branch, date(2026, 7, 1), advisor)
    assert [(x.source_table, x.source_id, x.basis, x.amount, x.invoice_id) for x in july] == [
        ("billing.credit_note", late, D(-60000), D(0), big)]


def test_a_delivered_scooter_returned_takes_back_the_delivery_incentive_of_its_rule(conn, showroom):
    from webapp.billing import posting
    sale, units = showroom
    rule(conn, "SALES", "PER_VEHICLE_DELIVERED", "500", valid_to="2026-06-30")
    rule(conn, "SALES", "PER_VEHICLE_DELIVERED", "700", valid_from="2026-07-01")
    kept, back = (deliver(conn, sale, unit, on) for unit, on in zip(units, ("2026-06-05", "2026-06-10")))
    invoice = b.scalar(conn, "SELECT invoice_id FROM billing.invoice WHERE booking_id = :k AND kind = 'VEHICLE'", k=back)
    note = posting.post_credit_note(conn, invoice, on=date(2026, 7, 3), reason="Returned: the buyer's loan fell through",
                                    key=str(uuid.uuid4()))
    iq.compute(conn, sale.branch_id, JUNE)
    iq.compute(conn, sale.branch_id, date(2026, 7, 1))
    assert iq.person_totals(conn, sale.branch_id, JUNE)[0].total == D(1000)     # both delivered in June
    july = iq.lines(conn, sale.branch_id, date(2026, 7, 1), sale.sales_id)
    # taken back by June's rule (Rs 500, as paid), not July's Rs 700
    assert [(x.source_table, x.source_id, x.basis, x.amount, x.invoice_id) for x in july] == [
        ("billing.credit_note", note, D(-1), D(-500), invoice)]
    with refused(conn, "incentive_line_sign"):
        conn.execute(sa.text("UPDATE hr.incentive_line SET amount = 500 WHERE source_table = 'billing.credit_note'"))


def test_a_managers_adjustment_with_its_reason_and_an_approved_month_permanent(conn, showroom):
    sale, units = showroom
    rule(conn, "SALES", "PER_VEHICLE_DELIVERED", "500")
    deliver(conn, sale, units[0], "2026-06-05")
    run_id = june_run(conn, sale)
    assert queries.line(conn, run_id, sale.sales_id).incentive == D(500)

    b.act_as(conn, sale.manager_id)
    adjustment = iq.adjust(conn, branch_id=sale.branch_id, staff_id=sale.sales_id, month=JUNE, amount=D(250),
                           reason="Exchange bonus agreed with the OEM")
    assert b.scalar(conn, "SELECT count(*) FROM audit.log WHERE table_name = 'hr.incentive_adjustment'") == 1
    with refused(conn, "incentive_adjustment_within"):
        iq.adjust(conn, branch_id=sale.branch_id, staff_id=sale.sales_id, month=JUNE, amount=D(-751),
                  reason="Taken back more than earned")
    with refused(conn, "incentive_adjustment_not_own"):
        iq.adjust(conn, branch_id=sale.branch_id, staff_id=sale.manager_id, month=JUNE, amount=D(100),
                  reason="My own bonus")
    b.act_as(conn, sale.sales_id)
    with refused(conn, "incentive_adjustment_by_manager"):
        iq.adjust(conn, branch_id=sale.branch_id, staff_id=sale.sales_id, month=JUNE, amount=D(100),
                  reason="A salesperson's own idea")
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE hr.incentive_adjustment SET amount = 1000 WHERE adjustment_id = :a"),
                     {"a": adjustment})

    # the run was computed before the adjustment: it is checked only once recomputed
    checker = hr.employee(conn, sale.branch_id, role="ACCOUNTS", joined="2025-01-01")
    with refused(conn, "payroll_run_incentives_current"):
        queries.mark_checked(conn, run_id, checker)
    queries.compute(conn, run_id)
    assert queries.line(conn, run_id, sale.sales_id).incentive == D(750)
    queries.mark_checked(conn, run_id, checker)
    with refused(conn, "incentive_month_permanent"):
        iq.compute(conn, sale.branch_id, JUNE)
    queries.approve(conn, run_id, sale.manager_id)

    with refused(conn, "incentive_month_permanent"):
        conn.execute(sa.text("UPDATE hr.incentive_line SET amount = 0 WHERE branch_id = :b"), {"b": sale.branch_id})
    with refused(conn, "incentive_month_permanent"):
        conn.execute(sa.text("DELETE FROM hr.incentive_line WHERE branch_id = :b"), {"b": sale.branch_id})
    with refused(conn, "incentive_month_permanent"):
        iq.compute(conn, sale.branch_id, JUNE)
    b.act_as(conn, sale.manager_id)
    with refused(conn, "incentive_month_permanent"):
        iq.adjust(conn, branch_id=sale.branch_id, staff_id=sale.sales_id, month=JUNE, amount=D(100),
                  reason="Too late for June")
    assert iq.person_totals(conn, sale.branch_id, JUNE)[0].total == D(750)


# --------------------------------------------------------------------------- full and final settlement

JULY = date(2025, 7, 1)


def leaver(conn, branch, manager, joined: str, basic="15000"):
    """Someone on Rs 21,000 who worked July 2025 in full (their date of leaving is set by `leaves`)."""
    staff = hr.employee(conn, branch, joined=joined, manager=manager)
    queries.add_structure(conn, staff, date(2021, 1, 1), D(21000), basic=D(basic), hra=D(21000) - D(basic))
    attend(conn, branch, staff, JULY, manager)
    return staff


def leaves(conn, staff, left: str = "2025-07-31"):
    conn.execute(sa.text("UPDATE hr.employee SET left_on = :l WHERE staff_id = :s"), {"l": left, "s": staff})


def test_full_and_final_gratuity_leave_encashment_notice_and_loan(conn):
    branch = b.branch(conn)
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2020-01-01")
    hr.quota(conn, "EL", 2025, "15")
    five = leaver(conn, branch, manager, "2021-01-01")    # to 31-07-2025: 4 years 7 months, counted as 5
    four = leaver(conn, branch, manager, "2021-03-01")    # to 31-07-2025: 4 years 5 months, no gratuity
    hr.decide(conn, hr.leave(conn, branch, five, "EL", "2025-03-10", "2025-03-11"), manager)   # 2 of 15 taken
    leaves(conn, five)
    leaves(conn, four)
    conn.execute(sa.text("""INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month,
                            given_on, reason) VALUES (:b, :s, 'LOAN', 10000, 1000, '2025-05-01', '2025-04-20', 'Two-wheeler')"""),
                 {"b": branch, "s": five})
    conn.execute(sa.text("""INSERT INTO hr.notice_shortfall (branch_id, staff_id, days, reason)
                            VALUES (:b, :s, 10, 'Left ten days before the notice ended')"""), {"b": branch, "s": five})
    attend(conn, branch, manager, JULY, b.staff(conn, branch, "ADMIN"))   # the manager's own days
    close(conn, branch, JULY, manager)
    run_id = queries.create_run(conn, branch, JULY)

    s5 = iq.settlement(conn, run_id, five)
    # earned leave accrued January-July: 15 x 7 / 12 = 8.75 -> 9 days, 2 taken: 7 days x 15,000 / 26 = 4,038.46;
    # 15/26 x 15,000 x 5 = 43,269.23; notice 21,000 x 10 / 30 = 7,000
    assert (s5.service_years, s5.service_months, s5.years_counted) == (4, 7, 5)
    assert (s5.el_days, s5.leave_encashment, s5.gratuity, s5.notice_pay_due, s5.notice_recovery) == (
        D(7), D(4038), D(43269), D(7000), D(7000))
    assert (s5.loan_outstanding, s5.loan_recovered) == (D(10000), D(10000))   # the whole loan, not the instalment
    line = queries.line(conn, run_id, five)
    assert (line.leave_encashment, line.gratuity, line.notice_recovery, line.loan_recovery) == (
        D(4038), D(43269), D(7000), D(10000))
    assert line.gross == D(21000 + 4038 + 43269)
    assert line.esi_wages == D(21000)   # the settlement is no ESI wage
    assert line.net_pay == line.gross - line.total_deductions

    s4 = iq.settlement(conn, run_id, four)
    assert (s4.service_years, s4.service_months, s4.years_counted, s4.gratuity) == (4, 5, 4, 0)
    assert (s4.el_days, s4.leave_encashment) == (D(9), D(5192))     # 9 x 15,000 / 26 = 5,192.31
    assert iq.settlement(conn, run_id, manager) is None               # still here

    accounts = hr.employee(conn, branch, role="ACCOUNTS", joined="2020-01-01")
    queries.mark_checked(conn, run_id, accounts)
    with refused(conn, "payroll_run_permanent"):
        conn.execute(sa.text("UPDATE hr.settlement SET gratuity = 0 WHERE run_id = :r"), {"r": run_id})
    with refused(conn, "notice_shortfall_settled"):
        conn.execute(sa.text("DELETE FROM hr.notice_shortfall WHERE staff_id = :s"), {"s": five})
    # the salary voucher balances: the settlement in the salaries, the notice pay the showroom's income
    voucher = queries.approve(conn, run_id, manager)
    legs = dict(conn.execute(sa.text("""SELECT l.system_key, sum(v.debit - v.credit) FROM finance.voucher_line v
                                         JOIN finance.ledger l USING (ledger_id) WHERE v.voucher_id = :v
                                        GROUP BY l.system_key"""), {"v": voucher}).all())
    assert sum(legs.values()) == 0 and legs["NOTICE_PAY_RECOVERED"] == D(-7000)
    assert legs["EXP_SALARY"] == b.scalar(conn, "SELECT sum(gross) FROM hr.payroll_line WHERE run_id = :r", r=run_id)


def test_earned_leave_encashed_is_what_the_months_served_in_the_year_accrued(conn):
    branch = b.branch(conn)
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2020-01-01")
    hr.quota(conn, "EL", 2025, "15")
    newcomer = leaver(conn, branch, manager, "2025-03-10")   # March to July: 15 x 5 / 12 = 6.25 -> 6.5 days
    leaves(conn, newcomer)
    attend(conn, branch, manager, JULY, b.staff(conn, branch, "ADMIN"))   # the manager's own days
    close(conn, branch, JULY, manager)
    run_id = queries.create_run(conn, branch, JULY)
    s = iq.settlement(conn, run_id, newcomer)
    assert (s.el_days, s.leave_encashment, s.gratuity) == (D("6.5"), D(3750), D(0))   # 6.5 x 15,000 / 26 = 3,750


def test_recoveries_take_no_more_than_the_settlement_pays(conn):
    branch = b.branch(conn)
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2020-01-01")
    staff = leaver(conn, branch, manager, "2024-01-01")
    leaves(conn, staff)
    conn.execute(sa.text("""INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month,
                            given_on, reason) VALUES (:b, :s, 'LOAN', 50000, 2000, '2025-05-01', '2025-04-20', 'House deposit')"""),
                 {"b": branch, "s": staff})
    attend(conn, branch, manager, JULY, b.staff(conn, branch, "ADMIN"))   # the manager's own days
    close(conn, branch, JULY, manager)
    run_id = queries.create_run(conn, branch, JULY)
    line = queries.line(conn, run_id, staff)
    s = iq.settlement(conn, run_id, staff)
    assert line.net_pay == 0 and s.loan_recovered == line.loan_recovery < s.loan_outstanding == D(50000)


def test_a_leavers_last_month_settles_the_years_tax_on_what_was_paid(conn):
    """New regime, Rs 4,00,000 a month (basic 2,00,000), payroll from July 2025 (April-June unpaid by a run).
    Leaving on 31-07-2025: the year is April-July only, 16,00,000 - 75,000 = 15,25,000 taxable:
    20,000 + 40,000 + 3,25,000 x 15 % = 1,08,750, with 4 % cess 1,13,100, all of it deducted in July.
    Staying: 12 x 4,00,000 - 75,000 = 47,25,000: 20,000 + 40,000 + 60,000 + 80,000 + 1,00,000
    + 23,25,000 x 30 % = 9,97,500, with cess 10,37,400, over July-March: 1,15,266.67 -> 1,15,267."""
    branch = b.branch(conn)
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2020-01-01")
    going, staying = (hr.employee(conn, branch, joined="2021-01-01", manager=manager) for _ in range(2))
    for staff in (going, staying):
        queries.add_structure(conn, staff, date(2021, 1, 1), D(400000), basic=D(200000), hra=D(200000))
        attend(conn, branch, staff, JULY, manager)
    leaves(conn, going)
    attend(conn, branch, manager, JULY, b.staff(conn, branch, "ADMIN"))   # the manager's own days
    close(conn, branch, JULY, manager)
    run_id = queries.create_run(conn, branch, JULY)
    assert queries.line(conn, run_id, going).tds == D(113100)
    assert queries.line(conn, run_id, staying).tds == D(115267)
    projected = dict(conn.execute(sa.text("SELECT staff_id, projected_income FROM hr.payroll_line_tax WHERE run_id = :r"),
                                  {"r": run_id}).all())
    assert (projected[going], projected[staying]) == (D(1600000), D(4800000))


def test_the_demo_showroom_has_incentive_rules_and_an_adjusted_month(conn, app):
    from seed.demo import seed_demo
    from webapp.formatting import today_ist

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    assert b.scalar(conn, "SELECT count(*) FROM hr.incentive_rule") == 5
    blr = b.scalar(conn, "SELECT branch_id FROM master.branch WHERE branch_code = 'BLR1'")
    accounts = b.scalar(conn, "SELECT staff_id FROM master.staff WHERE branch_id = :b AND designation = 'ACCOUNTS' "
                              "ORDER BY staff_id LIMIT 1", b=blr)
    last_month = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)
    close(conn, blr, last_month, accounts)
    run_id = queries.create_run(conn, blr, last_month)
    rows = {r.staff_code: r for r in queries.lines(conn, run_id)}
    # last month's four scooters (seed/finance_month_demo.py), computed by the run: S01 two Riztas delivered
    # (750 each) and their policies (200 each), with the manager's adjustment of 1,000; S02 a 450X and a
    # Chetak (500 each), their policies and the financed sale's delivery order (300)
    s01, s02 = rows["S01"], rows["S02"]
    assert s01.incentive == D(2900) and s01.gross == s01.basic + s01.hra + s01.conveyance + s01.special + D(2900)
    assert s02.incentive == D(1700) and s02.gross == s02.basic + s02.hra + s02.conveyance + s02.special + D(1700)
