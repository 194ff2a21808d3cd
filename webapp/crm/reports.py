"""The funnel report (leads -> test rides -> bookings -> deliveries) by month, source or salesperson,
and the lost-reason analysis: each with a bar chart drawn on the server (charts.py) and the rows as
CSV or Excel (?format=csv / xlsx, through billing's register export)."""
from __future__ import annotations

from datetime import date

from flask import render_template
from flask_login import current_user

from ..billing.api import EXPORT_FORMATS, Column, export_response
from ..charts import bar_chart, share
from ..db import get_conn
from ..formatting import today_ist
from ..forms import DateArg, date_arg, url_date
from ..pages import choice_arg
from ..security import allow
from . import bp, report_queries
from .queries import LEAD_SOURCES

FUNNEL_COLUMNS = (Column("Group", "label"), Column("Leads", "leads", "int"), Column("Test rides", "test_rides", "int"),
                  Column("Bookings", "bookings", "int"), Column("Deliveries", "deliveries", "int"),
                  Column("Lost", "lost", "int"), Column("Booked %", "booked_pct"))
LOST_COLUMNS = (Column("Reason", "label"), Column("Lost", "lost", "int"), Column("Walk-in", "walk_in", "int"),
                Column("Other sources", "other_sources", "int"), Column("Share", "share"))


def _period() -> tuple[date, date, DateArg, DateArg]:
    """?from= / ?to=: the last twelve months to date by default."""
    today = today_ist()
    start = date(today.year - 1, today.month, 1)
    from_arg, to_arg = date_arg("from", start), date_arg("to", today)
    if to_arg.value < from_arg.value:
        from_arg.value, to_arg.value = to_arg.value, from_arg.value
    return from_arg.value, to_arg.value, from_arg, to_arg


def _label(group: str, key) -> str:
    if group == "source":
        return LEAD_SOURCES.get(key, key)
    if group == "month":
        year, month = key.split("-")
        return date(int(year), int(month), 1).strftime("%b %Y")
    return key


def funnel_totals(rows) -> dict:
    return {k: sum(r[k] for r in rows) for k in ("leads", "test_rides", "bookings", "deliveries", "lost")}


@bp.get("/funnel")
@allow("crm.report")
def funnel():
    conn = get_conn()
    start, end, from_arg, to_arg = _period()
    group = choice_arg("by", report_queries.GROUPS, "month")
    rows = [{**r, "label": _label(group, r["key"]), "booked_pct": share(r["bookings"], r["leads"])}
            for r in report_queries.funnel(conn, current_user.branch_id, start, end, group)]
    totals = funnel_totals(rows)
    fmt = choice_arg("format", EXPORT_FORMATS, None)
    if fmt:
        return export_response(fmt, f"lead-funnel-{group}-{start:%Y%m%d}-{end:%Y%m%d}", "Lead funnel", FUNNEL_COLUMNS,
                               [*rows, {**totals, "label": "Total", "booked_pct": share(totals["bookings"],
                                                                                         totals["leads"])}],
                               heading=f"Lead funnel {current_user.branch_code} by {group}, "
                                       f"{start:%d-%m-%Y} to {end:%d-%m-%Y}")
    chart = bar_chart([
        ("Leads", totals["leads"], ""),
        ("Test rides", totals["test_rides"], f"{share(totals['test_rides'], totals['leads'])} of leads"),
        ("Bookings", totals["bookings"], f"{share(totals['bookings'], totals['leads'])} of leads"),
        ("Deliveries", totals["deliveries"], f"{share(totals['deliveries'], totals['leads'])} of leads"),
    ])
    args = {"from": url_date(start), "to": url_date(end), "by": group}
    return render_template("crm/funnel.html", rows=rows, totals=totals, chart=chart, group=group,
                           groups=report_queries.GROUPS, from_arg=from_arg, to_arg=to_arg, args=args, share=share)


@bp.get("/lost-reasons")
@allow("crm.report")
def lost_reasons():
    conn = get_conn()
    start, end, from_arg, to_arg = _period()
    rows = report_queries.lost_reasons(conn, current_user.branch_id, start, end)
    total = sum(r["lost"] for r in rows)
    rows = [{**r, "share": share(r["lost"], total)} for r in rows]
    fmt = choice_arg("format", EXPORT_FORMATS, None)
    if fmt:
        return export_response(fmt, f"lost-reasons-{start:%Y%m%d}-{end:%Y%m%d}", "Lost reasons", LOST_COLUMNS, rows,
                               heading=f"Lost leads by reason {current_user.branch_code}, "
                                       f"{start:%d-%m-%Y} to {end:%d-%m-%Y}")
    chart = bar_chart([(r["label"], r["lost"], r["share"]) for r in rows if r["lost"]])
    args = {"from": url_date(start), "to": url_date(end)}
    return render_template("crm/lost_reasons.html", rows=rows, total=total, chart=chart, from_arg=from_arg,
                           to_arg=to_arg, args=args)
