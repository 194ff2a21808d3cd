"""Payroll held by PostgreSQL (sql/0052_payroll.sql, sql/functions/99_payroll.sql) with hand-checked months:
PF at and above the wage ceiling, ESI at its limit (21,000 in, 21,001 out), Karnataka's professional tax in
February, loss of pay pro rata, TDS above and within the rebate, a loan recovered by instalments; a run only
over a closed attendance month, its steps, its permanence once approved, and its balanced salary voucher."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import builders as b
import hr_builders as hr
import pytest
import sqlalchemy as sa
from builders import refused

from webapp.payroll import queries

D = Decimal


@pytest.fixture
def shop(conn):
    branch = b.branch(conn)               # Karnataka
    hr.shift(conn, branch)                # weekly off Sunday
    manager = hr.employee(conn, branch, role="MANAGER", joined="2024-01-01")
    return branch, manager


def person(conn, branch, manager, gross, **parts):
    staff = hr.employee(conn, branch, joined="2024-01-01", manager=manager)
    queries.add_structure(conn, staff, date(2024, 1, 1), D(gross), **{k: D(v) for k, v in parts.items()})
    return staff


def attend(conn, branch, staff, month: date, by: int, absent=()):
    """Every working day (not Sunday) of the month present 09:30-18:30, but the days in `absent`."""
    day = month
    while day.month == month.month:
        if day.isoweekday() != 7 and day.day not in absent:
            hr.worked(conn, branch, staff, day.isoformat(), "09:30", "18:30", by=by)
        day += timedelta(days=1)


def close(conn, branch, month: date, by: int):
    conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"),
                 {"b": branch, "m": month, "s": by})


def line_of(conn, run_id, staff):
    return queries.line(conn, run_id, staff)


SEPT = date(2025, 9, 1)


def test_pf_esi_pt_and_loss_of_pay_hand_checked(conn, shop):
    branch, manager = shop
    above = person(conn, branch, manager, 40000, basic=20000, hra=10000, special=10000)
    at_limit = person(conn, branch, manager, 21000, basic=15000, hra=6000)
    over_limit = person(conn, branch, manager, 21001, basic=15000, hra=6001)
    lop = person(conn, branch, manager, 30000, basic=12000, hra=6000, special=12000)
    for s in (above, at_limit, over_limit):
        attend(conn, branch, s, SEPT, manager)
    attend(conn, branch, lop, SEPT, manager, absent=(3, 4, 5))
    close(conn, branch, SEPT, manager)
    run_id = queries.create_run(conn, branch, SEPT)

    a = line_of(conn, run_id, above)   # PF wages capped at 15,000; ESI out; PT 200
    assert (a.payment_days, a.gross, a.pf_wages, a.pf_employee, a.pf_eps, a.pf_epf_employer, a.pf_edli, a.pf_admin) == (
        D(30), D(40000), D(15000), D(1800), D(1250), D(550), D(75), D(75))
    assert (a.esi_employee, a.esi_employer, a.professional_tax, a.tds, a.net_pay) == (0, 0, D(200), 0, D(38000))

    s = line_of(conn, run_id, at_limit)   # basic exactly at the ceiling; ESI in (157.50 and 682.50 rounded up)
    assert (s.pf_employee, s.esi_wages, s.esi_employee, s.esi_employer, s.professional_tax, s.net_pay) == (
        D(1800), D(21000), D(158), D(683), 0, D(19042))

    o = line_of(conn, run_id, over_limit)
    assert (o.esi_wages, o.esi_employee, o.esi_employer) == (0, 0, 0)

    x = line_of(conn, run_id, lop)   # 3 days' loss of pay of 30: 27/30 of each part; PF on 10,800
    assert (x.payment_days, x.lop_days, x.basic, x.hra, x.special, x.gross) == (
        D(27), D(3), D(10800), D(5400), D(10800), D(27000))
    assert (x.pf_wages, x.pf_employee, x.pf_eps, x.pf_epf_employer, x.pf_edli, x.esi_employee, x.professional_tax,
            x.net_pay) == (D(10800), D(1296), D(900), D(396), D(54), 0, D(200), D(25504))
    assert line_of(conn, run_id, manager) is None   # no structure: left out


def test_professional_tax_is_300_in_february(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 40000, basic=20000, hra=10000, special=10000)
    feb = date(2026, 2, 1)
    attend(conn, branch, staff, feb, manager)
    close(conn, branch, feb, manager)
    run_id = queries.create_run(conn, branch, feb)
    assert line_of(conn, run_id, staff).professional_tax == D(300)


def test_tds_new_regime_above_and_within_the_rebate(conn, shop):
    branch, manager = shop
    high = person(conn, branch, manager, 150000, basic=60000, hra=30000, special=60000)
    rebate = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    april = date(2025, 4, 1)
    for s in (high, rebate):
        attend(conn, branch, s, april, manager)
    close(conn, branch, april, manager)
    run_id = queries.create_run(conn, branch, april)
    # 18,00,000 - 75,000 = 17,25,000: 20,000 + 40,000 + 60,000 + 25,000 = 1,45,000; + 4 % = 1,50,800; / 12
    assert line_of(conn, run_id, high).tds == D(12567)
    assert line_of(conn, run_id, high).net_pay == D(150000 - 1800 - 200 - 12567)
    # 12,00,000 - 75,000 = 11,25,000 <= 12 lakh: 52,500 rebated
    assert line_of(conn, run_id, rebate).tds == 0
    assert b.scalar(conn, "SELECT hr.annual_income_tax('NEW', '2025-04-01', 1725000)") == D(150800)
    # Paid by this run after April, then September (no run since): April-August are projected at the structure's
    # gross, the tax already deducted (April's) is taken off, the rest spread over September-March.
    for s in (high, rebate):
        attend(conn, branch, s, SEPT, manager)
    close(conn, branch, SEPT, manager)
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'CHECKED', checked_by = :m WHERE run_id = :r"),
                 {"m": manager, "r": run_id})
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'APPROVED', approved_by = :m WHERE run_id = :r"),
                 {"m": hr.employee(conn, branch, role="ADMIN", joined="2024-01-01"), "r": run_id})
    september = queries.create_run(conn, branch, SEPT)
    assert line_of(conn, september, high).tds == D(19748)   # (1,50,800 - 12,567) / 7 = 19,747.57
    assert line_of(conn, september, rebate).tds == 0
    assert b.scalar(conn, "SELECT hr.annual_income_tax('NEW', '2025-04-01', 1200000)") == 0


def test_a_loan_is_recovered_in_instalments_until_repaid(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 40000, basic=20000, hra=10000, special=10000)
    conn.execute(sa.text("""INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month, given_on,
                            reason) VALUES (:b, :s, 'ADVANCE', 5000, 3000, '2025-09-01', '2025-08-20', 'Festival advance')"""),
                 {"b": branch, "s": staff})
    oct_ = date(2025, 10, 1)
    for m in (SEPT, oct_):
        attend(conn, branch, staff, m, manager)
        close(conn, branch, m, manager)
    first = queries.create_run(conn, branch, SEPT)
    assert line_of(conn, first, staff).loan_recovery == D(3000)
    second = queries.create_run(conn, branch, oct_)
    assert line_of(conn, second, staff).loan_recovery == D(2000)


def test_a_structure_that_does_not_add_up_is_refused(conn, shop):
    branch, manager = shop
    staff = hr.employee(conn, branch, joined="2024-01-01", manager=manager)
    with refused(conn, "pay_structure_adds_up"):
        queries.add_structure(conn, staff, date(2025, 4, 1), D(30000), basic=D(15000), hra=D(10000))


def test_a_run_needs_the_closed_month_and_once_approved_is_permanent_with_a_balanced_voucher(conn, shop):
    branch, manager = shop
    accounts = hr.employee(conn, branch, role="ACCOUNTS", joined="2024-01-01", manager=manager)
    staff = person(conn, branch, manager, 21000, basic=15000, hra=6000)
    conn.execute(sa.text("""INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month, given_on,
                            reason) VALUES (:b, :s, 'LOAN', 10000, 1000, '2025-09-01', '2025-08-20', 'Two-wheeler loan')"""),
                 {"b": branch, "s": staff})
    with refused(conn, "payroll_run_month_closed"):
        queries.create_run(conn, branch, SEPT)
    attend(conn, branch, staff, SEPT, manager)
    close(conn, branch, SEPT, manager)
    run_id = queries.create_run(conn, branch, SEPT)
    with refused(conn, "payroll_run_once_a_month"):
        queries.create_run(conn, branch, SEPT)
    with refused(conn, "payroll_run_step"):
        conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'APPROVED', approved_by = :s WHERE run_id = :r"),
                     {"s": manager, "r": run_id})
    queries.mark_checked(conn, run_id, accounts)
    with refused(conn, "payroll_run_permanent"):
        queries.compute(conn, run_id)
    with refused(conn, "payroll_run_four_eyes"):
        queries.approve(conn, run_id, accounts)
    voucher = queries.approve(conn, run_id, manager)

    legs = conn.execute(sa.text("""SELECT l.system_key, v.debit - v.credit AS amount FROM finance.voucher_line v
                                     JOIN finance.ledger l USING (ledger_id) WHERE v.voucher_id = :v"""), {"v": voucher})
    amounts = {r.system_key: r.amount for r in legs}
    assert sum(amounts.values()) == 0
    # Gross 21,000; employer PF 1,250 + 550 + 75 + 75; employer ESI 683; employee PF 1,800, ESI 158, loan 1,000
    assert amounts == {"EXP_SALARY": D(21000), "EMPLOYER_PF": D(1950), "EMPLOYER_ESI": D(683),
                       "PF_PAYABLE": D(-3750), "ESI_PAYABLE": D(-841), "STAFF_ADVANCES": D(-1000),
                       "SALARY_PAYABLE": -D(21000 - 1800 - 158 - 1000)}

    with refused(conn, "payroll_run_permanent"):
        conn.execute(sa.text("UPDATE hr.payroll_line SET net_pay = net_pay WHERE run_id = :r"), {"r": run_id})
    with refused(conn, "payroll_run_permanent"):
        conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'DRAFT' WHERE run_id = :r"), {"r": run_id})
    with refused(conn, "payroll_run_permanent"):
        conn.execute(sa.text("DELETE FROM hr.payroll_run WHERE run_id = :r"), {"r": run_id})
    with refused(conn, "pay_structure_paid"):
        conn.execute(sa.text("UPDATE hr.pay_structure SET other_deductions = 1 WHERE staff_id = :s"), {"s": staff})
    queries.mark_paid(conn, run_id, date(2025, 10, 1))
    with refused(conn, "payroll_run_permanent"):
        conn.execute(sa.text("UPDATE hr.payroll_run SET paid_on = '2025-10-02' WHERE run_id = :r"), {"r": run_id})
    # A correction is an arrears line of a later month.
    conn.execute(sa.text("""INSERT INTO hr.pay_arrears (branch_id, staff_id, for_month, paid_in, amount, reason)
                            VALUES (:b, :s, '2025-09-01', '2025-10-01', 500, 'Conveyance missed in September')"""),
                 {"b": branch, "s": staff})
    oct_ = date(2025, 10, 1)
    attend(conn, branch, staff, oct_, manager)
    close(conn, branch, oct_, manager)
    nxt = line_of(conn, queries.create_run(conn, branch, oct_), staff)
    assert (nxt.arrears, nxt.gross) == (D(500), D(21500))


def test_the_demo_showroom_can_run_last_months_payroll_at_once(conn, app):
    from seed.demo import seed_demo
    from webapp.formatting import today_ist

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    blr = b.scalar(conn, "SELECT branch_id FROM master.branch WHERE branch_code = 'BLR1'")
    accounts = b.scalar(conn, "SELECT staff_id FROM master.staff WHERE branch_id = :b AND designation = 'ACCOUNTS' "
                              "ORDER BY staff_id LIMIT 1", b=blr)
    manager = b.scalar(conn, "SELECT staff_id FROM master.staff WHERE staff_code = 'MGR1'")
    last_month = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)
    close(conn, blr, last_month, accounts)
    run_id = queries.create_run(conn, blr, last_month)
    rows = {r.staff_code: r for r in queries.lines(conn, run_id)}
    assert rows and all(r.net_pay > 0 for r in rows.values())
    assert rows["S01"].loan_recovery == D(2000)
    queries.mark_checked(conn, run_id, accounts)
    assert queries.approve(conn, run_id, manager)
