"""OEM receivables in one place: per OEM, the PM E-DRIVE subsidy, warranty claims and free-service
labour claims of the branch: not yet claimed, claimed, approved, credited, pending, and pending by
age (0-30, 31-60, 61-90, 90+ days); each figure opens the list behind it. The OEMs' dealer-incentive
schemes in force are listed beside (nothing records a claim or credit of one: receivable_queries).
Screen, CSV and Excel.

Who: ADMIN, MANAGER and ACCOUNTS (books.read)."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ..billing.api import EXPORT_FORMATS, Column, export_response
from ..db import get_conn
from ..formatting import today_ist
from ..pages import choice_arg, rows_or_page
from ..paging import paged
from ..security import allow, may_open
from . import bp
from . import receivable_queries as q

SUMMARY_COLUMNS = (
    Column("OEM", "brand"), Column("Receivable", "source_label"),
    Column("Not yet claimed (no.)", "n_unclaimed", "int"), Column("Not yet claimed", "unclaimed", "money"),
    Column("Claimed (no.)", "n_claimed", "int"), Column("Claimed", "claimed", "money"),
    Column("Approved (no.)", "n_approved", "int"), Column("Approved", "approved", "money"),
    Column("Credited (no.)", "n_credited", "int"), Column("Credited", "credited", "money"),
    Column("Pending (no.)", "n_pending", "int"), Column("Pending", "pending", "money"),
    *(Column(f"Pending {b} days", f"b{k}", "money") for k, b in enumerate(q.BUCKETS)),
)
ITEM_COLUMNS = (
    Column("OEM", "brand"), Column("Receivable", "source_label"), Column("Document", "ref_no"),
    Column("Customer / VIN", "about"), Column("Status", "status_label"), Column("Since", "since", "date"),
    Column("Age (days)", "age_days", "int"), Column("Claimed", "claimed", "money"),
    Column("Approved", "approved", "money"), Column("Credited", "credited", "money"),
    Column("Pending", "pending", "money"),
)
ITEMS_TARGET = "oem-receivable-items"


def _with_totals(rows) -> tuple[list[dict], dict]:
    keys = ("n_unclaimed", "unclaimed", "n_claimed", "claimed", "n_approved", "approved", "n_credited", "credited",
            "n_pending", "pending", *(f"{p}{k}" for k in range(len(q.BUCKETS)) for p in ("n", "b")))
    rows = [{**r, "source_label": q.SOURCES[r["source"]]} for r in rows]
    totals = {k: sum((r[k] or 0) for r in rows) for k in keys}
    return rows, totals


@bp.get("/oem-receivables")
@allow("books.read")
def oem_receivables():
    conn = get_conn()
    today = today_ist()
    rows, totals = _with_totals(q.summary(conn, current_user.branch_id, today))
    fmt = choice_arg("format", EXPORT_FORMATS, None)
    if fmt:
        return export_response(fmt, f"oem-receivables-{current_user.branch_code}-{today:%Y%m%d}", "OEM receivables",
                               SUMMARY_COLUMNS, [*rows, {**totals, "brand": "Total", "source_label": ""}],
                               heading=f"OEM receivables {current_user.branch_code} as on {today:%d-%m-%Y}")
    return render_template("finance/receivables/summary.html", rows=rows, totals=totals, today=today,
                           buckets=q.BUCKETS, schemes=q.dealer_schemes(conn, today),
                           scheme_link=may_open("oem.scheme_list"))


def _item_args():
    source = choice_arg("source", q.SOURCES, "SUBSIDY")
    oem_typed = request.args.get("oem", "")
    oem_id = int(oem_typed) if oem_typed.isdigit() and int(oem_typed) < 2**31 else None
    stage = choice_arg("stage", q.STAGES, "pending")
    bucket = choice_arg("bucket", q.BUCKETS, "")
    return source, oem_id, stage, bucket


def _links():
    """Which documents this person may open from the list."""
    return {"SUBSIDY": may_open("sales.subsidy"), "WARRANTY": may_open("warranty.claim_detail"),
            "FREE_SERVICE": may_open("warranty.claim_detail"), "JOB_CARD": may_open("service.job_card_detail")}


@bp.get("/oem-receivables/items")
@allow("books.read")
def oem_receivable_items():
    conn = get_conn()
    today = today_ist()
    source, oem_id, stage, bucket = _item_args()
    filt = q.item_filter(source, oem_id, stage, bucket)
    oem = q.oem_name(conn, oem_id) if oem_id is not None else None
    args = {"source": source, "stage": stage, **({"oem": oem_id} if oem_id is not None else {}),
            **({"bucket": bucket} if bucket else {})}
    title = " · ".join(x for x in (oem, q.SOURCES[source], q.STAGES[stage],
                                   f"{bucket} days" if bucket else None) if x)
    fmt = choice_arg("format", EXPORT_FORMATS, None)
    if fmt:
        rows = [{**r, "source_label": q.SOURCES[r["source"]]}
                for r in q.item_page(conn, current_user.branch_id, today, filt, None)]
        return export_response(fmt, f"oem-receivables-{source.lower()}-{today:%Y%m%d}", "OEM receivables",
                               ITEM_COLUMNS, rows, heading=f"{title}, {current_user.branch_code}, as on {today:%d-%m-%Y}")
    def search(number, size):
        rows = q.item_page(conn, current_user.branch_id, today, filt, size, (number - 1) * size)
        return rows, (rows[0]["found"] if rows else 0)

    rows, page = paged(search)
    return rows_or_page("finance/receivables/items.html", "finance/receivables/_item_rows.html", ITEMS_TARGET,
                        rows=rows, page=page, args=args, title=title, source=source, stage=stage, bucket=bucket,
                        sources=q.SOURCES, stages=q.STAGES, buckets=q.BUCKETS, links=_links(), items_target=ITEMS_TARGET)
