"""Payroll tax screens: accounts record an old-regime person's declaration on their payroll page and the run's TDS,
payslip and register show the regime and the deductions used (hand-checked); arrears lines are recorded, paid by the
month's run, and refused into a month whose run is approved, with the reason next to the field and what was typed
kept; the dated statutory rates are listed with the row in force and those an approved run used, managers read them,
accounts add a new row (set) from this month or later and nothing before."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from conftest import csrf_from, page_csrf
from test_payroll_screens import SEPT, close_september, logged_in, pdf_text, team  # noqa: F401  (team: a fixture)

from webapp.formatting import today_ist


def _run(accounts, token) -> int:
    created = accounts.post("/payroll/runs", data={"csrf_token": token, "month": "2025-09"})
    assert created.status_code == 303
    return int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_an_old_regime_declaration_is_taken_off_the_tds_and_shown_on_the_payslip(app, engine, team):
    with engine.begin() as conn:   # S2 on Rs 1 lakh a month from September
        conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra, special)
                                VALUES (:s, '2025-09-01', 100000, 40000, 20000, 40000)"""), {"s": team["S2"]})
    accounts = logged_in(app, "AC1")
    url = f"/payroll/structures/{team['S2']}"
    page = accounts.get(url).get_data(as_text=True)
    assert "Tax declaration (old regime)" in page
    token = csrf_from(page)
    assert accounts.post(f"{url}/regime", data={"csrf_token": token, "fy": "2025", "regime": "OLD"}).status_code == 303
    typed = {"csrf_token": token, "fy": "25", "section_80c": "2,00,000", "section_80d": "30000", "rent_paid": "200000",
             "metro": "y", "home_loan_interest": "250000"}
    refused = accounts.post(f"{url}/declaration", data=typed)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "A year, e.g. 2026 for 2026-27" in body and 'value="2,00,000"' in body
    assert accounts.post(f"{url}/declaration", data={**typed, "fy": "2025"}).status_code == 303
    page = accounts.get(url).get_data(as_text=True)
    assert "2025-26 (old regime): 80C ₹2,00,000.00 (cap ₹1,50,000.00)" in page

    close_september(engine, team)
    run_id = _run(accounts, token)
    # September, no approved run before: April-August projected at the structure in force (1 lakh), so the year is
    # 12,00,000; HRA received 2,40,000, basic 4,80,000: exemption least(2,40,000; 2,00,000 - 48,000; 2,40,000) =
    # 1,52,000. Taxable 12,00,000 - 50,000 - 1,50,000 - 25,000 - 1,52,000 - 2,00,000 = 6,23,000: 12,500 + 24,600 =
    # 37,100 + 4 % = 38,584 for the year, over the 7 months September-March: 5,512.
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT tds FROM hr.payroll_line WHERE run_id = :r AND staff_id = :s"),
                            {"r": run_id, "s": team["S2"]}).scalar_one() == 5512
    register = accounts.get(f"/payroll/runs/{run_id}").get_data(as_text=True)
    assert "₹5,512.00" in register and "Old −₹5,27,000.00" in register
    # (the PDF's text comes back with spaces inside words, "T axable": compared without spaces)
    text = "".join(pdf_text(accounts.get(f"/payroll/runs/{run_id}/payslips/{team['S2']}.pdf").data).split())
    for shown in ("old regime", "₹12,00,000.00", "HRA exemption ₹1,52,000.00", "Taxable income ₹6,23,000.00",
                  "80C ₹1,50,000.00", "(with cess) ₹38,584.00", "TDS this month ₹5,512.00"):
        assert shown.replace(" ", "") in text, shown
    # S1 is on the new regime: the payslip has no old-regime lines
    s1 = " ".join(pdf_text(accounts.get(f"/payroll/runs/{run_id}/payslips/{team['S1']}.pdf").data).split())
    assert "new regime" in s1 and "HRA exemption" not in s1


def test_arrears_are_paid_by_the_months_run_and_refused_once_it_is_approved(app, engine, team):
    accounts = logged_in(app, "AC1")
    token = page_csrf(accounts, "/payroll/arrears")
    typed = {"csrf_token": token, "staff_id": str(team["S1"]), "for_month": "2025-08", "paid_in": "2025-09",
             "amount": "750", "reason": "Conveyance missed in August"}
    assert accounts.post("/payroll/arrears", data=typed).status_code == 303
    same = accounts.post("/payroll/arrears", data={**typed, "paid_in": "2025-08"})
    assert same.status_code == 422 and "paid in a month after" in same.get_data(as_text=True)
    close_september(engine, team)
    run_id = _run(accounts, token)
    register = accounts.get(f"/payroll/runs/{run_id}").get_data(as_text=True)
    assert "₹21,750.00" in register                       # 21,000 + the arrears
    accounts.post(f"/payroll/runs/{run_id}/check", data={"csrf_token": token})
    manager = logged_in(app, "MGR")
    manager.post(f"/payroll/runs/{run_id}/approve", data={"csrf_token": page_csrf(manager, f"/payroll/runs/{run_id}")})

    late = accounts.post("/payroll/arrears", data={**typed, "amount": "-1,200", "reason": "Excess HRA in August"})
    body = late.get_data(as_text=True)
    assert late.status_code == 422 and "checked or approved: pay the arrears in a later month" in body
    assert 'value="-1,200"' in body and 'value="2025-09"' in body
    assert accounts.post("/payroll/arrears", data={**typed, "paid_in": "2025-10", "amount": "-1,200",
                                                   "reason": "Excess HRA in August"}).status_code == 303
    listing = accounts.get("/payroll/arrears").get_data(as_text=True)
    assert "-₹1,200.00" in listing and "Excess HRA in August" in listing and "Approved" in listing
    assert logged_in(app, "S1").get("/payroll/arrears").status_code == 403

    # the rates September's approved run used are marked so on the rates page
    rates = manager.get("/payroll/rates").get_data(as_text=True)
    assert "Used by an approved run" in rates and "Save the new rates" not in rates   # a manager reads only


def test_new_dated_rates_from_this_month_on_and_never_before(app, engine, team):
    this_month = today_ist().replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    fy = this_month.year if this_month.month >= 4 else this_month.year - 1
    accounts = logged_in(app, "AC1")
    page = accounts.get("/payroll/rates").get_data(as_text=True)
    assert "In force" in page and "₹15,000.00" in page and "Karnataka" in page
    token = csrf_from(page)
    manager = logged_in(app, "MGR")
    pf = {"csrf_token": token, "effective_from": "2025-04", "employee_pct": "12", "eps_pct": "8.33", "epf_pct": "3.67",
          "edli_pct": "0.5", "admin_pct": "0.5", "wage_ceiling": "21,000"}
    assert manager.post("/payroll/rates/pf", data=pf).status_code == 403
    back_dated = accounts.post("/payroll/rates/pf", data=pf)
    body = back_dated.get_data(as_text=True)
    assert back_dated.status_code == 422 and "From this month or a later one" in body and 'value="21,000"' in body
    assert accounts.post("/payroll/rates/pf", data={**pf, "effective_from": f"{this_month:%Y-%m}"}).status_code == 303
    twice = accounts.post("/payroll/rates/pf", data={**pf, "effective_from": f"{this_month:%Y-%m}"})
    assert twice.status_code == 422 and "There are PF rates from that month already" in twice.get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT wage_ceiling FROM hr.pay_pf_rate WHERE effective_from = :m"),
                            {"m": this_month}).scalar_one() == 21000

    pt = {"csrf_token": token, "state_code": "29", "effective_from": f"{next_month:%Y-%m}",
          "slabs-0-gross_from": "25000", "slabs-0-monthly_tax": "200", "slabs-0-february_tax": "300"}
    no_zero = accounts.post("/payroll/rates/pt", data=pt)
    assert no_zero.status_code == 422 and "The first slab starts at a gross of 0" in no_zero.get_data(as_text=True)
    half = accounts.post("/payroll/rates/pt", data={**pt, "slabs-1-gross_from": "0"})
    assert half.status_code == 422 and "Enter it, or clear the row" in half.get_data(as_text=True)
    assert accounts.post("/payroll/rates/pt", data={**pt, "slabs-1-gross_from": "0", "slabs-1-monthly_tax": "0",
                                                    "slabs-1-february_tax": "0"}).status_code == 303

    tds = {"csrf_token": token, "effective_from": str(fy + 1), "regime": "NEW", "standard_deduction": "75000",
           "rebate_income": "1200000", "rebate_max": "60000", "cess_pct": "4", "marginal_relief": "y",
           "slabs-0-income_from": "0", "slabs-0-rate_pct": "0", "slabs-1-income_from": "400000", "slabs-1-rate_pct": "5"}
    assert accounts.post("/payroll/rates/tds", data={**tds, "effective_from": "2024"}).status_code == 422
    assert accounts.post("/payroll/rates/tds", data=tds).status_code == 303
    old = {"csrf_token": token, "effective_from": str(fy + 1), "cap_80c": "150000", "cap_80d": "25000",
           "cap_24b": "200000", "rent_over_pct": "10", "metro_pct": "150", "other_pct": "40"}
    over = accounts.post("/payroll/rates/old-regime", data=old)
    assert over.status_code == 422 and "A percentage from 0 to 100" in over.get_data(as_text=True)
    assert accounts.post("/payroll/rates/old-regime", data={**old, "metro_pct": "50"}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM hr.pay_pt_slab WHERE effective_from = :m"),
                            {"m": next_month}).scalar_one() == 2
        assert conn.execute(sa.text("""SELECT marginal_relief FROM hr.pay_tds_regime
                                        WHERE regime = 'NEW' AND effective_from = :f"""),
                            {"f": date(fy + 1, 4, 1)}).scalar_one() is True
    page = manager.get("/payroll/rates").get_data(as_text=True)
    assert "₹21,000.00" in page and f"{fy + 1}-{(fy + 2) % 100:02d}" in page
