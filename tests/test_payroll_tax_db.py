"""Payroll tax held by PostgreSQL (sql/0056_payroll_tax.sql, sql/functions/99_payroll_tax.sql), figures checked
by hand: the new regime's marginal relief just above Rs 12 lakh and where it ends, the old regime's slabs, rebate
and declared deductions within their caps (80C, 80D, HRA exemption metro and not, 24(b)) in a run's TDS and its
kept breakdown; dated rates an approved run used stay as they were; arrears only into a month whose run is open."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import builders as b
import hr_builders as hr
import pytest
import sqlalchemy as sa
from builders import refused
from test_payroll_db import SEPT, attend, close, line_of, person

from webapp.payroll import queries, rate_queries
from webapp.payroll import tax_queries as tax

D = Decimal
FY = date(2025, 4, 1)
APRIL = date(2025, 4, 1)


@pytest.fixture
def shop(conn):
    branch = b.branch(conn)               # Karnataka
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2024-01-01")
    return branch, manager


def income_tax(conn, regime: str, taxable) -> Decimal:
    return b.scalar(conn, "SELECT hr.annual_income_tax(:r, '2025-04-01', :t)", r=regime, t=D(taxable))


@pytest.mark.parametrize(("taxable", "tax"), [
    (1200000, 0),             # within the rebate: 60,000 remitted
    (1210000, 10400),         # slab tax 61,500; relief: at most the 10,000 above 12 lakh; + 4 % cess
    (1270000, 72800),         # slab tax 70,500 > 70,000 above: 70,000 + cess (without relief 73,320)
    # the relief ends at 12,70,588.24, where 60,000 + 15 % of the excess = the excess
    (1271000, 73476),         # slab tax 70,650 < 71,000 above: the slab tax, 70,650 + cess
    (1275000, 74100),         # 71,250 + cess
])
def test_new_regime_marginal_relief_just_above_12_lakh(conn, taxable, tax):
    assert income_tax(conn, "NEW", taxable) == D(tax)


def test_old_regime_slabs_rebate_and_no_marginal_relief(conn):
    assert income_tax(conn, "OLD", 250000) == 0
    assert income_tax(conn, "OLD", 500000) == 0                  # 12,500 rebated u/s 87A
    assert income_tax(conn, "OLD", 500001) == D(13000)           # 12,500.20 + cess: no relief in the old regime
    assert income_tax(conn, "OLD", 1000000) == D(117000)         # 12,500 + 1,00,000 = 1,12,500 + cess
    assert income_tax(conn, "OLD", 1150000) == D(163800)         # 1,12,500 + 45,000 = 1,57,500 + cess


def deductions(conn, staff, hra, basic_da):
    return tuple(b.row(conn, "SELECT * FROM hr.old_regime_deductions(:s, '2025-04-01', :h, :bd)",
                       s=staff, h=D(hra), bd=D(basic_da)).values())


def test_declared_deductions_are_taken_within_their_caps(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    assert deductions(conn, staff, 240000, 480000) == (0, 0, 0, 0)      # nothing declared
    tax.declare(conn, staff, FY, section_80c=D(200000), section_80d=D(30000), home_loan_interest=D(250000),
                rent_paid=D(300000), metro=True)
    # 80C 1.5 L cap, 80D 25,000 cap, 24(b) 2 L cap; HRA: least of 2,40,000 received, 3,00,000 - 48,000,
    # 50 % of 4,80,000 = 2,40,000
    assert deductions(conn, staff, 240000, 480000) == (D(150000), D(25000), D(240000), D(200000))
    tax.declare(conn, staff, FY, section_80c=D(100000), section_80d=D(0), home_loan_interest=D(0),
                rent_paid=D(300000), metro=False)
    # not a metro: 40 % of 4,80,000 = 1,92,000 is the least
    assert deductions(conn, staff, 240000, 480000) == (D(100000), 0, D(192000), 0)
    tax.declare(conn, staff, FY, section_80c=D(0), section_80d=D(0), home_loan_interest=D(0),
                rent_paid=D(40000), metro=True)
    assert deductions(conn, staff, 240000, 480000)[2] == 0              # rent below 10 % of basic + DA


def test_an_old_regime_run_takes_the_declaration_off_the_projected_year(conn, shop):
    branch, manager = shop
    declared = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    undeclared = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    new_regime = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    for s in (declared, undeclared):
        queries.choose_regime(conn, s, FY, "OLD")
    for s in (declared, new_regime):   # the new regime's person declares too: not used
        tax.declare(conn, s, FY, section_80c=D(200000), section_80d=D(30000), home_loan_interest=D(250000),
                    rent_paid=D(200000), metro=True)
    for s in (declared, undeclared, new_regime):
        attend(conn, branch, s, APRIL, manager)
    close(conn, branch, APRIL, manager)
    run_id = queries.create_run(conn, branch, APRIL)

    # 12,00,000 - 50,000 - 1,50,000 - 25,000 - HRA least(2,40,000; 2,00,000 - 48,000; 2,40,000) = 1,52,000
    # - 2,00,000 = 6,23,000: 12,500 + 20 % of 1,23,000 = 37,100; + 4 % = 38,584; / 12 = 3,215.33
    assert line_of(conn, run_id, declared).tds == D(3215)
    kept = tax.line_tax(conn, run_id, declared)
    assert (kept.regime, kept.projected_income, kept.standard_deduction, kept.section_80c, kept.section_80d,
            kept.hra_exemption, kept.home_loan_interest, kept.taxable_income, kept.annual_tax) == (
        "OLD", D(1200000), D(50000), D(150000), D(25000), D(152000), D(200000), D(623000), D(38584))
    # no declaration: 11,50,000 taxable, 1,63,800 a year
    assert line_of(conn, run_id, undeclared).tds == D(13650)
    # the new regime: 11,25,000 within the rebate, the declaration unused
    assert line_of(conn, run_id, new_regime).tds == 0
    unused = tax.line_tax(conn, run_id, new_regime)
    assert (unused.regime, unused.section_80c, unused.hra_exemption, unused.taxable_income) == ("NEW", 0, 0, D(1125000))

    # recomputing replaces the breakdown with the lines
    queries.compute(conn, run_id)
    assert b.scalar(conn, "SELECT count(*) FROM hr.payroll_line_tax WHERE run_id = :r", r=run_id) == 3


def approve(conn, branch, run_id, manager):
    checker = hr.employee(conn, branch, role="ACCOUNTS", joined="2024-01-01")
    queries.mark_checked(conn, run_id, checker)
    queries.approve(conn, run_id, manager)


def test_rates_an_approved_run_used_stay_and_new_ones_start_after_it(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 21000, basic=15000, hra=6000)
    # no approved run yet: a rate row may still be corrected
    conn.execute(sa.text("INSERT INTO hr.pay_esi_rate VALUES ('2025-08-01', 0.75, 3.25, 21000)"))
    conn.execute(sa.text("UPDATE hr.pay_esi_rate SET gross_limit = 22000 WHERE effective_from = '2025-08-01'"))
    conn.execute(sa.text("DELETE FROM hr.pay_esi_rate WHERE effective_from = '2025-08-01'"))
    attend(conn, branch, staff, SEPT, manager)
    close(conn, branch, SEPT, manager)
    run_id = queries.create_run(conn, branch, SEPT)
    approve(conn, branch, run_id, manager)

    with refused(conn, "pay_rate_used"):
        conn.execute(sa.text("UPDATE hr.pay_pf_rate SET wage_ceiling = 21000"))
    with refused(conn, "pay_rate_used"):
        conn.execute(sa.text("DELETE FROM hr.pay_esi_rate"))
    with refused(conn, "pay_rate_used"):   # back-dated into the approved month
        rate_queries.add_pf_rate(conn, effective_from=SEPT, employee_pct=D(12), eps_pct=D("8.33"), epf_pct=D("3.67"),
                        edli_pct=D("0.5"), admin_pct=D("0.5"), wage_ceiling=D(21000))
    with refused(conn, "pay_rate_used"):   # this financial year's slabs were used by September
        conn.execute(sa.text("UPDATE hr.pay_tds_slab SET rate_pct = 6 WHERE regime = 'NEW' AND rate_pct = 5"))
    with refused(conn, "pay_rate_used"):
        conn.execute(sa.text("UPDATE hr.pay_old_regime_limit SET cap_80c = 200000"))
    with refused(conn, "pay_rate_used"):   # Karnataka's slab, used by this Karnataka branch
        rate_queries.add_pt_slabs(conn, "29", SEPT, [(D(0), D(0), D(0)), (D(30000), D(200), D(300))])
    # a Maharashtra branch ran nothing: its state's slabs may be set from any month
    rate_queries.add_pt_slabs(conn, "27", date(2025, 4, 1), [(D(0), D(0), D(0)), (D(7501), D(175), D(175)),
                                                    (D(10001), D(200), D(300))])
    # from the month after, a new ceiling applies to October's run
    rate_queries.add_pf_rate(conn, effective_from=date(2025, 10, 1), employee_pct=D(12), eps_pct=D("8.33"), epf_pct=D("3.67"),
                    edli_pct=D("0.5"), admin_pct=D("0.5"), wage_ceiling=D(21000))
    oct_ = date(2025, 10, 1)
    attend(conn, branch, staff, oct_, manager)
    close(conn, branch, oct_, manager)
    assert line_of(conn, queries.create_run(conn, branch, oct_), staff).pf_wages == D(15000)   # basic 15,000 < ceiling
    assert line_of(conn, run_id, staff).pf_wages == D(15000)


def test_arrears_go_only_into_a_month_whose_run_is_a_draft(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 21000, basic=15000, hra=6000)
    attend(conn, branch, staff, SEPT, manager)
    close(conn, branch, SEPT, manager)
    run_id = queries.create_run(conn, branch, SEPT)
    # into September's draft: paid by its next computation
    tax.add_arrears(conn, branch_id=branch, staff_id=staff, for_month=date(2025, 8, 1), paid_in=SEPT,
                    amount=D(750), reason="Conveyance missed in August")
    queries.compute(conn, run_id)
    assert line_of(conn, run_id, staff).arrears == D(750)
    approve(conn, branch, run_id, manager)
    with refused(conn, "pay_arrears_run_open"):
        tax.add_arrears(conn, branch_id=branch, staff_id=staff, for_month=date(2025, 8, 1), paid_in=SEPT,
                        amount=D(100), reason="Another correction")
    with refused(conn, "pay_arrears_later"):
        tax.add_arrears(conn, branch_id=branch, staff_id=staff, for_month=date(2025, 10, 1), paid_in=date(2025, 10, 1),
                        amount=D(100), reason="Same month")
    tax.add_arrears(conn, branch_id=branch, staff_id=staff, for_month=SEPT, paid_in=date(2025, 10, 1),
                    amount=D(-200), reason="Excess special allowance in September")
    assert [(r.for_month, r.paid_in, r.amount) for r in tax.arrears(conn, branch)] == [
        (SEPT, date(2025, 10, 1), D(-200)), (date(2025, 8, 1), SEPT, D(750))]


def test_an_old_regime_raise_projects_hra_and_basic_from_the_approved_months_and_the_new_structure(conn, shop):
    branch, manager = shop
    staff = person(conn, branch, manager, 100000, basic=40000, hra=20000, special=40000)
    queries.choose_regime(conn, staff, FY, "OLD")
    tax.declare(conn, staff, FY, section_80c=D(200000), section_80d=D(30000), home_loan_interest=D(250000),
                rent_paid=D(200000), metro=True)
    may = date(2025, 5, 1)
    queries.add_structure(conn, staff, may, D(120000), basic=D(48000), hra=D(24000), special=D(48000))
    for m in (APRIL, may):
        attend(conn, branch, staff, m, manager)
        close(conn, branch, m, manager)
    april = queries.create_run(conn, branch, APRIL)
    assert line_of(conn, april, staff).tds == D(3215)          # as above: 38,584 / 12
    approve(conn, branch, april, manager)
    run_id = queries.create_run(conn, branch, may)
    # the year: April's 1,00,000 paid + May's 1,20,000 + 10 x 1,20,000 = 14,20,000; HRA 20,000 + 11 x 24,000 =
    # 2,84,000; basic 40,000 + 11 x 48,000 = 5,68,000: exemption least(2,84,000; 2,00,000 - 56,800; 2,84,000) =
    # 1,43,200. Taxable 14,20,000 - 50,000 - 1,50,000 - 25,000 - 1,43,200 - 2,00,000 = 8,51,800: 12,500 + 70,360 =
    # 82,860 + 4 % = 86,174; less April's 3,215, over 11 months: 7,541.73
    kept = tax.line_tax(conn, run_id, staff)
    assert (kept.projected_income, kept.hra_exemption, kept.taxable_income, kept.annual_tax, kept.tds_before) == (
        D(1420000), D(143200), D(851800), D(86174), D(3215))
    assert line_of(conn, run_id, staff).tds == D(7542)


def test_tds_across_a_year_with_a_raise_in_october(conn, shop):
    """New regime, Rs 1,00,000 a month from April, Rs 1,50,000 from October, every month approved in turn.
    April-September: 12 x 1,00,000 projected, 11,25,000 taxable, within the rebate: nil each month.
    October: 6 x 1,00,000 paid + 6 x 1,50,000 = 15,00,000, 14,25,000 taxable: 20,000 + 40,000 + 33,750 = 93,750,
    with cess 97,500 (no marginal relief so far above 12 lakh), over the 6 months left: 16,250; November-March the
    same projection less what was deducted: 16,250 each. The year's TDS is the year's tax on what was paid."""
    branch, manager = shop
    staff = person(conn, branch, manager, 100000, basic=50000, hra=50000)
    queries.add_structure(conn, staff, date(2025, 10, 1), D(150000), basic=D(75000), hra=D(75000))
    tds, gross = [], []
    for n in range(12):
        month = date(2025 + (3 + n) // 12, (3 + n) % 12 + 1, 1)
        attend(conn, branch, staff, month, manager)
        close(conn, branch, month, manager)
        run_id = queries.create_run(conn, branch, month)
        line = line_of(conn, run_id, staff)
        tds.append(line.tds)
        gross.append(line.gross)
        approve(conn, branch, run_id, manager)
    assert gross == [D(100000)] * 6 + [D(150000)] * 6
    assert tds == [0] * 6 + [D(16250)] * 6
    assert sum(tds) == income_tax(conn, "NEW", sum(gross) - 75000) == D(97500)
