"""Logging in: one place that checks the PIN, counts failures, locks and audits."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Connection

from ..db import set_actor
from ..formatting import ddmmyyyy_hhmm
from ..security import hash_pin, pin_needs_rehash, verify_pin
from . import queries

WRONG = "Staff code or PIN is not right."


@dataclass
class LoginResult:
    staff: dict | None = None
    message: str | None = None


def attempt_login(conn: Connection, staff_code: str, pin: str, client_addr: str,
                  user_agent: str | None = None) -> LoginResult:
    """Check code + PIN. Failures and lockouts are recorded whatever the outcome of the request,
    with the terminal (address and browser) they came from."""
    cfg = current_app.config
    set_actor(conn, None, client_addr, user_agent)
    row = queries.staff_for_login(conn, staff_code)
    if row is None or not row.is_active:
        verify_pin(None, pin)  # same work as a real check: timing does not tell which codes exist
        queries.audit_event(conn, "LOGIN_FAILED", row.staff_id if row else None,
                            {"staff_code": staff_code, "reason": "inactive" if row else "unknown code"})
        return LoginResult(message=WRONG)
    if row.is_locked:
        verify_pin(None, pin)
        queries.audit_event(conn, "LOGIN_REFUSED_LOCKED", row.staff_id, {"staff_code": staff_code})
        return LoginResult(message=_locked_message(row.locked_until))
    if not verify_pin(row.pin_hash, pin):
        failures, locked_until, is_locked = queries.record_failed_pin(
            conn, row.staff_id, cfg["PIN_MAX_FAILURES"], cfg["PIN_LOCKOUT_MINUTES"])
        if is_locked:
            queries.audit_event(conn, "LOCKED_OUT", row.staff_id,
                                {"staff_code": staff_code, "locked_until": locked_until.isoformat()})
            return LoginResult(message=_locked_message(locked_until))
        queries.audit_event(conn, "LOGIN_FAILED", row.staff_id,
                            {"staff_code": staff_code, "reason": "wrong PIN", "failures": failures})
        left = cfg["PIN_MAX_FAILURES"] - failures
        return LoginResult(message=f"{WRONG} {left} more wrong {'try locks' if left == 1 else 'tries lock'} "
                                   f"this code for {cfg['PIN_LOCKOUT_MINUTES']} minutes.")
    set_actor(conn, row.staff_id, client_addr, user_agent)
    queries.record_login(conn, row.staff_id)
    if pin_needs_rehash(row.pin_hash):
        queries.rehash_pin(conn, row.staff_id, hash_pin(pin))
    queries.audit_event(conn, "LOGIN", row.staff_id, {"staff_code": staff_code})
    return LoginResult(staff={
        "staff_id": row.staff_id,
        "staff_code": row.staff_code,
        "name": row.name,
        "role": row.designation,
        "branch_id": row.branch_id,
        "branch_name": row.branch_name,
        "branch_code": row.branch_code,
        "must_change_pin": row.must_change_pin,
    })


def _locked_message(locked_until) -> str:
    return (f"Too many wrong PINs: this staff code is locked until {ddmmyyyy_hhmm(locked_until)[-5:]}. "
            "An administrator can unlock it by resetting the PIN.")
