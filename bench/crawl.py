"""Every GET screen of the app on five years of data: a crawl of the url_map.

    .venv/bin/python -m bench.crawl                     # prints the figures
    .venv/bin/python -m bench.run_all --only crawl      # also writes them into docs/PERFORMANCE.md

The bench database gets `generate-history`'s full data set as bench/sales.py prepares it (30,000
bookings with their invoices, receipts, refunds, deliveries and policies, 30,968 vehicle units,
3,000 parts, 1,000,000 stock moves). The list of cases is made from ``app.url_map``, so a new
screen is crawled as soon as it exists:

* every GET route, its URL arguments filled with a plausible record of the data, looked up by SQL
  per argument name (``ARGUMENTS``), or per route where the screen needs a record in a given state
  (``ROUTE_ARGUMENTS``: an allotted booking for the invoice form, a booked one to allot...). A route
  whose argument cannot be filled (no rule for its name, or no such record in the data) is listed
  as such in the report, never skipped silently; so is a route that does not answer 200 (a
  redirect, a 404), with what it answered;
* for a list screen with a search box (an ``<input name="q">`` on its page), also a search with a
  realistic fragment (``SEARCHES``, per route; a route without one searches for a common surname and
  says so);
* generate-history makes no counter sale, credit note or purchase order: the crawl posts two
  counter sales (one paid and reversed by a credit note, one owed) and three orders (a draft, a
  sent one, one received and billed by the OEM) so that their screens are crawled too;
* each case is timed through the test client, logged in as the ADMIN of the branch holding the
  data, like bench/screens.py (``time.perf_counter_ns()`` around ``client.get``), interleaved
  (round-robin, rotating order) with the same ``SELECT 1`` floor, with the bench process and its
  PostgreSQL backends pinned to one CPU where possible. A response that is a PDF goes in its own
  table: documents, not screens, with their own (smaller) number of requests.

The target (issue 11): every screen under 30 ms median on five years of data.

Iterating on one database: ``CRAWL_DATABASE_URL`` names a database already migrated, seeded by
bench/screens.py ``seed`` and filled by ``generate-history``; it is used as it is and kept.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import sqlalchemy as sa

from .screens import ADMIN_CODE, BENCH_PIN, Placement, Timing, _loadavg, floor_app, login, make_app, timed

SCREEN_TARGET_MS = 30.0
REQUESTS = 25       # per screen
PDF_REQUESTS = 8    # per document (each is 100-300 ms)
WARMUP = 2

ROOT = Path(__file__).resolve().parent.parent

# A plausible record for each URL argument, by its name: the most recent of its kind, as the
# showroom would open it. :branch is the ADMIN's branch. None when the data has none.
ARGUMENTS = {
    "booking_id": "SELECT booking_id FROM sales.booking WHERE branch_id = :branch AND stage = 'DELIVERED' "
                  "ORDER BY booking_id DESC LIMIT 1",
    "invoice_id": "SELECT invoice_id FROM billing.invoice WHERE branch_id = :branch AND kind = 'VEHICLE' "
                  "ORDER BY invoice_id DESC LIMIT 1",
    "credit_note_id": "SELECT credit_note_id FROM billing.credit_note WHERE branch_id = :branch "
                      "ORDER BY credit_note_id DESC LIMIT 1",
    "receipt_id": "SELECT receipt_id FROM billing.receipt WHERE branch_id = :branch ORDER BY receipt_id DESC LIMIT 1",
    "refund_id": "SELECT refund_id FROM billing.refund WHERE branch_id = :branch ORDER BY refund_id DESC LIMIT 1",
    "policy_id": "SELECT policy_id FROM insurance.policy WHERE branch_id = :branch ORDER BY policy_id DESC LIMIT 1",
    "count_id": "SELECT count_id FROM inventory.stock_count WHERE branch_id = :branch ORDER BY count_id DESC LIMIT 1",
    # the busiest part: its stock card has the longest ledger
    "part_id": "SELECT part_id FROM inventory.stock_move WHERE branch_id = :branch "
               "GROUP BY part_id ORDER BY count(*) DESC, part_id LIMIT 1",
    "transfer_id": "SELECT transfer_id FROM inventory.stock_transfer WHERE branch_id = :branch "
                   "ORDER BY transfer_id DESC LIMIT 1",
    "unit_id": "SELECT unit_id FROM inventory.vehicle_unit WHERE branch_id = :branch ORDER BY unit_id DESC LIMIT 1",
    "delivery_id": "SELECT d.delivery_id FROM sales.delivery d JOIN sales.booking b USING (booking_id) "
                   "WHERE b.branch_id = :branch ORDER BY d.delivery_id DESC LIMIT 1",
    "branch_id": "SELECT :branch",
    "customer_id": "SELECT customer_id FROM sales.booking WHERE branch_id = :branch ORDER BY booking_id DESC LIMIT 1",
    "financier_id": "SELECT financier_id FROM master.financier ORDER BY financier_id LIMIT 1",
    "insurer_id": "SELECT insurer_id FROM master.insurer ORDER BY insurer_id LIMIT 1",
    "hsn_code": "SELECT hsn_code FROM master.hsn_rate GROUP BY hsn_code ORDER BY count(*) DESC, hsn_code LIMIT 1",
    "hsn_rate_id": "SELECT hsn_rate_id FROM master.hsn_rate ORDER BY hsn_rate_id DESC LIMIT 1",
    "operation_code": "SELECT operation_code FROM master.labour_operation ORDER BY operation_code LIMIT 1",
    "staff_id": "SELECT staff_id FROM master.staff WHERE branch_id = :branch AND designation = 'SALES' "
                "ORDER BY staff_id LIMIT 1",
    "oem_id": "SELECT oem_id FROM oem.oem ORDER BY oem_id LIMIT 1",
    "model_id": "SELECT model_id FROM oem.model ORDER BY model_id LIMIT 1",
    "variant_id": "SELECT variant_id FROM oem.variant ORDER BY variant_id LIMIT 1",
    "price_id": "SELECT price_id FROM oem.price_list ORDER BY price_id DESC LIMIT 1",
    "scheme_id": "SELECT scheme_id FROM oem.scheme ORDER BY scheme_id DESC LIMIT 1",
    "po_id": "SELECT po_id FROM procurement.purchase_order WHERE branch_id = :branch ORDER BY po_id DESC LIMIT 1",
    "grn_id": "SELECT grn_id FROM procurement.goods_receipt WHERE branch_id = :branch ORDER BY grn_id DESC LIMIT 1",
    "pinv_id": "SELECT pinv_id FROM procurement.purchase_invoice WHERE branch_id = :branch "
               "ORDER BY pinv_id DESC LIMIT 1",
    "enquiry_id": "SELECT lead_id FROM crm.lead WHERE branch_id = :branch ORDER BY lead_id DESC LIMIT 1",
    "lead_id": "SELECT lead_id FROM crm.lead WHERE branch_id = :branch ORDER BY lead_id DESC LIMIT 1",
    "quotation_id": "SELECT quotation_id FROM sales.quotation WHERE branch_id = :branch "
                    "ORDER BY quotation_id DESC LIMIT 1",
    "filename": "SELECT 'css/app.css'",
}

# Routes that need a record in a given state, argument by argument.
_BOOKING_AT = ("SELECT booking_id FROM sales.booking WHERE branch_id = :branch AND stage = '{}' "
               "ORDER BY booking_id DESC LIMIT 1")
ROUTE_ARGUMENTS = {
    "billing.invoice_new": {"booking_id": _BOOKING_AT.format("ALLOTTED")},
    "billing.receipt_new": {"booking_id": _BOOKING_AT.format("ALLOTTED")},
    "billing.refund_new": {"booking_id": "SELECT booking_id FROM billing.refund WHERE branch_id = :branch "
                                         "AND booking_id IS NOT NULL ORDER BY refund_id DESC LIMIT 1"},
    "billing.counter_receipt_new": {"invoice_id": "SELECT invoice_id FROM billing.invoice WHERE branch_id = :branch "
                                                  "AND kind = 'COUNTER' ORDER BY invoice_id DESC LIMIT 1"},
    "billing.credit_note_new": {"invoice_id": "SELECT i.invoice_id FROM billing.invoice i WHERE i.branch_id = :branch "
                                              "AND NOT EXISTS (SELECT 1 FROM billing.credit_note c "
                                              "WHERE c.invoice_id = i.invoice_id) ORDER BY i.invoice_id DESC LIMIT 1"},
    "insurance.policy_new": {"booking_id": "SELECT b.booking_id FROM sales.booking b WHERE b.branch_id = :branch "
                                           "AND b.stage IN ('ALLOTTED', 'INVOICED') AND NOT EXISTS (SELECT 1 FROM "
                                           "insurance.policy p WHERE p.booking_id = b.booking_id) "
                                           "ORDER BY b.booking_id DESC LIMIT 1"},
    "sales.allot": {"booking_id": _BOOKING_AT.format("BOOKED")},
    "sales.cancel": {"booking_id": _BOOKING_AT.format("BOOKED")},
    "sales.booking_edit": {"booking_id": _BOOKING_AT.format("BOOKED")},
    "sales.accessories": {"booking_id": _BOOKING_AT.format("BOOKED")},
    "sales.deliver": {"booking_id": _BOOKING_AT.format("INVOICED")},
    "sales.pdi": {"booking_id": _BOOKING_AT.format("INVOICED")},
    "procurement.po_edit": {"po_id": "SELECT po_id FROM procurement.purchase_order WHERE branch_id = :branch "
                                     "AND status = 'DRAFT' ORDER BY po_id DESC LIMIT 1"},
    "procurement.grn_new": {"po_id": "SELECT po_id FROM procurement.purchase_order WHERE branch_id = :branch "
                                     "AND status IN ('SENT', 'PART_RECEIVED') ORDER BY po_id DESC LIMIT 1"},
}

# Extra cases of a route with another record, where the record changes what the screen does.
EXTRA_CASES = {
    "billing.invoice_detail": [
        ("money still owed (the UPI QR is drawn)",
         {"invoice_id": "SELECT r.invoice_id FROM billing.receivable r WHERE r.branch_id = :branch "
                        "AND r.kind = 'VEHICLE' AND r.customer_balance > 0 ORDER BY r.invoice_date DESC, r.invoice_id DESC LIMIT 1"}),
    ],
    "sales.booking_detail": [
        ("a booking still open (allotted)", {"booking_id": _BOOKING_AT.format("ALLOTTED")}),
    ],
}

# What a user types into a list's search box: a fragment of something the list shows.
_SURNAME = ("SELECT lower(split_part(name, ' ', 2)) FROM master.customer WHERE name LIKE '% %' "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
_RECENT_CUSTOMER = ("SELECT lower(split_part(c.name, ' ', 1)) FROM sales.booking b JOIN master.customer c "
                    "USING (customer_id) WHERE b.branch_id = :branch ORDER BY b.booking_id DESC LIMIT 1")
SEARCHES = {
    "billing.sales_register": _RECENT_CUSTOMER,
    "billing.receipt_register": _RECENT_CUSTOMER,
    "billing.receivables": _SURNAME,
    "inventory.unit_list": "SELECT substr(motor_no, 6, 5) FROM inventory.vehicle_unit ORDER BY unit_id "
                           "OFFSET 777 LIMIT 1",
    "inventory.part_stock_list": "SELECT 'brake'",
    "inventory.part_stock_labels": "SELECT 'brake'",
    "master.part_list": "SELECT 'brake'",
    "master.staff_list": "SELECT 'kumar'",
    "master.customer_list": _SURNAME,
    "sales.booking_list": _SURNAME,
    "crm.lead_list": _SURNAME,
    "sales.subsidy_list": _SURNAME,
    "procurement.po_list": "SELECT 'PO/'",
    "procurement.grn_list": "SELECT 'GRN'",
    "procurement.pinv_list": "SELECT 'INV'",
    "master.hsn_list": "SELECT '8711'",
}

SEARCH_BOX = re.compile(r'<input[^>]*\bname="q"', re.S)


def prepared(progress=print):
    """The five-year data set, the app and an ADMIN client of the branch holding the data."""
    url = os.environ.get("CRAWL_DATABASE_URL")
    if not url:
        from .sales import prepared as sales_prepared

        stack, b = sales_prepared(progress)
        return stack, SimpleNamespace(app=b.app, engine=b.engine, admin=b.admin, floor=b.floor,
                                      counts=b.counts, generated_s=b.generated_s, pg_version=b.pg_version)
    stack = ExitStack()
    instance = tempfile.mkdtemp(prefix="erp-bench-crawl-")
    stack.callback(shutil.rmtree, instance, True)
    from webapp import migrations

    app = make_app(url, instance)
    stack.callback(app.extensions["erp_db"].dispose)
    engine = app.extensions["erp_db"].owner_engine
    migrations.apply_pending(engine)
    admin = app.test_client()
    assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM sales.booking) AS bookings, (SELECT count(*) FROM billing.invoice) AS invoices,
                      (SELECT count(*) FROM billing.receipt) AS receipts, (SELECT count(*) FROM billing.refund) AS refunds,
                      (SELECT count(*) FROM sales.delivery) AS deliveries,
                      (SELECT count(*) FROM insurance.policy) AS policies,
                      (SELECT count(*) FROM inventory.vehicle_unit) AS units, (SELECT count(*) FROM master.part) AS parts,
                      (SELECT count(*) FROM inventory.stock_move) AS moves""")).mappings().one())
        pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    return stack, SimpleNamespace(app=app, engine=engine, admin=admin,
                                  floor=floor_app(app.extensions["erp_db"].engine).test_client(),
                                  counts=counts, generated_s=None, pg_version=pg_version)


def take_upi(engine) -> None:
    """The showroom takes UPI (most do): an invoice with money owed then draws its payment QR."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.branch SET upi_id = 'voltev.blr@okaxis' WHERE upi_id IS NULL"))


def counter_sales(engine) -> None:
    """generate-history makes no counter sale: two, so that their screens are crawled too. One paid
    and then reversed by a credit note, one still owed (its take-a-payment form). Made once: a kept
    CRAWL_DATABASE_URL database gets them at its first crawl only."""
    import uuid
    from decimal import Decimal

    from webapp.billing import posting
    from webapp.formatting import today_ist

    with engine.begin() as conn:
        branch_id, admin_id = conn.execute(sa.text(
            "SELECT branch_id, staff_id FROM master.staff WHERE staff_code = :c"), {"c": ADMIN_CODE}).one()
        if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM billing.invoice WHERE branch_id = :b "
                                "AND kind = 'COUNTER')"), {"b": branch_id}).scalar():
            return
        part_id = conn.execute(sa.text(
            """SELECT s.part_id FROM inventory.part_stock s JOIN master.part p USING (part_id)
                WHERE s.branch_id = :b AND s.qty >= 2 AND p.mrp > 0 ORDER BY s.part_id LIMIT 1"""),
            {"b": branch_id}).scalar()
        if part_id is None:
            return
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
        today = today_ist()
        paid, owed = (posting.post_counter_invoice(conn, branch_id, [posting.CounterLine(part_id, Decimal(1))],
                                                   on=today, key=str(uuid.uuid4())) for _ in range(2))
        amount = conn.execute(sa.text("SELECT amount_payable FROM billing.invoice WHERE invoice_id = :i"),
                              {"i": paid}).scalar_one()
        posting.post_receipt(conn, on=today, mode="UPI", amount=amount, key=str(uuid.uuid4()),
                             received_from="Walk-in customer", invoice_id=paid, reference="UPI000111222")
        posting.post_credit_note(conn, paid, on=today, reason="returned unused", key=str(uuid.uuid4()))
    assert owed


def purchases(b) -> None:
    """generate-history makes no purchase order: a draft one, a sent one, and one received (five
    scooters) and billed by the OEM, so that the procurement screens are crawled too. Made once."""
    from datetime import timedelta

    from webapp.formatting import today_ist
    from webapp.procurement import services
    from webapp.procurement.dispatch import header_line, vehicle_line

    from .stock import _sent_order

    with b.engine.begin() as conn:
        branch_id, admin_id = conn.execute(sa.text(
            "SELECT branch_id, staff_id FROM master.staff WHERE staff_code = :c"), {"c": ADMIN_CODE}).one()
        if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM procurement.purchase_order WHERE branch_id = :b)"),
                        {"b": branch_id}).scalar():
            return
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
        received_po, _, variant, colour = _sent_order(conn, 5)
        _sent_order(conn, 5)
        oem_id = conn.execute(sa.text("SELECT oem_id FROM procurement.purchase_order WHERE po_id = :p"),
                              {"p": received_po}).scalar_one()
        conn.execute(sa.text("INSERT INTO procurement.purchase_order (branch_id, oem_id) VALUES (:b, :o)"),
                     {"b": branch_id, "o": oem_id})
    today = today_ist()
    month = (today.replace(day=1) - timedelta(days=40)).strftime("%m-%Y")
    text = "\n".join([header_line()] + [vehicle_line({
        "vin": f"ZCRAWL{n:011d}", "motor_no": f"ZCM{n:05d}X", "batteries": f"ZCP{n:05d}A",
        "charger_serial": f"ZCC{n:05d}", "key_no": f"K{n}", "colour": colour, "variant": variant,
        "mfg_month": month}) for n in range(5)])
    with b.app.test_request_context(), b.engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
        grn_id, _ = services.post_goods_receipt(conn, po_id=received_po, received_on=today, dispatch_ref="CRAWL-1",
                                                dispatch_text=text, parts=[])
        figures = services.invoice_figures(conn, branch_id=branch_id, oem_id=oem_id, grn_ids=[grn_id], on=today)
        services.post_purchase_invoice(conn, branch_id=branch_id, oem_id=oem_id, grn_ids=[grn_id], data={
            "supplier_invoice_no": "CRAWL/0001", "invoice_date": today, "taxable_value": figures.taxable,
            "cgst": figures.cgst, "sgst": figures.sgst, "igst": figures.igst, "round_off": figures.round_off,
            "total": figures.total, "due_date": today + timedelta(days=30)})


def get_routes(app) -> list:
    """Every rule of the url_map that answers GET, in URL order."""
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: (r.rule, r.endpoint))


def _lookup(conn, sql: str, branch_id: int):
    return conn.execute(sa.text(sql), {"branch": branch_id} if ":branch" in sql else {}).scalar()


def fill(conn, rule, branch_id: int, overrides: dict | None = None) -> tuple[dict | None, str | None]:
    """The rule's arguments from the data, or None and why not."""
    values = {}
    for arg in sorted(rule.arguments):
        sql = (overrides or {}).get(arg) or ROUTE_ARGUMENTS.get(rule.endpoint, {}).get(arg) or ARGUMENTS.get(arg)
        if sql is None:
            return None, f"no rule to fill `{arg}` (add it to ARGUMENTS in bench/crawl.py)"
        value = _lookup(conn, sql, branch_id)
        if value is None:
            return None, f"no record for `{arg}` in the data (`{sql}`)"
        values[arg] = value
    return values, None


def plan(b, progress=print) -> dict:
    """The cases, from the url_map: screens, searches and documents; and what could not be crawled."""
    app = b.app
    with b.engine.connect() as conn:
        branch_id = conn.execute(sa.text("SELECT branch_id FROM master.staff WHERE staff_code = :c"),
                                 {"c": ADMIN_CODE}).scalar_one()
        busiest = conn.execute(sa.text(
            "SELECT branch_id FROM sales.booking GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
        assert busiest in (None, branch_id), "the ADMIN is not of the branch holding the data"
        anonymous = app.test_client()
        found, unfilled, refused = [], [], []
        for rule in get_routes(app):
            variants = [("", None)] + EXTRA_CASES.get(rule.endpoint, [])
            for note, overrides in variants:
                values, why = fill(conn, rule, branch_id, overrides)
                if values is None:
                    unfilled.append({"endpoint": rule.endpoint, "rule": rule.rule, "note": note, "reason": why})
                    continue
                with app.test_request_context():
                    path = rule.build(values)[1]
                client = b.admin
                if rule.endpoint in ("auth.login", "auth.setup"):
                    client = anonymous  # the login page is what someone not logged in sees
                response = client.get(path)
                body = response.get_data()
                if response.status_code != 200:
                    refused.append({"endpoint": rule.endpoint, "path": path, "note": note,
                                    "status": response.status_code,
                                    "location": response.headers.get("Location", "")})
                    continue
                is_pdf = response.mimetype == "application/pdf"
                kind = "pdf" if is_pdf else "screen"
                label = f"{rule.endpoint} `{path}`" + (f" ({note})" if note else "")
                found.append((rule.endpoint, kind, label, path, client))
                if not is_pdf and not rule.arguments and SEARCH_BOX.search(body.decode("utf-8", "replace")):
                    sql = SEARCHES.get(rule.endpoint)
                    fragment = _lookup(conn, sql or _SURNAME, branch_id)
                    searched = f"{path}?{urlencode({'q': fragment})}"
                    how = "" if sql else " (no fragment for this list in SEARCHES: a common surname)"
                    found.append((rule.endpoint, "search", f"{rule.endpoint} `{searched}`{how}", searched, client))
    progress(f"crawl: {len(found)} cases ({sum(1 for f in found if f[1] == 'pdf')} documents), "
             f"{len(unfilled)} routes not filled, {len(refused)} not answering 200")
    return {"found": found, "unfilled": unfilled, "refused": refused, "branch_id": branch_id}


def run(requests: int = REQUESTS, pdf_requests: int = PDF_REQUESTS, warmup: int = WARMUP, progress=print) -> dict:
    stack, b = prepared(progress)
    with stack:
        take_upi(b.engine)
        counter_sales(b.engine)
        purchases(b)
        planned = plan(b, progress)
        floor = (Timing("floor", "**Floor**: bare Flask route, `SELECT 1` through the same engine", "floor"),
                 lambda: b.floor.get("/floor"))
        listed = [floor]
        for endpoint, kind, label, path, client in planned["found"]:
            timing = Timing(endpoint, label, "screen" if kind != "pdf" else "component")
            if kind != "pdf":
                timing.target_ms, timing.ratio_target = SCREEN_TARGET_MS, float("inf")
            timing.crawl_kind = kind
            listed.append((timing, (lambda c, p: lambda: c.get(p))(client, path)))
        placement = Placement(b.engine)
        mode = "same" if placement.pin("same") else "none"
        progress(f"warm-up: {warmup} requests each ...")
        for _ in range(warmup):
            for _, call in listed:
                timed(call)
        placement.pin(mode)
        progress(f"timing: {requests} requests per screen, {pdf_requests} per document, interleaved "
                 f"({placement.describe(mode)}) ...")
        load_before = _loadavg()
        started = time.monotonic()
        for i in range(requests):
            turn = [(t, c) for t, c in listed if t.kind != "component" or i < pdf_requests]
            k = i % len(turn)
            for timing, call in turn[k:] + turn[:k]:
                timing.samples_ns.append(timed(call))
        seconds = time.monotonic() - started
        load_after = _loadavg()
        placement.pin("none")
        floor_ms = listed[0][0].median_ms
        rows = []
        for timing, _ in listed[1:]:
            row = timing.summary(floor_ms)
            row["crawl_kind"] = timing.crawl_kind
            row["ratio"] = round(timing.median_ms / floor_ms, 2)
            if row["crawl_kind"] != "pdf":
                row["target_ms"] = SCREEN_TARGET_MS
                row["met"] = timing.median_ms < SCREEN_TARGET_MS
            rows.append(row)
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "pdf_requests": pdf_requests,
                "warmup": warmup, "placement": placement.describe(mode), "postgresql": b.pg_version,
                "generated": b.counts, "generated_s": None if b.generated_s is None else round(b.generated_s, 1),
                "seconds": round(seconds, 1), "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in load_after], "floor_ms": round(floor_ms, 3),
                "floor": listed[0][0].summary(floor_ms), "results": rows,
                "unfilled": planned["unfilled"], "refused": planned["refused"]}


def _table(rows: list[dict], with_target: bool) -> list[str]:
    head = "| Route | median ms | p95 ms | ratio to floor |" + (" target | met? |" if with_target else "")
    rule = "|---|---:|---:|---:|" + ("---|---|" if with_target else "")
    lines = [head, rule]
    for row in rows:
        line = f"| {row['label']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | {row['ratio']:.1f}× |"
        if with_target:
            line += f" < {row['target_ms']:g} ms | {'yes' if row['met'] else '**no**'} |"
        lines.append(line)
    return lines


def crawl_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:crawl)."""
    g = r["generated"]
    screens = [row for row in r["results"] if row["crawl_kind"] != "pdf"]
    pdfs = [row for row in r["results"] if row["crawl_kind"] == "pdf"]
    over = sorted((row for row in screens if not row["met"]), key=lambda row: -row["median_ms"])
    made = f" (generated in {r['generated_s']} s)" if r.get("generated_s") else ""
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, with `generate-history`'s five years: "
        f"{g['bookings']:,} bookings, {g['invoices']:,} invoices, {g['receipts']:,} receipts, {g['refunds']:,} "
        f"refunds, {g['deliveries']:,} deliveries, {g['policies']:,} policies, {g['units']:,} vehicle units, "
        f"{g['parts']:,} parts, {g['moves']:,} stock moves{made}. Every GET route of the url_map "
        f"(bench/crawl.py), logged in as the ADMIN of the branch holding the data; {r['requests']} timed requests "
        f"per screen and {r['pdf_requests']} per document after {r['warmup']} warm-up rounds, interleaved with "
        f"the floor ({r['floor']['median_ms']:.2f} ms median); {r['placement']}; load average (1 min) "
        f"before/after {r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}.",
        "",
        f"**{len(screens) - len(over)} of {len(screens)} screens meet the target** (< {SCREEN_TARGET_MS:g} ms median)"
        + (": over it (median, and its ratio to the floor, which a busy machine moves less), "
           + ", ".join(f"{row['key']}{' (search)' if row['crawl_kind'] == 'search' else ''} "
                       f"{row['median_ms']:.1f} ms ({row['ratio']:.1f}×)" for row in over) + "." if over else "."),
        "",
        *_table(screens, True),
        "",
        "Documents (PDF), timed alongside; no target here:",
        "",
        *_table(pdfs, False),
    ]
    if r["unfilled"] or r["refused"]:
        lines += ["", "Routes not timed, and why:", ""]
        for u in r["unfilled"]:
            note = f" ({u['note']})" if u["note"] else ""
            lines.append(f"- {u['endpoint']} `{u['rule']}`{note}: {u['reason']}")
        for u in r["refused"]:
            note = f" ({u['note']})" if u["note"] else ""
            to = f" to `{u['location']}`" if u["location"] else ""
            lines.append(f"- {u['endpoint']} `{u['path']}`{note}: answered {u['status']}{to}")
    return "\n".join(lines)


def print_crawl(r: dict) -> None:
    print(f"\nfloor {r['floor_ms']:.2f} ms; {r['seconds']} s")
    for row in sorted(r["results"], key=lambda row: -row["median_ms"]):
        met = "" if row["crawl_kind"] == "pdf" else ("yes" if row["met"] else "NO")
        print(f"{row['median_ms']:>9.2f} {row['p95_ms']:>9.2f}  {met:<3} {row['crawl_kind']:<6} {row['label']}")
    for u in r["unfilled"]:
        print(f"not filled: {u['endpoint']} {u['rule']} {u['note']}: {u['reason']}")
    for u in r["refused"]:
        print(f"not 200: {u['endpoint']} {u['path']} {u['note']}: {u['status']} {u['location']}")


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--pdf-requests", type=int, default=PDF_REQUESTS)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    result = run(args.requests, args.pdf_requests)
    print_crawl(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
