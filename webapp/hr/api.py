"""What other modules (payroll) may use of HR: the payment days and loss-of-pay days per person of a
closed month, whether a month is closed, and the month of a page (?month=YYYY-MM).

The one door into this module (tests/test_import_contract.py)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .common import add_months, month_arg
from .queries import payment_days


def month_closed(conn: Connection, branch_id: int, month: date) -> bool:
    """The branch's attendance of the month (any day of it) is closed, its figures permanent."""
    return conn.execute(sa.text("SELECT hr.month_is_closed(:b, :m)"), {"b": branch_id, "m": month}).scalar()


__all__ = ["add_months", "month_arg", "month_closed", "payment_days"]
