"""Logging in: one place that checks the PIN, counts failures, locks, throttles and audits.

Every PIN check (the login and the change-PIN form's current PIN) goes through here:
- per client address (master.login_throttle): after LOGIN_THROTTLE_AFTER failures the address
  waits 2^k seconds before its next attempt is even checked (HTTP 429, no PIN check);
- per staff code as typed and address (master.login_lockout): PIN_MAX_FAILURES wrong PINs lock
  that code at that address for PIN_LOCKOUT_MINUTES; known and unknown codes answer alike;
- the audit trail gets the first failure of an address's window, a summary when the delays
  start and at each doubling of the count, and one LOCKED_OUT per lock of a real code, never
  a row per attempt.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.engine import Connection

from ..db import set_actor
from ..formatting import ddmmyyyy_hhmm
from ..security import hash_pin, pin_needs_rehash, pin_too_short_for, verify_pin
from ..sessions import signed_in_staff
from . import queries

WRONG = "Staff code or PIN is not right."
MAX_CODES_REMEMBERED = 10  # distinct codes an address's summary lists
CODE_KEY_LENGTH = 40  # master.login_lockout.staff_code (the form allows 12)


@dataclass
class LoginResult:
    staff: dict | None = None
    message: str | None = None
    status: int = 401  # 429: the address must wait, nothing was checked
    locked: bool = False  # this code is now locked at this address


def refusal_before_check(conn: Connection, staff_code: str, pin: str, client_addr: str,
                         staff_id: int | None = None, event: str = "LOGIN_FAILED") -> LoginResult | None:
    """A throttled address (429) or a code locked at this address: refused without checking the PIN."""
    cfg = current_app.config
    staff_code = staff_code[:CODE_KEY_LENGTH]
    throttle = queries.throttle_of(conn, client_addr, cfg["LOGIN_THROTTLE_WINDOW_MINUTES"])
    if throttle is not None and throttle.wait_seconds > 0:
        queries.count_refused(conn, client_addr)
        return LoginResult(message=_throttled_message(throttle.wait_seconds), status=429)
    lock = queries.lockout_of(conn, staff_code, client_addr)
    if lock is not None and lock.is_locked:
        verify_pin(None, pin)  # the same work as a real check
        _count_address_failure(conn, client_addr, staff_code, staff_id, event, "code locked here")
        return LoginResult(message=_locked_message(lock.locked_until), locked=True)
    return None


def wrong_pin(conn: Connection, staff_code: str, client_addr: str, staff_id: int | None, event: str,
              reason: str, wrong_words: str = WRONG) -> LoginResult:
    """Count a wrong PIN (or an unknown code) for the code at this address and for the address."""
    cfg = current_app.config
    staff_code = staff_code[:CODE_KEY_LENGTH]
    failures, locked_until, is_locked = queries.record_code_failure(
        conn, staff_code, client_addr, cfg["PIN_MAX_FAILURES"], cfg["PIN_LOCKOUT_MINUTES"])
    _count_address_failure(conn, client_addr, staff_code, staff_id, event, reason)
    if is_locked:
        if staff_id is not None:  # one row per lock: a lock lasts PIN_LOCKOUT_MINUTES
            queries.audit_event(conn, "LOCKED_OUT", staff_id,
                                {"staff_code": staff_code, "locked_until": locked_until.isoformat(),
                                 "at_address": client_addr})
        return LoginResult(message=_locked_message(locked_until), locked=True)
    left = cfg["PIN_MAX_FAILURES"] - failures
    return LoginResult(message=f"{wrong_words} {left} more wrong {'try locks' if left == 1 else 'tries lock'} "
                               f"this code on this terminal for {cfg['PIN_LOCKOUT_MINUTES']} minutes.")


def _count_address_failure(conn: Connection, client_addr: str, staff_code: str, staff_id: int | None,
                           event: str, reason: str) -> None:
    """One more failure from this address: the growing delay, and the few audit rows it earns."""
    cfg = current_app.config
    queries.ensure_throttle_row(conn, client_addr)
    t = queries.throttle_of(conn, client_addr, cfg["LOGIN_THROTTLE_WINDOW_MINUTES"])
    if t.window_over or t.failures == 0:
        if t.failures > max(t.audited_failures, 1):  # the last window's tail the trail has not seen
            _summary_event(conn, client_addr, t.failures, t.refused, t.window_started_at, t.codes_tried)
        started, failures, refused, audited, codes = t.now, 1, 0, 0, [staff_code]
    else:
        started, failures, refused, audited = t.window_started_at, t.failures + 1, t.refused, t.audited_failures
        codes = list(t.codes_tried)
        if staff_code not in codes and len(codes) < MAX_CODES_REMEMBERED:
            codes.append(staff_code)
    after = max(cfg["LOGIN_THROTTLE_AFTER"], 1)
    delay = 0
    if failures >= after:
        step = min(failures - after, 30)
        delay = min(cfg["LOGIN_THROTTLE_BASE_SECONDS"] * 2 ** step, cfg["LOGIN_THROTTLE_MAX_SECONDS"])
    multiple, rest = divmod(failures, after)
    if failures >= after and rest == 0 and multiple & (multiple - 1) == 0:
        # when the delays start, then at 2x, 4x, 8x ... that count: a handful of rows, however many tries
        _summary_event(conn, client_addr, failures, refused, started, codes)
        audited = failures
    elif failures == 1:
        queries.audit_event(conn, event, staff_id, {"staff_code": staff_code, "reason": reason})
        audited = 1
    queries.save_throttle(conn, client_addr, window_started_at=started, failures=failures, refused=refused,
                          audited_failures=audited, codes_tried=codes, delay_seconds=delay)


def _summary_event(conn: Connection, client_addr: str, failures: int, refused: int, since, codes) -> None:
    queries.audit_event(conn, "LOGIN_FAILURES_FROM_ADDRESS", None,
                        {"failed_attempts": failures, "refused_while_waiting": refused,
                         "since": since.isoformat(), "from_address": client_addr,
                         "codes_tried": ", ".join(codes)})


def attempt_login(conn: Connection, staff_code: str, pin: str, client_addr: str,
                  user_agent: str | None = None) -> LoginResult:
    """Check code + PIN. Failures, delays and lockouts are recorded whatever the outcome of the request
    (the request commits a refused login too), with the terminal (address and browser) they came from."""
    set_actor(conn, None, client_addr, user_agent)
    refused = refusal_before_check(conn, staff_code, pin, client_addr)
    if refused is not None:
        return refused
    row = queries.staff_for_login(conn, staff_code)
    if row is None or not row.is_active:
        verify_pin(None, pin)  # same work as a real check: timing does not tell which codes exist
        return wrong_pin(conn, staff_code, client_addr, row.staff_id if row else None, "LOGIN_FAILED",
                         "inactive" if row else "unknown code")
    if not verify_pin(row.pin_hash, pin):
        return wrong_pin(conn, staff_code, client_addr, row.staff_id, "LOGIN_FAILED", "wrong PIN")
    queries.clear_code_failures(conn, staff_code, client_addr)
    set_actor(conn, row.staff_id, client_addr, user_agent, branch_id=row.branch_id,
              all_branches=row.all_branches)
    queries.record_login(conn, row.staff_id)
    if pin_needs_rehash(row.pin_hash):
        queries.rehash_pin(conn, row.staff_id, hash_pin(pin))
    must_change = row.must_change_pin
    if not must_change and pin_too_short_for(pin, row.designation):
        # A PIN chosen before the role needed a longer one keeps working for this one login,
        # which can only choose a new PIN.
        queries.require_pin_change(conn, row.staff_id)
        must_change = True
    queries.audit_event(conn, "LOGIN", row.staff_id, {"staff_code": staff_code})
    return LoginResult(staff=signed_in_staff(row, must_change))


def check_pin_at_terminal(conn: Connection, staff_code: str, pin: str, client_addr: str,
                          user_agent: str | None = None):
    """The login's PIN check for a punch at the attendance terminal: the same throttle, lockout, slow
    hash and audit of failures, but no session and no LOGIN event. Returns (staff row or None, LoginResult)."""
    set_actor(conn, None, client_addr, user_agent)
    refused = refusal_before_check(conn, staff_code, pin, client_addr, event="PUNCH_PIN_FAILED")
    if refused is not None:
        return None, refused
    row = queries.staff_for_login(conn, staff_code)
    if row is None or not row.is_active:
        verify_pin(None, pin)
        return None, wrong_pin(conn, staff_code, client_addr, row.staff_id if row else None, "PUNCH_PIN_FAILED",
                               "inactive" if row else "unknown code")
    if not verify_pin(row.pin_hash, pin):
        return None, wrong_pin(conn, staff_code, client_addr, row.staff_id, "PUNCH_PIN_FAILED", "wrong PIN")
    queries.clear_code_failures(conn, staff_code, client_addr)
    return row, LoginResult(status=200)


def _locked_message(locked_until) -> str:
    return (f"Too many wrong PINs: this staff code is locked until {ddmmyyyy_hhmm(locked_until)[-5:]} "
            "on this terminal. It still works on other terminals, and an administrator can unlock it "
            "by resetting the PIN.")


def _throttled_message(seconds: int) -> str:
    wait = f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120 else f"{-(-seconds // 60)} minutes"
    return (f"Too many wrong tries from this terminal: wait {wait}, then try again. "
            "Nothing was checked this time.")
