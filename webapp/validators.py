"""Indian identifiers, checked exactly as the database CHECK functions check them.

Each ``is_*`` mirrors ``master.is_*`` in sql/0001_platform.sql; tests feed both
the same inputs. The WTForms validators at the bottom wrap them for forms.
"""
from __future__ import annotations

import re

from wtforms.validators import ValidationError

GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_PAN = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")
_IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
_UPI = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}@[A-Za-z][A-Za-z0-9]{1,31}")
_MOBILE = re.compile(r"[6-9][0-9]{9}")
_PHONE = re.compile(r"[0-9][0-9 -]{5,18}[0-9]")
_EMAIL = re.compile(r"[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]+")
_PINCODE = re.compile(r"[1-9][0-9]{5}")
_BANK_ACCOUNT = re.compile(r"[0-9]{9,18}")
_GSTIN_SHAPE = re.compile(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]")


def _full(pattern: re.Pattern, value: str) -> bool:
    # PostgreSQL's '$' does not match before a trailing newline; fullmatch agrees with it.
    return pattern.fullmatch(value) is not None


def is_pan(v: str) -> bool:
    return _full(_PAN, v)


def is_ifsc(v: str) -> bool:
    return _full(_IFSC, v)


def is_upi_id(v: str) -> bool:
    return len(v) <= 100 and _full(_UPI, v)


def is_mobile(v: str) -> bool:
    return _full(_MOBILE, v)


def is_phone(v: str) -> bool:
    return _full(_PHONE, v)


def is_email(v: str) -> bool:
    return len(v) <= 254 and _full(_EMAIL, v)


def is_pincode(v: str) -> bool:
    return _full(_PINCODE, v)


def is_bank_account(v: str) -> bool:
    return _full(_BANK_ACCOUNT, v)


def gstin_check_character(first14: str) -> str:
    """The mod-36 check character of a GSTIN's first 14 characters."""
    total = 0
    for i, ch in enumerate(first14):
        product = GSTIN_ALPHABET.index(ch) * (2 if i % 2 else 1)
        total += product // 36 + product % 36
    return GSTIN_ALPHABET[(36 - total % 36) % 36]


def is_gstin(v: str) -> bool:
    return _full(_GSTIN_SHAPE, v) and gstin_check_character(v[:14]) == v[14]


def normalise_mobile(raw: str) -> str:
    """'+91 98450 12345' -> '9845012345' (what the user typed, minus punctuation)."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+91"):
        digits = digits[3:]
    elif len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    return digits


# --------------------------------------------------------------------------- WTForms


def _field_check(test, message):
    def check(_form, field):
        if field.data not in (None, "") and not test(field.data):
            raise ValidationError(message)

    return check


GSTIN = _field_check(is_gstin, "Not a valid GSTIN: 15 characters, and the last one is a check character")
PAN = _field_check(is_pan, "PAN is 5 letters, 4 digits, 1 letter (e.g. ABCDE1234F)")
IFSC = _field_check(is_ifsc, "IFSC is 4 letters, 0, then 6 letters or digits (e.g. HDFC0001234)")
UPI_ID = _field_check(is_upi_id, "UPI id looks like name@bank")
MOBILE = _field_check(is_mobile, "Mobile number is 10 digits starting with 6, 7, 8 or 9")
PHONE = _field_check(is_phone, "Phone number: digits, spaces or dashes (e.g. 080-41234567)")
EMAIL = _field_check(is_email, "Not a valid e-mail address")
PINCODE = _field_check(is_pincode, "PIN code is 6 digits")
BANK_ACCOUNT = _field_check(is_bank_account, "Account number is 9 to 18 digits")
