"""Sales and billing on five years of data: posting a vehicle invoice, the invoice PDF, the
sales register and the booking pipeline.

    .venv/bin/python -m bench.sales                     # prints the figures
    .venv/bin/python -m bench.run_all --only sales      # also writes them into docs/PERFORMANCE.md

The bench database gets `generate-history`'s full data set (five years: 30,000 bookings with
their invoices, receipts, deliveries, refunds and insurance policies, the vehicle units they
sold, 3,000 parts and 1,000,000 stock moves), then, interleaved with the same `SELECT 1` floor
as bench/screens.py and with the bench process and its PostgreSQL backends pinned to one CPU:

* posting a vehicle invoice: `billing.posting.post_vehicle_invoice` for an allotted booking
  in its own transaction, COMMIT included (numbering from the branch's counter, the invoice
  and its lines, the unit and the booking moved on by the triggers, the audit rows, the
  deferred check that the lines add up); the allotted bookings are prepared beforehand;
* the invoice PDF (`billing.invoice_pdf`, WeasyPrint, three copies), warm: the same few
  invoices in turn after the warm-up;
* the sales register (`billing.sales_register`) filtered to vehicle invoices of the current
  financial year, with its totals and first page;
* the booking pipeline (`sales.pipeline`).

Every screen goes through the test client as an ADMIN of the one branch (all sales are
there). The ratio to the floor is reported, not a target.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa
from flask import url_for

from webapp.formatting import today_ist

from .screens import (
    ADMIN_CODE,
    BENCH_PIN,
    Timing,
    bench_database,
    database_server,
    floor_app,
    login,
    make_app,
    pinned_rounds,
    seed,
)

TARGETS_MS = {"post_invoice": 50.0, "invoice_pdf": 300.0, "sales_register": 50.0, "pipeline": 30.0}
PDF_INVOICES = 10  # the warm PDF cycles through this many invoices


def _fy_start(d: date) -> date:
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def prepared(progress=print):
    """Bench database with the five-year history including sales, the app and an ADMIN client."""
    stack = ExitStack()
    instance = tempfile.mkdtemp(prefix="erp-bench-sales-")
    stack.callback(shutil.rmtree, instance, True)
    server = stack.enter_context(database_server())
    url = stack.enter_context(bench_database(server))
    app = make_app(url, instance)
    stack.callback(app.extensions["erp_db"].dispose)
    seed(app)
    from seed.history import Sizes, generate_history

    sizes = Sizes()
    progress(f"generating five years of stock and sales ({sizes.sales:,} bookings, {sizes.moves:,} moves) ...")
    started = time.perf_counter()
    engine = app.extensions["erp_db"].owner_engine  # seeding and measuring the database are the owner's
    with engine.begin() as conn:
        counts = generate_history(conn, sizes)
    generated_s = time.perf_counter() - started
    admin = app.test_client()
    assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
    today = today_ist()
    with engine.connect() as conn:
        pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        admin_id = conn.execute(sa.text("SELECT staff_id FROM master.staff WHERE staff_code = :c"),
                                {"c": ADMIN_CODE}).scalar_one()
        # Recent delivered sales with a charge line besides the vehicle: a typical printed invoice.
        pdf_ids = list(conn.execute(sa.text(
            """SELECT i.invoice_id FROM billing.invoice i
                WHERE (SELECT count(*) FROM billing.invoice_line l WHERE l.invoice_id = i.invoice_id) >= 2
                ORDER BY i.invoice_date DESC, i.invoice_id DESC LIMIT :n"""), {"n": PDF_INVOICES}).scalars())
        register = conn.execute(sa.text(
            """SELECT count(*), sum(grand_total) FROM billing.invoice
                WHERE kind = 'VEHICLE' AND invoice_date BETWEEN :f AND :t"""),
            {"f": _fy_start(today), "t": today}).one()
        pipeline = dict(conn.execute(sa.text("SELECT stage, count(*) FROM sales.booking GROUP BY 1")).all())
    with app.test_request_context():
        urls = {"pdf": [url_for("billing.invoice_pdf", invoice_id=i) for i in pdf_ids],
                "register": url_for("billing.sales_register", kind="VEHICLE",
                                    **{"from": _fy_start(today).isoformat(), "to": today.isoformat()}),
                "pipeline": url_for("sales.pipeline")}
    return stack, SimpleNamespace(app=app, engine=engine, admin=admin, admin_id=admin_id,
                                  floor=floor_app(app.extensions["erp_db"].engine).test_client(),
                                  counts=counts, generated_s=generated_s,
                                  pg_version=pg_version, urls=urls, register_rows=register[0], pipeline=pipeline,
                                  today=today)


def allotted_bookings(b, count: int) -> list[int]:
    """count bookings, each with an in-stock unit allotted and an advance received, committed."""
    from webapp.billing import posting
    from webapp.sales import services

    made = []
    with b.engine.begin() as conn:
        units = conn.execute(sa.text(
            """SELECT u.unit_id, u.variant_id, u.colour, u.branch_id FROM inventory.vehicle_unit u
                WHERE u.status = 'IN_STOCK' ORDER BY u.received_on, u.unit_id LIMIT :n"""), {"n": count}).all()
        if len(units) < count:
            raise RuntimeError(f"only {len(units)} units in stock for {count} bookings")
        people = conn.execute(sa.text(
            """SELECT b.salesperson_id, b.customer_id FROM sales.booking b
                ORDER BY b.booking_id DESC LIMIT :n"""), {"n": count}).all()
        for unit, (salesperson, customer) in zip(units, people):
            conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(salesperson)})
            quote = services.on_road_price(conn, unit.variant_id, unit.colour, b.today,
                                           amounts={"INSURANCE": Decimal(6200), "REGISTRATION": Decimal(1850),
                                                    "HSRP": Decimal(650), "ACCESSORIES": Decimal(2360)})
            booking_id = services.create_booking(conn, branch_id=unit.branch_id, customer_id=customer,
                                                 salesperson_id=salesperson, quote=quote, booked_on=b.today,
                                                 key=str(uuid.uuid4()))
            posting.post_receipt(conn, on=b.today, mode="UPI", amount=Decimal(5000), key=str(uuid.uuid4()),
                                 received_from="Customer", booking_id=booking_id, reference="UPI0001112223")
            services.allot(conn, booking_id, unit.unit_id)
            made.append(booking_id)
    return made


class InvoicePosting:
    """One call: post the next prepared booking's invoice in its own committed transaction."""

    def __init__(self, b, bookings: list[int]):
        self.b, self.bookings, self.posted = b, list(bookings), []

    def __call__(self):
        from webapp.billing import posting

        booking_id = self.bookings.pop(0)
        with self.b.engine.begin() as conn:
            conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(self.b.admin_id)})
            self.posted.append(posting.post_vehicle_invoice(conn, booking_id, on=self.b.today, key=str(uuid.uuid4())))
        return _Done()


class _Done:
    status_code = 200

    def get_data(self):
        return b""


def cases(b, posting: InvoicePosting) -> list[tuple[Timing, object]]:
    pdf_urls = b.urls["pdf"]
    turn = {"n": 0}

    def next_pdf():
        turn["n"] += 1
        return b.admin.get(pdf_urls[turn["n"] % len(pdf_urls)])

    listed = [
        (Timing("floor", "**Floor**: bare Flask route, `SELECT 1` through the same engine", "floor"),
         lambda: b.floor.get("/floor")),
        (Timing("post_invoice", "Post a vehicle invoice (`posting.post_vehicle_invoice` in its own transaction, "
                                "COMMIT included: number, lines, unit and booking moved on, audit)", "screen"),
         posting),
        (Timing("invoice_pdf", f"GET invoice PDF (`billing.invoice_pdf`, three copies; warm, "
                               f"{len(pdf_urls)} invoices in turn)", "screen"), next_pdf),
        (Timing("invoice_pdf_one", "reference: the same PDF, one copy only (`?copy=original`)", "reference"),
         lambda: b.admin.get(pdf_urls[turn["n"] % len(pdf_urls)] + "?copy=original")),
        (Timing("sales_register", f"GET sales register (`billing.sales_register`: vehicle invoices of this "
                                  f"financial year, {b.register_rows:,} rows, totals + first page)", "screen"),
         lambda: b.admin.get(b.urls["register"])),
        (Timing("pipeline", "GET booking pipeline (`sales.pipeline`)", "screen"),
         lambda: b.admin.get(b.urls["pipeline"])),
    ]
    for timing, _ in listed:
        if timing.kind == "screen":
            timing.target_ms = TARGETS_MS[timing.key]
            timing.ratio_target = float("inf")  # reported, not a target here
    return listed


def run(requests: int = 200, warmup: int = 20, progress=print) -> dict:
    stack, b = prepared(progress)
    with stack:
        progress(f"preparing {requests + warmup} allotted bookings ...")
        posting = InvoicePosting(b, allotted_bookings(b, requests + warmup))
        listed = cases(b, posting)
        placement, mode = pinned_rounds(b.engine, listed, requests, warmup, progress)
        placement.pin("none")
        with b.engine.connect() as conn:
            from seed.history import _check_sales

            _check_sales(conn)  # the postings continued every series without a gap
            numbers = [conn.execute(sa.text("SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i"),
                                    {"i": i}).scalar_one() for i in (posting.posted[0], posting.posted[-1])]
        floor_ms = listed[0][0].median_ms
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "warmup": warmup,
                "placement": placement.describe(mode), "postgresql": b.pg_version, "generated": b.counts,
                "generated_s": round(b.generated_s, 1), "floor_ms": round(floor_ms, 3),
                "pipeline": b.pipeline, "posted": len(posting.posted), "posted_numbers": numbers,
                "results": [t.summary(floor_ms) for t, _ in listed]}


def sales_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:sales)."""
    from .run_all import case_table

    g = r["generated"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, with `generate-history`'s five years: "
        f"{g['bookings']:,} bookings ({g['invoices']:,} vehicle invoices, {g['receipts']:,} receipts, "
        f"{g['deliveries']:,} deliveries, {g['refunds']:,} refunds of cancelled bookings, {g['policies']:,} "
        f"insurance policies), {g['units']:,} vehicle units, {g['parts']:,} parts and {g['moves']:,} stock moves "
        f"(generated in {r['generated_s']} s). {r['requests']} timed requests per case after {r['warmup']} "
        f"warm-up rounds, interleaved; {r['placement']}. The invoice postings took the numbers "
        f"{r['posted_numbers'][0]} to {r['posted_numbers'][1]} with no gap; each posted a prepared "
        "allotted booking on today's date.",
        "",
        *case_table(r["results"]),
    ]
    return "\n".join(lines)


def main() -> None:
    from .run_all import print_cases

    print_cases(run(), 18)


if __name__ == "__main__":
    main()
