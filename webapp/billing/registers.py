"""The branch's money registers: sales (invoices and credit notes), receipts and refunds, and
outstanding receivables with ageing; each as a page of rows, totals over everything the filters
match, and the same rows exported to CSV or XLSX.

Every query reads one branch over a date range through its (branch, date) index; the totals are
one aggregate over the same filtered set, so a page stays fast however long the history is.
"""
from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import make_response
from sqlalchemy.engine import Connection

from ..db import contains_pattern
from ..formatting import add_months, month_end

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Column:
    """One column of a register as exported: header, the row key, and money/date/text/int."""
    header: str
    key: str
    kind: str = "text"


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class SalesFilter:
    branch_id: int
    date_from: date
    date_to: date
    kind: str | None = None        # VEHICLE / COUNTER / SERVICE / TRANSFER
    party: str | None = None       # B2B / B2C
    q: str = ""


@dataclass(frozen=True)
class ReceiptFilter:
    branch_id: int
    date_from: date
    date_to: date
    mode: str | None = None
    doc: str | None = None         # RCT (receipts only) / RFD (refunds only)
    q: str = ""


@dataclass(frozen=True)
class ReceivableFilter:
    branch_id: int
    as_on: date
    bucket: str | None = None
    kind: str | None = None
    q: str = ""


# --------------------------------------------------------------------------- sales register

SALES_KINDS = {"VEHICLE": "Vehicle", "COUNTER": "Counter", "SERVICE": "Service", "TRANSFER": "Branch transfer"}
PARTIES = {"B2B": "B2B (buyer has a GSTIN)", "B2C": "B2C"}

_SALES_MONEY = ("taxable_value", "cgst", "sgst", "igst", "round_off", "grand_total", "tcs_amount")


def _sales_sql(f: SalesFilter, outside: tuple[date, date] | None = None) -> tuple[str, dict]:
    """Invoices and credit notes (amounts negative) of the branch in the date range. A job sheet (a
    workshop bill with nothing charged, sql/0025) is no tax invoice: it is not in the register.
    ``outside`` (first day, first day after): leave out the documents dated from the one to the other."""
    params: dict = {"branch": f.branch_id, "date_from": f.date_from, "date_to": f.date_to}
    extra = " AND i.kind <> 'JOB_SHEET'"
    if f.kind:
        extra += " AND i.kind = :kind"
        params["kind"] = f.kind
    if f.party:
        extra += " AND (i.buyer_gstin IS NOT NULL) = :b2b"
        params["b2b"] = f.party == "B2B"
    inv_q = crn_q = ""
    if f.q:
        params["q"] = contains_pattern(f.q)
        inv_q = " AND (i.invoice_no ILIKE :q OR i.buyer_name ILIKE :q)"
        crn_q = " AND (cn.credit_note_no ILIKE :q OR i.invoice_no ILIKE :q OR i.buyer_name ILIKE :q)"
    if outside:
        params.update(outside_from=outside[0], outside_to=outside[1])
        inv_q += " AND NOT (i.invoice_date >= :outside_from AND i.invoice_date < :outside_to)"
        crn_q += " AND NOT (cn.note_date >= :outside_from AND cn.note_date < :outside_to)"
    sql = f"""
        SELECT 'INV' AS doc, i.invoice_id AS doc_id, i.invoice_id, i.invoice_date AS doc_date, i.invoice_no AS doc_no,
               NULL AS against_no, i.kind, i.buyer_name, i.buyer_gstin, i.place_of_supply, i.taxable_value, i.cgst,
               i.sgst, i.igst, i.round_off, i.grand_total, i.tcs_amount, i.posted_at
          FROM billing.invoice i
         WHERE i.branch_id = :branch AND i.invoice_date BETWEEN :date_from AND :date_to{extra}{inv_q}
        UNION ALL
        SELECT 'CRN', cn.credit_note_id, i.invoice_id, cn.note_date, cn.credit_note_no, i.invoice_no, i.kind,
               i.buyer_name, i.buyer_gstin, i.place_of_supply, -cn.taxable_value, -cn.cgst, -cn.sgst, -cn.igst,
               -cn.round_off, -cn.grand_total, -cn.tcs_amount, cn.posted_at
          FROM billing.credit_note cn JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
         WHERE cn.branch_id = :branch AND cn.note_date BETWEEN :date_from AND :date_to{extra}{crn_q}"""
    return sql, params


def whole_months(date_from: date, date_to: date) -> tuple[date, date] | None:
    """The whole calendar months inside a period, as (first day, first day after), or None when there is none."""
    first = date_from if date_from.day == 1 else add_months(date_from, 1)
    after = add_months(date_to, 1) if month_end(date_to) == date_to else date_to.replace(day=1)
    return (first, after) if first < after else None


def sales_rows(conn: Connection, f: SalesFilter, page: int | None = None, size: int | None = None,
               *, oldest_first: bool = False) -> list:
    """Register rows, newest first on screen; every row when page is None (export, oldest first)."""
    sql, params = _sales_sql(f)
    order = "ASC" if oldest_first else "DESC"
    limit = ""
    if page is not None:
        limit = " LIMIT :limit OFFSET :offset"
        params.update(limit=size, offset=(page - 1) * size)
    return conn.execute(sa.text(f"""
        SELECT r.*, s.name AS pos_name FROM ({sql}) r JOIN master.state s ON s.state_code = r.place_of_supply
         ORDER BY r.doc_date {order}, r.posted_at {order}, r.doc_id {order}{limit}"""), params).mappings().all()


def sales_totals(conn: Connection, f: SalesFilter, *, kept: bool = True) -> dict:
    """Count and the sum of every amount column over everything the filters match. The whole months of
    the period come from the monthly totals the postings keep (billing.invoice_month, sql/0058: the sums
    of the same documents), the days of a part month at either end from the documents; a search (q)
    reads the documents alone. ``kept=False``: every document read (what the kept rows are checked by)."""
    whole = whole_months(f.date_from, f.date_to) if kept and not f.q else None
    sql, params = _sales_sql(f, whole)
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in _SALES_MONEY)
    months = ""
    if whole:
        where = " AND kind = :kind" if f.kind else ""
        where += " AND b2b = :b2b" if f.party else ""
        signed = ", ".join(f"CASE WHEN doc = 'CRN' THEN -{c} ELSE {c} END" for c in _SALES_MONEY)
        months = f"""
            UNION ALL
            SELECT doc, documents, {signed} FROM billing.invoice_month
             WHERE branch_id = :branch AND month >= :outside_from AND month < :outside_to
               AND kind <> 'JOB_SHEET'{where}"""
    return dict(conn.execute(sa.text(f"""
        SELECT coalesce(sum(n), 0) AS rows_found, coalesce(sum(n) FILTER (WHERE doc = 'INV'), 0) AS invoices,
               coalesce(sum(n) FILTER (WHERE doc = 'CRN'), 0) AS credit_notes, {sums}
          FROM (SELECT doc, 1 AS n, {", ".join(_SALES_MONEY)} FROM ({sql}) d{months}) r"""), params).mappings().one())


SALES_COLUMNS = (
    Column("Date", "doc_date", "date"), Column("Number", "doc_no"), Column("Document", "doc_label"),
    Column("Against invoice", "against_no"), Column("Kind", "kind_label"), Column("Buyer", "buyer_name"),
    Column("Buyer GSTIN", "gstin_or_b2c"), Column("Place of supply", "pos_label"),
    Column("Taxable value", "taxable_value", "money"), Column("CGST", "cgst", "money"),
    Column("SGST", "sgst", "money"), Column("IGST", "igst", "money"), Column("Round off", "round_off", "money"),
    Column("Total", "grand_total", "money"), Column("TCS", "tcs_amount", "money"),
)


def sales_export_rows(rows) -> list[dict]:
    return [{**r, "doc_label": "Tax invoice" if r["doc"] == "INV" else "Credit note",
             "kind_label": SALES_KINDS[r["kind"]], "gstin_or_b2c": r["buyer_gstin"] or "B2C",
             "pos_label": f"{r['place_of_supply']}-{r['pos_name']}"} for r in rows]


# --------------------------------------------------------------------------- receipts register


def _receipts_sql(f: ReceiptFilter) -> tuple[str, dict]:
    """Receipts (money in) and refunds (money out, negative) of the branch in the date range."""
    params: dict = {"branch": f.branch_id, "date_from": f.date_from, "date_to": f.date_to}
    r_extra = f_extra = ""
    if f.mode:
        r_extra += " AND r.mode = :mode"
        f_extra += " AND f.mode = :mode"
        params["mode"] = f.mode
    if f.q:
        params["q"] = contains_pattern(f.q)
        r_extra += " AND (r.receipt_no ILIKE :q OR r.received_from ILIKE :q OR r.reference ILIKE :q)"
        f_extra += " AND (f.refund_no ILIKE :q OR f.paid_to ILIKE :q OR f.reference ILIKE :q)"
    parts = []
    if f.doc in (None, "RCT"):
        parts.append(f"""
        SELECT 'RCT' AS doc, r.receipt_id AS doc_id, r.receipt_date AS doc_date, r.receipt_no AS doc_no,
               r.received_from AS party, r.mode, r.reference, r.booking_id, b.booking_no,
               coalesce(bi.invoice_no, ci.invoice_no) AS invoice_no, r.amount, r.is_advance,
               0::numeric AS cancellation_charge, r.posted_at
          FROM billing.receipt r
          LEFT JOIN sales.booking b ON b.booking_id = r.booking_id
          LEFT JOIN billing.invoice bi ON bi.invoice_id = b.invoice_id
          LEFT JOIN billing.invoice ci ON ci.invoice_id = r.invoice_id
         WHERE r.branch_id = :branch AND r.receipt_date BETWEEN :date_from AND :date_to{r_extra}""")
    if f.doc in (None, "RFD"):
        parts.append(f"""
        SELECT 'RFD', f.refund_id, f.refund_date, f.refund_no, f.paid_to, f.mode, f.reference, f.booking_id,
               b.booking_no, coalesce(bi.invoice_no, ci.invoice_no), -f.amount, false, f.cancellation_charge,
               f.posted_at
          FROM billing.refund f
          LEFT JOIN sales.booking b ON b.booking_id = f.booking_id
          LEFT JOIN billing.invoice bi ON bi.invoice_id = b.invoice_id
          LEFT JOIN billing.invoice ci ON ci.invoice_id = f.invoice_id
         WHERE f.branch_id = :branch AND f.refund_date BETWEEN :date_from AND :date_to{f_extra}""")
    return " UNION ALL ".join(parts), params


def receipt_rows(conn: Connection, f: ReceiptFilter, page: int | None = None, size: int | None = None,
                 *, oldest_first: bool = False) -> list:
    sql, params = _receipts_sql(f)
    order = "ASC" if oldest_first else "DESC"
    limit = ""
    if page is not None:
        limit = " LIMIT :limit OFFSET :offset"
        params.update(limit=size, offset=(page - 1) * size)
    return conn.execute(sa.text(f"""
        SELECT * FROM ({sql}) r ORDER BY r.doc_date {order}, r.posted_at {order}, r.doc_id {order}{limit}"""),
        params).mappings().all()


def receipt_totals(conn: Connection, f: ReceiptFilter) -> dict:
    """Count, money in, money out and the net, and the net per mode (for the cash book)."""
    sql, params = _receipts_sql(f)
    by_mode = conn.execute(sa.text(f"""
        SELECT mode, count(*) AS n, sum(amount) FILTER (WHERE doc = 'RCT') AS received,
               sum(-amount) FILTER (WHERE doc = 'RFD') AS refunded, sum(amount) AS net
          FROM ({sql}) r GROUP BY mode ORDER BY mode"""), params).mappings().all()
    received = sum((m["received"] or ZERO for m in by_mode), ZERO)
    refunded = sum((m["refunded"] or ZERO for m in by_mode), ZERO)
    return {"rows_found": sum(m["n"] for m in by_mode), "received": received, "refunded": refunded,
            "net": received - refunded, "by_mode": by_mode}


RECEIPT_COLUMNS = (
    Column("Date", "doc_date", "date"), Column("Number", "doc_no"), Column("Voucher", "doc_label"),
    Column("Received from / paid to", "party"), Column("Mode", "mode_label"), Column("Reference", "reference"),
    Column("Booking", "booking_no"), Column("Invoice", "invoice_no"), Column("Amount", "amount", "money"),
    Column("Cancellation charge kept", "cancellation_charge", "money"), Column("Advance", "advance_label"),
)


def receipt_export_rows(rows, mode_labels: dict) -> list[dict]:
    return [{**r, "doc_label": "Receipt" if r["doc"] == "RCT" else "Refund",
             "mode_label": mode_labels.get(r["mode"], r["mode"]), "advance_label": "Yes" if r["is_advance"] else ""}
            for r in rows]


# --------------------------------------------------------------------------- receivables

AGE_BUCKETS = {"0-30": "0-30 days", "31-60": "31-60 days", "61-90": "61-90 days", "90+": "Over 90 days"}

_BUCKET_SQL = """CASE WHEN :as_on - invoice_date <= 30 THEN '0-30' WHEN :as_on - invoice_date <= 60 THEN '31-60'
                      WHEN :as_on - invoice_date <= 90 THEN '61-90' ELSE '90+' END"""


def _receivables_sql(f: ReceivableFilter) -> tuple[str, dict]:
    params: dict = {"branch": f.branch_id, "as_on": f.as_on}
    where = ["r.branch_id = :branch"]
    if f.kind:
        where.append("r.kind = :kind")
        params["kind"] = f.kind
    if f.q:
        where.append("(r.invoice_no ILIKE :q OR r.buyer_name ILIKE :q)")
        params["q"] = contains_pattern(f.q)
    sql = f"""
        SELECT r.*, b.booking_no, :as_on - r.invoice_date AS age_days, {_BUCKET_SQL} AS bucket
          FROM billing.receivable r LEFT JOIN sales.booking b ON b.booking_id = r.booking_id
         WHERE {' AND '.join(where)}"""
    if f.bucket:
        sql = f"SELECT * FROM ({sql}) a WHERE a.bucket = :bucket"
        params["bucket"] = f.bucket
    return sql, params


def receivable_rows(conn: Connection, f: ReceivableFilter, page: int | None = None, size: int | None = None) -> list:
    """What is still owed, oldest invoice first."""
    sql, params = _receivables_sql(f)
    limit = ""
    if page is not None:
        limit = " LIMIT :limit OFFSET :offset"
        params.update(limit=size, offset=(page - 1) * size)
    return conn.execute(sa.text(f"SELECT * FROM ({sql}) a ORDER BY a.invoice_date, a.invoice_id{limit}"),
                        params).mappings().all()


def _bucket_sums(rows) -> dict:
    """Count and balance in each ageing bucket (all four, zero where nothing is owed), over the
    other filters but not the bucket one, so the page shows where the money is stuck."""
    buckets = {b: {"n": 0, **{c: ZERO for c in RECEIVABLE_SUMS}} for b in AGE_BUCKETS}
    for r in rows:
        into = buckets[r["bucket"]]
        into["n"] += 1
        for c in RECEIVABLE_SUMS:
            into[c] += r[c]
    return buckets


def receivable_page(conn: Connection, f: ReceivableFilter, page: int, size: int) -> tuple[list, dict, int]:
    """One read of everything owed that the filters other than the bucket select (what the buckets add
    up); the page of it in the bucket asked for, the buckets, and how many rows the page is out of.
    The invoices still owed something are few (billing.invoice_balance finds them), so they are
    read once rather than counted, summed and paged by three statements."""
    owed = receivable_rows(conn, dataclasses.replace(f, bucket=None))
    buckets = _bucket_sums(owed)
    chosen = [r for r in owed if r["bucket"] == f.bucket] if f.bucket else owed
    start = (page - 1) * size
    return chosen[start:start + size], buckets, len(chosen)


def receivable_buckets(conn: Connection, branch_id: int, as_on: date) -> dict:
    """How many invoices are owed something and how much, in each ageing bucket (all four), for the home
    screen: the register's own buckets over the balances the billing triggers keep (billing.invoice_owed over
    billing.invoice_balance, sql/0020: the same invoices and balances the register lists,
    tests/test_billing_balance_kept.py), one indexed read of the invoices still owed instead of each sale's
    balance worked out again."""
    found = {r.bucket: r for r in conn.execute(sa.text(f"""
        SELECT {_BUCKET_SQL} AS bucket, count(*) AS n, sum(balance) AS balance
          FROM billing.invoice_owed WHERE branch_id = :branch GROUP BY 1"""),
        {"branch": branch_id, "as_on": as_on})}
    return {b: {"n": found[b].n if b in found else 0, "balance": found[b].balance if b in found else ZERO}
            for b in AGE_BUCKETS}


# The register's money columns, added up under the table (over every page, not just this one).
RECEIVABLE_SUMS = ("invoice_amount", "other_charges", "due", "received", "balance", "others_pending",
                   "customer_balance")


def receivable_totals(buckets: dict, bucket: str | None) -> dict:
    """The money columns added up over the rows the filters select."""
    chosen = [buckets[bucket]] if bucket else list(buckets.values())
    return {c: sum((b[c] for b in chosen), ZERO) for c in RECEIVABLE_SUMS}


RECEIVABLE_COLUMNS = (
    Column("Invoice date", "invoice_date", "date"), Column("Invoice", "invoice_no"), Column("Kind", "kind_label"),
    Column("Buyer", "buyer_name"), Column("Booking", "booking_no"),
    Column("Invoice amount (with TCS)", "invoice_amount", "money"),
    Column("Charges collected for others", "other_charges", "money"), Column("Sale total", "due", "money"),
    Column("Received (net of refunds)", "received", "money"), Column("Balance", "balance", "money"),
    Column("Of it: loan, exchange, subsidy to credit", "others_pending", "money"),
    Column("Of it: from the customer", "customer_balance", "money"),
    Column("Age (days)", "age_days", "int"), Column("Bucket", "bucket_label"),
)


def receivable_export_rows(rows) -> list[dict]:
    return [{**r, "kind_label": SALES_KINDS[r["kind"]], "bucket_label": AGE_BUCKETS[r["bucket"]]} for r in rows]


# --------------------------------------------------------------------------- export

EXPORT_FORMATS = ("csv", "xlsx")


def _text(value):
    """Text as text: a name typed as "=HYPERLINK(...)" or "+91..." must not become a formula when
    the register is opened in a spreadsheet (a leading apostrophe keeps it text)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_value(value, kind: str):
    if value is None:
        return ""
    if kind == "date" and isinstance(value, (date, datetime)):
        return value.isoformat()  # YYYY-MM-DD: Excel reads it as a date in any locale
    if kind == "money":
        return format(Decimal(value).quantize(Decimal("0.01")), "f")  # a plain number: no ₹, no grouping
    return _text(value)


def csv_bytes(columns, rows) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows ₹ and Indian names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_value(row.get(c.key), c.kind) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


MONEY_FORMAT = "#,##0.00;-#,##0.00"


def xlsx_bytes(title: str, columns, rows, heading: str | None = None) -> bytes:
    """A workbook with one sheet: header row frozen, dates as dates, amounts as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    first = 1
    if heading:
        ws.append([heading])
        ws.cell(row=1, column=1).font = Font(bold=True)
        first = 2
    ws.append([c.header for c in columns])
    for cell in ws[first]:
        cell.font = Font(bold=True)
    for row in rows:
        values = []
        for c in columns:
            value = row.get(c.key)
            if c.kind == "money" and value is not None:
                value = Decimal(value)
            values.append(_text(value))
        ws.append(values)
    for n, c in enumerate(columns, start=1):
        letter = get_column_letter(n)
        if c.kind in ("money", "date"):
            fmt = MONEY_FORMAT if c.kind == "money" else "DD-MM-YYYY"
            for (cell,) in ws.iter_rows(min_row=first + 1, min_col=n, max_col=n):
                cell.number_format = fmt
        ws.column_dimensions[letter].width = {"money": 14, "date": 12, "int": 10}.get(c.kind, 22)
    ws.freeze_panes = ws.cell(row=first + 1, column=1)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_response(fmt: str, filename: str, title: str, columns, rows, heading: str | None = None):
    """The register as a download: filename without extension, fmt csv or xlsx."""
    if fmt == "csv":
        response = make_response(csv_bytes(columns, rows))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        response = make_response(xlsx_bytes(title, columns, rows, heading))
        response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    return response
