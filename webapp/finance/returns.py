"""GST returns on screen and as downloads: GSTR-1 (screen, XLSX for the accountant to check, the
portal / offline tool JSON), GSTR-3B (screen, PDF, JSON) and the reconciliation of GSTR-1 with the
sales register and the output-tax ledgers, for one GSTIN and a month (GSTR-1 also a quarter).

A GSTR-1 is made only when no document of the period breaks a portal rule: otherwise the page names
each document and what is wrong, and the JSON download is refused (422) with the same list;
nothing is half-made."""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from flask import make_response, render_template, request
from flask_login import current_user

from ..billing import api as billing_api
from ..db import get_conn
from ..formatting import today_ist
from ..pages import choice_arg
from ..pdf import pdf_response, render_pdf
from ..security import allow
from . import bp, returns_json
from . import returns_queries as q

TARGET = "returns-body"


def _last_month() -> date:
    return today_ist().replace(day=1) - timedelta(days=1)


def _months(n: int = 36) -> list[tuple[str, str]]:
    """The months to choose from, newest first: this month and the n before it."""
    out, d = [], today_ist().replace(day=1)
    for _ in range(n + 1):
        out.append((f"{d:%m%Y}", f"{d:%B %Y}"))
        d = (d - timedelta(days=1)).replace(day=1)
    return out


def _choice(conn, *, quarters: bool) -> dict:
    """The GSTIN (one the request sees; the user's branch's by default), the period (?fp=MMYYYY, last
    month by default) and, for GSTR-1, month or quarter (?span=Q)."""
    gstins = q.gstins(conn)
    own = next((g["gstin"] for g in gstins if current_user.branch_code in g["branches"].split(", ")), None)
    gstin = choice_arg("gstin", [g["gstin"] for g in gstins], own or (gstins[0]["gstin"] if gstins else None))
    quarterly = quarters and request.args.get("span") == "Q"
    period = q.period_of(request.args.get("fp"), quarterly, _last_month())
    return {"gstins": gstins, "gstin": gstin, "period": period, "months": _months(),
            "args": {"gstin": gstin, "fp": period.fp, **({"span": "Q"} if quarterly else {})}}


def _page(template: str, body: str, status: int = 200, **context):
    """The page, or (the filters' htmx request) just its body."""
    rows_only = request.htmx.target == TARGET
    response = make_response(render_template(body if rows_only else template, **context), status)
    response.vary.update(("HX-Request", "HX-Target"))
    return response


# --------------------------------------------------------------------------- GSTR-1

GSTR1_SHEETS = (
    ("b2b", "B2B", (("GSTIN of recipient", "buyer_gstin", "text"), ("Invoice", "doc_no", "text"),
                    ("Date", "doc_date", "date"), ("Invoice value", "value", "money"),
                    ("Place of supply", "place_of_supply", "text"), ("Rate", "rate", "money"),
                    ("Taxable value", "taxable_value", "money"), ("IGST", "igst", "money"),
                    ("CGST", "cgst", "money"), ("SGST", "sgst", "money"))),
    ("b2cl", "B2CL", (("Invoice", "doc_no", "text"), ("Date", "doc_date", "date"), ("Invoice value", "value", "money"),
                      ("Place of supply", "place_of_supply", "text"), ("Rate", "rate", "money"),
                      ("Taxable value", "taxable_value", "money"), ("IGST", "igst", "money"))),
    ("b2cs", "B2CS", (("Type", "supply", "text"), ("Place of supply", "place_of_supply", "text"),
                      ("Rate", "rate", "money"), ("Documents", "documents", "int"),
                      ("Taxable value", "taxable_value", "money"), ("IGST", "igst", "money"),
                      ("CGST", "cgst", "money"), ("SGST", "sgst", "money"))),
    ("cdnr", "CDNR", (("GSTIN of recipient", "buyer_gstin", "text"), ("Credit note", "doc_no", "text"),
                      ("Date", "doc_date", "date"), ("Against invoice", "against_no", "text"),
                      ("Note value", "value", "money"), ("Place of supply", "place_of_supply", "text"),
                      ("Rate", "rate", "money"), ("Taxable value", "taxable_value", "money"),
                      ("IGST", "igst", "money"), ("CGST", "cgst", "money"), ("SGST", "sgst", "money"))),
    ("cdnur", "CDNUR", (("Credit note", "doc_no", "text"), ("Date", "doc_date", "date"),
                        ("Against invoice", "against_no", "text"), ("Note value", "value", "money"),
                        ("Place of supply", "place_of_supply", "text"), ("Rate", "rate", "money"),
                        ("Taxable value", "taxable_value", "money"), ("IGST", "igst", "money"))),
    ("nil", "Nil rated", (("Supply", "supply", "text"), ("Nil rated", "taxable_value", "money"))),
    ("hsn", "HSN", (("Table", "table", "text"), ("HSN/SAC", "hsn", "text"), ("Description", "description", "text"),
                    ("UQC", "uqc", "text"), ("Quantity", "qty", "money"), ("Rate", "rate", "money"),
                    ("Taxable value", "taxable_value", "money"), ("IGST", "igst", "money"),
                    ("CGST", "cgst", "money"), ("SGST", "sgst", "money"))),
    ("doc_issue", "Documents", (("Kind", "kind", "text"), ("From", "from", "text"), ("To", "to", "text"),
                                ("Total", "totnum", "int"), ("Cancelled", "cancel", "int"),
                                ("Net issued", "net_issue", "int"))),
)
SUMMARY_COLUMNS = (("Section", "label", "text"), ("Documents", "count", "int"), ("Taxable value", "taxable_value", "money"),
                   ("IGST", "igst", "money"), ("CGST", "cgst", "money"), ("SGST", "sgst", "money"))


def _xlsx(heading: str, sheets) -> bytes:
    """A workbook, one sheet per section: its heading, a bold header row, dates as dates, amounts
    as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append([heading])
        ws.cell(row=1, column=1).font = Font(bold=True)
        ws.append([c[0] for c in columns])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for r in rows:
            ws.append([Decimal(r[key]) if kind == "money" and r.get(key) is not None else r.get(key)
                       for _, key, kind in columns])
        for n, (_, _, kind) in enumerate(columns, start=1):
            fmt = {"money": "#,##0.00;-#,##0.00", "date": "DD-MM-YYYY"}.get(kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=3, min_col=n, max_col=n):
                    cell.number_format = fmt
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _gstr1_context(conn, choice: dict) -> dict:
    gstin, period = choice["gstin"], choice["period"]
    if gstin is None:
        return {**choice, "setting": None, "problems": [], "g": None}
    s = q.setting(conn, gstin, period)
    problems = q.problems(conn, gstin, period)
    g = None if problems else q.gstr1(conn, gstin, period, s)
    return {**choice, "setting": s, "problems": problems, "g": g, "labels": q.SECTION_LABELS, "sheets": GSTR1_SHEETS}


@bp.get("/returns/gstr1")
@allow("gst.returns")
def gstr1():
    """GSTR-1 of a GSTIN for a month or quarter: the portal's rules checked, then every section's
    figures and totals; ?format=xlsx the same as a workbook."""
    conn = get_conn()
    ctx = _gstr1_context(conn, _choice(conn, quarters=True))
    g = ctx["g"]
    if request.args.get("format") == "xlsx" and g is not None:
        heading = f"GSTR-1 {g.gstin} {g.period.label} (fp {g.period.fp})"
        sheets = [("Summary", SUMMARY_COLUMNS, g.totals)]
        sheets += [(title, columns, g.rows[key]) for key, title, columns in GSTR1_SHEETS]
        response = make_response(_xlsx(heading, sheets))
        response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response.headers["Content-Disposition"] = f'attachment; filename="GSTR1_{g.gstin}_{g.period.fp}.xlsx"'
        return response
    return _page("finance/returns/gstr1.html", "finance/returns/gstr1_body.html",
                 422 if ctx["problems"] else 200, **ctx)


@bp.get("/returns/gstr1.json")
@allow("gst.returns")
def gstr1_json():
    """The GSTR-1 JSON as the offline tool and the portal take it (GSTR1_<gstin>_<fp>.json), or the
    page with the documents that stop it (422)."""
    conn = get_conn()
    ctx = _gstr1_context(conn, _choice(conn, quarters=True))
    g = ctx["g"]
    if g is None:
        return _page("finance/returns/gstr1.html", "finance/returns/gstr1_body.html", 422, **ctx)
    response = make_response(returns_json.dumps(g.json))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="GSTR1_{g.gstin}_{g.period.fp}.json"'
    return response


# --------------------------------------------------------------------------- GSTR-3B


def _gstr3b_context(conn) -> dict:
    choice = _choice(conn, quarters=False)
    if choice["gstin"] is None:
        return {**choice, "r": None}
    return {**choice, "r": q.gstr3b(conn, choice["gstin"], choice["period"])}


@bp.get("/returns/gstr3b")
@allow("gst.returns")
def gstr3b():
    """GSTR-3B of a GSTIN for a month: outward supplies, inter-state supplies to unregistered
    persons by place of supply, eligible input tax credit."""
    conn = get_conn()
    return _page("finance/returns/gstr3b.html", "finance/returns/gstr3b_body.html", **_gstr3b_context(conn))


@bp.get("/returns/gstr3b.json")
@allow("gst.returns")
def gstr3b_json():
    conn = get_conn()
    ctx = _gstr3b_context(conn)
    if ctx["r"] is None:
        return _page("finance/returns/gstr3b.html", "finance/returns/gstr3b_body.html", 404, **ctx)
    response = make_response(returns_json.dumps(ctx["r"]["json"]))
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="GSTR3B_{ctx["gstin"]}_{ctx["period"].fp}.json"')
    return response


@bp.get("/returns/gstr3b.pdf")
@allow("gst.returns")
def gstr3b_pdf():
    from ..master import api as master_api

    conn = get_conn()
    ctx = _gstr3b_context(conn)
    if ctx["r"] is None:
        return _page("finance/returns/gstr3b.html", "finance/returns/gstr3b_body.html", 404, **ctx)
    branch_id = ctx["r"]["setting"].branches[0] if ctx["r"]["setting"].branches else current_user.branch_id
    pdf = render_pdf("finance/returns/gstr3b_pdf.html", branch=master_api.branch_for_print(conn, branch_id),
                     today=today_ist(), **ctx)
    return pdf_response(pdf, f"GSTR3B_{ctx['gstin']}_{ctx['period'].fp}.pdf")


# --------------------------------------------------------------------------- reconciliation


@bp.get("/returns/reconcile")
@allow("gst.returns")
def reconcile():
    """GSTR-1's figures = the sales register's totals = the output-tax ledgers', for the period, with
    every difference listed document by document."""
    conn = get_conn()
    choice = _choice(conn, quarters=True)
    ctx: dict = {**choice, "setting": None, "rows": [], "lines": [], "problems": []}
    if choice["gstin"] is not None:
        period = choice["period"]
        s = q.setting(conn, choice["gstin"], period)
        rows = q.reconciliation(conn, s, period)
        register = {h: q.ZERO for h in q.HEADS}
        for branch_id in s.branches:
            totals = billing_api.sales_totals(conn, billing_api.SalesFilter(branch_id, period.first, period.last))
            for h in q.HEADS:
                register[h] += totals[h]
        returned = {h: sum((r[f"ret_{h.replace('_value', '')}"] or q.ZERO for r in rows if r["doc"]), q.ZERO)
                    for h in q.HEADS}
        ledger = q.ledger_totals(rows, period)
        lines = [{"label": "GSTR-1 (lines of the return)", **returned},
                 {"label": "Sales register", **register},
                 {"label": "Output tax ledgers", "taxable_value": None, **ledger}]
        ctx.update(setting=s, rows=[r for r in rows if r["differences"]], lines=lines,
                   documents=sum(1 for r in rows if r["doc"]),
                   agree={h: returned[h] == register[h] and (h == "taxable_value" or register[h] == ledger[h])
                          for h in q.HEADS})
    return _page("finance/returns/reconcile.html", "finance/returns/reconcile_body.html", **ctx)
