"""Small helpers shared by the HR screens: the month of a page (?month=YYYY-MM) and the day labels."""
from __future__ import annotations

from datetime import date, timedelta

from flask import request

from ..formatting import add_months, today_ist

STATUS_LABELS = {
    "PRESENT": ("P", "Present"), "LATE": ("L", "Late"), "HALF_DAY": ("H", "Half day"), "ABSENT": ("A", "Absent"),
    "LEAVE": ("LV", "Leave"), "HALF_LEAVE": ("HL", "Half-day leave"), "WEEKLY_OFF": ("WO", "Weekly off"),
    "HOLIDAY": ("HO", "Holiday"), "UNREGULARISED": ("?", "Out-punch missing"), "TODAY": ("·", "Today"),
    "FUTURE": ("", "To come"),
}


def month_arg(name: str = "month") -> date:
    """The first day of ?month=YYYY-MM; this month when absent or malformed."""
    raw = request.args.get(name, "") or request.form.get(name, "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        if 2000 <= year <= 2200:
            return date(year, month, 1)
    except ValueError:
        pass
    return today_ist().replace(day=1)


def month_days(first: date) -> list[date]:
    last = add_months(first, 1) - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def hours(minutes: int | None) -> str:
    return "" if minutes is None else f"{minutes // 60}:{minutes % 60:02d}"
