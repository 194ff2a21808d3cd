"""HR rules held by PostgreSQL (sql/0043_hr.sql, sql/functions/99_hr.sql): punches alternate within a day, a
leaver cannot punch, nobody is deleted, the reporting line has no cycle, leave stays within its balance and
never overlaps, only the reporting manager decides, and a closed month is permanent. Then the month's
classification with hand-checked days: September 2025 (the 1st a Monday, Sundays 7, 14, 21, 28) on a shift of
09:30-18:30, grace 10 minutes, half day below 6 hours, absent below 3 hours, weekly off Sunday."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import builders as b
import hr_builders as hr
import pytest
import sqlalchemy as sa
from builders import refused
from conftest import APP_ROLE

MONTH = "2025-09-01"
AFTER = "2025-10-05"   # "today" for the classification: the month is over


@pytest.fixture
def shop(conn):
    branch = b.branch(conn)
    hr.shift(conn, branch)
    manager = hr.employee(conn, branch, role="MANAGER", joined="2025-01-01")
    person = hr.employee(conn, branch, joined="2025-01-01", manager=manager)
    return branch, manager, person


def kinds(conn, staff_id, day):
    return b.scalar(conn, "SELECT string_agg(kind, ',' ORDER BY punched_at) FROM hr.punch "
                          "WHERE staff_id = :s AND work_day = :d", s=staff_id, d=day)


# ----------------------------------------------------------------------------- punches


def test_punches_alternate_within_a_day_starting_with_in(conn, shop):
    branch, manager, person = shop
    with refused(conn, "punch_alternates"):
        hr.punch(conn, branch, person, "OUT", "2025-09-01 09:30", by=manager)
    hr.punch(conn, branch, person, "IN", "2025-09-01 09:30", by=manager)
    with refused(conn, "punch_alternates"):
        hr.punch(conn, branch, person, "IN", "2025-09-01 09:35", by=manager)
    hr.punch(conn, branch, person, "OUT", "2025-09-01 13:00", by=manager)
    with refused(conn, "punch_alternates"):
        hr.punch(conn, branch, person, "OUT", "2025-09-01 13:05", by=manager)
    # A correction put between two punches must fit: an IN between the IN and the OUT does not.
    with refused(conn, "punch_alternates"):
        hr.punch(conn, branch, person, "IN", "2025-09-01 11:00", by=manager)
    assert kinds(conn, person, "2025-09-01") == "IN,OUT"


def test_a_forgotten_out_punch_does_not_stop_the_next_day_and_stays_open_until_regularised(conn, shop):
    branch, manager, person = shop
    hr.punch(conn, branch, person, "IN", "2025-09-01 09:30", by=manager)   # no OUT that day
    hr.punch(conn, branch, person, "IN", "2025-09-02 09:30", by=manager)   # the next day starts afresh
    open_days = conn.execute(sa.text("SELECT work_day FROM hr.open_days(:b, TIMESTAMPTZ '2025-09-03 00:00+05:30')"), {"b": branch}).scalars().all()
    assert [f"{d:%d}" for d in open_days] == ["01", "02"]
    hr.punch(conn, branch, person, "OUT", "2025-09-01 18:40", by=manager, reason="Left at 18:40, seen on CCTV")
    open_days = conn.execute(sa.text("SELECT work_day FROM hr.open_days(:b, TIMESTAMPTZ '2025-09-03 00:00+05:30')"), {"b": branch}).scalars().all()
    assert [f"{d:%d}" for d in open_days] == ["02"]


def test_a_terminal_punch_takes_the_servers_time_and_a_correction_no_time_to_come(conn, shop):
    branch, manager, person = shop
    terminal = hr.terminal(conn, branch, manager)
    # As a request does: the app's role, the terminal's branch.
    conn.execute(sa.text(f"SET LOCAL ROLE {APP_ROLE}"))
    conn.execute(sa.text("SELECT set_config('erp.branch_id', :b, true)"), {"b": str(branch)})
    stamped = conn.execute(sa.text("""
        INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, terminal_id)
        VALUES (:b, :s, 'IN', '2020-01-01 10:00+05:30', :t) RETURNING punched_at = now()"""),
        {"b": branch, "s": person, "t": terminal}).scalar()
    conn.execute(sa.text("RESET ROLE"))
    assert stamped is True
    with refused(conn, "punch_not_in_future"):
        conn.execute(sa.text("""INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, reason, marked_by)
                                VALUES (:b, :s, 'OUT', now() + interval '2 hours', 'Going home later', :m)"""),
                     {"b": branch, "s": person, "m": manager})
    with refused(conn, "punch_terminal_or_correction"):   # neither a terminal nor a reason
        conn.execute(sa.text("INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at) "
                             "VALUES (:b, :s, 'IN', now() - interval '3 days')"), {"b": branch, "s": person})
    with refused(conn, "punch_not_by_self"):
        hr.punch(conn, branch, person, "IN", "2025-09-02 09:30", by=person)


def test_a_revoked_terminal_takes_no_punch(conn, shop):
    branch, manager, person = shop
    terminal = hr.terminal(conn, branch, manager)
    conn.execute(sa.text("UPDATE hr.terminal SET revoked_at = now() WHERE terminal_id = :t"), {"t": terminal})
    with refused(conn, "punch_terminal_enabled"):
        conn.execute(sa.text("INSERT INTO hr.punch (branch_id, staff_id, kind, terminal_id) VALUES (:b, :s, 'IN', :t)"),
                     {"b": branch, "s": person, "t": terminal})


def test_a_leaver_is_deactivated_never_deleted_and_cannot_punch(conn, shop):
    branch, manager, person = shop
    conn.execute(sa.text("UPDATE hr.employee SET left_on = '2025-09-10' WHERE staff_id = :s"), {"s": person})
    assert b.scalar(conn, "SELECT is_active FROM master.staff WHERE staff_id = :s", s=person) is False
    with refused(conn, "punch_by_active_staff"):
        hr.punch(conn, branch, person, "IN", "2025-09-05 09:30", by=manager)   # inactive: not even before leaving
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM hr.employee WHERE staff_id = :s"), {"s": person})
    with refused(conn, "employee_left_after_joining"):
        conn.execute(sa.text("UPDATE hr.employee SET left_on = '2024-12-31' WHERE staff_id = :s"), {"s": person})


def test_a_day_before_joining_takes_no_punch(conn, shop):
    branch, manager, _ = shop
    newcomer = hr.employee(conn, branch, joined="2025-09-15", manager=manager)
    with refused(conn, "punch_by_active_staff"):
        hr.punch(conn, branch, newcomer, "IN", "2025-09-12 09:30", by=manager)


def test_punches_are_permanent(conn, shop):
    branch, manager, person = shop
    punch_id = hr.punch(conn, branch, person, "IN", "2025-09-01 09:30", by=manager)
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE hr.punch SET kind = 'OUT' WHERE punch_id = :p"), {"p": punch_id})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM hr.punch WHERE punch_id = :p"), {"p": punch_id})


# ----------------------------------------------------------------------------- people


def test_the_reporting_line_has_no_cycle(conn, shop):
    branch, manager, person = shop
    with refused(conn, "employee_not_own_manager"):
        conn.execute(sa.text("UPDATE hr.employee SET manager_id = staff_id WHERE staff_id = :s"), {"s": person})
    with refused(conn, "employee_manager_cycle"):   # the manager would report to their own report
        conn.execute(sa.text("UPDATE hr.employee SET manager_id = :p WHERE staff_id = :m"), {"p": person, "m": manager})
    third = hr.employee(conn, branch, manager=person)
    with refused(conn, "employee_manager_cycle"):   # manager -> third -> person -> manager
        conn.execute(sa.text("UPDATE hr.employee SET manager_id = :t WHERE staff_id = :m"), {"t": third, "m": manager})


def test_a_document_keeps_its_checksum(conn, shop):
    _, _, person = shop
    with refused(conn, "employee_document_checksum"):
        conn.execute(sa.text("""INSERT INTO hr.employee_document (staff_id, kind, file_name, content_type, content, sha256)
                                VALUES (:s, 'ID_PROOF', 'aadhaar.pdf', 'application/pdf', '%PDF-1.4 x', :h)"""),
                     {"s": person, "h": "0" * 64})
    conn.execute(sa.text("""INSERT INTO hr.employee_document (staff_id, kind, file_name, content_type, content, sha256)
                            VALUES (:s, 'ID_PROOF', 'aadhaar.pdf', 'application/pdf', '%PDF-1.4 x',
                                    encode(sha256('%PDF-1.4 x'::bytea), 'hex'))"""), {"s": person})


# ----------------------------------------------------------------------------- leave


def test_leave_counts_working_days_only(conn, shop):
    branch, _, person = shop
    hr.holiday(conn, branch, "2025-09-09")
    hr.quota(conn, "CL", 2025, "12")
    leave_id = hr.leave(conn, branch, person, "CL", "2025-09-06", "2025-09-09")   # Sat, Sun (off), Mon, Tue (holiday)
    assert b.scalar(conn, "SELECT days FROM hr.leave_application WHERE leave_id = :l", l=leave_id) == Decimal("2.0")
    half = hr.leave(conn, branch, person, "CL", "2025-09-10", half="FIRST")
    assert b.scalar(conn, "SELECT days FROM hr.leave_application WHERE leave_id = :l", l=half) == Decimal("0.5")
    with refused(conn, "leave_has_working_days"):
        hr.leave(conn, branch, person, "CL", "2025-09-14")   # a Sunday


def test_leave_beyond_the_balance_is_refused_and_loss_of_pay_has_no_limit(conn, shop):
    branch, _, person = shop
    hr.quota(conn, "SL", 2025, "3")
    hr.leave(conn, branch, person, "SL", "2025-09-01", "2025-09-02")          # 2 of 3
    with refused(conn, "leave_within_balance"):
        hr.leave(conn, branch, person, "SL", "2025-09-03", "2025-09-04")      # 2 more: 1 left
    hr.leave(conn, branch, person, "SL", "2025-09-03", half="SECOND")         # half of the 1 left
    hr.leave(conn, branch, person, "LOP", "2025-09-15", "2025-09-19")         # unpaid: as needed
    assert b.scalar(conn, "SELECT hr.leave_balance(:s, 'SL', 2025)", s=person) == Decimal("0.5")
    with refused(conn, "leave_within_balance"):                               # no quota for the year: nothing
        hr.leave(conn, branch, person, "EL", "2025-09-22")


def test_overlapping_leave_is_refused_until_the_first_is_rejected(conn, shop):
    branch, manager, person = shop
    hr.quota(conn, "CL", 2025, "12")
    first = hr.leave(conn, branch, person, "CL", "2025-09-08", "2025-09-10")
    with refused(conn, "leave_no_overlap"):
        hr.leave(conn, branch, person, "LOP", "2025-09-10", "2025-09-12")
    hr.decide(conn, first, manager, "REJECTED")
    hr.leave(conn, branch, person, "LOP", "2025-09-10", "2025-09-12")
    assert b.scalar(conn, "SELECT hr.leave_balance(:s, 'CL', 2025)", s=person) == Decimal("12")


def test_only_the_reporting_manager_decides_and_a_decision_stays(conn, shop):
    branch, manager, person = shop
    other_manager = hr.employee(conn, branch, role="MANAGER")
    hr.quota(conn, "CL", 2025, "12")
    leave_id = hr.leave(conn, branch, person, "CL", "2025-09-08")
    with refused(conn, "leave_decided_by_manager"):
        hr.decide(conn, leave_id, other_manager)
    with refused(conn, "leave_decided_by_manager"):
        hr.decide(conn, leave_id, person)
    b.act_as(conn, other_manager)   # in the manager's name, by someone else
    with refused(conn, "leave_decided_by_manager"):
        conn.execute(sa.text("UPDATE hr.leave_application SET status = 'APPROVED', decided_by = :m, decided_at = now() "
                             "WHERE leave_id = :l"), {"m": manager, "l": leave_id})
    b.act_as(conn, None)
    hr.decide(conn, leave_id, manager)
    with refused(conn, "leave_status_move"):
        hr.decide(conn, leave_id, manager, "REJECTED")
    with refused(conn, "leave_is_fixed"):
        conn.execute(sa.text("UPDATE hr.leave_application SET to_date = '2025-09-09' WHERE leave_id = :l"), {"l": leave_id})


def test_unused_leave_is_carried_forward_up_to_the_limit(conn, shop):
    branch, manager, person = shop
    light = hr.employee(conn, branch, manager=manager)
    hr.quota(conn, "CL", 2025, "12", carry="5")
    hr.quota(conn, "EL", 2025, "15", carry="30")
    hr.leave(conn, branch, person, "CL", "2025-09-01", "2025-09-05")          # 5 used: 7 left, 5 carried
    hr.leave(conn, branch, light, "CL", "2025-09-01", "2025-09-06")           # 6 used ...
    hr.leave(conn, branch, light, "CL", "2025-09-08", "2025-09-11")           # ... and 4: 2 left, 2 carried
    assert b.scalar(conn, "SELECT hr.carry_forward(2026)") >= 4
    carried = dict(conn.execute(sa.text("SELECT staff_id || leave_code, days FROM hr.leave_opening WHERE year = 2026 "
                                        "AND staff_id IN (:a, :b)"), {"a": person, "b": light}).all())
    assert carried == {f"{person}CL": Decimal("5.0"), f"{light}CL": Decimal("2.0"),
                       f"{person}EL": Decimal("15.0"), f"{light}EL": Decimal("15.0")}


# ----------------------------------------------------------------------------- the month


def test_the_days_of_a_month_read_as_the_shop_reads_them(conn, shop):
    branch, manager, person = shop
    hr.holiday(conn, branch, "2025-09-09", "Ganesh Chaturthi")
    hr.quota(conn, "CL", 2025, "12")
    day = "2025-09-"
    hr.worked(conn, branch, person, day + "01", "09:40:00", "18:30", by=manager)   # at the end of the grace: on time
    hr.worked(conn, branch, person, day + "02", "09:40:01", "18:30", by=manager)   # one second after: late
    hr.worked(conn, branch, person, day + "03", "09:30", "15:29", by=manager)      # 5:59 worked: half day
    hr.worked(conn, branch, person, day + "04", "09:30", "15:30", by=manager)      # 6:00: a full day
    hr.worked(conn, branch, person, day + "05", "09:30", "12:29", by=manager)      # 2:59: absent
    hr.worked(conn, branch, person, day + "06", "09:30", "12:30", by=manager)      # 3:00: half day
    hr.worked(conn, branch, person, day + "08", "09:30", None, by=manager)         # no out-punch: unregularised
    hr.worked(conn, branch, person, day + "10", "14:00", "17:00", by=manager)      # half-day leave + 3:00 worked
    hr.leave(conn, branch, person, "CL", day + "10", half="FIRST", approve_by=manager)
    hr.worked(conn, branch, person, day + "11", "14:00", "16:59", by=manager)      # half-day leave + 2:59 worked
    hr.leave(conn, branch, person, "CL", day + "11", half="FIRST", approve_by=manager)
    hr.leave(conn, branch, person, "LOP", day + "12", approve_by=manager)          # loss of pay, a full day
    hr.leave(conn, branch, person, "CL", day + "13", approve_by=manager)           # casual leave, a full day
    hr.worked(conn, branch, person, day + "16", "09:30", "12:00", by=manager)      # two spells: 2:30 ...
    hr.worked(conn, branch, person, day + "16", "13:00", "17:00", by=manager)      # ... + 4:00 = 6:30 present
    hr.worked(conn, branch, person, day + "17", "09:29", "18:30", by=manager)      # worked on ...
    days = hr.day_statuses(conn, branch, MONTH, person, AFTER)
    expected = {
        "01": ("PRESENT", 1), "02": ("LATE", 1), "03": ("HALF_DAY", Decimal("0.5")), "04": ("PRESENT", 1),
        "05": ("ABSENT", 0), "06": ("HALF_DAY", Decimal("0.5")), "07": ("WEEKLY_OFF", 1),
        "08": ("UNREGULARISED", 0), "09": ("HOLIDAY", 1), "10": ("HALF_LEAVE", 1), "11": ("HALF_LEAVE", Decimal("0.5")),
        "12": ("LEAVE", 0), "13": ("LEAVE", 1), "14": ("WEEKLY_OFF", 1), "15": ("ABSENT", 0),
        "16": ("PRESENT", 1), "17": ("PRESENT", 1),
    }
    assert {d: days[d] for d in expected} == expected
    # Seen on the 17th itself: that day is not over, and days to come count nowhere.
    on_the_day = hr.day_statuses(conn, branch, MONTH, person, "2025-09-17")
    assert on_the_day["16"] == ("PRESENT", 1) and on_the_day["18"] == ("FUTURE", 0)
    assert hr.day_statuses(conn, branch, MONTH, person, "2025-09-08")["08"] == ("TODAY", 0)


def test_a_months_totals_payment_days_and_loss_of_pay(conn, shop):
    branch, manager, _ = shop
    hr.quota(conn, "CL", 2025, "12")
    late_joiner = hr.employee(conn, branch, joined="2025-09-25", manager=manager)   # Thu 25 .. Tue 30: 6 days
    hr.worked(conn, branch, late_joiner, "2025-09-25", "09:30", "18:30", by=manager)    # present
    hr.worked(conn, branch, late_joiner, "2025-09-26", "09:30", "14:00", by=manager)    # half day
    # Sat 27: no punch, absent; Sun 28: weekly off
    hr.worked(conn, branch, late_joiner, "2025-09-29", "10:15", "18:30", by=manager)    # late
    hr.leave(conn, branch, late_joiner, "CL", "2025-09-30", approve_by=manager)         # paid leave
    t = hr.totals(conn, branch, MONTH, late_joiner, AFTER)
    assert (t["days_employed"], t["present_days"], t["late_marks"], t["half_days"], t["absent_days"], t["leave_days"],
            t["weekly_offs"], t["holidays"], t["payment_days"], t["lop_days"]) == (
        6, Decimal("2.5"), 1, 1, Decimal("1.5"), 1, 1, 0, Decimal("4.5"), Decimal("1.5"))


def test_closing_a_month_waits_for_regularisation_and_then_is_permanent(conn, shop):
    branch, manager, person = shop
    hr.quota(conn, "CL", 2025, "12")
    hr.worked(conn, branch, person, "2025-09-08", "09:30", None, by=manager)   # a forgotten out-punch
    pending = hr.leave(conn, branch, person, "CL", "2025-09-22")
    close = "INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"
    with refused(conn, "month_close_regularised"):
        conn.execute(sa.text(close), {"b": branch, "m": MONTH, "s": manager})
    hr.punch(conn, branch, person, "OUT", "2025-09-08 18:30", by=manager, reason="Forgot to punch out at 18:30")
    with refused(conn, "month_close_no_pending_leave"):
        conn.execute(sa.text(close), {"b": branch, "m": MONTH, "s": manager})
    hr.decide(conn, pending, manager)
    with refused(conn, "month_close_after_month_end"):   # this month is not over
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) "
                             "VALUES (:b, date_trunc('month', now() AT TIME ZONE 'Asia/Kolkata')::date, :s)"),
                     {"b": branch, "s": manager})
    conn.execute(sa.text(close), {"b": branch, "m": MONTH, "s": manager})

    days = b.row(conn, "SELECT days_employed, payment_days, lop_days FROM hr.payment_days "
                       "WHERE branch_id = :b AND month = :m AND staff_id = :s", b=branch, m=MONTH, s=person)
    assert days.days_employed == 30 and days.payment_days + days.lop_days == 30
    # Sundays (4), the regularised 8th and the casual leave of the 22nd are paid; the rest had no punch.
    assert days.payment_days == Decimal("6.0")
    with refused(conn, "punch_month_open"):
        hr.punch(conn, branch, person, "IN", "2025-09-15 09:30", by=manager)
    with refused(conn, "leave_month_open"):
        hr.leave(conn, branch, person, "LOP", "2025-09-15")
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE hr.month_close_line SET lop_days = 0 WHERE staff_id = :s"), {"s": person})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM hr.month_close WHERE branch_id = :b"), {"b": branch})


# ----------------------------------------------------------------------------- the demo showroom


def test_seed_demo_has_a_month_of_attendance_late_marks_a_forgotten_out_punch_and_leave(conn, app):
    from seed.demo import seed_demo
    from webapp.formatting import today_ist

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    blr = b.scalar(conn, "SELECT branch_id FROM master.branch WHERE branch_code = 'BLR1'")
    today = today_ist()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    t = conn.execute(sa.text("""SELECT st.staff_code, t.late_marks, t.half_days, t.unregularised, t.leave_days
                                  FROM hr.attendance_totals(:b, :m) t JOIN master.staff st USING (staff_id)"""),
                     {"b": blr, "m": last_month}).mappings().all()
    by_code = {r["staff_code"]: r for r in t}
    assert by_code["S02"]["late_marks"] == 4 and by_code["S02"]["leave_days"] == 1
    assert by_code["T01"]["half_days"] == 1
    assert sum(r["unregularised"] for r in t) == 0          # last month can be closed
    open_days = b.scalar(conn, "SELECT count(*) FROM hr.open_days(:b) o JOIN master.staff s USING (staff_id) "
                               "WHERE s.staff_code = 'S01'", b=blr)
    assert open_days == 1                                   # the forgotten out-punch waiting for MGR1
    statuses = sorted(conn.execute(sa.text("SELECT status FROM hr.leave_application")).scalars())
    assert statuses == ["APPROVED", "PENDING"]
    assert b.scalar(conn, "SELECT count(*) FROM hr.punch WHERE reason IS NOT NULL") == 1
