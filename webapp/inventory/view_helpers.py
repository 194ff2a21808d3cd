"""What the inventory screens share: the branch a page is about, the rule that stock is changed at
one's own branch (an administrator: any), and running a posting so that a refusal becomes a message."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import request
from flask_login import current_user

from ..db import get_conn
from ..forms import constraint_name
from ..security import can
from . import queries, services


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def branch_from(raw: str | None, *, allow_all: bool = False) -> tuple[int | None, str]:
    """The branch asked for (?branch=), 'all' where a screen allows it, else the user's own."""
    raw = (raw or "").strip()
    if allow_all and raw == "all":
        return None, "all"
    if raw.isdigit() and len(raw) < 10 and queries.get_branch(get_conn(), int(raw)) is not None:
        return int(raw), raw
    return current_user.branch_id, str(current_user.branch_id)


def may_act_at(branch_id: int) -> bool:
    """Stock changes are made at one's own branch; an administrator may act for any."""
    return can("stock.any_branch") or current_user.branch_id == branch_id


def not_your_branch(branch_id: int) -> str:
    branch = queries.get_branch(get_conn(), branch_id)
    return (f"Stock at {branch.branch_code if branch else 'that branch'} is changed by its own staff "
            "(or an administrator).")


def attempt(action, messages: dict[str, str] | None = None):
    """Run a posting in a savepoint: (result, None), or (None, message) when a showroom rule or a
    known constraint refused it. Anything else propagates (and becomes the error page)."""
    conn = get_conn()
    try:
        with conn.begin_nested():
            return action(), None
    except services.Refused as exc:
        return None, str(exc)
    except sa.exc.IntegrityError as exc:
        name = constraint_name(exc)
        if messages and name in messages:
            return None, messages[name]
        raise


def whole_units_problem(whole: bool, unit: str, qty: Decimal | None) -> str | None:
    if qty is not None and whole and qty != qty.to_integral_value():
        return f"Counted in whole {unit}: enter a whole number"
    return None
