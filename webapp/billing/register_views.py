"""The registers an accountant reads and hands to the CA: sales, receipts and refunds, and what
customers still owe. One URL per register serves the page, its rows (htmx) and its CSV / XLSX
export (?format=csv or ?format=xlsx, with the same filters)."""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_login import current_user

from ..db import get_conn
from ..formatting import today_ist
from ..forms import DateArg, date_arg, url_date
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import paged
from ..security import allow, may_open
from . import bp, posting, registers

EXPORT_ROW_LIMIT = 200_000


def _date_range() -> tuple[date, date, DateArg, DateArg]:
    """?from= and ?to= (DD-MM-YYYY as typed, or YYYY-MM-DD from older links); this month to date by
    default. Also the two filters as typed, for the page."""
    today = today_ist()
    from_arg, to_arg = date_arg("from", today.replace(day=1)), date_arg("to", today)
    date_from, date_to = from_arg.value, to_arg.value
    if date_to < date_from:  # typed the wrong way round: the filters show the period as read
        date_from, date_to = date_to, date_from
        from_arg.value, to_arg.value = date_from, date_to
    return date_from, date_to, from_arg, to_arg


def _choice(name: str, choices) -> str | None:
    return choice_arg(name, choices, None)


def _q() -> str:
    return search_text()


def _export_format() -> str | None:
    return _choice("format", registers.EXPORT_FORMATS)


def _args(**values) -> dict:
    """The filters as URL arguments, for the pager and the export links (blank ones left out)."""
    return {k: (url_date(v) if isinstance(v, date) else v) for k, v in values.items() if v}


def _period(date_from: date, date_to: date) -> str:
    return f"{date_from:%d-%m-%Y} to {date_to:%d-%m-%Y}"


@bp.get("/registers/sales")
@allow("books.read")
def sales_register():
    """Tax invoices and credit notes of the branch, with GST heads, for GSTR-1 and the books."""
    conn = get_conn()
    date_from, date_to, from_arg, to_arg = _date_range()
    f = registers.SalesFilter(current_user.branch_id, date_from, date_to, _choice("kind", registers.SALES_KINDS),
                              _choice("party", registers.PARTIES), _q())
    args = _args(**{"from": date_from, "to": date_to, "kind": f.kind, "party": f.party, "q": f.q})
    fmt = _export_format()
    if fmt:
        rows = registers.sales_rows(conn, f, 1, EXPORT_ROW_LIMIT, oldest_first=True)
        return registers.export_response(
            fmt, f"sales-register-{date_from:%Y%m%d}-{date_to:%Y%m%d}", "Sales register",
            registers.SALES_COLUMNS, registers.sales_export_rows(rows),
            heading=f"Sales register {current_user.branch_code}, {_period(date_from, date_to)}")
    totals = registers.sales_totals(conn, f)
    size = current_app.config["PAGE_SIZE"]
    rows, page = paged(lambda n, s: (registers.sales_rows(conn, f, n, s), totals["rows_found"]), size)
    return rows_or_page("billing/register_sales.html", "billing/register_sales_rows.html", "register-rows",
                        rows=rows, page=page, totals=totals, f=f, args=args, kinds=registers.SALES_KINDS,
                        parties=registers.PARTIES, invoice_links=may_open("billing.invoice_detail"),
                        from_arg=from_arg, to_arg=to_arg)


@bp.get("/registers/receipts")
@allow("books.read")
def receipt_register():
    """Money in (receipts) and out (refunds, negative), with the net per mode for the cash book."""
    conn = get_conn()
    date_from, date_to, from_arg, to_arg = _date_range()
    f = registers.ReceiptFilter(current_user.branch_id, date_from, date_to, _choice("mode", posting.RECEIPT_MODES),
                                _choice("doc", ("RCT", "RFD")), _q())
    args = _args(**{"from": date_from, "to": date_to, "mode": f.mode, "doc": f.doc, "q": f.q})
    fmt = _export_format()
    if fmt:
        rows = registers.receipt_rows(conn, f, 1, EXPORT_ROW_LIMIT, oldest_first=True)
        return registers.export_response(
            fmt, f"receipts-register-{date_from:%Y%m%d}-{date_to:%Y%m%d}", "Receipts register",
            registers.RECEIPT_COLUMNS, registers.receipt_export_rows(rows, posting.RECEIPT_MODES),
            heading=f"Receipts and refunds {current_user.branch_code}, {_period(date_from, date_to)}")
    totals = registers.receipt_totals(conn, f)
    size = current_app.config["PAGE_SIZE"]
    rows, page = paged(lambda n, s: (registers.receipt_rows(conn, f, n, s), totals["rows_found"]), size)
    return rows_or_page("billing/register_receipts.html", "billing/register_receipts_rows.html", "register-rows",
                        rows=rows, page=page, totals=totals, f=f, args=args, modes=posting.RECEIPT_MODES,
                        from_arg=from_arg, to_arg=to_arg)


@bp.get("/registers/receivables")
@allow("books.read")
def receivables():
    """Every invoice still owed something, aged by its date: 0-30, 31-60, 61-90 and over 90 days."""
    conn = get_conn()
    as_on = today_ist()
    f = registers.ReceivableFilter(current_user.branch_id, as_on, _choice("bucket", registers.AGE_BUCKETS),
                                   _choice("kind", registers.SALES_KINDS), _q())
    args = _args(bucket=f.bucket, kind=f.kind, q=f.q)
    fmt = _export_format()
    if fmt:
        rows = registers.receivable_rows(conn, f, 1, EXPORT_ROW_LIMIT)
        return registers.export_response(
            fmt, f"receivables-{as_on:%Y%m%d}", "Receivables", registers.RECEIVABLE_COLUMNS,
            registers.receivable_export_rows(rows),
            heading=f"Receivables {current_user.branch_code} as on {as_on:%d-%m-%Y}")
    size = current_app.config["PAGE_SIZE"]
    read = {}

    def search(number: int, size: int):
        rows, read["buckets"], found = registers.receivable_page(conn, f, number, size)
        return rows, found

    rows, page = paged(search, size)
    buckets = read["buckets"]
    return rows_or_page("billing/register_receivables.html", "billing/register_receivables_rows.html",
                        "register-rows", rows=rows, page=page, buckets=buckets, f=f, args=args, as_on=as_on,
                        totals=registers.receivable_totals(buckets, f.bucket),
                        bucket_labels=registers.AGE_BUCKETS, kinds=registers.SALES_KINDS,
                        invoice_links=may_open("billing.invoice_detail"), sale_links=may_open("sales.booking_detail"))
