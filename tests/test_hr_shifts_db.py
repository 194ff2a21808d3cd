"""Regularisation by the reporting manager and night shifts, held by PostgreSQL (sql/0057_hr_shifts.sql,
sql/functions/99_hr.sql).

A correction punch is marked, in their own name, by the person's reporting manager (whatever their role) or a
MANAGER / ADMIN who works at the branch; anyone else is refused, and nobody marks their own.

The night shift is 22:00-06:00, grace 10 minutes, half day below 6 hours, absent below 3 hours, weekly off
Sunday; its day changes at 14:00 (half-way through the 16 hours off duty). Hand-checked on September 2025 (the
1st a Monday, Sundays 7, 14, 21, 28) at the midnight boundary and on the month's last night."""
from __future__ import annotations

from decimal import Decimal

import builders as b
import hr_builders as hr
import pytest
import sqlalchemy as sa
from builders import refused

MONTH = "2025-09-01"


@pytest.fixture
def shop(conn):
    """A branch with its day shift (the default) and a night shift; a MANAGER; a salesperson who leads a team
    of one (reports to the MANAGER); their report; a colleague; an accountant; the night guard reports to the
    MANAGER."""
    branch = b.branch(conn)
    hr.shift(conn, branch)
    night = hr.shift(conn, branch, name="Night", starts="22:00", ends="06:00", default=False)
    manager = hr.employee(conn, branch, role="MANAGER")
    lead = hr.employee(conn, branch, role="SALES", manager=manager)
    report = hr.employee(conn, branch, role="SALES", manager=lead)
    colleague = hr.employee(conn, branch, role="SALES", manager=manager)
    accounts = hr.employee(conn, branch, role="ACCOUNTS", manager=manager)
    guard = hr.employee(conn, branch, role="TECHNICIAN", manager=manager)
    conn.execute(sa.text("UPDATE hr.employee SET shift_id = :n WHERE staff_id = :s"), {"n": night, "s": guard})
    return {"branch": branch, "night": night, "manager": manager, "lead": lead, "report": report,
            "colleague": colleague, "accounts": accounts, "guard": guard}


def correct(conn, shop, staff: str, by: str, at: str, kind: str = "IN") -> int:
    """A correction as a request marks it: in the name of the acting staff member (inside `refused`, its
    savepoint's rollback undoes the acting too)."""
    b.act_as(conn, shop[by])
    punch_id = hr.punch(conn, shop["branch"], shop[staff], kind, at, by=shop[by],
                        reason="Terminal was switched off")
    b.act_as(conn, None)
    return punch_id


# ----------------------------------------------------------------------------- regularisation


def test_the_reporting_manager_of_any_role_regularises_their_team(conn, shop):
    correct(conn, shop, "report", "lead", "2025-09-01 09:30")                     # a SALES team lead
    correct(conn, shop, "report", "lead", "2025-09-01 18:30", "OUT")
    marked = conn.execute(sa.text("SELECT kind, marked_by, work_day FROM hr.punch WHERE staff_id = :s ORDER BY punched_at"),
                          {"s": shop["report"]}).all()
    assert [(k, m, f"{d:%d}") for k, m, d in marked] == [("IN", shop["lead"], "01"), ("OUT", shop["lead"], "01")]


def test_nobody_else_of_the_team_marks_a_correction(conn, shop):
    with refused(conn, "punch_marked_by_manager"):
        correct(conn, shop, "report", "colleague", "2025-09-02 09:30")           # a colleague of the same role
    with refused(conn, "punch_marked_by_manager"):
        correct(conn, shop, "report", "accounts", "2025-09-02 09:30")            # accounts, not the manager
    with refused(conn, "punch_marked_by_manager"):
        correct(conn, shop, "colleague", "lead", "2025-09-02 09:30")             # a lead, but not theirs
    with refused(conn, "punch_not_by_self"):
        correct(conn, shop, "lead", "lead", "2025-09-02 09:30")                  # one's own punch
    b.act_as(conn, shop["colleague"])                                            # in the lead's name, by another
    with refused(conn, "punch_marked_by_manager"):
        hr.punch(conn, shop["branch"], shop["report"], "IN", "2025-09-02 09:30", by=shop["lead"])
    b.act_as(conn, None)
    assert b.scalar(conn, "SELECT count(*) FROM hr.punch WHERE work_day = '2025-09-02'") == 0


def test_a_manager_of_the_branch_or_an_admin_keeps_the_right_for_anyone(conn, shop):
    correct(conn, shop, "report", "manager", "2025-09-03 09:30")                 # not their report: a MANAGER
    other_branch = b.branch(conn)
    shop["far_manager"] = hr.employee(conn, other_branch, role="MANAGER")
    shop["admin"] = hr.employee(conn, other_branch, role="ADMIN")
    with refused(conn, "punch_marked_by_manager"):                               # a MANAGER of another branch
        correct(conn, shop, "report", "far_manager", "2025-09-03 18:30", "OUT")
    correct(conn, shop, "report", "admin", "2025-09-03 18:30", "OUT")            # the ADMIN works across branches
    b.staff(conn, other_branch, "ADMIN")                                         # another stays active
    conn.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :s"), {"s": shop["admin"]})
    with refused(conn, "punch_marked_by_manager"):                               # not once deactivated
        correct(conn, shop, "report", "admin", "2025-09-04 09:30")


# ----------------------------------------------------------------------------- night shifts


def day_of(conn, at: str, starts: str = "22:00", ends: str = "06:00") -> str:
    day = b.scalar(conn, "SELECT hr.work_day(CAST(:at AS timestamp) AT TIME ZONE 'Asia/Kolkata', "
                         "CAST(:s AS time), CAST(:e AS time))", at=at, s=starts, e=ends)
    return f"{day:%d-%m}"


def test_a_night_shifts_day_changes_half_way_through_the_hours_off(conn):
    assert day_of(conn, "2025-09-02 13:59:59") == "01-09"    # the morning after: the night of the 1st
    assert day_of(conn, "2025-09-02 14:00") == "02-09"
    assert day_of(conn, "2025-09-02 00:20") == "01-09"       # a late arrival after midnight
    assert day_of(conn, "2025-10-01 05:59") == "30-09"       # the month's last night
    assert day_of(conn, "2025-09-02 00:20", "09:30", "18:30") == "02-09"   # a day shift: the calendar's day
    assert day_of(conn, "2025-09-02 09:59", "18:00", "02:00") == "01-09"   # 18:00-02:00 changes at 10:00
    assert day_of(conn, "2025-09-02 10:00", "18:00", "02:00") == "02-09"


def test_a_shift_may_cross_midnight_within_its_length(conn, shop):
    with refused(conn, "shift_has_length"):
        hr.shift(conn, shop["branch"], name="Nil", starts="22:00", ends="22:00", default=False)
    with refused(conn, "shift_thresholds"):   # 22:00-02:00 is 4 hours: a half day cannot be below 6
        hr.shift(conn, shop["branch"], name="Short", starts="22:00", ends="02:00", default=False)
    hr.shift(conn, shop["branch"], name="Late", starts="22:00", ends="02:00", half_day="4", absent="2", default=False)


def test_night_punches_alternate_across_midnight_and_belong_to_the_evening(conn, shop):
    worked = lambda *a, **k: hr.worked(conn, shop["branch"], shop["guard"], *a, by=shop["manager"], **k)  # noqa: E731
    worked("2025-09-01", "21:55", "06:05", end_day="2025-09-02")
    with refused(conn, "punch_alternates"):   # an IN at 05:00 next morning is a second IN of the night of the 1st
        hr.punch(conn, shop["branch"], shop["guard"], "IN", "2025-09-02 05:00", by=shop["manager"])
    days = conn.execute(sa.text("SELECT kind, work_day FROM hr.punch WHERE staff_id = :s ORDER BY punched_at"),
                        {"s": shop["guard"]}).all()
    assert [(k, f"{d:%d}") for k, d in days] == [("IN", "01"), ("OUT", "01")]


@pytest.fixture
def nights(conn, shop):
    """The guard's September, each night hand-checked below."""
    def worked(day, start, end, end_day=None):
        hr.worked(conn, shop["branch"], shop["guard"], f"2025-09-{day}", start, end, by=shop["manager"],
                  end_day=end_day and f"2025-{end_day}")

    worked("01", "21:55", "06:05", "09-02")        # 8:10: present
    worked("02", "22:10:00", "06:00", "09-03")     # at the end of the grace: on time
    worked("03", "22:10:01", "06:00", "09-04")     # one second after: late
    hr.punch(conn, shop["branch"], shop["guard"], "IN", "2025-09-05 00:20", by=shop["manager"])   # the 4th's night,
    hr.punch(conn, shop["branch"], shop["guard"], "OUT", "2025-09-05 06:30", by=shop["manager"])  # late, 6:10: late
    worked("05", "22:00", None)                    # no out-punch (Fri night)
    # Sat 6: no punch, absent. Sun 7: weekly off.
    worked("08", "22:00", "01:00", "09-09")        # 3:00: half day
    worked("09", "22:00", "00:59", "09-10")        # 2:59: absent
    worked("30", "22:00", "06:00", "10-01")        # the month's last night, out on 1 October
    return shop


def test_a_night_shifts_days_late_marks_and_thresholds(conn, nights):
    days = hr.day_statuses(conn, nights["branch"], MONTH, nights["guard"], "2025-10-05")
    expected = {
        "01": ("PRESENT", 1), "02": ("PRESENT", 1), "03": ("LATE", 1), "04": ("LATE", 1),
        "05": ("UNREGULARISED", 0), "06": ("ABSENT", 0), "07": ("WEEKLY_OFF", 1), "08": ("HALF_DAY", Decimal("0.5")),
        "09": ("ABSENT", 0), "30": ("PRESENT", 1),
    }
    assert {d: days[d] for d in expected} == expected
    worked = conn.execute(sa.text("""SELECT to_char(day, 'DD'), worked_minutes FROM hr.attendance_days(:b, :m)
                                      WHERE staff_id = :s AND worked_minutes IS NOT NULL ORDER BY day"""),
                          {"b": nights["branch"], "m": MONTH, "s": nights["guard"]}).all()
    assert dict(worked) == {"01": 490, "02": 470, "03": 470, "04": 370, "08": 180, "09": 179, "30": 480}


def test_the_months_last_night_counts_in_that_month(conn, nights):
    t = hr.totals(conn, nights["branch"], MONTH, nights["guard"], "2025-10-05")
    # Paid: 1, 2, 3, 4, 30 worked; 8 a half day; Sundays 7, 14, 21, 28. The 5th waits for its out-punch.
    assert (t["days_employed"], t["late_marks"], t["half_days"], t["unregularised"], t["weekly_offs"],
            t["payment_days"], t["lop_days"]) == (30, 2, 1, 1, 4, Decimal("9.5"), Decimal("20.5"))
    october = hr.day_statuses(conn, nights["branch"], "2025-10-01", nights["guard"], "2025-10-05")
    assert october["01"] == ("ABSENT", 0)   # the 06:00 out-punch of 1 October closed 30 September


def test_a_night_is_not_a_forgotten_out_punch_until_the_next_shift_begins(conn, nights):
    def open_days(now: str) -> list[str]:
        return [f"{d:%d}" for d in conn.execute(sa.text(
            "SELECT work_day FROM hr.open_days(:b, CAST(:t AS timestamp) AT TIME ZONE 'Asia/Kolkata') WHERE staff_id = :s"),
            {"b": nights["branch"], "t": now, "s": nights["guard"]}).scalars()]

    def status(now: str, day: str) -> str:
        return hr.day_statuses(conn, nights["branch"], MONTH, nights["guard"], now)[day][0]

    assert open_days("2025-09-06 03:00") == []                 # still at work on the night of the 5th
    assert status("2025-09-06 03:00", "05") == "TODAY" and status("2025-09-06 03:00", "06") == "FUTURE"
    assert open_days("2025-09-06 13:59") == []
    assert open_days("2025-09-06 14:00") == ["05"]              # the 6th's shift day has begun
    assert status("2025-09-06 14:00", "05") == "UNREGULARISED" and status("2025-09-06 14:00", "06") == "TODAY"
    hr.punch(conn, nights["branch"], nights["guard"], "OUT", "2025-09-06 06:00", by=nights["manager"])
    assert open_days("2025-09-06 14:00") == []
    assert status("2025-10-05", "05") == "PRESENT"


def test_the_last_night_of_a_closed_month_is_paid_in_it_and_its_morning_is_closed(conn, shop):
    hr.worked(conn, shop["branch"], shop["guard"], "2025-09-30", "22:00", "06:00", by=shop["manager"],
              end_day="2025-10-01")
    conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"),
                 {"b": shop["branch"], "m": MONTH, "s": shop["manager"]})
    paid = b.scalar(conn, "SELECT payment_days FROM hr.payment_days WHERE branch_id = :b AND month = :m AND staff_id = :s",
                    b=shop["branch"], m=MONTH, s=shop["guard"])
    assert paid == Decimal("5.0")   # the night of the 30th and the four Sundays
    with refused(conn, "punch_month_open"):   # 05:30 on 1 October is still the night of 30 September
        hr.punch(conn, shop["branch"], shop["guard"], "IN", "2025-10-01 05:30", by=shop["manager"])
    hr.punch(conn, shop["branch"], shop["guard"], "IN", "2025-10-01 21:50", by=shop["manager"])    # October's first
    hr.punch(conn, shop["branch"], shop["report"], "IN", "2025-10-01 05:30", by=shop["manager"])   # a day shift's


def test_forgotten_out_punches_of_every_month_not_closed_however_far_back(conn, shop):
    def open_days() -> list[str]:
        return [f"{d:%d-%m}" for d in conn.execute(sa.text(
            "SELECT work_day FROM hr.open_days(:b, TIMESTAMPTZ '2025-10-05 12:00+05:30') ORDER BY work_day"),
            {"b": shop["branch"]}).scalars()]

    def close(month: str) -> None:
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"),
                     {"b": shop["branch"], "m": month, "s": shop["manager"]})

    by = {"by": shop["manager"]}
    hr.worked(conn, shop["branch"], shop["report"], "2025-07-10", "09:30", None, **by)      # July: forgotten
    hr.worked(conn, shop["branch"], shop["report"], "2025-08-12", "09:30", "18:30", **by)   # August: complete
    close("2025-08-01")                                                                      # closed before July
    hr.worked(conn, shop["branch"], shop["guard"], "2025-09-08", "22:00", None, **by)       # September: forgotten
    assert open_days() == ["10-07", "08-09"]
    hr.punch(conn, shop["branch"], shop["report"], "OUT", "2025-07-10 18:30", **by)
    close("2025-07-01")
    assert open_days() == ["08-09"]
