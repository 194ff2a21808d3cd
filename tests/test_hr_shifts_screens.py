"""Screens of regularisation by the reporting manager and of night shifts: a salesperson who leads a team sees
their report's forgotten out-punch on the team page and marks the correction in their own name; a colleague
chooses nobody and a punch forced for someone not theirs is refused; the night guard's forgotten out-punch is
offered at the end of the shift, the next morning, and the guard's own month shows it under the evening the
night began. A night shift is set up on the settings screen."""
from __future__ import annotations

import hr_builders as hr
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login, page_csrf

PIN = "2580"


@pytest.fixture
def team(app, engine, make_branch, make_staff):
    """MGR (MANAGER); LEAD (SALES) reports to MGR and leads S1; S2 (SALES) reports to MGR; G1 (TECHNICIAN) works
    the night shift 22:00-06:00 and reports to LEAD."""
    branch = make_branch()
    ids = {"branch": branch}
    for code, role in (("MGR", "MANAGER"), ("LEAD", "SALES"), ("S1", "SALES"), ("S2", "SALES"), ("G1", "TECHNICIAN")):
        ids[code], _, _ = make_staff(code, role, PIN, branch_id=branch)
    with engine.begin() as conn:
        hr.shift(conn, branch)
        night = hr.shift(conn, branch, name="Night", starts="22:00", ends="06:00", default=False)
        for code, boss in (("MGR", None), ("LEAD", "MGR"), ("S1", "LEAD"), ("S2", "MGR"), ("G1", "LEAD")):
            conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on, manager_id, shift_id) "
                                 "VALUES (:s, '2025-01-01', :m, :sh)"),
                         {"s": ids[code], "m": ids.get(boss), "sh": night if code == "G1" else None})
        hr.punch(conn, branch, ids["S1"], "IN", "2025-09-08 09:30", by=ids["MGR"])       # forgotten out-punches
        hr.punch(conn, branch, ids["G1"], "IN", "2025-09-09 22:00", by=ids["MGR"])
    return ids


def logged_in(app, code):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def marked(engine, staff_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("""SELECT p.kind, to_char(p.work_day, 'DD-MM'), m.staff_code
                                         FROM hr.punch p JOIN master.staff m ON m.staff_id = p.marked_by
                                        WHERE p.staff_id = :s ORDER BY p.punched_at"""), {"s": staff_id}).all()


def test_a_team_lead_regularises_their_reports_forgotten_out_punch(app, engine, team):
    lead = logged_in(app, "LEAD")
    page = lead.get("/hr/team").get_data(as_text=True)
    assert "Staff S1" in page and "08-09-2025" in page and "Regularise" in page and "Mark a correction punch" in page
    assert "Staff S2" not in page                       # not theirs
    form = lead.get(f"/hr/corrections/new?staff_id={team['S1']}&day=2025-09-08&kind=OUT").get_data(as_text=True)
    assert "08-09-2025 18:30" in form and "Staff S2" not in form
    data = {"csrf_token": csrf_from(form), "staff_id": team["S1"], "kind": "OUT", "punched_at": "08-09-2025 18:40",
            "reason": "Left at 18:40 with the last customer"}
    assert lead.post("/hr/corrections/new", data=data).status_code == 303
    assert marked(engine, team["S1"]) == [("IN", "08-09", "MGR"), ("OUT", "08-09", "LEAD")]
    assert "08-09-2025" not in lead.get("/hr/team").get_data(as_text=True)
    # Someone not theirs, typed in: not among the choices, and nothing is written.
    other = lead.post("/hr/corrections/new", data={**data, "staff_id": team["S2"], "punched_at": "08-09-2025 09:30",
                                                   "kind": "IN"})
    assert other.status_code == 422 and marked(engine, team["S2"]) == []


def test_a_colleague_with_nobody_reporting_marks_nothing(app, engine, team):
    colleague = logged_in(app, "S2")
    page = colleague.get("/hr/team").get_data(as_text=True)
    assert "Regularise" not in page and "Mark a correction punch" not in page
    form = colleague.get("/hr/corrections/new").get_data(as_text=True)
    assert "Nobody reports to you" in form
    refused = colleague.post("/hr/corrections/new", data={
        "csrf_token": csrf_from(form), "staff_id": team["S1"], "kind": "OUT", "punched_at": "08-09-2025 18:40",
        "reason": "Saw him leave at 18:40"})
    assert refused.status_code == 422 and marked(engine, team["S1"]) == [("IN", "08-09", "MGR")]


def test_the_database_refuses_a_correction_by_someone_not_the_manager(app, engine, team, monkeypatch):
    """The screen's choices aside: the punch written for someone not theirs is refused next to the field."""
    from webapp.hr import queries

    monkeypatch.setattr(queries, "punchable_staff", lambda conn, branch_id, **_: [(team["S2"], "Staff S2")])
    lead = logged_in(app, "LEAD")
    form = lead.get("/hr/corrections/new").get_data(as_text=True)
    response = lead.post("/hr/corrections/new", data={
        "csrf_token": csrf_from(form), "staff_id": team["S2"], "kind": "IN", "punched_at": "10-09-2025 09:30",
        "reason": "Terminal was switched off"})
    assert response.status_code == 422
    assert "reporting manager, or a manager of the branch" in response.get_data(as_text=True)
    assert marked(engine, team["S2"]) == []


def test_a_night_guards_out_punch_is_regularised_the_next_morning(app, engine, team):
    lead = logged_in(app, "LEAD")
    form = lead.get(f"/hr/corrections/new?staff_id={team['G1']}&day=2025-09-09&kind=OUT").get_data(as_text=True)
    assert "10-09-2025 06:00" in form                   # the end of the night shift of the 9th
    data = {"csrf_token": csrf_from(form), "staff_id": team["G1"], "kind": "OUT", "punched_at": "10-09-2025 06:00",
            "reason": "Handed over to the day guard at 06:00"}
    assert lead.post("/hr/corrections/new", data=data).status_code == 303
    assert marked(engine, team["G1"]) == [("IN", "09-09", "MGR"), ("OUT", "09-09", "LEAD")]
    guard = logged_in(app, "G1")
    month = guard.get("/hr/me?month=2025-09").get_data(as_text=True)
    assert "OUT 06:00 <small class=\"hint\">(next day)</small>" in month


def test_a_night_shift_is_set_up_on_the_settings_screen(app, engine, team):
    manager = logged_in(app, "MGR")
    token = page_csrf(manager, "/hr/settings")
    data = {"csrf_token": token, "name": "Charging bay", "starts_at": "21:00", "ends_at": "05:00", "grace_minutes": "10",
            "half_day_hours": "6", "absent_hours": "3", "weekly_off": "1"}
    short = manager.post("/hr/shifts", data={**data, "half_day_hours": "9"})
    assert short.status_code == 422 and "at most the shift&#39;s length" in short.get_data(as_text=True)
    same = manager.post("/hr/shifts", data={**data, "ends_at": "21:00"})
    assert same.status_code == 422 and "crosses midnight" in same.get_data(as_text=True)
    assert manager.post("/hr/shifts", data=data).status_code == 303
    assert "next day (night)" in manager.get("/hr/settings").get_data(as_text=True)


def test_a_managers_own_forgotten_out_punch_waits_for_someone_else(app, engine, team, make_staff):
    with engine.begin() as conn:
        desk = hr.terminal(conn, team["branch"], team["MGR"])
        hr.punch(conn, team["branch"], team["MGR"], "IN", "2025-09-11 09:30", terminal=desk)   # and no OUT
    manager = logged_in(app, "MGR")
    page = manager.get("/hr/team").get_data(as_text=True)
    assert "Staff S1" in page and "11-09-2025" not in page       # everyone's of the branch but their own
    make_staff("ADM", "ADMIN", PIN, branch_id=team["branch"])
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on) SELECT staff_id, '2025-01-01' "
                             "FROM master.staff WHERE staff_code = 'ADM'"))
    assert "11-09-2025" in logged_in(app, "ADM").get("/hr/team").get_data(as_text=True)
