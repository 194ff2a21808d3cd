"""What the home screen's at-a-glance panels share: the periods they count over (today, this month,
the last six months) and month labels. Each module draws its own panel
("dashboard" slot, webapp/panels.py) from its own queries; this module knows no module."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .formatting import add_months

CHART_MONTHS = 6


@dataclass(frozen=True)
class Periods:
    today: date
    month_start: date
    chart_start: date       # the first day of the oldest month a chart shows
    months: tuple[date, ...]

    @property
    def month_labels(self) -> list[str]:
        return [m.strftime("%b %y") for m in self.months]


def periods(today: date, months: int = CHART_MONTHS) -> Periods:
    month_start = today.replace(day=1)
    firsts = tuple(add_months(month_start, k - months + 1) for k in range(months))
    return Periods(today, month_start, firsts[0], firsts)


def by_month(rows, months: tuple[date, ...], value: str = "value") -> list:
    """Values of (month, value) rows laid on the chart's months, zero where a month has none (or its
    value cannot be known, e.g. no unit of the month has a landed cost)."""
    found = {r.month: getattr(r, value) or Decimal(0) for r in rows}
    return [found.get(m, Decimal(0)) for m in months]
