"""Audit log viewer: filter by table, staff and date; each entry in a manager's words."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, render_template, request

from ..db import get_conn
from ..forms import date_arg
from ..paging import requested_page
from ..security import allow
from . import bp, labels, queries


def changes(before: dict | None, after: dict | None) -> list[tuple[str, object, object]]:
    """(field, old, new) for the fields that differ, in a stable order."""
    before, after = before or {}, after or {}
    keys = list(after) + [k for k in before if k not in after]
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@dataclass
class Change:
    field: str
    new: str
    old: str | None = None   # None: nothing before (an addition, or an event's detail)


@dataclass
class Entry:
    at: object
    who: str
    who_note: str | None
    terminal: str | None
    browser: str | None
    user_agent: str | None
    what: str
    document: str
    changes: list[Change] = field(default_factory=list)


def entries(conn, rows) -> list[Entry]:
    """The page's rows in words; the documents they name, and the staff their columns name (posted by,
    salesperson ...), are looked up once per table for the whole page."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        if row.table_name and row.row_key is not None:
            wanted.setdefault(row.table_name, set()).add(row.row_key)
    for row in rows:
        for data in (row.before, row.after):
            for column, value in (data or {}).items():
                if labels.names_staff(column) and isinstance(value, int):
                    wanted.setdefault("master.staff", set()).add(str(value))
    found = labels.document_labels(conn, wanted)

    def shown(column: str, value) -> str:
        if labels.names_staff(column) and isinstance(value, int):
            return found.get(("master.staff", str(value)), f"#{value}")
        return labels.value_words(value)

    out = []
    for row in rows:
        who, note = labels.actor(row)
        if row.action == "EVENT":
            what = labels.event_words(row.event)
            listed = [Change(labels.column_words(k), shown(k, v)) for k, v in (row.after or {}).items()]
        else:
            what = labels.ACTIONS.get(row.action, row.action)
            listed = [Change(labels.column_words(k), shown(k, new), shown(k, old) if row.action == "UPDATE" else None)
                      for k, old, new in changes(row.before, row.after) if k not in labels.NOT_SHOWN]
        listed.sort(key=lambda change: change.field.lower())
        out.append(Entry(row.at, who, note, row.client_addr, labels.browser_words(row.user_agent), row.user_agent,
                         what, labels.document(row.table_name, row.row_key, found, row.after or row.before),
                         listed))
    return out


@bp.get("/")
@allow("audit.read")
def log_list():
    conn = get_conn()
    tables = queries.tracked_tables(conn)
    table = request.args.get("table") if request.args.get("table") in tables else None
    staff_arg = request.args.get("staff", "")
    staff_id = int(staff_arg) if staff_arg.isdigit() and len(staff_arg) < 10 else None
    from_arg, to_arg = date_arg("from"), date_arg("to")
    number = requested_page()
    rows, has_next = queries.search_log(conn, table=table, staff_id=staff_id, date_from=from_arg.value,
                                        date_to=to_arg.value, page=number,
                                        page_size=current_app.config["PAGE_SIZE"])
    return render_template(
        "audit/log_list.html", entries=entries(conn, rows),
        tables=sorted(((t, labels.table_noun(t)) for t in tables), key=lambda pair: pair[1].lower()),
        staff=queries.staff_choices(conn), from_arg=from_arg, to_arg=to_arg,
        filters={"table": table, "staff": staff_id, "from": from_arg.shown, "to": to_arg.shown},
        page_number=number, has_next=has_next,
    )
