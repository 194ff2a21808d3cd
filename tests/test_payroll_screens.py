"""Payroll screens: accounts compute the month's run over HR's closed attendance (refused before), check it; a
manager approves it (its voucher posted); the register (screen and XLSX), the bank transfer CSV, the PF ECR text
and the ESI file; the payslip PDF read back with the amount in words; everyone else sees only their own payslips;
a salary structure that does not add up comes back with the reason next to the field."""
from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import hr_builders as hr
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login, page_csrf

PIN = "2580"
SEPT = date(2025, 9, 1)


@pytest.fixture
def team(app, engine, make_branch, make_staff):
    """A branch (Karnataka) with a manager, two salespeople and an accountant; S1 on Rs 21,000 with a UAN and an
    ESI number and a bank account, S2 on Rs 40,000; September 2025 worked in full by both and closed."""
    branch = make_branch()
    ids = {"branch": branch}
    for code, role in (("MGR", "MANAGER"), ("S1", "SALES"), ("S2", "SALES"), ("AC1", "ACCOUNTS")):
        ids[code], _, _ = make_staff(code, role, PIN, branch_id=branch)
    with engine.begin() as conn:
        hr.shift(conn, branch)
        for code in ("MGR", "S1", "S2", "AC1"):
            conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on, manager_id) VALUES (:s, '2025-01-01', :m)"),
                         {"s": ids[code], "m": ids["MGR"] if code != "MGR" else None})
        conn.execute(sa.text("""UPDATE hr.employee SET uan = '100123456789', esi_ip_number = '3100123456'
                                 WHERE staff_id = :s"""), {"s": ids["S1"]})
        conn.execute(sa.text("UPDATE master.staff SET bank_account_no = '123456789012', ifsc = 'HDFC0001234' "
                             "WHERE staff_id = :s"), {"s": ids["S1"]})
        for code, gross, basic, hra_ in (("S1", 21000, 15000, 6000), ("S2", 40000, 20000, 20000)):
            conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra)
                                    VALUES (:s, '2025-01-01', :g, :b, :h)"""),
                         {"s": ids[code], "g": gross, "b": basic, "h": hra_})
            day = SEPT
            while day.month == 9:
                if day.isoweekday() != 7:
                    hr.worked(conn, branch, ids[code], day.isoformat(), "09:30", "18:30", by=ids["MGR"])
                day += timedelta(days=1)
    return ids


def logged_in(app, code):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def close_september(engine, team):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"),
                     {"b": team["branch"], "m": SEPT, "s": team["AC1"]})


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_month_run_checked_approved_with_its_files_and_payslips(app, engine, team):
    accounts = logged_in(app, "AC1")
    token = page_csrf(accounts, "/payroll/")
    refused = accounts.post("/payroll/runs", data={"csrf_token": token, "month": "2025-09"})
    assert refused.status_code == 422 and "has not closed the attendance" in refused.get_data(as_text=True)
    assert 'value="2025-09"' in refused.get_data(as_text=True)       # what was typed stays
    close_september(engine, team)
    created = accounts.post("/payroll/runs", data={"csrf_token": token, "month": "2025-09"})
    assert created.status_code == 303
    run_url = created.headers["Location"]
    run_id = int(run_url.rstrip("/").rsplit("/", 1)[1])
    page = accounts.get(run_url).get_data(as_text=True)
    assert "Staff" in page and "Mark checked" in page and "₹19,042.00" in page   # 21,000 - PF 1,800 - ESI 158

    ecr = accounts.get(f"/payroll/runs/{run_id}/ecr.txt").get_data(as_text=True)
    assert ecr.splitlines() == [f"100123456789#~#{_name(engine, team['S1']).upper()}#~#21000#~#15000#~#15000#~#15000"
                                "#~#1800#~#1250#~#550#~#0#~#0"]
    esi = accounts.get(f"/payroll/runs/{run_id}/esi.csv").get_data(as_text=True)
    assert "3100123456" in esi and ",30,21000," in esi and esi.count("\n") == 2
    bank = accounts.get(f"/payroll/runs/{run_id}/bank.csv").get_data(as_text=True)
    assert "123456789012,HDFC0001234,19042.00" in bank
    workbook = accounts.get(f"/payroll/runs/{run_id}/register.xlsx").data
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(workbook)).namelist()

    accounts.post(f"/payroll/runs/{run_id}/check", data={"csrf_token": csrf_from(page)})
    assert accounts.post(f"/payroll/runs/{run_id}/approve", data={"csrf_token": csrf_from(page)}).status_code == 403
    manager = logged_in(app, "MGR")
    mpage = manager.get(run_url).get_data(as_text=True)
    assert "Approve and post the voucher" in mpage
    manager.post(f"/payroll/runs/{run_id}/approve", data={"csrf_token": csrf_from(mpage)})
    with engine.connect() as conn:
        run = conn.execute(sa.text("SELECT status, voucher_id FROM hr.payroll_run WHERE run_id = :r"), {"r": run_id}).one()
        assert run.status == "APPROVED" and run.voucher_id is not None
        debit, credit = conn.execute(sa.text("SELECT sum(debit), sum(credit) FROM finance.voucher_line "
                                             "WHERE voucher_id = :v"), {"v": run.voucher_id}).one()
        assert debit == credit > 0

    again = manager.post(f"/payroll/runs/{run_id}/approve", data={"csrf_token": csrf_from(mpage)})
    assert again.status_code == 303 and "already approved" in manager.get(run_url).get_data(as_text=True)
    refused = accounts.post(f"/payroll/runs/{run_id}/recompute", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 303 and "approved run is permanent" in accounts.get(run_url).get_data(as_text=True)

    slip = accounts.get(f"/payroll/runs/{run_id}/payslips/{team['S1']}.pdf")
    text = " ".join(pdf_text(slip.data).split())
    assert "19,042.00" in text and "NineteenThousandForty-TwoRupeesOnly" in text.replace(" ", ""), text

    seller = logged_in(app, "S1")
    own = seller.get("/payroll/me").get_data(as_text=True)
    assert "₹19,042.00" in own and "₹37,800.00" not in own
    assert "19,042.00" in pdf_text(seller.get(f"/payroll/me/{run_id}.pdf").data)
    for url in (run_url, f"/payroll/runs/{run_id}/payslips/{team['S2']}.pdf", "/payroll/",
                f"/payroll/runs/{run_id}/register.xlsx"):
        assert seller.get(url).status_code == 403
    other = logged_in(app, "MGR")   # a manager without a line of their own: no payslip
    assert other.get(f"/payroll/me/{run_id}.pdf").status_code == 404


def _name(engine, staff_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT name FROM master.staff WHERE staff_id = :s"), {"s": staff_id}).scalar_one()


def test_a_structure_that_does_not_add_up_comes_back_with_the_reason(app, engine, team):
    accounts = logged_in(app, "AC1")
    url = f"/payroll/structures/{team['S2']}"
    page = accounts.get(url).get_data(as_text=True)
    assert "₹40,000.00" in page
    response = accounts.post(url, data={"csrf_token": csrf_from(page), "effective_from": "01-10-2025",
                                        "monthly_gross": "45,000", "basic": "20000", "hra": "20000"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "must add up to the monthly gross" in body and 'value="45,000"' in body
    ok = accounts.post(url, data={"csrf_token": csrf_from(page), "effective_from": "01-10-2025",
                                  "monthly_gross": "45,000", "basic": "20000", "hra": "25000"})
    assert ok.status_code == 303
    assert "₹45,000.00" in accounts.get(url).get_data(as_text=True)


def test_a_regime_and_an_advance_are_recorded_and_the_advance_recovered(app, engine, team):
    accounts = logged_in(app, "AC1")
    url = f"/payroll/structures/{team['S1']}"
    page = accounts.get(url).get_data(as_text=True)
    token = csrf_from(page)
    assert accounts.post(f"{url}/regime", data={"csrf_token": token, "fy": "2025", "regime": "OLD"}).status_code == 303
    twice = accounts.post(f"{url}/regime", data={"csrf_token": token, "fy": "2025", "regime": "NEW"})
    assert twice.status_code == 422 and "already chosen" in twice.get_data(as_text=True)
    too_much = accounts.post(f"{url}/loans", data={"csrf_token": token, "kind": "ADVANCE", "amount": "1000",
                                                    "instalment": "2000", "first_month": "2025-09", "reason": "Festival"})
    body = too_much.get_data(as_text=True)
    assert too_much.status_code == 422 and "cannot be more than the amount" in body and 'value="2025-09"' in body
    assert accounts.post(f"{url}/loans", data={"csrf_token": token, "kind": "ADVANCE", "amount": "3000",
                                               "instalment": "2000", "first_month": "2025-09",
                                               "reason": "Festival"}).status_code == 303
    close_september(engine, team)
    created = accounts.post("/payroll/runs", data={"csrf_token": token, "month": "2025-09"})
    run_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with engine.connect() as conn:
        line = conn.execute(sa.text("SELECT regime, loan_recovery, net_pay FROM hr.payroll_line "
                                    "WHERE run_id = :r AND staff_id = :s"), {"r": run_id, "s": team["S1"]}).one()
    assert (line.regime, line.loan_recovery, line.net_pay) == ("OLD", 2000, 19042 - 2000)
