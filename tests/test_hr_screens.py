"""HR screens: enabling a browser as the punching terminal and punching there by staff code and PIN (no session;
two punches of a kind in a row, a leaver and a wrong PIN refused with the reason), a correction by the manager,
leave applied for, refused beyond the balance and when overlapping, decided by the reporting manager only,
the employment details and a document, and the month's sheet (screen, PDF, XLSX) closed by accounts for
payroll (webapp/hr/api.py)."""
from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import hr_builders as hr
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login, page_csrf

from webapp.formatting import today_ist

PIN = "2580"
MONTH = "2025-09"


@pytest.fixture
def team(app, engine, make_branch, make_staff):
    """A branch with its default shift, a manager, a salesperson reporting to them, another salesperson and
    an accountant, all with employment details; CL 12 days a year."""
    branch = make_branch()
    ids = {"branch": branch}
    for code, role in (("MGR", "MANAGER"), ("S1", "SALES"), ("S2", "SALES"), ("AC1", "ACCOUNTS")):
        ids[code], _, _ = make_staff(code, role, PIN, branch_id=branch)
    with engine.begin() as conn:
        hr.shift(conn, branch)
        for code in ("MGR", "S1", "S2", "AC1"):
            conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on, manager_id) VALUES (:s, '2025-01-01', :m)"),
                         {"s": ids[code], "m": ids["MGR"] if code != "MGR" else None})
        for year in (2025, today_ist().year):
            hr.quota(conn, "CL", year, "12")
    return ids


def logged_in(app, code):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def punch(client, code, pin, kind):
    token = page_csrf(client, "/hr/terminal")
    return client.post("/hr/terminal", data={"csrf_token": token, "staff_code": code, "pin": pin, "kind": kind})


def punches(engine, staff_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT kind, terminal_id IS NOT NULL AS at_terminal FROM hr.punch WHERE staff_id = :s "
                                    "ORDER BY punched_at, punch_id"), {"s": staff_id}).all()


def enable_terminal(app):
    """A manager's browser made the terminal, then logged out: the cookie stays."""
    client = logged_in(app, "MGR")
    token = page_csrf(client, "/hr/terminal/setup")
    response = client.post("/hr/terminal/setup", data={"csrf_token": token, "name": "Front desk"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/hr/terminal")
    client.post("/logout", data={"csrf_token": page_csrf(client, "/profile")})
    return client


def test_a_browser_that_is_not_a_terminal_takes_no_punch(app, engine, team):
    client = app.test_client()
    assert "not a punching terminal" in client.get("/hr/terminal").get_data(as_text=True)
    assert punch(client, "S1", PIN, "IN").status_code == 409
    assert punches(engine, team["S1"]) == []


def test_punching_in_and_out_at_the_terminal_with_the_pin(app, engine, team):
    client = enable_terminal(app)
    response = punch(client, "S1", PIN, "IN")
    assert response.status_code == 303
    assert "Staff S1: in at" in client.get("/hr/terminal").get_data(as_text=True)
    again = punch(client, "S1", PIN, "IN")
    assert again.status_code == 422
    assert "Two punches of the same kind in a row" in again.get_data(as_text=True)
    assert punch(client, "S1", PIN, "OUT").status_code == 303
    assert punches(engine, team["S1"]) == [("IN", True), ("OUT", True)]
    # Nobody was logged in on the terminal by the punches.
    assert client.get("/hr/me").status_code == 303


def test_a_wrong_pin_and_a_leaver_are_refused_at_the_terminal(app, engine, team):
    client = enable_terminal(app)
    wrong = punch(client, "S1", "9999", "IN")
    assert wrong.status_code == 401
    assert "Staff code or PIN is not right" in wrong.get_data(as_text=True)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hr.employee SET left_on = :d WHERE staff_id = :s"),
                     {"d": today_ist(), "s": team["S2"]})
    leaver = punch(client, "S2", PIN, "IN")
    assert leaver.status_code == 401
    assert punches(engine, team["S1"]) == [] and punches(engine, team["S2"]) == []


def test_a_revoked_terminal_stops_taking_punches(app, engine, team):
    client = enable_terminal(app)
    with engine.connect() as conn:
        terminal_id = conn.execute(sa.text("SELECT terminal_id FROM hr.terminal WHERE branch_id = :b"),
                                   {"b": team["branch"]}).scalar()
    manager = logged_in(app, "MGR")
    token = page_csrf(manager, "/hr/terminal/setup")
    assert manager.post(f"/hr/terminals/{terminal_id}/revoke", data={"csrf_token": token}).status_code == 303
    assert punch(client, "S1", PIN, "IN").status_code == 409


def test_the_manager_regularises_a_forgotten_out_punch(app, engine, team):
    with engine.begin() as conn:
        hr.punch(conn, team["branch"], team["S1"], "IN", "2025-09-08 09:30", by=team["MGR"])
    manager = logged_in(app, "MGR")
    page = manager.get("/hr/team").get_data(as_text=True)
    assert "08-09-2025" in page and "Regularise" in page
    form = manager.get(f"/hr/corrections/new?staff_id={team['S1']}&day=2025-09-08&kind=OUT").get_data(as_text=True)
    assert "08-09-2025 18:30" in form   # the end of the person's shift that day
    data = {"csrf_token": csrf_from(form), "staff_id": team["S1"], "kind": "OUT", "punched_at": "08-09-2025 18:45"}
    short = manager.post("/hr/corrections/new", data={**data, "reason": "no"})
    assert short.status_code == 422 and "08-09-2025 18:45" in short.get_data(as_text=True)
    done = manager.post("/hr/corrections/new", data={**data, "reason": "Left at 18:45, forgot to punch out"})
    assert done.status_code == 303
    assert "08-09-2025" not in manager.get("/hr/team").get_data(as_text=True)
    # A second OUT for that day is two in a row: refused next to the field, nothing saved.
    twice = manager.post("/hr/corrections/new", data={**data, "reason": "Left at 18:45, forgot to punch out"})
    assert twice.status_code == 422 and "Two punches of the same kind" in twice.get_data(as_text=True)
    assert punches(engine, team["S1"]) == [("IN", False), ("OUT", False)]


def apply(client, **fields):
    token = page_csrf(client, "/hr/leave/new")
    return client.post("/hr/leave/new", data={"csrf_token": token, "half": "", "reason": "Sister's wedding", **fields})


def test_leave_applied_beyond_balance_or_overlapping_is_refused_and_the_manager_decides(app, engine, team):
    year = today_ist().year
    person = logged_in(app, "S1")
    over = apply(person, leave_code="CL", from_date=f"01-03-{year}", to_date=f"31-03-{year}")
    assert over.status_code == 422
    assert "More days than the balance" in over.get_data(as_text=True)
    assert f"31-03-{year}" in over.get_data(as_text=True)   # what was typed stays
    assert apply(person, leave_code="CL", from_date=f"02-03-{year}", to_date=f"03-03-{year}").status_code == 303
    overlap = apply(person, leave_code="LOP", from_date=f"03-03-{year}")
    assert overlap.status_code == 422 and "already have leave" in overlap.get_data(as_text=True)
    assert "Applied, waiting" in person.get("/hr/me").get_data(as_text=True)
    with engine.connect() as conn:
        leave_id = conn.execute(sa.text("SELECT leave_id FROM hr.leave_application WHERE staff_id = :s"),
                                {"s": team["S1"]}).scalar()

    colleague = logged_in(app, "S2")   # not the reporting manager
    token = page_csrf(colleague, "/hr/team")
    colleague.post(f"/hr/leave/{leave_id}/decide", data={"csrf_token": token, "decision": "APPROVED"})
    assert "Only the reporting manager" in colleague.get("/hr/team").get_data(as_text=True)

    manager = logged_in(app, "MGR")
    assert "Sister&#39;s wedding" in manager.get("/hr/team").get_data(as_text=True)
    token = page_csrf(manager, "/hr/team")
    manager.post(f"/hr/leave/{leave_id}/decide", data={"csrf_token": token, "decision": "APPROVED", "note": "Enjoy"})
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status, decided_by FROM hr.leave_application WHERE leave_id = :l"),
                            {"l": leave_id}).one() == ("APPROVED", team["MGR"])


def test_employment_details_with_the_existing_checks_a_document_and_a_leaver(app, engine, team):
    manager = logged_in(app, "MGR")
    page = manager.get(f"/hr/people/{team['S2']}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "joined_on": "01-01-2025", "left_on": "", "department_id": "0",
            "manager_id": str(team["MGR"]), "shift_id": "0", "uan": "1001 2345 6789", "pf_number": "KN/BNG/0012345/000/0001234",
            "esi_ip_number": "", "pan": "ABCDE1234", "bank_account_no": "123456789012", "ifsc": "HDFC0001234",
            "emergency_name": "Lakshmi", "emergency_relation": "Mother", "emergency_phone": "9845012345"}
    bad = manager.post(f"/hr/people/{team['S2']}", data=data)
    assert bad.status_code == 422 and "PAN is 5 letters" in bad.get_data(as_text=True)
    assert manager.post(f"/hr/people/{team['S2']}", data={**data, "pan": "ABCDE1234F"}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT e.uan, e.pf_number, s.pan FROM hr.employee e JOIN master.staff s USING (staff_id) "
                                    "WHERE staff_id = :s"), {"s": team["S2"]}).one() == (
            "100123456789", "KNBNG00123450000001234", "ABCDE1234F")
    cycle = manager.post(f"/hr/people/{team['MGR']}", data={**data, "pan": "", "bank_account_no": "", "ifsc": "",
                                                              "manager_id": str(team["S2"])})
    assert cycle.status_code == 422 and "reports (through others) to this person" in cycle.get_data(as_text=True)

    token = page_csrf(manager, f"/hr/people/{team['S2']}")
    pdf = b"%PDF-1.4 appointment letter"
    response = manager.post(f"/hr/people/{team['S2']}/documents", data={
        "csrf_token": token, "kind": "APPOINTMENT_LETTER", "file": (io.BytesIO(pdf), "letter.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with engine.connect() as conn:
        document_id, sha = conn.execute(sa.text("SELECT document_id, sha256 FROM hr.employee_document WHERE staff_id = :s"),
                                        {"s": team["S2"]}).one()

    assert sha == hashlib.sha256(pdf).hexdigest()
    assert manager.get(f"/hr/documents/{document_id}").data == pdf

    leaving = manager.post(f"/hr/people/{team['S2']}", data={**data, "pan": "ABCDE1234F", "left_on": "01-09-2025"})
    assert leaving.status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT is_active FROM master.staff WHERE staff_id = :s"), {"s": team["S2"]}).scalar() is False


def test_the_sheet_pdf_xlsx_and_the_close_that_payroll_reads(app, engine, team):
    with engine.begin() as conn:
        hr.worked(conn, team["branch"], team["S1"], "2025-09-01", "09:45", "18:30", by=team["MGR"])   # late
        hr.worked(conn, team["branch"], team["S1"], "2025-09-02", "09:30", None, by=team["MGR"])      # no out-punch
    accounts = logged_in(app, "AC1")
    page = accounts.get(f"/hr/sheet?month={MONTH}").get_data(as_text=True)
    assert "Staff S1" in page and "Out-punch missing" in page and "Close the month" in page
    assert accounts.get(f"/hr/sheet.pdf?month={MONTH}").data.startswith(b"%PDF")
    workbook = accounts.get(f"/hr/sheet.xlsx?month={MONTH}").data
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(workbook)).namelist()

    token = csrf_from(page)
    accounts.post(f"/hr/sheet/close?month={MONTH}", data={"csrf_token": token})
    assert "not regularised yet" in accounts.get(f"/hr/sheet?month={MONTH}").get_data(as_text=True)
    with engine.begin() as conn:
        hr.punch(conn, team["branch"], team["S1"], "OUT", "2025-09-02 18:30", by=team["MGR"], reason="Forgot at 18:30")
    accounts.post(f"/hr/sheet/close?month={MONTH}", data={"csrf_token": token})
    assert "Closed on" in accounts.get(f"/hr/sheet?month={MONTH}").get_data(as_text=True)

    from webapp.hr.api import month_closed, payment_days
    with engine.connect() as conn:
        assert month_closed(conn, team["branch"], date(2025, 9, 15))
        days = {r["staff_id"]: r for r in payment_days(conn, team["branch"], date(2025, 9, 1))}
    assert days[team["S1"]]["payment_days"] == 6   # two days worked and four Sundays
    assert days[team["S1"]]["lop_days"] == 24


def test_who_sees_what(app, team):
    person = logged_in(app, "S1")
    assert person.get("/hr/me").status_code == 200
    assert person.get("/hr/sheet").status_code == 403
    assert person.get(f"/hr/people/{team['S2']}").status_code == 403
    accounts = logged_in(app, "AC1")
    assert accounts.get("/hr/sheet").status_code == 200
    assert "Nobody reports to you" in accounts.get("/hr/corrections/new").get_data(as_text=True)
    manager = logged_in(app, "MGR")
    token = page_csrf(manager, "/hr/sheet")
    assert manager.post(f"/hr/sheet/close?month={MONTH}", data={"csrf_token": token}).status_code == 403


def test_unused_leave_is_carried_into_the_year_from_the_settings(app, engine, team):
    with engine.begin() as conn:
        hr.quota(conn, "EL", 2025, "15", carry="30")
    manager = logged_in(app, "MGR")
    token = page_csrf(manager, "/hr/settings?year=2026")
    response = manager.post("/hr/quotas/carry-forward?year=2026", data={"csrf_token": token})
    assert response.status_code == 303
    assert "carried into 2026: 4 balances written" in manager.get("/hr/settings?year=2026").get_data(as_text=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT days FROM hr.leave_opening WHERE staff_id = :s AND year = 2026"),
                            {"s": team["S1"]}).scalar() == 15
