"""SQL for logging in and for sessions. Functions take the request's connection; none commits."""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def any_staff_exists(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM master.staff)")).scalar_one()


def staff_for_login(conn: Connection, staff_code: str):
    """The staff row, locked so that concurrent attempts count failures one at a time."""
    return conn.execute(
        sa.text(
            """SELECT st.staff_id, st.staff_code, st.name, st.designation, st.branch_id, st.pin_hash,
                      st.is_active, st.must_change_pin, st.failed_pin_count, st.locked_until,
                      st.locked_until > now() AS is_locked,
                      coalesce(b.trade_name, b.legal_name) AS branch_name, b.branch_code
                 FROM master.staff st JOIN master.branch b USING (branch_id)
                WHERE st.staff_code = :code
                  FOR UPDATE OF st"""
        ),
        {"code": staff_code},
    ).first()


def record_failed_pin(conn: Connection, staff_id: int, max_failures: int, lockout_minutes: int):
    """Count a wrong PIN; the max-th in a row locks the account. Returns (failures, locked_until)."""
    return conn.execute(
        sa.text(
            """UPDATE master.staff
                  SET failed_pin_count = CASE WHEN failed_pin_count + 1 >= :max THEN 0 ELSE failed_pin_count + 1 END,
                      locked_until = CASE WHEN failed_pin_count + 1 >= :max
                                          THEN now() + make_interval(mins => :minutes) ELSE locked_until END
                WHERE staff_id = :id
            RETURNING failed_pin_count, locked_until, locked_until > now() AS is_locked"""
        ),
        {"id": staff_id, "max": max_failures, "minutes": lockout_minutes},
    ).one()


def record_login(conn: Connection, staff_id: int) -> None:
    conn.execute(
        sa.text("UPDATE master.staff SET failed_pin_count = 0, locked_until = NULL, last_login_at = now() "
                "WHERE staff_id = :id"),
        {"id": staff_id},
    )


def rehash_pin(conn: Connection, staff_id: int, pin_hash: str) -> None:
    conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h WHERE staff_id = :id"), {"h": pin_hash, "id": staff_id})


def pin_hash_of(conn: Connection, staff_id: int) -> str | None:
    return conn.execute(sa.text("SELECT pin_hash FROM master.staff WHERE staff_id = :id"), {"id": staff_id}).scalar()


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
