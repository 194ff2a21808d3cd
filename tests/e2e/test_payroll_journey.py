"""Payroll in a real browser: accounts compute September's run over the closed attendance month and mark it
checked; a manager approves it. Each payroll screen is photographed at 768x1024 and 1366x768 (into
$PAYROLL_SCREENSHOTS when set, else the test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import hr_builders as hr
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.layout import LoggedIn, screens_too_wide
from .pages.payroll import RunPage, RunsPage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def payroll_team(engine, make_branch, make_staff) -> tuple[int, int, int, int]:
    """A branch with its default shift and three people employed from 01-01-2025, reporting to the manager:
    MGR1 (Kavitha Rao), S01 (Arjun Shetty) and AC01 (Lakshmi Iyer). Returns (branch, manager, seller, accounts)."""
    branch = make_branch()
    manager, _, _ = make_staff("MGR1", "MANAGER", "482913", name="Kavitha Rao", branch_id=branch)
    seller, _, _ = make_staff("S01", "SALES", "4826", name="Arjun Shetty", branch_id=branch)
    accounts, _, _ = make_staff("AC01", "ACCOUNTS", "739164", name="Lakshmi Iyer", branch_id=branch)
    with engine.begin() as conn:
        hr.shift(conn, branch)
        conn.execute(sa.text("""INSERT INTO hr.employee (staff_id, joined_on, manager_id)
                                SELECT staff_id, DATE '2025-01-01', CASE WHEN staff_id <> :m THEN :m END
                                  FROM master.staff WHERE branch_id = :b"""), {"b": branch, "m": manager})
    return branch, manager, seller, accounts


def test_compute_check_and_approve_the_month(new_page, engine, make_branch, make_staff, tmp_path):
    branch, manager, seller, accounts = payroll_team(engine, make_branch, make_staff)
    with engine.begin() as conn:
        desk = hr.terminal(conn, branch, manager)
        for staff, gross, basic, hra_ in ((seller, 21000, 15000, 6000), (accounts, 40000, 20000, 20000),
                                           (manager, 150000, 60000, 90000)):
            conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra)
                                    VALUES (:s, '2025-01-01', :g, :b, :h)"""), {"s": staff, "g": gross, "b": basic, "h": hra_})
            day = date(2025, 9, 1)
            while day.month == 9:
                if day.isoweekday() != 7 and not (staff == seller and day.day in (3, 4)):
                    hr.worked(conn, branch, staff, day.isoformat(), "09:30", "18:30", by=manager,
                              terminal=desk if staff == manager else None)   # nobody corrects the manager's own
                day += timedelta(days=1)
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, '2025-09-01', :s)"),
                     {"b": branch, "s": accounts})

    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("AC01", "739164")
    run = RunsPage.open(page).compute("2025-09")
    expect(run.flash).to_contain_text("Draft run computed")
    expect(run.row("Arjun Shetty")).to_contain_text("28")
    run_url = page.url
    folder = Path(os.environ.get("PAYROLL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    screens = {"runs": "/payroll/", "run-draft": run_url, "structures": "/payroll/structures",
               "structure": f"/payroll/structures/{seller}"}
    assert screens_too_wide(page, screens, folder, "payroll-accounts") == []
    page.set_viewport_size(TABLET)
    page.goto(run_url)
    run = RunPage(page).step("Mark checked")
    expect(run.flash).to_contain_text("Marked checked")
    LoggedIn(page).log_out()

    LoginPage.open(page).log_in("MGR1", "482913")
    page.goto(run_url)
    page.once("dialog", lambda dialog: dialog.accept())
    run = RunPage(page).step("Approve and post the voucher")
    expect(run.flash).to_contain_text("Approved")
    assert screens_too_wide(page, {"run-approved": run_url, "my-payslips": "/payroll/me"}, folder,
                            "payroll-manager") == []
