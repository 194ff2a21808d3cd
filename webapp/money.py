"""Money as the whole ERP handles it: Decimal rupees to the paisa, never a float.

- ``round_paisa`` / ``round_rupee``: ROUND_HALF_UP, i.e. half away from zero, exactly as
  PostgreSQL's round(numeric, 2) and round(numeric) (2.505 -> 2.51, -2.505 -> -2.51);
- ``parse_amount``: an amount or a quantity as a person types it on a form, strictly (no
  exponent, no NaN or Infinity, no more decimals than the field keeps);
- ``amount_in_words``: the Indian system, as printed on an invoice.

This module imports nothing from the ERP's modules: billing, procurement, sales and the
forms all build on it.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PAISA = Decimal("0.01")
RUPEE = Decimal(1)
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# numeric(14,2) holds 12 digits before the point.
MAX_DIGITS = 12

# Largest amount amount_in_words() spells: 99,99,99,99,999.99 (9,999 crore ...).
MAX_WORDS_AMOUNT = Decimal("99999999999.99")


def round_paisa(value: Decimal) -> Decimal:
    """Round half up (away from zero) to two decimals, as PostgreSQL's round(value, 2)."""
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def round_rupee(value: Decimal) -> Decimal:
    """Round half up to the whole rupee, kept with two decimals (100.50 -> 101.00)."""
    return value.quantize(RUPEE, rounding=ROUND_HALF_UP).quantize(PAISA)


def as_decimal(value: object, name: str) -> Decimal:
    """Decimal, int or a numeric str as a finite Decimal; floats (and bools) are refused."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return result


def paisa_exact(value: Decimal, name: str) -> Decimal:
    if value != value.quantize(PAISA, rounding=ROUND_HALF_UP):
        raise ValueError(f"{name} must be a whole number of paise: {value}")
    return value.quantize(PAISA)


# --------------------------------------------------------------------------- typed amounts

# Digits, or digits grouped by commas the Indian way (1,23,45,678) or the western way
# (12,345,678); then at most a point and decimals. Signs and the rupee sign are taken off first.
_GROUPED = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}")
_NUMBER = re.compile(r"(?P<whole>[0-9,]+)(?:\.(?P<fraction>[0-9]+))?")
_CURRENCY = re.compile(r"(?:₹|rs\.?|inr)\s*", re.IGNORECASE)


def parse_amount(typed: str | None, *, places: int = 2, negative: bool = False,
                 currency: bool = True) -> Decimal | None:
    """What a person typed as a Decimal; None when nothing was typed.

    Accepted: '123456.5', '1,23,456.50', '123,456.50', '0.10', and with ``currency`` a leading
    '₹', 'Rs' or 'Rs.' ('₹ 50,000'). Refused with a ValueError whose message can be shown next
    to the field: exponents ('1e5'), 'NaN', 'Infinity', misplaced commas, more than ``places``
    decimals, more than 12 digits before the point, and a minus sign unless ``negative``.
    """
    if typed is None:
        return None
    text = typed.strip()
    if not text:
        return None
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:].lstrip()
    if currency:
        match = _CURRENCY.match(text)
        if match:
            text = text[match.end():]
            if not sign and text[:1] in ("+", "-"):
                sign, text = text[0], text[1:].lstrip()
    match = _NUMBER.fullmatch(text)
    if match is None or _GROUPED.fullmatch(match["whole"]) is None:
        example = "1,25,000.50" if places == 2 else ("2.5" if places else "12")
        raise ValueError(f"Enter a number in figures, e.g. {example}")
    whole = match["whole"].replace(",", "")
    fraction = match["fraction"] or ""
    if len(fraction) > places:
        raise ValueError("At most 2 decimals (paise)" if places == 2 else
                         (f"At most {places} decimals" if places else "A whole number"))
    if len(whole.lstrip("0")) > MAX_DIGITS:
        raise ValueError("Too large")
    if sign == "-" and not negative:
        raise ValueError("Not negative")
    value = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return -value if sign == "-" else value


# --------------------------------------------------------------------------- words

_ONES = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
         "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen")
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{_ONES[hundreds]} Hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def _integer_words(n: int) -> str:
    """Indian system: 12345678 -> 'One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight'."""
    if n == 0:
        return "Zero"
    crore, n = divmod(n, 10_000_000)
    lakh, n = divmod(n, 100_000)
    thousand, n = divmod(n, 1_000)
    parts = []
    if crore:
        # up to 9,999 crore within MAX_WORDS_AMOUNT: "Nine Thousand Nine Hundred Ninety-Nine Crore"
        parts.append(f"{_integer_words(crore)} Crore")
    if lakh:
        parts.append(f"{_below_hundred(lakh)} Lakh")
    if thousand:
        parts.append(f"{_below_hundred(thousand)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def amount_in_words(amount: Decimal) -> str:
    """Decimal('123456.50') -> 'One Lakh Twenty-Three Thousand Four Hundred Fifty-Six Rupees and
    Fifty Paise Only'; whole rupees -> '... Rupees Only'; 0 -> 'Zero Rupees Only';
    0.50 -> 'Zero Rupees and Fifty Paise Only'; 1.01 -> 'One Rupee and One Paisa Only'. Up to 99,99,99,99,999.99; negative
    amounts and fractions of a paisa are refused (ValueError)."""
    value = as_decimal(amount, "amount")
    if value < 0:
        raise ValueError("amount in words: negative amounts are refused")
    if value > MAX_WORDS_AMOUNT:
        raise ValueError("amount in words: above 99,99,99,99,999.99")
    value = paisa_exact(value, "amount")
    rupees, paise = divmod(int(value * 100), 100)
    words = f"{_integer_words(rupees)} {'Rupee' if rupees == 1 else 'Rupees'}"
    if paise:
        words += f" and {_below_hundred(paise)} {'Paisa' if paise == 1 else 'Paise'}"
    return words + " Only"
