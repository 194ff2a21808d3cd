"""Audit log viewer: filter by table, staff and date."""
from __future__ import annotations

from datetime import date

from flask import current_app, render_template, request

from ..db import get_conn
from ..paging import requested_page
from ..security import roles
from . import bp, queries


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def changes(before: dict | None, after: dict | None) -> list[tuple[str, object, object]]:
    """(field, old, new) for the fields that differ, in a stable order."""
    before, after = before or {}, after or {}
    keys = list(after) + [k for k in before if k not in after]
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@bp.get("/")
@roles("ADMIN")
def log_list():
    conn = get_conn()
    tables = queries.tracked_tables(conn)
    table = request.args.get("table") if request.args.get("table") in tables else None
    staff_arg = request.args.get("staff", "")
    staff_id = int(staff_arg) if staff_arg.isdigit() else None
    date_from, date_to = _date_arg("from"), _date_arg("to")
    number = requested_page()
    rows, has_next = queries.search_log(conn, table=table, staff_id=staff_id, date_from=date_from,
                                        date_to=date_to, page=number,
                                        page_size=current_app.config["PAGE_SIZE"])
    entries = [(row, changes(row.before, row.after)) for row in rows]
    return render_template(
        "audit/log_list.html", entries=entries, tables=tables, staff=queries.staff_choices(conn),
        filters={"table": table, "staff": staff_id, "from": date_from, "to": date_to},
        page_number=number, has_next=has_next,
    )
