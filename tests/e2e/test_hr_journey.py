"""HR in a real browser: the manager enables a tablet as the punching terminal; a salesperson punches in and
out there with the keypad (no login); the manager regularises the salesperson's forgotten out-punch of last
month from the team page; accounts opens last month's sheet, which shows that day present. Each HR screen is
photographed at 768x1024 and 1366x768 (into $HR_SCREENSHOTS when set, else the test's temporary folder) and
must not scroll sideways."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import hr_builders as hr
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.hr import PunchPage, SheetPage, TeamPage, TerminalSetupPage
from .pages.layout import LoggedIn, screens_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_punch_at_the_terminal_regularise_a_forgotten_punch_and_read_the_sheet(new_page, engine, make_branch,
                                                                               make_staff, tmp_path):
    branch = make_branch()
    manager, _, _ = make_staff("MGR1", "MANAGER", "482913", name="Kavitha Rao", branch_id=branch)
    seller, _, _ = make_staff("S01", "SALES", "4826", name="Arjun Shetty", branch_id=branch)
    make_staff("AC01", "ACCOUNTS", "739164", name="Lakshmi Iyer", branch_id=branch)
    last_month = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)
    forgotten = last_month.replace(day=10) if last_month.replace(day=10).isoweekday() != 7 else last_month.replace(day=11)
    with engine.begin() as conn:
        hr.shift(conn, branch)
        conn.execute(sa.text("""INSERT INTO hr.employee (staff_id, joined_on, manager_id)
                                SELECT staff_id, DATE '2025-01-01', CASE WHEN staff_id <> :m THEN :m END
                                  FROM master.staff WHERE branch_id = :b"""), {"b": branch, "m": manager})
        hr.quota(conn, "CL", today_ist().year, "12")
        hr.punch(conn, branch, seller, "IN", f"{forgotten} 09:31", by=manager, reason="Terminal was switched off")

    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("MGR1", "482913")
    page.goto("/hr/terminal/setup")
    terminal = TerminalSetupPage(page).enable("Front desk")
    expect(terminal.flash).to_contain_text("now the punching terminal")
    LoggedIn(page).log_out()

    terminal = PunchPage.open(page)
    expect(terminal.heading).to_be_visible()
    terminal = terminal.punch("S01", "4826", "In")
    expect(terminal.flash).to_contain_text("Arjun Shetty: in at")
    refused = terminal.punch("S01", "4826", "In")
    expect(refused.main).to_contain_text("Two punches of the same kind in a row")
    terminal = refused.punch("S01", "4826", "Out")
    expect(terminal.flash).to_contain_text("Arjun Shetty: out at")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)   # nobody is logged in at the terminal

    page.goto("/login")
    dashboard = LoginPage(page).log_in("MGR1", "482913")
    dashboard.open_module("Attendance and leave")
    page.get_by_role("main").get_by_role("link", name="My team").click()
    team = TeamPage(page)
    expect(team.forgotten("Arjun Shetty")).to_contain_text(f"{forgotten:%d-%m-%Y}")
    correction = team.regularise("Arjun Shetty")
    expect(correction.when).to_have_value(f"{forgotten:%d-%m-%Y} 18:30")   # the end of the shift that day
    team = correction.record(f"{forgotten:%d-%m-%Y} 18:40", "Left at 18:40 with the last customer")
    expect(team.flash).to_contain_text("Correction recorded.")
    expect(team.forgotten("Arjun Shetty")).to_have_count(0)

    folder = Path(os.environ.get("HR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        shift_id = conn.execute(sa.text("SELECT shift_id FROM hr.shift WHERE branch_id = :b"), {"b": branch}).scalar()
    manager_screens = {"team": "/hr/team", "correction": f"/hr/corrections/new?staff_id={seller}", "people": "/hr/people",
                       "person": f"/hr/people/{seller}", "settings": "/hr/settings", "shift": f"/hr/shifts/{shift_id}",
                       "terminal-setup": "/hr/terminal/setup", "my-attendance": "/hr/me", "leave-form": "/hr/leave/new"}
    assert screens_too_wide(page, manager_screens, folder, "hr-manager") == []
    page.set_viewport_size(TABLET)
    LoggedIn(page).log_out()

    LoginPage.open(page).log_in("AC01", "739164")
    sheet = SheetPage.open(page, f"{last_month:%Y-%m}")
    expect(sheet.row("Arjun Shetty")).to_be_visible()
    expect(sheet.day("Arjun Shetty", forgotten.day)).to_have_text("P")
    expect(sheet.day("Arjun Shetty", forgotten.day)).to_have_attribute("title", "Present")
    expect(sheet.main).to_contain_text("Close the month")
    # The whole month's grid scrolls in its own box: the page itself does not.
    assert screens_too_wide(page, {"sheet": f"/hr/sheet?month={last_month:%Y-%m}"}, folder, "hr-accounts") == []
    page.set_viewport_size(TABLET)
    LoggedIn(page).log_out()
    PunchPage.open(page)
    assert screens_too_wide(page, {"terminal": "/hr/terminal"}, folder, "hr") == []
