"""Builders for HR tests: a branch's shift, employees with their details, correction punches at a given
Indian time, holidays, quotas and leave. Each takes a connection first, inserts with plain SQL and never
commits (see tests/builders.py)."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa
from sqlalchemy.engine import Connection


def shift(conn: Connection, branch_id: int, *, starts: str = "09:30", ends: str = "18:30", grace: int = 10,
          half_day: str = "6", absent: str = "3", weekly_off: int = 7, default: bool = True, name: str = "General") -> int:
    return b.scalar(conn, """
        INSERT INTO hr.shift (branch_id, name, starts_at, ends_at, grace_minutes, half_day_hours, absent_hours,
                              weekly_off, is_default)
        VALUES (:b, :n, :s, :e, :g, :h, :a, :w, :d) RETURNING shift_id""",
        b=branch_id, n=name, s=starts, e=ends, g=grace, h=half_day, a=absent, w=weekly_off, d=default)


def employee(conn: Connection, branch_id: int, *, role: str = "SALES", joined: str = "2025-01-01",
             manager: int | None = None, left: str | None = None) -> int:
    staff_id = b.staff(conn, branch_id, role)
    conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on, manager_id, left_on) VALUES (:s, :j, :m, :l)"),
                 {"s": staff_id, "j": joined, "m": manager, "l": left})
    return staff_id


def punch(conn: Connection, branch_id: int, staff_id: int, kind: str, at: str, *, by: int | None = None,
          reason: str = "Marked by the manager", terminal: int | None = None) -> int:
    """A correction punch at `at` ('YYYY-MM-DD HH:MM[:SS]', Indian time) marked by `by` (their reporting manager or
    a MANAGER / ADMIN: hr.check_punch); with `terminal`, a punch at that terminal at that time (the owner's
    connection writes the time, as seed-demo does)."""
    return b.scalar(conn, """
        INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, terminal_id, reason, marked_by)
        VALUES (:b, :s, :k, CAST(:at AS timestamp) AT TIME ZONE 'Asia/Kolkata', :t, :r, :by) RETURNING punch_id""",
        b=branch_id, s=staff_id, k=kind, at=at, t=terminal, r=None if terminal else reason,
        by=None if terminal else by)


def worked(conn: Connection, branch_id: int, staff_id: int, day: str, start: str, end: str | None, *,
           by: int | None = None, terminal: int | None = None, end_day: str | None = None) -> None:
    """An IN at `start` on `day` and an OUT at `end` on `end_day` (by default the same day; a night shift's the next)."""
    punch(conn, branch_id, staff_id, "IN", f"{day} {start}", by=by, terminal=terminal)
    if end:
        punch(conn, branch_id, staff_id, "OUT", f"{end_day or day} {end}", by=by, terminal=terminal)


def terminal(conn: Connection, branch_id: int, enabled_by: int, token_sha256: str = "a" * 64) -> int:
    return b.scalar(conn, """INSERT INTO hr.terminal (branch_id, name, token_sha256, enabled_by)
                             VALUES (:b, 'Front desk', :h, :s) RETURNING terminal_id""",
                    b=branch_id, h=token_sha256, s=enabled_by)


def holiday(conn: Connection, branch_id: int, day: str, name: str = "Kannada Rajyotsava") -> int:
    return b.scalar(conn, "INSERT INTO hr.holiday (branch_id, on_date, name) VALUES (:b, :d, :n) RETURNING holiday_id",
                    b=branch_id, d=day, n=name)


def quota(conn: Connection, code: str, year: int, days: str, carry: str = "0") -> None:
    conn.execute(sa.text("""INSERT INTO hr.leave_quota (leave_code, year, days, carry_forward_max) VALUES (:c, :y, :d, :f)
                            ON CONFLICT (leave_code, year) DO UPDATE SET days = EXCLUDED.days,
                                                                         carry_forward_max = EXCLUDED.carry_forward_max"""),
                 {"c": code, "y": year, "d": days, "f": carry})


def leave(conn: Connection, branch_id: int, staff_id: int, code: str, start: str, end: str | None = None, *,
          half: str | None = None, approve_by: int | None = None) -> int:
    leave_id = b.scalar(conn, """
        INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, half, reason)
        VALUES (:b, :s, :c, :f, :t, :h, 'Family function') RETURNING leave_id""",
        b=branch_id, s=staff_id, c=code, f=start, t=end or start, h=half)
    if approve_by:
        decide(conn, leave_id, approve_by, "APPROVED")
    return leave_id


def decide(conn: Connection, leave_id: int, by: int, status: str = "APPROVED") -> None:
    b.act_as(conn, by)
    conn.execute(sa.text("UPDATE hr.leave_application SET status = :st, decided_by = :by, decided_at = now() "
                         "WHERE leave_id = :l"), {"st": status, "by": by, "l": leave_id})
    b.act_as(conn, None)


def day_statuses(conn: Connection, branch_id: int, month: str, staff_id: int, today: str) -> dict[str, tuple]:
    """{'DD': (status, paid)} of a person's days in a month, as if now were `today` (a day 'YYYY-MM-DD': its
    midnight in India; or a moment 'YYYY-MM-DD HH:MM', Indian time)."""
    rows = conn.execute(sa.text("SELECT day, status, paid FROM hr.attendance_days(:b, :m, "
                                "CAST(:t AS timestamp) AT TIME ZONE 'Asia/Kolkata') WHERE staff_id = :s"),
                        {"b": branch_id, "m": month, "t": today, "s": staff_id}).all()
    return {f"{r.day:%d}": (r.status, r.paid) for r in rows}


def totals(conn: Connection, branch_id: int, month: str, staff_id: int, today: str):
    return conn.execute(sa.text("SELECT * FROM hr.attendance_totals(:b, :m, CAST(:t AS timestamp) AT TIME ZONE "
                                "'Asia/Kolkata') WHERE staff_id = :s"),
                        {"b": branch_id, "m": month, "t": today, "s": staff_id}).mappings().one()
