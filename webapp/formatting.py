"""Indian display conventions: ₹ with lakh grouping, DD-MM-YYYY, Asia/Kolkata."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import Flask

IST = ZoneInfo("Asia/Kolkata")


def group_indian(digits: str) -> str:
    """'12345678' -> '1,23,45,678' (last three digits, then pairs)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail]) if head else ",".join([*pairs, tail])


def inr(amount: Decimal | int | str | None, symbol: bool = True) -> str:
    """Decimal('12345678.5') -> '₹1,23,45,678.50'."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    rupees, paise = f"{abs(value):.2f}".split(".")
    return f"{sign}{'₹' if symbol else ''}{group_indian(rupees)}.{paise}"


def plain_number(value) -> str:
    """A quantity or rate without trailing zeros: Decimal('2.500') -> '2.5', Decimal('18.00') -> '18'."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


def ddmmyyyy(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_ist(value).date()
    return value.strftime("%d-%m-%Y")


def to_ist(value: datetime) -> datetime:
    return value.astimezone(IST) if value.tzinfo else value.replace(tzinfo=IST)


def ddmmyyyy_hhmm(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_ist(value).strftime("%d-%m-%Y %H:%M")


def today_ist() -> date:
    return datetime.now(IST).date()


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` months after (before, when negative) the month of `first`."""
    n = first.year * 12 + first.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of the month of `day`."""
    return add_months(day, 1) - timedelta(days=1)


def financial_year(on: date) -> str:
    """The Indian financial year (1 April - 31 March) as '2026-27'."""
    start = on.year if on.month >= 4 else on.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(inr=inr, date=ddmmyyyy, datetime=ddmmyyyy_hhmm, plain=plain_number)
