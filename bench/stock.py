"""Stock screens on five years of data, and the import of a 500-row dispatch list.

    .venv/bin/python -m bench.stock            # prints the figures
    .venv/bin/python -m bench.run_all          # also writes them into docs/PERFORMANCE.md

The bench database gets `generate-history`'s full data set (20,000 vehicle units, 3,000
parts, 1,000,000 stock moves; about 11 s), then each screen is timed through the test client
against the same `SELECT 1` floor as bench/screens.py, interleaved, with the bench process
and its PostgreSQL backends pinned to one CPU. The dispatch import is the whole receipt
service (parse, check against the order and existing stock, insert units, packs, fitments,
GRN) in its own committed transaction, once per fresh 500-vehicle order.
"""
from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa

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

SCREEN_TARGET_MS = 30.0   # vehicle stock search and the parts list
AGEING_TARGET_MS = 100.0  # the ageing report
IMPORT_TARGET_S = 2.0     # a 500-row dispatch list
IMPORT_ROWS = 500


def prepared(progress=print):
    """Bench database with the five-year history, the app and a logged-in ADMIN client."""
    from contextlib import ExitStack

    stack = ExitStack()
    instance = tempfile.mkdtemp(prefix="erp-bench-stock-")
    stack.callback(shutil.rmtree, instance, True)
    server = stack.enter_context(database_server())
    url = stack.enter_context(bench_database(server))
    app = make_app(url, instance)
    stack.callback(app.extensions["erp_db"].dispose)
    seed(app)
    from seed.history import Sizes, generate_history

    progress("generating five years of stock (20,000 units, 3,000 parts, 1,000,000 moves) ...")
    started = time.perf_counter()
    engine = app.extensions["erp_db"].owner_engine  # seeding and measuring the database are the owner's
    with engine.begin() as conn:
        counts = generate_history(conn, Sizes())
    generated_s = time.perf_counter() - started
    admin = app.test_client()
    assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
    with engine.connect() as conn:
        fragment = conn.execute(sa.text(
            "SELECT substr(motor_no, 6, 5) FROM inventory.vehicle_unit ORDER BY unit_id OFFSET 777 LIMIT 1")).scalar()
        pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
    return stack, SimpleNamespace(app=app, engine=engine, admin=admin,
                                  floor=floor_app(app.extensions["erp_db"].engine).test_client(),
                                  motor_fragment=fragment, counts=counts, generated_s=generated_s,
                                  pg_version=pg_version)


def cases(b) -> list[tuple[Timing, object]]:
    listed = [
        (Timing("floor", "**Floor**: bare Flask route, `SELECT 1` through the same engine", "floor"),
         lambda: b.floor.get("/floor")),
        (Timing("vehicles", "GET /inventory/vehicles (in-stock list, first page)", "screen"),
         lambda: b.admin.get("/inventory/vehicles")),
        (Timing("vehicle_search_motor", f"GET /inventory/vehicles?q={b.motor_fragment} (motor no. fragment, "
                                        "all 20,000 units searched)", "screen"),
         lambda: b.admin.get(f"/inventory/vehicles?q={b.motor_fragment}&status=")),
        (Timing("vehicle_search_vin", "GET /inventory/vehicles?q=MD9 (VIN fragment matching every unit)", "screen"),
         lambda: b.admin.get("/inventory/vehicles?q=MD9&status=")),
        (Timing("parts", "GET /inventory/parts (parts stock, first page)", "screen"),
         lambda: b.admin.get("/inventory/parts")),
        (Timing("parts_search", "GET /inventory/parts?q=brake (parts stock search)", "screen"),
         lambda: b.admin.get("/inventory/parts?q=brake")),
        (Timing("ageing", "GET /inventory/vehicles/ageing (stock ageing report)", "screen"),
         lambda: b.admin.get("/inventory/vehicles/ageing")),
    ]
    for timing, _ in listed:
        if timing.kind == "screen":
            timing.target_ms = AGEING_TARGET_MS if timing.key == "ageing" else SCREEN_TARGET_MS
            timing.ratio_target = float("inf")  # reported, not a target here
    return listed


def _sent_order(conn, qty: int) -> tuple[int, int, str, str]:
    """A sent purchase order for qty vehicles of one variant and colour; (po_id, line, variant, colour)."""
    row = conn.execute(sa.text(
        """SELECT v.variant_id, v.name AS variant, vc.colour, m.oem_id
             FROM oem.variant v JOIN oem.model m USING (model_id) JOIN oem.variant_colour vc USING (variant_id)
            ORDER BY v.variant_id LIMIT 1""")).one()
    branch_id, admin_id = conn.execute(sa.text(
        "SELECT branch_id, staff_id FROM master.staff WHERE staff_code = :c"), {"c": ADMIN_CODE}).one()
    conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
    po_id = conn.execute(sa.text(
        "INSERT INTO procurement.purchase_order (branch_id, oem_id) VALUES (:b, :o) RETURNING po_id"),
        {"b": branch_id, "o": row.oem_id}).scalar_one()
    conn.execute(sa.text(
        """INSERT INTO procurement.po_line (po_id, line_no, variant_id, colour, qty, unit_price)
           VALUES (:p, 1, :v, :c, :q, 85000)"""), {"p": po_id, "v": row.variant_id, "c": row.colour, "q": qty})
    conn.execute(sa.text(
        """UPDATE procurement.purchase_order
              SET status = 'APPROVED', approved_by = :a, approved_at = now(),
                  po_no = master.next_document_no(branch_id, 'PO', order_date)
            WHERE po_id = :p"""), {"a": admin_id, "p": po_id})
    conn.execute(sa.text("UPDATE procurement.purchase_order SET status = 'SENT', sent_at = now() WHERE po_id = :p"),
                 {"p": po_id})
    return po_id, row.variant_id, row.variant, row.colour


def _dispatch_text(rng: random.Random, run: int, variant: str, colour: str) -> str:
    from webapp.procurement.dispatch import header_line, vehicle_line

    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    lines = [header_line()]
    month = (today_ist().replace(day=1) - timedelta(days=40)).strftime("%m-%Y")
    for n in range(IMPORT_ROWS):
        tag = f"{run:02d}{n:04d}"
        lines.append(vehicle_line({
            "vin": "ZB" + "".join(rng.choice(alphabet) for _ in range(9)) + tag, "motor_no": f"ZM{tag}X",
            "batteries": f"ZP{tag}A", "charger_serial": f"ZC{tag}", "key_no": f"K{n}", "colour": colour,
            "variant": variant, "mfg_month": month}))
    return "\n".join(lines)


def time_dispatch_import(b, runs: int = 5) -> Timing:
    from webapp.procurement.services import post_goods_receipt

    timing = Timing("dispatch_import", f"Receive a {IMPORT_ROWS}-row dispatch list (parse, check, save; "
                                       "one committed transaction)", "login")
    timing.target_ms = IMPORT_TARGET_S * 1000
    rng = random.Random(5)
    for run in range(runs):
        with b.engine.begin() as conn:
            po_id, _, variant, colour = _sent_order(conn, IMPORT_ROWS)
        text = _dispatch_text(rng, run, variant, colour)
        with b.app.test_request_context():
            started = time.perf_counter_ns()
            with b.engine.begin() as conn:
                post_goods_receipt(conn, po_id=po_id, received_on=today_ist(), dispatch_ref=f"BENCH-{run}",
                                   dispatch_text=text, parts=[])
            timing.samples_ns.append(time.perf_counter_ns() - started)
        with b.engine.connect() as conn:
            received = conn.execute(sa.text("SELECT status FROM procurement.purchase_order WHERE po_id = :p"),
                                    {"p": po_id}).scalar()
        assert received == "RECEIVED", received
    return timing


def run(requests: int = 200, warmup: int = 20, progress=print) -> dict:
    stack, b = prepared(progress)
    with stack:
        listed = cases(b)
        placement, mode = pinned_rounds(b.engine, listed, requests, warmup, progress)
        progress("dispatch import: 5 lists of 500 vehicles ...")
        importing = time_dispatch_import(b)
        placement.pin("none")
        floor_ms = listed[0][0].median_ms
        results = [t.summary(floor_ms) for t, _ in listed]
        imported = importing.summary(None)
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests,
                "placement": placement.describe(mode), "postgresql": b.pg_version,
                "generated": b.counts, "generated_s": round(b.generated_s, 1), "floor_ms": round(floor_ms, 3),
                "results": results + [imported]}


def main() -> None:
    from .run_all import print_cases

    print_cases(run(), 24)


if __name__ == "__main__":
    main()
