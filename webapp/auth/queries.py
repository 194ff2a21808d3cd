"""SQL for logging in and for sessions. Functions take the request's connection; none commits."""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def any_staff_exists(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM master.staff)")).scalar_one()


def lock_setup(conn: Connection) -> None:
    """Hold the setup wizard's advisory lock until the transaction ends: two first runs finish one at a time."""
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7301204002)"))


def staff_for_login(conn: Connection, staff_code: str):
    """The staff row, locked so that a login (last login, a rehash, a forced PIN change) and a change of the
    same member's row happen one at a time. Failures are counted per code and address (login_lockout)."""
    return conn.execute(
        sa.text(
            """SELECT st.staff_id, st.staff_code, st.name, st.designation, st.branch_id, st.pin_hash,
                      st.is_active, st.must_change_pin, st.failed_pin_count, st.locked_until,
                      st.locked_until > now() AS is_locked,
                      master.works_across_branches(st.staff_id) AS all_branches,
                      coalesce(b.trade_name, b.legal_name) AS branch_name, b.branch_code
                 FROM master.staff st JOIN master.branch b USING (branch_id)
                WHERE st.staff_code = :code
                  FOR UPDATE OF st"""
        ),
        {"code": staff_code},
    ).first()


def record_login(conn: Connection, staff_id: int) -> None:
    conn.execute(
        sa.text("UPDATE master.staff SET failed_pin_count = 0, locked_until = NULL, last_login_at = now() "
                "WHERE staff_id = :id"),
        {"id": staff_id},
    )


def rehash_pin(conn: Connection, staff_id: int, pin_hash: str) -> None:
    conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h WHERE staff_id = :id"), {"h": pin_hash, "id": staff_id})


def audit_event(conn: Connection, event: str, staff_id: int | None, details: dict) -> None:
    conn.execute(
        sa.text("SELECT audit.record_event(:event, 'master.staff', :key, CAST(:details AS jsonb))"),
        {"event": event, "key": None if staff_id is None else str(staff_id), "details": json.dumps(details)},
    )


def recent_staff(conn: Connection, codes: list[str]):
    """Names for the 'tap your name' tiles, in the order the terminal last saw them."""
    if not codes:
        return []
    rows = conn.execute(
        sa.text("SELECT staff_code, name FROM master.staff WHERE staff_code = ANY(:codes) AND is_active"),
        {"codes": codes},
    ).all()
    by_code = {r.staff_code: r for r in rows}
    return [by_code[c] for c in codes if c in by_code]


def end_other_sessions(conn: Connection, staff_id: int, keep_session_id: int | None) -> int:
    return conn.execute(
        sa.text("DELETE FROM master.staff_session WHERE staff_id = :s AND session_id IS DISTINCT FROM :keep"),
        {"s": staff_id, "keep": keep_session_id},
    ).rowcount


def purge_expired_sessions(conn: Connection, idle_minutes: int, max_hours: int) -> None:
    conn.execute(
        sa.text(
            """DELETE FROM master.staff_session
                WHERE created_at < now() - make_interval(hours => :h)
                   OR (staff_id IS NOT NULL AND last_seen_at < now() - make_interval(mins => :m))"""
        ),
        {"h": max_hours, "m": idle_minutes},
    )


# --------------------------------------------------------------------------- throttling and lockout (sql/0015)


def throttle_of(conn: Connection, client_addr: str, window_minutes: int):
    """The address's throttle row, locked until commit (attempts from one address are counted one at a
    time), with how long it must still wait and whether its window is over: quiet for window_minutes
    since its last failure and since the end of its last wait."""
    return conn.execute(
        sa.text(
            """SELECT client_addr, window_started_at, failures, refused, audited_failures, codes_tried,
                      next_allowed_at, now() AS now,
                      greatest(ceil(extract(epoch FROM next_allowed_at - now())), 0)::integer AS wait_seconds,
                      greatest(updated_at, coalesce(next_allowed_at, updated_at))
                          < now() - make_interval(mins => :w) AS window_over
                 FROM master.login_throttle WHERE client_addr = :a FOR UPDATE"""
        ),
        {"a": client_addr, "w": window_minutes},
    ).first()


def ensure_throttle_row(conn: Connection, client_addr: str) -> None:
    conn.execute(sa.text("INSERT INTO master.login_throttle (client_addr) VALUES (:a) ON CONFLICT DO NOTHING"),
                 {"a": client_addr})


def count_refused(conn: Connection, client_addr: str) -> None:
    """An attempt refused while the address waits: counted for the summary, nothing else written."""
    conn.execute(sa.text("UPDATE master.login_throttle SET refused = refused + 1 WHERE client_addr = :a"),
                 {"a": client_addr})


def save_throttle(conn: Connection, client_addr: str, *, window_started_at, failures: int, refused: int,
                  audited_failures: int, codes_tried: list[str], delay_seconds: int) -> None:
    conn.execute(
        sa.text(
            """UPDATE master.login_throttle
                  SET window_started_at = :started, failures = :failures, refused = :refused,
                      audited_failures = :audited, codes_tried = CAST(:codes AS text[]),
                      next_allowed_at = CASE WHEN :delay > 0 THEN now() + make_interval(secs => :delay) END,
                      updated_at = now()
                WHERE client_addr = :a"""
        ),
        {"a": client_addr, "started": window_started_at, "failures": failures, "refused": refused,
         "audited": audited_failures, "codes": codes_tried, "delay": delay_seconds},
    )


def lockout_of(conn: Connection, staff_code: str, client_addr: str):
    """Wrong PINs for this code (as typed) from this address, locked until commit."""
    return conn.execute(
        sa.text(
            """SELECT failures, locked_until, coalesce(locked_until > now(), false) AS is_locked
                 FROM master.login_lockout WHERE staff_code = :c AND client_addr = :a FOR UPDATE"""
        ),
        {"c": staff_code, "a": client_addr},
    ).first()


def record_code_failure(conn: Connection, staff_code: str, client_addr: str, max_failures: int,
                        lockout_minutes: int):
    """Count a wrong PIN for this code at this address; the max-th in a row locks the code here.
    Returns (failures, locked_until, is_locked)."""
    return conn.execute(
        sa.text(
            """INSERT INTO master.login_lockout AS l (staff_code, client_addr, failures, locked_until)
               VALUES (:c, :a, CASE WHEN 1 >= :max THEN 0 ELSE 1 END,
                       CASE WHEN 1 >= :max THEN now() + make_interval(mins => :minutes) END)
               ON CONFLICT (staff_code, client_addr) DO UPDATE
                  SET failures = CASE WHEN l.failures + 1 >= :max THEN 0 ELSE l.failures + 1 END,
                      locked_until = CASE WHEN l.failures + 1 >= :max
                                          THEN now() + make_interval(mins => :minutes) ELSE l.locked_until END,
                      updated_at = now()
            RETURNING failures, locked_until, coalesce(locked_until > now(), false) AS is_locked"""
        ),
        {"c": staff_code, "a": client_addr, "max": max_failures, "minutes": lockout_minutes},
    ).one()


def clear_code_failures(conn: Connection, staff_code: str, client_addr: str) -> None:
    conn.execute(sa.text("DELETE FROM master.login_lockout WHERE staff_code = :c AND client_addr = :a"),
                 {"c": staff_code, "a": client_addr})


def purge_login_counters(conn: Connection) -> None:
    """Forget counters nobody has touched for a day (the table cannot grow without bound)."""
    conn.execute(sa.text(
        """DELETE FROM master.login_lockout
            WHERE updated_at < now() - interval '1 day' AND coalesce(locked_until < now(), true)"""))
    conn.execute(sa.text(
        """DELETE FROM master.login_throttle
            WHERE greatest(updated_at, coalesce(next_allowed_at, updated_at)) < now() - interval '1 day'"""))


def pin_owner(conn: Connection, staff_id: int):
    """What the PIN rules need about a staff member: the stored hash, role, code and mobile."""
    return conn.execute(
        sa.text("SELECT pin_hash, designation, staff_code, phone FROM master.staff WHERE staff_id = :id"),
        {"id": staff_id},
    ).first()


def require_pin_change(conn: Connection, staff_id: int) -> None:
    conn.execute(sa.text("UPDATE master.staff SET must_change_pin = true WHERE staff_id = :id"), {"id": staff_id})
