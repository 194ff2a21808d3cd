"""PIN hashing and the role declaration every route carries.

A PIN is hashed as Argon2id(HMAC-SHA256(pepper, PIN)). The pepper lives only on
the server (environment or instance/), so a stolen database alone cannot verify
a single guess.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

from . import capabilities
from .capabilities import ROLES  # noqa: F401  (the roles, named once in the capability map)

PIN_RE = re.compile(r"^[0-9]{4,6}\Z")  # \Z: "$" would let "2580\n" through

# --------------------------------------------------------------------------- PINs


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def _current_hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg["PIN_HASH_TIME_COST"], cfg["PIN_HASH_MEMORY_KIB"])


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash no PIN matches (of a random secret), made once per hash settings."""
    import secrets

    return _hasher(time_cost, memory_kib).hash(secrets.token_hex(32))


def _peppered(pin: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), pin.encode(), hashlib.sha256).hexdigest()


def hash_pin(pin: str) -> str:
    if not PIN_RE.match(pin):
        raise ValueError("a PIN is 4 to 6 digits")
    return _current_hasher().hash(_peppered(pin, current_app.config["PIN_PEPPER"]))


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """True when the PIN matches. With no hash (unknown staff code) the same work is done."""
    peppered = _peppered(pin, current_app.config["PIN_PEPPER"])
    hasher = _current_hasher()
    if pin_hash is None:
        # A real check against a dummy hash of the same settings: the response time does not
        # tell which staff codes exist.
        try:
            hasher.verify(_dummy_hash(hasher.time_cost, hasher.memory_cost), peppered)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        return False
    try:
        return hasher.verify(pin_hash, peppered)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def pin_needs_rehash(pin_hash: str) -> bool:
    """True when the stored hash was made with weaker settings than the current ones."""
    return _current_hasher().check_needs_rehash(pin_hash)


def pin_is_trivial(pin: str) -> bool:
    """Reject PINs that anyone at the counter would guess first."""
    if not PIN_RE.match(pin):
        return False  # not a PIN at all: the format check refuses it, this one must not crash on it
    if len(set(pin)) == 1:
        return True
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:])}
    return steps in ({1}, {-1})


# PINs people choose first, beyond repeated digits and runs (which pin_is_trivial refuses).
COMMON_PINS = frozenset({"1212", "1122", "1010", "2000", "6969", "1313", "121212", "112233", "123123", "123321",
                         "111222", "101010", "131313", "696969", "159753", "147258", "147852", "789456"})
TRIVIAL_PIN_MESSAGE = "Choose a PIN that is not a repeated or running sequence like 1111 or 1234"


def pin_min_length(role: str | None) -> int:
    return current_app.config["PIN_MIN_LENGTH"].get(role, 4)


def pin_policy_problem(pin: str, role: str | None, staff_code: str | None = None,
                       phone: str | None = None) -> str | None:
    """Why this PIN may not be chosen by this person (None: it may). The message goes next to the field."""
    if not PIN_RE.match(pin or ""):
        return "A PIN is 4 to 6 digits"
    shortest = pin_min_length(role)
    if len(pin) < shortest:
        return f"Your role needs a PIN of at least {shortest} digits"
    if pin_is_trivial(pin) or pin in COMMON_PINS:
        return TRIVIAL_PIN_MESSAGE
    code_digits = re.sub(r"[^0-9]", "", staff_code or "")
    if code_digits and (pin in code_digits or (len(code_digits) >= 4 and code_digits in pin)):
        return "Choose a PIN that is not made of the digits of the staff code"
    phone_digits = re.sub(r"[^0-9]", "", phone or "")
    if len(phone_digits) >= len(pin) and phone_digits.endswith(pin):
        return "Choose a PIN that is not the last digits of the mobile number"
    return None


def pin_too_short_for(pin: str, role: str | None) -> bool:
    """An existing PIN shorter than the role now needs: it must be changed at the next login."""
    return len(pin) < pin_min_length(role)


# --------------------------------------------------------------------------- route access

PUBLIC = "public"
READING = frozenset({"GET", "HEAD", "OPTIONS"})


def allow(capability: str, *, write: str | None = None):
    """Declare the capability (webapp/capabilities.py) a route needs. With ``write``, reading the page
    (GET) needs the first and submitting it (POST...) the second. Routes without a declaration are refused."""
    read_roles = capabilities.roles_for(capability)
    write_roles = capabilities.roles_for(write) if write else read_roles

    def decorate(view):
        view.capability = (capability, write or capability)
        view.allowed_roles = read_roles
        view.write_roles = write_roles
        return view

    return decorate


def public(view):
    """Declare a route open to anyone (login, health check, setup wizard)."""
    view.allowed_roles = PUBLIC
    return view


def allowed_roles(view, method: str = "GET") -> frozenset[str] | str | None:
    """The roles a route admits for this method; PUBLIC; or None when it declares nothing."""
    declared = getattr(view, "allowed_roles", None)
    if declared is None or declared == PUBLIC or method in READING:
        return declared
    return getattr(view, "write_roles", declared)


def can(capability: str) -> bool:
    """The signed-in user holds this capability (for buttons and forms on a page)."""
    from flask_login import current_user

    return current_user.is_authenticated and capabilities.role_can(current_user.role, capability)


def own_only(all_capability: str) -> int | None:
    """The staff id a list must be limited to (a salesperson's own leads or bookings), or None when the
    user holds ``all_capability`` and sees every row of the branch."""
    from flask_login import current_user

    return None if can(all_capability) else current_user.staff_id


def own_or_404(row, all_capability: str):
    """The row (with branch_id and salesperson_id) if it is of the user's branch and, without
    ``all_capability``, the user's own; else the 404 page."""
    from flask import abort
    from flask_login import current_user

    if row is None or row["branch_id"] != current_user.branch_id:
        abort(404)
    mine = own_only(all_capability)
    if mine is not None and row["salesperson_id"] != mine:
        abort(404)
    return row


def may_open(endpoint: str, method: str = "GET") -> bool:
    """The signed-in user's role may use this route (for links and buttons on a page)."""
    from flask_login import current_user

    return current_user.is_authenticated and role_may_use(current_user.role, endpoint, method)


def role_may_use(role: str, endpoint: str, method: str = "GET") -> bool:
    """Used by the navigation to show only what the role may open."""
    view = current_app.view_functions.get(endpoint)
    declared = allowed_roles(view, method) if view else None
    return declared == PUBLIC or (isinstance(declared, frozenset) and role in declared)

