"""Incentives in a real browser, on a tablet: accounts enter Rs 500 a vehicle delivered by a salesperson and compute
September from its delivery; a manager opens the salesperson's month, sees the delivery and adds an exchange bonus
with its reason; the run pays both. Each incentive screen is photographed at 768x1024 and 1366x768 (into
$PAYROLL_SCREENSHOTS when set, else the test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import builders as b
import hr_builders as hr
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from test_payroll_incentives_db import deliver

from .pages.auth import LoginPage
from .pages.incentives import IncentiveRulesPage, IncentivesPage
from .pages.layout import LoggedIn, screens_too_wide
from .pages.payroll import RunsPage
from .test_payroll_journey import payroll_team

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_a_rule_the_months_delivery_and_a_managers_adjustment_paid_by_the_run(new_page, engine, make_branch,
                                                                                 make_staff, tmp_path):
    branch, manager, seller, accounts = payroll_team(engine, make_branch, make_staff)
    with engine.begin() as conn:
        conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra)
                                VALUES (:s, '2025-01-01', 21000, 15000, 6000)"""), {"s": seller})
        day = date(2025, 9, 1)
        while day.month == 9:
            if day.isoweekday() != 7:
                hr.worked(conn, branch, seller, day.isoformat(), "09:30", "18:30", by=manager)
            day += timedelta(days=1)
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, '2025-09-01', :s)"),
                     {"b": branch, "s": accounts})
        cat = b.vehicle_catalog(conn)
        b.price(conn, cat.variant_id, "2025-04-01", ex_showroom="157000.00")
        unit = b.unit(conn, cat.variant_id, cat.colours[0], branch)
        deliver(conn, b.Sale(branch, manager, seller, b.customer(conn, branch), cat, unit), unit, "2025-09-10")

    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("AC01", "739164")
    rules = IncentiveRulesPage.open(page).add(role="Sales executive", pays="Per vehicle delivered", amount="500",
                                              valid_from="01-04-2025")
    expect(rules.flash).to_contain_text("Rule saved")
    month = IncentivesPage.open(page, "2025-09").compute()
    expect(month.flash).to_contain_text("1 line")
    expect(month.main.get_by_role("row").filter(has_text="Arjun Shetty")).to_contain_text("₹500.00")
    folder = Path(os.environ.get("PAYROLL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert screens_too_wide(page, {"rules": "/payroll/incentives/rules", "month": "/payroll/incentives?month=2025-09"},
                            folder, "incentives-accounts") == []
    LoggedIn(page).log_out()

    page.set_viewport_size(TABLET)
    LoginPage.open(page).log_in("MGR1", "482913")
    person = IncentivesPage.open(page, "2025-09").person("Arjun Shetty")
    expect(person.main.get_by_role("row").filter(has_text="Per vehicle delivered")).to_contain_text("₹500.00")
    person = person.adjust("250", "Exchange bonus from the OEM")
    expect(person.flash).to_contain_text("Adjustment recorded")
    expect(person.main).to_contain_text("₹750.00")
    assert screens_too_wide(page, {"person": page.url}, folder, "incentives-manager") == []
    LoggedIn(page).log_out()

    page.set_viewport_size(TABLET)
    LoginPage.open(page).log_in("AC01", "739164")
    run = RunsPage.open(page).compute("2025-09")
    expect(run.row("Arjun Shetty")).to_contain_text("₹750.00")
    expect(run.row("Arjun Shetty")).to_contain_text("₹21,750.00")
