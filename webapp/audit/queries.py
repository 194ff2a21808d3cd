"""Reading the audit trail. Functions take the request's connection; none commits."""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def tracked_tables(conn: Connection) -> list[str]:
    """Tables with the audit trigger, read from the catalogue (later modules appear by themselves)."""
    rows = conn.execute(sa.text(
        """SELECT n.nspname || '.' || c.relname AS name
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.tgname = 'audit_log_change' ORDER BY 1"""))
    return [r.name for r in rows]


def staff_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("SELECT staff_id, staff_code, name FROM master.staff ORDER BY staff_code"))
    return [(r.staff_id, f"{r.staff_code} - {r.name}") for r in rows]


def search_log(conn: Connection, *, table: str | None, staff_id: int | None, date_from: date | None,
               date_to: date | None, page: int, page_size: int):
    """One page of entries, newest first. The staff filter finds what they did and what was done to them."""
    where = ["true"]
    params: dict = {"limit": page_size + 1, "offset": (page - 1) * page_size}
    if table:
        where.append("l.table_name = :table")
        params["table"] = table
    if staff_id:
        where.append("(l.staff_id = :staff OR (l.table_name = 'master.staff' AND l.row_key = :staff_key))")
        params.update(staff=staff_id, staff_key=str(staff_id))
    if date_from:
        where.append("l.at >= CAST(:from AS date)")
        params["from"] = date_from
    if date_to:
        where.append("l.at < CAST(:to AS date)")
        params["to"] = date_to + timedelta(days=1)
    rows = conn.execute(
        sa.text(
            f"""SELECT l.audit_id, l.at, l.staff_id, st.staff_code, st.name AS staff_name, l.db_user,
                       l.client_addr, l.user_agent, l.action, l.table_name, l.row_key, l.event,
                       CAST(l.before AS text) AS before, CAST(l.after AS text) AS after
                  FROM audit.log l LEFT JOIN master.staff st ON st.staff_id = l.staff_id
                 WHERE {' AND '.join(where)}
                 ORDER BY l.at DESC, l.audit_id DESC
                 LIMIT :limit OFFSET :offset"""
        ),
        params,
    ).all()
    # One row more than a page tells whether there is a next page without counting a large table.
    # The rows as logged, numbers read as Decimal (8000.00 stays 8000.00, never the float 8000.0).
    entries = [SimpleNamespace(**{**row._asdict(), "before": _json(row.before), "after": _json(row.after)})
               for row in rows[:page_size]]
    return entries, len(rows) > page_size


def _json(text: str | None):
    return None if text is None else json.loads(text, parse_float=Decimal)
