"""GST returns out of the documents: GSTR-1 (the offline tool / portal JSON, section by section),
GSTR-3B (the month's summary) and the reconciliation of GSTR-1 with the sales register and the
output-tax ledgers. Query functions take the connection and never commit.

A return is for one GSTIN: every branch registered under it that the request may see (branches of
one registration share a GSTIN, each with its own series). The lines come from the view
finance.gstr1_line, which sorts every invoice and credit-note line into its section
(sql/functions/97_finance_returns.sql); the dated parameters (format version, HSN shape and digits,
UQC, the B2CL limit) are rows, looked up for the period.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..formatting import month_end

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HEADS = ("taxable_value", "igst", "cgst", "sgst")

# Table 13's document kinds, by the ERP's series (data, not access).
DOC_KINDS = {
    1: "Invoices for outward supply",
    5: "Credit Note",
    6: "Receipt voucher",
    8: "Refund voucher",
}
NIL_ROWS = (("INTRB2B", True, True), ("INTRAB2B", True, False), ("INTRB2C", False, True), ("INTRAB2C", False, False))
SECTION_LABELS = {
    "b2b": "4A B2B invoices", "b2cl": "5 B2C large (inter-state)", "b2cs": "7 B2C others",
    "cdnr": "9B credit notes (registered)", "cdnur": "9B credit notes (unregistered, B2CL)",
    "nil": "8 nil rated", "hsn": "12 HSN summary", "doc_issue": "13 documents issued",
}


# --------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """A return period: a month, or a quarter named by its last month (fp "MMYYYY" as the portal's)."""
    first: date
    last: date
    quarterly: bool

    @property
    def fp(self) -> str:
        return f"{self.last:%m%Y}"

    @property
    def label(self) -> str:
        if self.quarterly:
            return f"{self.first:%b %Y} to {self.last:%b %Y}"
        return f"{self.last:%B %Y}"


def period_of(fp: str | None, quarterly: bool, default: date) -> Period:
    """The period an "MMYYYY" names (a quarter: the quarter that month ends or falls in); ``default``
    (a day of the wanted month) when fp is missing or no month."""
    month, year = default.month, default.year
    if fp and len(fp) == 6 and fp.isascii() and fp.isdigit() and 1 <= int(fp[:2]) <= 12 and 2017 <= int(fp[2:]) <= 2100:
        month, year = int(fp[:2]), int(fp[2:])
    if quarterly:
        month = ((month - 1) // 3) * 3 + 3          # Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec
        return Period(date(year, month - 2, 1), month_end(date(year, month, 1)), True)
    return Period(date(year, month, 1), month_end(date(year, month, 1)), False)


# --------------------------------------------------------------------------- whose return


def gstins(conn: Connection) -> list:
    """The GSTINs of the branches the request may see, with the legal name."""
    return conn.execute(sa.text("""
        SELECT gstin, min(legal_name) AS legal_name, string_agg(branch_code, ', ' ORDER BY branch_code) AS branches
          FROM master.branch WHERE platform.branch_visible(branch_id)
         GROUP BY gstin ORDER BY gstin""")).mappings().all()


@dataclass(frozen=True)
class Setting:
    """What a return of this GSTIN and period is built with."""
    version: str | None
    hsn_shape: str | None
    b2cl_limit: Decimal | None
    turnover: Decimal
    hsn_digits: int | None
    branches: tuple[int, ...]               # the branches of the GSTIN the request sees
    branch_codes: tuple[str, ...]
    hidden_branches: tuple[str, ...]        # branches of the GSTIN it does not (their documents are left out)
    state_code: str


def setting(conn: Connection, gstin: str, period: Period) -> Setting:
    row = conn.execute(sa.text("""
        SELECT finance.gst_return_setting_on('GSTR1_VERSION', :last) AS version,
               finance.gst_return_setting_on('HSN_SHAPE', :last) AS hsn_shape,
               billing.threshold_on('B2CL', :last) AS b2cl_limit,
               t.turnover, finance.hsn_digits_for(t.turnover, :last) AS hsn_digits,
               coalesce(array_agg(b.branch_id ORDER BY b.branch_code) FILTER (WHERE platform.branch_visible(b.branch_id)), '{}')
                   AS branches,
               coalesce(array_agg(b.branch_code ORDER BY b.branch_code) FILTER (WHERE platform.branch_visible(b.branch_id)), '{}')
                   AS branch_codes,
               coalesce(array_agg(b.branch_code ORDER BY b.branch_code) FILTER (WHERE NOT platform.branch_visible(b.branch_id)), '{}')
                   AS hidden_branches
          FROM (SELECT finance.pan_turnover(:gstin, master.fy_start_year(:first) - 1) AS turnover) t
          LEFT JOIN master.branch b ON b.gstin = :gstin
         GROUP BY t.turnover"""), {"gstin": gstin, "first": period.first, "last": period.last}).mappings().one()
    return Setting(row["version"], row["hsn_shape"], row["b2cl_limit"], row["turnover"], row["hsn_digits"],
                   tuple(row["branches"]), tuple(row["branch_codes"]), tuple(row["hidden_branches"]), gstin[:2])


# --------------------------------------------------------------------------- GSTR-1


def problems(conn: Connection, gstin: str, period: Period) -> list:
    """Documents GSTR-1 cannot carry as they are, each with what is wrong (empty: the return may be made)."""
    return conn.execute(sa.text("""
        SELECT doc_no, doc_date, problem FROM finance.gstr1_problems(:gstin, :first, :last)
         ORDER BY doc_date, doc_no, problem"""), {"gstin": gstin, "first": period.first, "last": period.last}).mappings().all()


_WHERE = "branch_id = ANY(:branches) AND doc_date BETWEEN :first AND :last"


def _params(s: Setting, period: Period) -> dict:
    return {"branches": list(s.branches), "first": period.first, "last": period.last}


def _num(rate: Decimal) -> int:
    """The item's serial in the portal's JSON: rate x 100 + 1 (501 for 5 %)."""
    return int(rate * 100) + 1


def _rate(rate: Decimal) -> int | Decimal:
    """A rate as the JSON carries it: 5, 18, 0.25 (written by returns_json, never through a float)."""
    return int(rate) if rate == rate.to_integral_value() else rate.normalize()


def amount(value) -> Decimal:
    """An amount as the JSON carries it: a Decimal with two decimals (returns_json writes 1234.50)."""
    return Decimal(value or 0).quantize(CENT)


def quantity(value) -> Decimal:
    """An HSN row's quantity: the portal takes two decimals."""
    return Decimal(value or 0).quantize(CENT)


def _item(r, inter: bool) -> dict:
    det = {"txval": amount(abs(r["taxable_value"])), "rt": _rate(r["gst_rate"])}
    if inter:
        det["iamt"] = amount(abs(r["igst"]))
    else:
        det["camt"] = amount(abs(r["cgst"]))
        det["samt"] = amount(abs(r["sgst"]))
    det["csamt"] = ZERO
    return {"num": _num(r["gst_rate"]), "itm_det": det}


@dataclass
class Gstr1:
    """A GSTR-1 as built: the portal JSON, and the same figures as rows for the screen and the XLSX."""
    gstin: str
    period: Period
    setting: Setting
    json: dict
    rows: dict = field(default_factory=dict)      # section -> list of dicts (screen / XLSX rows)
    totals: list = field(default_factory=list)    # per section: documents, taxable, IGST, CGST, SGST


def _dmy(d: date) -> str:
    return f"{d:%d-%m-%Y}"


def gstr1(conn: Connection, gstin: str, period: Period, s: Setting | None = None) -> Gstr1:
    """The GSTR-1 of a GSTIN for a period (check ``problems`` first: this builds what the rows say)."""
    s = s or setting(conn, gstin, period)
    p = _params(s, period)
    # Invoice-wise sections: one row per document and rate (B2B, B2CL, and their credit notes).
    docs = conn.execute(sa.text(f"""
        SELECT doc, doc_id, doc_no, doc_date, doc_value, invoice_no, invoice_date, buyer_gstin, place_of_supply,
               supplier_state, reverse_charge, kind, section, gst_rate, sum(taxable_value) AS taxable_value,
               sum(igst) AS igst, sum(cgst) AS cgst, sum(sgst) AS sgst
          FROM finance.gstr1_line
         WHERE {_WHERE} AND section IN ('B2B', 'B2CL') AND taxable_value <> 0
         GROUP BY doc, doc_id, doc_no, doc_date, doc_value, invoice_no, invoice_date, buyer_gstin, place_of_supply,
                  supplier_state, reverse_charge, kind, section, gst_rate
         ORDER BY doc_date, doc_no, gst_rate"""), p).mappings().all()
    b2cs = conn.execute(sa.text(f"""
        SELECT place_of_supply, place_of_supply <> supplier_state AS inter, gst_rate,
               sum(taxable_value) AS taxable_value, sum(igst) AS igst, sum(cgst) AS cgst, sum(sgst) AS sgst,
               count(DISTINCT (doc, doc_id)) AS documents
          FROM finance.gstr1_line WHERE {_WHERE} AND section = 'B2CS'
         GROUP BY place_of_supply, supplier_state, gst_rate
         ORDER BY place_of_supply, gst_rate"""), p).mappings().all()
    nil = conn.execute(sa.text(f"""
        SELECT buyer_gstin IS NOT NULL AS b2b, place_of_supply <> supplier_state AS inter,
               sum(taxable_value) AS taxable_value
          FROM finance.gstr1_line WHERE {_WHERE} AND section = 'NIL'
         GROUP BY 1, 2"""), p).mappings().all()
    hsn = conn.execute(sa.text(f"""
        SELECT h.*, finance.uqc_for(h.unit, h.hsn_code, :last) AS uqc
          FROM (SELECT buyer_gstin IS NOT NULL AS b2b, hsn_code, unit, gst_rate, left(min(description), 30) AS description,
                       sum(qty) AS qty, sum(taxable_value) AS taxable_value, sum(igst) AS igst, sum(cgst) AS cgst,
                       sum(sgst) AS sgst
                  FROM finance.gstr1_line WHERE {_WHERE}
                 GROUP BY 1, hsn_code, unit, gst_rate) h
         ORDER BY h.b2b DESC, h.hsn_code, h.gst_rate"""), p).mappings().all()
    issued = conn.execute(sa.text("""
        SELECT doc_num, series, count(*) AS totnum,
               (array_agg(doc_no ORDER BY n))[1] AS first_no, (array_agg(doc_no ORDER BY n DESC))[1] AS last_no
          FROM (SELECT 1 AS doc_num, invoice_no AS doc_no FROM billing.invoice
                 WHERE branch_id = ANY(:branches) AND invoice_date BETWEEN :first AND :last AND kind <> 'JOB_SHEET'
                UNION ALL
                SELECT 5, credit_note_no FROM billing.credit_note
                 WHERE branch_id = ANY(:branches) AND note_date BETWEEN :first AND :last
                UNION ALL
                SELECT 6, receipt_no FROM billing.receipt
                 WHERE branch_id = ANY(:branches) AND receipt_date BETWEEN :first AND :last
                UNION ALL
                SELECT 8, refund_no FROM billing.refund
                 WHERE branch_id = ANY(:branches) AND refund_date BETWEEN :first AND :last) d
          CROSS JOIN LATERAL (SELECT substring(d.doc_no FROM '^(.*?)[0-9]+$') AS series,
                                     coalesce(substring(d.doc_no FROM '([0-9]+)$'), '0')::bigint AS n) x
         GROUP BY doc_num, series
         ORDER BY doc_num, series"""), p).mappings().all()
    return _assemble(gstin, period, s, docs, b2cs, nil, hsn, issued)


def _assemble(gstin, period, s, docs, b2cs_rows, nil_rows, hsn_rows, issued) -> Gstr1:
    out = Gstr1(gstin, period, s, {})
    rows: dict[str, list] = {k: [] for k in SECTION_LABELS}
    # b2b / cdnr by buyer GSTIN, b2cl / cdnur by place of supply, items by rate.
    b2b: dict[str, dict] = defaultdict(dict)
    cdnr: dict[str, dict] = defaultdict(dict)
    b2cl: dict[str, dict] = defaultdict(dict)
    cdnur: dict[str, dict] = {}
    for r in docs:
        inter = r["place_of_supply"] != r["supplier_state"]
        item = _item(r, inter)
        row = {"section": None, "doc_no": r["doc_no"], "doc_date": r["doc_date"], "against_no": None,
               "buyer_gstin": r["buyer_gstin"], "place_of_supply": r["place_of_supply"], "value": r["doc_value"],
               "rate": r["gst_rate"], "taxable_value": abs(r["taxable_value"]), "igst": abs(r["igst"]),
               "cgst": abs(r["cgst"]), "sgst": abs(r["sgst"]), "doc_id": (r["doc"], r["doc_id"])}
        if r["doc"] == "INV" and r["section"] == "B2B":
            inv = b2b[r["buyer_gstin"]].setdefault(r["doc_no"], {
                "inum": r["doc_no"], "idt": _dmy(r["doc_date"]), "val": amount(r["doc_value"]),
                "pos": r["place_of_supply"], "rchrg": "Y" if r["reverse_charge"] else "N", "inv_typ": "R", "itms": []})
            inv["itms"].append(item)
            rows["b2b"].append({**row, "section": "b2b"})
        elif r["doc"] == "INV":
            inv = b2cl[r["place_of_supply"]].setdefault(r["doc_no"], {
                "inum": r["doc_no"], "idt": _dmy(r["doc_date"]), "val": amount(r["doc_value"]), "itms": []})
            inv["itms"].append(item)
            rows["b2cl"].append({**row, "section": "b2cl"})
        elif r["section"] == "B2B":
            nt = cdnr[r["buyer_gstin"]].setdefault(r["doc_no"], {
                "ntty": "C", "nt_num": r["doc_no"], "nt_dt": _dmy(r["doc_date"]), "val": amount(r["doc_value"]),
                "pos": r["place_of_supply"], "rchrg": "Y" if r["reverse_charge"] else "N", "inv_typ": "R", "itms": []})
            nt["itms"].append(item)
            rows["cdnr"].append({**row, "section": "cdnr", "against_no": r["invoice_no"]})
        else:
            nt = cdnur.setdefault(r["doc_no"], {
                "typ": "B2CL", "ntty": "C", "nt_num": r["doc_no"], "nt_dt": _dmy(r["doc_date"]),
                "val": amount(r["doc_value"]), "pos": r["place_of_supply"], "itms": []})
            nt["itms"].append(item)
            rows["cdnur"].append({**row, "section": "cdnur", "against_no": r["invoice_no"]})
    j: dict = {"gstin": gstin, "fp": period.fp, "version": s.version, "hash": "hash"}
    j["b2b"] = [{"ctin": ctin, "inv": list(invs.values())} for ctin, invs in sorted(b2b.items())]
    j["b2cl"] = [{"pos": pos, "inv": list(invs.values())} for pos, invs in sorted(b2cl.items())]
    j["b2cs"] = []
    for r in b2cs_rows:
        if r["taxable_value"] == 0 and r["igst"] == 0 and r["cgst"] == 0:
            continue
        entry = {"sply_ty": "INTER" if r["inter"] else "INTRA", "pos": r["place_of_supply"], "typ": "OE",
                 "txval": amount(r["taxable_value"]), "rt": _rate(r["gst_rate"])}
        if r["inter"]:
            entry["iamt"] = amount(r["igst"])
        else:
            entry["camt"], entry["samt"] = amount(r["cgst"]), amount(r["sgst"])
        entry["csamt"] = ZERO
        j["b2cs"].append(entry)
        rows["b2cs"].append({"section": "b2cs", "place_of_supply": r["place_of_supply"],
                             "supply": "INTER" if r["inter"] else "INTRA", "rate": r["gst_rate"],
                             "documents": r["documents"], **{h: r[h] for h in HEADS}})
    j["cdnr"] = [{"ctin": ctin, "nt": list(nts.values())} for ctin, nts in sorted(cdnr.items())]
    j["cdnur"] = list(cdnur.values())
    nil = {(r["b2b"], r["inter"]): r["taxable_value"] for r in nil_rows}
    j["nil"] = {"inv": [{"sply_ty": ty, "nil_amt": amount(nil.get((b2b_, inter), ZERO)), "expt_amt": ZERO,
                         "ngsup_amt": ZERO} for ty, b2b_, inter in NIL_ROWS]}
    rows["nil"] = [{"section": "nil", "supply": ty, "taxable_value": nil.get((b2b_, inter), ZERO)}
                   for ty, b2b_, inter in NIL_ROWS]
    hsn_b2b, hsn_b2c = [], []
    for r in hsn_rows:
        if r["qty"] == 0 and all(r[h] == 0 for h in HEADS):
            continue                     # sold and credited in full within the period
        service = r["uqc"] == "NA"
        entry = {"num": 0, "hsn_sc": r["hsn_code"], "desc": r["description"] or "", "uqc": r["uqc"] or "OTH",
                 "qty": ZERO if service else quantity(r["qty"]), "rt": _rate(r["gst_rate"]),
                 "txval": amount(r["taxable_value"]), "iamt": amount(r["igst"]), "camt": amount(r["cgst"]),
                 "samt": amount(r["sgst"]), "csamt": ZERO}
        (hsn_b2b if r["b2b"] else hsn_b2c).append(entry)
        rows["hsn"].append({"section": "hsn", "table": "B2B" if r["b2b"] else "B2C", "hsn": r["hsn_code"],
                            "description": entry["desc"], "uqc": entry["uqc"], "qty": entry["qty"],
                            "rate": r["gst_rate"], **{h: r[h] for h in HEADS}})
    for listed in (hsn_b2b, hsn_b2c):
        for n, entry in enumerate(listed, start=1):
            entry["num"] = n
    if s.hsn_shape == "SPLIT":
        j["hsn"] = {"hsn_b2b": hsn_b2b, "hsn_b2c": hsn_b2c}
    else:
        data = hsn_b2b + hsn_b2c
        for n, entry in enumerate(data, start=1):
            entry["num"] = n
        j["hsn"] = {"data": data}
    by_kind: dict[int, list] = defaultdict(list)
    for r in issued:
        docs_of_kind = by_kind[r["doc_num"]]
        docs_of_kind.append({"num": len(docs_of_kind) + 1, "from": r["first_no"], "to": r["last_no"],
                             "totnum": r["totnum"], "cancel": 0, "net_issue": r["totnum"]})
        rows["doc_issue"].append({"section": "doc_issue", "kind": DOC_KINDS[r["doc_num"]], "doc_num": r["doc_num"],
                                  "from": r["first_no"], "to": r["last_no"], "totnum": r["totnum"], "cancel": 0,
                                  "net_issue": r["totnum"]})
    j["doc_issue"] = {"doc_det": [{"doc_num": n, "doc_typ": DOC_KINDS[n], "docs": by_kind[n]} for n in sorted(by_kind)]}
    # a section with nothing in it is left out, as the offline tool writes it; nil (all four rows) and
    # the HSN summary (both tables when split) are always there
    for empty in [k for k in ("b2b", "b2cl", "b2cs", "cdnr", "cdnur") if not j[k]]:
        del j[empty]
    if not by_kind:
        del j["doc_issue"]
    out.json = j
    out.rows = rows
    out.totals = _totals(rows)
    return out


def _totals(rows: dict) -> list[dict]:
    """Per section: how many documents (rows for the summaries) and the amounts."""
    totals = []
    for key in ("b2b", "b2cl", "b2cs", "cdnr", "cdnur", "nil", "hsn"):
        section_rows = rows[key]
        if key in ("b2b", "b2cl", "cdnr", "cdnur"):
            count = len({r["doc_id"] for r in section_rows})
        elif key == "b2cs":
            count = sum(r["documents"] for r in section_rows)
        else:
            count = len([r for r in section_rows if r.get("taxable_value")])
        totals.append({"section": key, "label": SECTION_LABELS[key], "count": count,
                       **{h: sum((r.get(h) or ZERO for r in section_rows), ZERO) for h in HEADS}})
    return totals


def net_outward(g: Gstr1) -> dict:
    """The period's outward supplies as GSTR-1 reports them, credit notes deducted: what the
    reconciliation compares with the register and the books (= the HSN summary's total)."""
    return {h: sum((r[h] for r in g.rows["hsn"]), ZERO) for h in HEADS}


# --------------------------------------------------------------------------- GSTR-3B


def gstr3b(conn: Connection, gstin: str, period: Period, s: Setting | None = None) -> dict:
    """The month's summary: outward supplies by tax head (credit notes of the month deducted),
    inter-state supplies to unregistered persons by place of supply, and eligible ITC."""
    s = s or setting(conn, gstin, period)
    p = _params(s, period)
    out = conn.execute(sa.text(f"""
        SELECT coalesce(sum(taxable_value) FILTER (WHERE gst_rate > 0), 0) AS taxable_value,
               coalesce(sum(igst), 0) AS igst, coalesce(sum(cgst), 0) AS cgst, coalesce(sum(sgst), 0) AS sgst,
               coalesce(sum(taxable_value) FILTER (WHERE gst_rate = 0), 0) AS nil_value
          FROM finance.gstr1_line WHERE {_WHERE}"""), p).mappings().one()
    unreg = conn.execute(sa.text("""
        SELECT l.place_of_supply, st.name AS state_name, sum(l.taxable_value) AS taxable_value, sum(l.igst) AS igst
          FROM finance.gstr1_line l LEFT JOIN master.state st ON st.state_code = l.place_of_supply
         WHERE l.branch_id = ANY(:branches) AND l.doc_date BETWEEN :first AND :last
           AND l.buyer_gstin IS NULL AND l.place_of_supply <> l.supplier_state AND l.gst_rate > 0
         GROUP BY l.place_of_supply, st.name HAVING sum(l.taxable_value) <> 0
         ORDER BY l.place_of_supply"""), p).mappings().all()
    itc = conn.execute(sa.text(f"""
        SELECT coalesce(sum(igst) FILTER (WHERE eligible), 0) AS igst, coalesce(sum(cgst) FILTER (WHERE eligible), 0) AS cgst,
               coalesce(sum(sgst) FILTER (WHERE eligible), 0) AS sgst, coalesce(sum(cess) FILTER (WHERE eligible), 0) AS cess,
               coalesce(sum(igst) FILTER (WHERE NOT eligible), 0) AS inelg_igst,
               coalesce(sum(cgst) FILTER (WHERE NOT eligible), 0) AS inelg_cgst,
               coalesce(sum(sgst) FILTER (WHERE NOT eligible), 0) AS inelg_sgst,
               coalesce(sum(cess) FILTER (WHERE NOT eligible), 0) AS inelg_cess,
               count(*) AS documents
          FROM finance.itc_source WHERE {_WHERE}"""), p).mappings().one()
    zero = {"txval": ZERO, "iamt": ZERO, "camt": ZERO, "samt": ZERO, "csamt": ZERO}
    tax_zero = {"iamt": ZERO, "camt": ZERO, "samt": ZERO, "csamt": ZERO}
    avl = {"iamt": amount(itc["igst"]), "camt": amount(itc["cgst"]), "samt": amount(itc["sgst"]),
           "csamt": amount(itc["cess"])}
    inelg = {"iamt": amount(itc["inelg_igst"]), "camt": amount(itc["inelg_cgst"]), "samt": amount(itc["inelg_sgst"]),
             "csamt": amount(itc["inelg_cess"])}
    j = {
        "gstin": gstin, "ret_period": period.fp,
        "sup_details": {
            "osup_det": {"txval": amount(out["taxable_value"]), "iamt": amount(out["igst"]),
                         "camt": amount(out["cgst"]), "samt": amount(out["sgst"]), "csamt": ZERO},
            "osup_zero": {"txval": ZERO, "iamt": ZERO, "csamt": ZERO},
            "osup_nil_exmp": {"txval": amount(out["nil_value"])},
            "isup_rev": dict(zero),
            "osup_nongst": {"txval": ZERO},
        },
        "inter_sup": {
            "unreg_details": [{"pos": r["place_of_supply"], "txval": amount(r["taxable_value"]),
                               "iamt": amount(r["igst"])} for r in unreg],
            "comp_details": [], "uin_details": [],
        },
        "itc_elg": {
            "itc_avl": [{"ty": "IMPG", **tax_zero}, {"ty": "IMPS", **tax_zero}, {"ty": "ISRC", **tax_zero},
                        {"ty": "ISD", **tax_zero}, {"ty": "OTH", **avl}],
            "itc_rev": [{"ty": "RUL", **tax_zero}, {"ty": "OTH", **tax_zero}],
            "itc_net": dict(avl),
            "itc_inelg": [{"ty": "RUL", **tax_zero}, {"ty": "OTH", **inelg}],
        },
    }
    return {"json": j, "outward": out, "unreg": unreg, "itc": itc, "setting": s}


# --------------------------------------------------------------------------- reconciliation


def reconciliation(conn: Connection, s: Setting, period: Period) -> list[dict]:
    """Every outward document of the period beside its GSTR-1 lines and its voucher's output tax, and
    every voucher of the period with output tax that no document of the period accounts for."""
    rows = conn.execute(sa.text("""
        WITH docs AS (
            SELECT 'billing.invoice'::text AS source_table, i.invoice_id::bigint AS source_id, 'INV'::text AS doc,
                   i.invoice_id AS doc_id, i.invoice_no AS doc_no, i.invoice_date AS doc_date, i.branch_id,
                   i.taxable_value, i.igst, i.cgst, i.sgst
              FROM billing.invoice i
             WHERE i.branch_id = ANY(:branches) AND i.invoice_date BETWEEN :first AND :last AND i.kind <> 'JOB_SHEET'
            UNION ALL
            SELECT 'billing.credit_note', cn.credit_note_id, 'CRN', cn.credit_note_id, cn.credit_note_no, cn.note_date,
                   cn.branch_id, -cn.taxable_value, -cn.igst, -cn.cgst, -cn.sgst
              FROM billing.credit_note cn
             WHERE cn.branch_id = ANY(:branches) AND cn.note_date BETWEEN :first AND :last),
        lines AS (
            SELECT doc, doc_id, sum(taxable_value) AS taxable_value, sum(igst) AS igst, sum(cgst) AS cgst,
                   sum(sgst) AS sgst
              FROM finance.gstr1_line WHERE branch_id = ANY(:branches) AND doc_date BETWEEN :first AND :last
             GROUP BY doc, doc_id),
        books AS (
            SELECT v.voucher_id, v.voucher_no, v.voucher_date, v.voucher_type, v.source_table, v.source_id,
                   coalesce(sum(vl.credit - vl.debit) FILTER (WHERE l.gst_duty_head = 'IGST'), 0) AS igst,
                   coalesce(sum(vl.credit - vl.debit) FILTER (WHERE l.gst_duty_head = 'CGST'), 0) AS cgst,
                   coalesce(sum(vl.credit - vl.debit) FILTER (WHERE l.gst_duty_head = 'SGST'), 0) AS sgst,
                   count(l.ledger_id) AS output_lines
              FROM finance.voucher v
              LEFT JOIN finance.voucher_line vl ON vl.voucher_id = v.voucher_id
              LEFT JOIN finance.ledger l ON l.ledger_id = vl.ledger_id AND l.gst_direction = 'OUTPUT'
             WHERE v.branch_id = ANY(:branches)
               AND (v.voucher_date BETWEEN :first AND :last
                    OR (v.source_table, v.source_id) IN (SELECT source_table, source_id FROM docs))
             GROUP BY v.voucher_id
            HAVING count(l.ledger_id) > 0 OR (v.source_table, v.source_id) IN (SELECT source_table, source_id FROM docs))
        SELECT d.doc, d.doc_id, d.doc_no, d.doc_date,
               d.taxable_value AS reg_taxable, d.igst AS reg_igst, d.cgst AS reg_cgst, d.sgst AS reg_sgst,
               ln.taxable_value AS ret_taxable, ln.igst AS ret_igst, ln.cgst AS ret_cgst, ln.sgst AS ret_sgst,
               b.voucher_id, b.voucher_no, b.voucher_date, b.voucher_type,
               b.igst AS led_igst, b.cgst AS led_cgst, b.sgst AS led_sgst
          FROM docs d
          LEFT JOIN lines ln ON ln.doc = d.doc AND ln.doc_id = d.doc_id
          FULL JOIN books b ON b.source_table = d.source_table AND b.source_id = d.source_id
         ORDER BY coalesce(d.doc_date, b.voucher_date), coalesce(d.doc_no, b.voucher_no)"""), _params(s, period)).mappings().all()
    out = []
    for r in rows:
        r = dict(r)
        for k in ("ret_taxable", "ret_igst", "ret_cgst", "ret_sgst"):
            if r["doc"] is not None and r[k] is None:
                r[k] = ZERO          # a document with no line in the return (none of the customer's lines)
        r["differences"] = _differences(r, period)
        out.append(r)
    return out


def _differences(r: dict, period: Period) -> list[str]:
    found = []
    if r["doc"] is None:
        if period.first <= r["voucher_date"] <= period.last:
            found.append(f"voucher {r['voucher_no']} carries output tax that no invoice or credit note of the period accounts for")
        return found
    if any(r[f"reg_{h}"] != r[f"ret_{h}"] for h in ("taxable", "igst", "cgst", "sgst")):
        found.append("its lines in the return differ from its total in the sales register")
    if r["voucher_id"] is None:
        found.append("no voucher in the books")
        return found
    if not (period.first <= r["voucher_date"] <= period.last):
        found.append(f"its voucher {r['voucher_no']} is dated {r['voucher_date']:%d-%m-%Y}, outside the period")
    for head in ("igst", "cgst", "sgst"):
        if r[f"led_{head}"] != r[f"reg_{head}"]:
            found.append(f"{head.upper()} {r[f'reg_{head}']} on the document, {r[f'led_{head}']} in voucher {r['voucher_no']}")
    return found


def ledger_totals(rows: list[dict], period: Period) -> dict:
    """Output tax in the books for the period: every voucher dated in it."""
    total = {"igst": ZERO, "cgst": ZERO, "sgst": ZERO}
    for r in rows:
        if r["voucher_id"] is not None and period.first <= r["voucher_date"] <= period.last:
            for h in total:
                total[h] += r[f"led_{h}"]
    return total
