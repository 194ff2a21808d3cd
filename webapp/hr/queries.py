"""Reading and writing HR rows; functions take the request's connection first and never commit. The
rules (punches alternate, leavers do not punch, leave within balance and never overlapping, a closed
month is permanent) are the database's (sql/0043_hr.sql, sql/functions/99_hr.sql)."""
from __future__ import annotations

import hashlib
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .common import month_days

# --------------------------------------------------------------------------- people

EMPLOYEE_FIELDS = ("joined_on", "left_on", "department_id", "manager_id", "shift_id", "uan", "pf_number",
                   "esi_ip_number", "emergency_name", "emergency_relation", "emergency_phone")
STAFF_FIELDS = ("pan", "bank_account_no", "ifsc")


def people(conn: Connection, branch_id: int, q: str = ""):
    """The branch's staff, with their employment details where recorded (leavers last)."""
    return conn.execute(sa.text("""
        SELECT st.staff_id, st.staff_code, st.name, st.designation, st.is_active, e.joined_on, e.left_on,
               d.name AS department, m.name AS manager_name, e.staff_id IS NOT NULL AS has_details
          FROM master.staff st
          LEFT JOIN hr.employee e ON e.staff_id = st.staff_id
          LEFT JOIN hr.department d ON d.department_id = e.department_id
          LEFT JOIN master.staff m ON m.staff_id = e.manager_id
         WHERE st.branch_id = :b AND st.designation <> 'DEALER'  -- the sub-dealer is no employee (data, not access)
           AND (CAST(:q AS text) = '' OR st.name ILIKE '%' || :q || '%' OR st.staff_code ILIKE :q || '%')
         ORDER BY st.is_active DESC, st.name"""), {"b": branch_id, "q": q}).mappings().all()


def person(conn: Connection, staff_id: int):
    return conn.execute(sa.text("""
        SELECT st.staff_id, st.staff_code, st.name, st.designation, st.branch_id, st.is_active, st.pan,
               st.bank_account_no, st.ifsc, e.joined_on, e.left_on, e.department_id, e.manager_id, e.shift_id,
               e.uan, e.pf_number, e.esi_ip_number, e.emergency_name, e.emergency_relation, e.emergency_phone,
               e.staff_id IS NOT NULL AS has_details, d.name AS department, m.name AS manager_name,
               sh.name AS shift_name
          FROM master.staff st
          LEFT JOIN hr.employee e ON e.staff_id = st.staff_id
          LEFT JOIN hr.department d ON d.department_id = e.department_id
          LEFT JOIN master.staff m ON m.staff_id = e.manager_id
          LEFT JOIN hr.shift sh ON sh.shift_id = e.shift_id
         WHERE st.staff_id = :s"""), {"s": staff_id}).mappings().first()


def save_person(conn: Connection, staff_id: int, data: dict, exists: bool) -> None:
    values = {f: data.get(f) for f in EMPLOYEE_FIELDS}
    if exists:
        conn.execute(sa.text(f"UPDATE hr.employee SET {', '.join(f'{f} = :{f}' for f in EMPLOYEE_FIELDS)} "
                             "WHERE staff_id = :staff_id"), {"staff_id": staff_id, **values})
    else:
        conn.execute(sa.text(f"INSERT INTO hr.employee (staff_id, {', '.join(EMPLOYEE_FIELDS)}) "
                             f"VALUES (:staff_id, {', '.join(':' + f for f in EMPLOYEE_FIELDS)})"),
                     {"staff_id": staff_id, **values})
    conn.execute(sa.text(f"UPDATE master.staff SET {', '.join(f'{f} = :{f}' for f in STAFF_FIELDS)} "
                         "WHERE staff_id = :staff_id"), {"staff_id": staff_id, **{f: data.get(f) for f in STAFF_FIELDS}})


def department_choices(conn: Connection, keep: int | None = None):
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT department_id, name FROM hr.department WHERE is_active OR department_id = :k ORDER BY name"),
        {"k": keep}).all()]


def manager_choices(conn: Connection, branch_id: int, not_id: int | None = None):
    """Active staff who may be someone's reporting manager: anyone of the branch but the person."""
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT staff_id, name || ' (' || staff_code || ')' FROM master.staff
         WHERE is_active AND branch_id = :b AND staff_id IS DISTINCT FROM :n
           AND designation <> 'DEALER'  -- the sub-dealer is no employee (data, not access)
         ORDER BY name"""), {"b": branch_id, "n": not_id}).all()]


def shift_choices(conn: Connection, branch_id: int):
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT shift_id, name || CASE WHEN is_default THEN ' (default)' ELSE '' END FROM hr.shift "
        "WHERE branch_id = :b ORDER BY name"), {"b": branch_id}).all()]


def documents(conn: Connection, staff_id: int):
    return conn.execute(sa.text("""
        SELECT d.document_id, d.kind, d.file_name, d.content_type, octet_length(d.content) AS size, d.sha256,
               d.uploaded_at, u.name AS uploaded_by_name
          FROM hr.employee_document d LEFT JOIN master.staff u ON u.staff_id = d.uploaded_by
         WHERE d.staff_id = :s ORDER BY d.uploaded_at, d.document_id"""), {"s": staff_id}).mappings().all()


def add_document(conn: Connection, staff_id: int, kind: str, file_name: str, content_type: str, content: bytes) -> int:
    return conn.execute(sa.text("""
        INSERT INTO hr.employee_document (staff_id, kind, file_name, content_type, content, sha256)
        VALUES (:s, :k, :f, :t, :c, :h) RETURNING document_id"""),
        {"s": staff_id, "k": kind, "f": file_name, "t": content_type, "c": content,
         "h": hashlib.sha256(content).hexdigest()}).scalar_one()


def document(conn: Connection, document_id: int):
    return conn.execute(sa.text("""
        SELECT d.document_id, d.staff_id, d.file_name, d.content_type, d.content, d.sha256, st.branch_id
          FROM hr.employee_document d JOIN master.staff st ON st.staff_id = d.staff_id
         WHERE d.document_id = :d"""), {"d": document_id}).mappings().first()


# --------------------------------------------------------------------------- terminals and punches


def terminals(conn: Connection, branch_id: int):
    return conn.execute(sa.text("""
        SELECT t.terminal_id, t.name, t.enabled_at, t.revoked_at, s.name AS enabled_by_name
          FROM hr.terminal t JOIN master.staff s ON s.staff_id = t.enabled_by
         WHERE t.branch_id = :b ORDER BY t.revoked_at IS NOT NULL, t.enabled_at DESC"""), {"b": branch_id}).mappings().all()


def add_terminal(conn: Connection, branch_id: int, name: str, token: str, staff_id: int) -> int:
    return conn.execute(sa.text("""
        INSERT INTO hr.terminal (branch_id, name, token_sha256, enabled_by)
        VALUES (:b, :n, :h, :s) RETURNING terminal_id"""),
        {"b": branch_id, "n": name, "h": hashlib.sha256(token.encode()).hexdigest(), "s": staff_id}).scalar_one()


def revoke_terminal(conn: Connection, terminal_id: int) -> int:
    return conn.execute(sa.text("UPDATE hr.terminal SET revoked_at = now() WHERE terminal_id = :t AND revoked_at IS NULL"),
                        {"t": terminal_id}).rowcount


def terminal_for(conn: Connection, terminal_id: int, token: str):
    """The enabled terminal whose cookie this is (under the branch policy of the cookie's branch), or None."""
    return conn.execute(sa.text("""
        SELECT t.terminal_id, t.branch_id, t.name, coalesce(b.trade_name, b.legal_name) AS branch_name
          FROM hr.terminal t JOIN master.branch b USING (branch_id)
         WHERE t.terminal_id = :t AND t.token_sha256 = :h AND t.revoked_at IS NULL"""),
        {"t": terminal_id, "h": hashlib.sha256(token.encode()).hexdigest()}).mappings().first()


def add_punch(conn: Connection, *, branch_id: int, staff_id: int, kind: str, terminal_id: int | None = None,
              punched_at=None, reason: str | None = None):
    """A punch; the terminal's time is the server's (trigger). Returns (punch_id, punched_at)."""
    if terminal_id is not None:
        return conn.execute(sa.text("""
            INSERT INTO hr.punch (branch_id, staff_id, kind, terminal_id) VALUES (:b, :s, :k, :t)
            RETURNING punch_id, punched_at"""), {"b": branch_id, "s": staff_id, "k": kind, "t": terminal_id}).one()
    return conn.execute(sa.text("""
        INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, reason)
        VALUES (:b, :s, :k, CAST(:at AS timestamp) AT TIME ZONE 'Asia/Kolkata', :r)
        RETURNING punch_id, punched_at"""),
        {"b": branch_id, "s": staff_id, "k": kind, "at": punched_at, "r": reason}).one()


def day_punches(conn: Connection, staff_id: int, start: date, end: date):
    return conn.execute(sa.text("""
        SELECT p.work_day, p.kind, p.punched_at, p.reason, t.name AS terminal_name, m.name AS marked_by_name,
               (p.punched_at AT TIME ZONE 'Asia/Kolkata')::date > p.work_day AS next_day
          FROM hr.punch p LEFT JOIN hr.terminal t ON t.terminal_id = p.terminal_id
          LEFT JOIN master.staff m ON m.staff_id = p.marked_by AND p.reason IS NOT NULL
         WHERE p.staff_id = :s AND p.work_day BETWEEN :a AND :z
         ORDER BY p.punched_at, p.punch_id"""), {"s": staff_id, "a": start, "z": end}).mappings().all()


def open_days(conn: Connection, branch_id: int, manager_id: int | None = None, not_id: int | None = None):
    """Forgotten out-punches of the branch (a manager's team only, with ``manager_id``; never one's own,
    ``not_id``: someone else regularises them)."""
    return conn.execute(sa.text("""
        SELECT o.staff_id, o.work_day, o.last_in, st.name, st.staff_code
          FROM hr.open_days(:b) o JOIN master.staff st ON st.staff_id = o.staff_id
          JOIN hr.employee e ON e.staff_id = o.staff_id
         WHERE (CAST(:m AS integer) IS NULL OR e.manager_id = :m) AND o.staff_id IS DISTINCT FROM :n
         ORDER BY o.work_day, st.name"""), {"b": branch_id, "m": manager_id, "n": not_id}).mappings().all()


def punchable_staff(conn: Connection, branch_id: int, manager_id: int | None = None, not_id: int | None = None):
    """Active staff of the branch a correction may be marked for: everyone but oneself (``not_id``), or one's
    reports only (``manager_id``)."""
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT st.staff_id, st.name || ' (' || st.staff_code || ')'
          FROM hr.employee e JOIN master.staff st ON st.staff_id = e.staff_id
         WHERE st.branch_id = :b AND st.is_active AND st.staff_id IS DISTINCT FROM :n
           AND (CAST(:m AS integer) IS NULL OR e.manager_id = :m)
         ORDER BY st.name"""), {"b": branch_id, "m": manager_id, "n": not_id}).all()]


def has_reports(conn: Connection, staff_id: int) -> bool:
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM hr.employee WHERE manager_id = :s)"), {"s": staff_id}).scalar()


def shift_end(conn: Connection, staff_id: int, day: date):
    """When the person's shift of `day` ends (a night shift's: the next morning), Indian time; None without a shift."""
    return conn.execute(sa.text("""
        SELECT CAST(:d AS date) + sh.ends_at + CASE WHEN sh.ends_at < sh.starts_at THEN interval '1 day' ELSE interval '0' END
          FROM hr.shift_of(:s) sh WHERE sh.shift_id IS NOT NULL"""), {"s": staff_id, "d": day}).scalar()


# --------------------------------------------------------------------------- the month


def attendance_days(conn: Connection, branch_id: int, month: date, staff_id: int | None = None):
    return conn.execute(sa.text("""
        SELECT d.* FROM hr.attendance_days(:b, :m) d
         WHERE CAST(:s AS integer) IS NULL OR d.staff_id = :s
         ORDER BY d.staff_id, d.day"""), {"b": branch_id, "m": month, "s": staff_id}).mappings().all()


def sheet(conn: Connection, branch_id: int, month: date):
    """The month per person, with their totals and `days`: each day's status from the month's first (None
    before joining or after leaving), read in one pass of hr.attendance_days."""
    rows = conn.execute(sa.text("""
        SELECT t.*, st.name, st.staff_code, d.name AS department
          FROM hr.attendance_totals(:b, :m) t JOIN master.staff st ON st.staff_id = t.staff_id
          JOIN hr.employee e ON e.staff_id = t.staff_id LEFT JOIN hr.department d ON d.department_id = e.department_id
         ORDER BY st.name"""), {"b": branch_id, "m": month}).mappings().all()
    length = len(month_days(month))
    totals = []
    for row in rows:
        before = [None] * (row["from_day"].day - 1)
        days = before + list(row["statuses"])
        totals.append({**row, "days": days + [None] * (length - len(days))})
    return totals


def month_close(conn: Connection, branch_id: int, month: date):
    return conn.execute(sa.text("""
        SELECT c.closed_at, s.name AS closed_by_name FROM hr.month_close c JOIN master.staff s ON s.staff_id = c.closed_by
         WHERE c.branch_id = :b AND c.month = :m"""), {"b": branch_id, "m": month}).mappings().first()


def close_month(conn: Connection, branch_id: int, month: date) -> None:
    conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month) VALUES (:b, :m)"), {"b": branch_id, "m": month})


def closed_lines(conn: Connection, branch_id: int, month: date):
    return conn.execute(sa.text("""
        SELECT l.*, st.name, st.staff_code FROM hr.month_close_line l JOIN master.staff st USING (staff_id)
         WHERE l.branch_id = :b AND l.month = :m ORDER BY st.name"""), {"b": branch_id, "m": month}).mappings().all()


def payment_days(conn: Connection, branch_id: int, month: date):
    """Payment days and loss-of-pay days per person of a closed month (empty when it is not closed)."""
    return conn.execute(sa.text("""
        SELECT staff_id, days_employed, payment_days, lop_days FROM hr.payment_days
         WHERE branch_id = :b AND month = :m ORDER BY staff_id"""), {"b": branch_id, "m": month}).mappings().all()


# --------------------------------------------------------------------------- leave


def leave_types(conn: Connection):
    return conn.execute(sa.text("SELECT * FROM hr.leave_type WHERE is_active ORDER BY has_quota DESC, leave_code")
                        ).mappings().all()


def balances(conn: Connection, staff_id: int, year: int):
    return conn.execute(sa.text("""
        SELECT t.leave_code, t.name, t.has_quota,
               coalesce(o.days, 0) AS carried, coalesce(q.days, 0) AS quota,
               coalesce((SELECT sum(a.days) FROM hr.leave_application a WHERE a.staff_id = :s
                           AND a.leave_code = t.leave_code AND a.status = 'APPROVED'
                           AND extract(year FROM a.from_date) = :y), 0) AS taken,
               coalesce((SELECT sum(a.days) FROM hr.leave_application a WHERE a.staff_id = :s
                           AND a.leave_code = t.leave_code AND a.status = 'PENDING'
                           AND extract(year FROM a.from_date) = :y), 0) AS pending,
               hr.leave_balance(:s, t.leave_code, :y) AS balance
          FROM hr.leave_type t
          LEFT JOIN hr.leave_opening o ON o.staff_id = :s AND o.leave_code = t.leave_code AND o.year = :y
          LEFT JOIN hr.leave_quota q ON q.leave_code = t.leave_code AND q.year = :y
         WHERE t.is_active ORDER BY t.has_quota DESC, t.leave_code"""), {"s": staff_id, "y": year}).mappings().all()


LEAVE_SQL = """
    SELECT a.*, t.name AS leave_name, st.name, st.staff_code, e.manager_id, dc.name AS decided_by_name
      FROM hr.leave_application a JOIN hr.leave_type t USING (leave_code)
      JOIN master.staff st ON st.staff_id = a.staff_id JOIN hr.employee e ON e.staff_id = a.staff_id
      LEFT JOIN master.staff dc ON dc.staff_id = a.decided_by"""


def applications(conn: Connection, staff_id: int, year: int):
    return conn.execute(sa.text(LEAVE_SQL + """
         WHERE a.staff_id = :s AND extract(year FROM a.from_date) = :y ORDER BY a.from_date DESC"""),
        {"s": staff_id, "y": year}).mappings().all()


def team_pending(conn: Connection, manager_id: int, branch_id: int, no_manager_too: bool):
    """Leave waiting for this manager: their team's, and (a MANAGER or ADMIN) of people with no manager."""
    return conn.execute(sa.text(LEAVE_SQL + """
         WHERE a.status = 'PENDING' AND a.staff_id <> :m
           AND (e.manager_id = :m OR (CAST(:all AS boolean) AND e.manager_id IS NULL AND a.branch_id = :b))
         ORDER BY a.from_date, st.name"""), {"m": manager_id, "b": branch_id, "all": no_manager_too}).mappings().all()


def application(conn: Connection, leave_id: int):
    return conn.execute(sa.text(LEAVE_SQL + " WHERE a.leave_id = :l"), {"l": leave_id}).mappings().first()


def apply_leave(conn: Connection, *, branch_id: int, staff_id: int, leave_code: str, from_date: date, to_date: date,
                half: str | None, reason: str) -> int:
    return conn.execute(sa.text("""
        INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, half, reason)
        VALUES (:b, :s, :c, :f, :t, :h, :r) RETURNING leave_id"""),
        {"b": branch_id, "s": staff_id, "c": leave_code, "f": from_date, "t": to_date, "h": half, "r": reason}
    ).scalar_one()


def decide_leave(conn: Connection, leave_id: int, status: str, decided_by: int, note: str | None) -> int:
    return conn.execute(sa.text("""
        UPDATE hr.leave_application SET status = :st, decided_by = :d, decided_at = now(), decision_note = :n
         WHERE leave_id = :l AND status = 'PENDING'"""),
        {"l": leave_id, "st": status, "d": decided_by, "n": note}).rowcount


def cancel_leave(conn: Connection, leave_id: int) -> int:
    return conn.execute(sa.text("""
        UPDATE hr.leave_application SET status = 'CANCELLED' WHERE leave_id = :l AND status IN ('PENDING', 'APPROVED')"""),
        {"l": leave_id}).rowcount


def is_employee(conn: Connection, staff_id: int) -> bool:
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM hr.employee WHERE staff_id = :s)"), {"s": staff_id}).scalar()


# --------------------------------------------------------------------------- settings


def shifts(conn: Connection, branch_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.shift WHERE branch_id = :b ORDER BY is_default DESC, name"),
                        {"b": branch_id}).mappings().all()


def get_shift(conn: Connection, shift_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.shift WHERE shift_id = :s"), {"s": shift_id}).mappings().first()


SHIFT_FIELDS = ("name", "starts_at", "ends_at", "grace_minutes", "half_day_hours", "absent_hours", "weekly_off", "is_default")


def save_shift(conn: Connection, branch_id: int, data: dict, shift_id: int | None = None) -> int:
    values = {f: data.get(f) for f in SHIFT_FIELDS}
    if data.get("is_default"):   # the branch's default moves to this shift
        conn.execute(sa.text("UPDATE hr.shift SET is_default = false WHERE branch_id = :b AND is_default "
                             "AND shift_id IS DISTINCT FROM :s"), {"b": branch_id, "s": shift_id})
    if shift_id is None:
        return conn.execute(sa.text(f"INSERT INTO hr.shift (branch_id, {', '.join(SHIFT_FIELDS)}) "
                                    f"VALUES (:b, {', '.join(':' + f for f in SHIFT_FIELDS)}) RETURNING shift_id"),
                            {"b": branch_id, **values}).scalar_one()
    conn.execute(sa.text(f"UPDATE hr.shift SET {', '.join(f'{f} = :{f}' for f in SHIFT_FIELDS)} "
                         "WHERE shift_id = :s AND branch_id = :b"), {"s": shift_id, "b": branch_id, **values})
    return shift_id


def holidays(conn: Connection, branch_id: int, year: int):
    return conn.execute(sa.text("""
        SELECT * FROM hr.holiday WHERE branch_id = :b AND extract(year FROM on_date) = :y ORDER BY on_date"""),
        {"b": branch_id, "y": year}).mappings().all()


def add_holiday(conn: Connection, branch_id: int, on_date: date, name: str) -> int:
    return conn.execute(sa.text("INSERT INTO hr.holiday (branch_id, on_date, name) VALUES (:b, :d, :n) "
                                "RETURNING holiday_id"), {"b": branch_id, "d": on_date, "n": name}).scalar_one()


def departments(conn: Connection):
    return conn.execute(sa.text("SELECT * FROM hr.department ORDER BY is_active DESC, name")).mappings().all()


def add_department(conn: Connection, name: str) -> int:
    return conn.execute(sa.text("INSERT INTO hr.department (name) VALUES (:n) RETURNING department_id"),
                        {"n": name}).scalar_one()


def quotas(conn: Connection, year: int):
    return conn.execute(sa.text("""
        SELECT t.leave_code, t.name, q.days, q.carry_forward_max FROM hr.leave_type t
          LEFT JOIN hr.leave_quota q ON q.leave_code = t.leave_code AND q.year = :y
         WHERE t.has_quota ORDER BY t.leave_code"""), {"y": year}).mappings().all()


def save_quota(conn: Connection, leave_code: str, year: int, days, carry) -> None:
    conn.execute(sa.text("""
        INSERT INTO hr.leave_quota (leave_code, year, days, carry_forward_max) VALUES (:c, :y, :d, :f)
        ON CONFLICT (leave_code, year) DO UPDATE SET days = EXCLUDED.days, carry_forward_max = EXCLUDED.carry_forward_max"""),
        {"c": leave_code, "y": year, "d": days, "f": carry})


def carry_forward(conn: Connection, year: int) -> int:
    return conn.execute(sa.text("SELECT hr.carry_forward(:y)"), {"y": year}).scalar_one()
