"""The service workshop on five years of data (issue 12, "Speed").

    WORKSHOP_DATABASE_URL=postgresql://... .venv/bin/python -m bench.workshop     # prints the figures
    WORKSHOP_DATABASE_URL=... .venv/bin/python -m bench.run_all --only workshop   # also writes docs/PERFORMANCE.md

``WORKSHOP_DATABASE_URL`` names a copy of a database filled by ``generate-history`` and migrated to
the current schema. generate-history makes the workshop's five years (seed/workshop_history.py:
150,000 delivered job cards at the five-year size, with their readings, part issues matched to the
stock ledger's job issues, service invoices and job sheets, receipts and gate passes). A database
generated before it did gets the same history here, once, by the same function
(``generate_workshop``, then the balances rebuilt and ``check_workshop``).

The open cards of today's board are the bench's own: ``OPEN_CARDS`` in the ADMIN's branch (70 in
each of the 8 open states: a busy day, more than a workshop holds, to load the board), inserted with
the triggers on and moved through the allowed states (estimate sent, approval recorded, work
started, waiting for parts, quality check, ready) in bulk UPDATEs, each with a proposed labour line
and a battery reading judged by its trigger. The READY ones are billed with
``billing.post_service_invoice`` as the bill screen does (service invoices for the PDF bench).
generate-history makes no open card: a history is what happened; which cards are open "today"
depends on when it is read.

Then, through the test client logged in as the ADMIN of the branch (bench/crawl.py's way: 25
requests each after warm-up, interleaved round-robin with the ``SELECT 1`` floor): the board, the
vehicle page of the vehicle with most cards (its SoH chart), the arrival look-up by a registration
fragment and by the last 6 of a VIN, and a service invoice PDF (kept: read back; first print: each
request a bill never printed before).
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from .screens import (
    ADMIN_CODE,
    BENCH_PIN,
    Timing,
    floor_app,
    login,
    make_app,
    print_target_rows,
    target_run,
    target_table,
    timed,
)

SCREEN_TARGET_MS = 30.0
PDF_TARGET_MS = 300.0
REQUESTS = 25
WARMUP = 2
HISTORY_CARDS = 150_000
OPEN_CARDS = 560          # 70 in each of the 8 open board states
ROOT = Path(__file__).resolve().parent.parent

# Today's open cards of the ADMIN's branch, through the triggers: one per vehicle, on the vehicles
# with the latest visits. `grp` 0..7 is the board state each ends in.
_OPEN = [
    """CREATE TEMP TABLE ws_open ON COMMIT DROP AS
       SELECT v.vehicle_id, v.last_odometer_km, row_number() OVER (ORDER BY v.vehicle_id) % 8 AS grp,
              gen_random_uuid() AS card_key, row_number() OVER (ORDER BY v.vehicle_id) AS n
         FROM service.vehicle v
        WHERE v.branch_id = :branch AND v.last_odometer_km IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM service.job_card j WHERE j.vehicle_id = v.vehicle_id
                           AND j.state NOT IN ('DELIVERED', 'CANCELLED'))
        ORDER BY v.vehicle_id % 97, v.vehicle_id LIMIT :n""",
    """INSERT INTO service.job_card (branch_id, opened_at, vehicle_id, service_type, odometer_km, complaints,
                                     promised_at, idempotency_key)
       SELECT :branch, now() - make_interval(mins => (o.n * 37 % 2880)::integer), o.vehicle_id, 'PAID_SERVICE',
              o.last_odometer_km + 250 + o.n % 400, 'Periodic service; check the brakes',
              now() - make_interval(mins => (o.n * 37 % 2880)::integer) + make_interval(hours => (4 + o.n % 24)::integer), o.card_key
         FROM ws_open o ORDER BY o.n""",
    """CREATE TEMP TABLE ws_open_card ON COMMIT DROP AS
       SELECT j.job_card_id, j.opened_at, o.* FROM service.job_card j JOIN ws_open o ON o.card_key = j.idempotency_key""",
    """INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst)
       SELECT c.job_card_id, 'PS-GEN', 1, lo.rate, false
         FROM ws_open_card c, master.labour_operation lo WHERE lo.operation_code = 'PS-GEN' ORDER BY c.job_card_id""",
    """INSERT INTO service.battery_reading (job_card_id, pack_id, read_at, soh_pct, soc_pct, cycle_count, cell_v_max,
                                            cell_v_min, pack_temp_max_c, insulation_mohm, charger_ok)
       SELECT c.job_card_id, p.pack_id, c.opened_at + interval '10 minutes', (88 - c.n % 25)::numeric(5,2),
              (40 + c.n % 50)::numeric(5,2), 300 + c.n % 900, 4.100, (4.100 - (30 + c.n % 90) / 1000.0)::numeric(5,3),
              (32 + c.n % 25)::numeric(4,1), 45.000, c.n % 23 <> 0
         FROM ws_open_card c
         JOIN LATERAL (SELECT pack_id FROM service.vehicle_pack vp WHERE vp.vehicle_id = c.vehicle_id
                        AND vp.removed_on IS NULL ORDER BY vp.fitted_on DESC LIMIT 1) p ON true
        ORDER BY c.job_card_id""",
    "UPDATE service.job_card SET state = 'ESTIMATE_SENT' WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp = 1)",
    """INSERT INTO service.job_approval (job_card_id, approved_by_name, mode, amount, idempotency_key)
       SELECT c.job_card_id, 'Owner at the counter', 'IN_PERSON', 531.00, gen_random_uuid()
         FROM ws_open_card c WHERE c.grp >= 2 ORDER BY c.job_card_id""",
    """UPDATE service.job_line l SET technician_id = t.staff_id
         FROM ws_open_card c,
              LATERAL (SELECT staff_id FROM master.staff s WHERE s.branch_id = :branch AND s.designation = 'TECHNICIAN'
                        AND s.is_active ORDER BY s.staff_id LIMIT 1 OFFSET c.n % 4) t
        WHERE l.job_card_id = c.job_card_id AND c.grp >= 3""",
    "UPDATE service.job_card SET state = 'IN_PROGRESS' WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp >= 3)",
    "UPDATE service.job_card SET state = 'WAITING_PARTS' WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp = 4)",
    """UPDATE service.job_line SET status = 'DONE', done_by = technician_id, done_at = now()
        WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp >= 5)""",
    "UPDATE service.job_card SET state = 'QC' WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp >= 5)",
    "UPDATE service.job_card SET state = 'READY' WHERE job_card_id IN (SELECT job_card_id FROM ws_open_card WHERE grp >= 6)",
]


def _branch_and_admin(conn):
    return conn.execute(sa.text("SELECT branch_id, staff_id FROM master.staff WHERE staff_code = :c"),
                        {"c": ADMIN_CODE}).one()


def fill(app, engine, progress=print) -> dict:
    """The workshop's five years if generate-history did not make them, and today's open cards, once
    (a database with both is used as it is)."""
    took = {}
    with engine.connect() as conn:
        branch_id, admin_id = _branch_and_admin(conn)
        has_history, has_open = conn.execute(sa.text(
            """SELECT EXISTS (SELECT 1 FROM service.job_card WHERE state = 'DELIVERED'),
                      EXISTS (SELECT 1 FROM service.job_card WHERE state NOT IN ('DELIVERED', 'CANCELLED'))""")).one()
    if has_history and has_open:
        progress("workshop: job cards already there, kept")
        return took
    t = time.monotonic()
    if not has_history:  # a database generated before generate-history made the workshop
        from seed.workshop_history import check_workshop, generate_workshop
        from webapp.formatting import today_ist

        with engine.begin() as conn:
            made = generate_workshop(conn, HISTORY_CARDS, today_ist(), progress)
            conn.execute(sa.text("SELECT billing.rebuild_invoice_balance()"))
            check_workshop(conn)
        took["history_s"] = round(time.monotonic() - t, 1)
        progress(f"workshop: history {dict(made)} in {took['history_s']} s")
    t = time.monotonic()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
        for sql in _OPEN:
            conn.execute(sa.text(sql), {"branch": branch_id, "n": OPEN_CARDS})
    took["open_s"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    took["invoices"] = bill_ready(app, engine, branch_id, admin_id)
    took["bill_s"] = round(time.monotonic() - t, 1)
    with engine.connect() as conn:
        conn.execute(sa.text("COMMIT"))
        conn.execute(sa.text("ANALYZE"))
    progress(f"workshop: filled {took}")
    return took


def bill_ready(app, engine, branch_id: int, admin_id: int) -> int:
    """Bill every READY card of the branch as the bill screen does: its billable lines on a service invoice."""
    from webapp.billing import api as billing
    from webapp.formatting import today_ist
    from webapp.service.bill import _vehicle_text, billable
    from webapp.service.queries import get_job_card

    with engine.connect() as conn:
        cards = conn.execute(sa.text("""SELECT job_card_id FROM service.job_card WHERE branch_id = :b AND state = 'READY'
                                         AND invoice_id IS NULL ORDER BY job_card_id"""), {"b": branch_id}).scalars().all()
    made = 0
    with app.test_request_context():
        for job_card_id in cards:
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(admin_id)})
                card = get_job_card(conn, job_card_id)
                lines = [{k: v for k, v in ln.items() if k != "job_coverage"} for ln in billable(conn, job_card_id)]
                invoice_id = billing.post_service_invoice(
                    conn, branch_id=card["branch_id"], customer_id=card["customer_id"], invoice_date=today_ist(),
                    lines=lines, idempotency_key=str(uuid.uuid4()), vehicle=_vehicle_text(card),
                    reference=card["job_card_no"])
                conn.execute(sa.text("UPDATE service.job_card SET invoice_id = :i WHERE job_card_id = :j"),
                             {"i": invoice_id, "j": job_card_id})
                made += 1
    return made


def counts(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM service.vehicle) AS vehicles, (SELECT count(*) FROM service.job_card) AS cards,
                      (SELECT count(*) FROM service.job_card WHERE state NOT IN ('DELIVERED', 'CANCELLED')) AS open_cards,
                      (SELECT count(*) FROM service.job_line) AS lines,
                      (SELECT count(*) FROM service.battery_reading) AS readings,
                      (SELECT count(*) FROM service.job_state_change) AS state_changes,
                      (SELECT count(*) FROM service.gate_pass) AS gate_passes,
                      (SELECT count(*) FROM billing.invoice WHERE kind IN ('SERVICE', 'JOB_SHEET')) AS service_invoices,
                      (SELECT min(opened_at)::date FROM service.job_card) AS first_card""")).mappings().one())


def cases(engine, branch_id: int) -> dict:
    """The records to time: the vehicle with most cards, a registration fragment, a VIN's last 6, the bills."""
    with engine.connect() as conn:
        vehicle = conn.execute(sa.text(
            """SELECT j.vehicle_id, count(*) FROM service.job_card j WHERE j.branch_id = :b
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""), {"b": branch_id}).one()
        reg = conn.execute(sa.text(
            """SELECT registration_no FROM service.vehicle WHERE registration_no IS NOT NULL
                ORDER BY vehicle_id OFFSET 4321 LIMIT 1""")).scalar()
        vin = conn.execute(sa.text("SELECT vin FROM service.vehicle ORDER BY vehicle_id OFFSET 9876 LIMIT 1")).scalar()
        invoices = conn.execute(sa.text(
            """SELECT i.invoice_id FROM billing.invoice i WHERE i.branch_id = :b AND i.kind = 'SERVICE'
                 AND NOT EXISTS (SELECT 1 FROM platform.printed_document d WHERE d.document_kind = 'invoice'
                                  AND d.document_id = i.invoice_id)
               ORDER BY i.invoice_id"""), {"b": branch_id}).scalars().all()
    # A fragment as typed at the counter: the plate's last four digits with the letters before them.
    fragment = reg[-6:] if reg else None
    return {"vehicle_id": vehicle[0], "vehicle_cards": vehicle[1], "registration": reg, "fragment": fragment,
            "vin": vin, "vin6": vin[-6:] if vin else None, "invoices": invoices}


def prepared(progress=print, variable: str = "WORKSHOP_DATABASE_URL"):
    url = os.environ.get(variable)
    if not url:
        raise SystemExit(f"{variable}: a copy of a five-year database (see the module's docstring)")
    stack = ExitStack()
    instance = tempfile.mkdtemp(prefix="erp-bench-workshop-")
    stack.callback(shutil.rmtree, instance, True)
    from webapp import migrations

    app = make_app(url, instance)
    stack.callback(app.extensions["erp_db"].dispose)
    database = app.extensions["erp_db"]
    engine = database.owner_engine
    if migrations.apply_pending(engine):   # what the new files made is granted to the app's role, as init-db does
        migrations.prepare_app_role(engine, database.app_role, database.app_password)
    return stack, app, engine


def run(requests: int = REQUESTS, warmup: int = WARMUP, progress=print) -> dict:
    stack, app, engine = prepared(progress)
    with stack:
        filled = fill(app, engine, progress)
        with engine.connect() as conn:
            branch_id, _ = _branch_and_admin(conn)
            pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        c = cases(engine, branch_id)
        admin = app.test_client()
        assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
        floor = app.extensions["erp_db"].engine
        floor_client = floor_app(floor).test_client()
        fresh = list(c["invoices"])
        kept_invoice = fresh.pop(0)
        firsts = fresh[: requests + warmup]

        def first_print():
            return admin.get(f"/billing/invoices/{firsts.pop(0)}/pdf") if firsts else None

        screens = [
            ("board", "Workshop board `/service/board`", "/service/board", SCREEN_TARGET_MS),
            ("vehicle", f"Vehicle page with its SoH chart `/service/vehicles/{c['vehicle_id']}` "
                        f"({c['vehicle_cards']} job cards)", f"/service/vehicles/{c['vehicle_id']}", SCREEN_TARGET_MS),
            ("lookup_reg", f"Arrival look-up by registration fragment `/service/?{urlencode({'q': c['fragment']})}`",
             f"/service/?{urlencode({'q': c['fragment']})}", SCREEN_TARGET_MS),
            ("lookup_vin6", f"Arrival look-up by the last 6 of a VIN `/service/?{urlencode({'q': c['vin6']})}`",
             f"/service/?{urlencode({'q': c['vin6']})}", SCREEN_TARGET_MS),
            ("pdf_kept", f"Service invoice PDF, kept (reprint) `/billing/invoices/{kept_invoice}/pdf`",
             f"/billing/invoices/{kept_invoice}/pdf", PDF_TARGET_MS),
        ]
        for key, _, path, _ in screens:
            response = admin.get(path)
            assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
        listed = [(Timing("floor", "**Floor**: bare Flask route, `SELECT 1`", "floor"), lambda: floor_client.get("/floor"))]
        for key, label, path, target in screens:
            timing = Timing(key, label, "screen")
            timing.target_ms = target
            listed.append((timing, (lambda p: lambda: admin.get(p))(path)))
        first = Timing("pdf_first", "Service invoice PDF, first print (a bill never printed before, each request)", "screen")
        first.target_ms = PDF_TARGET_MS

        def first_print_once(warming_up: bool) -> None:
            if warming_up:
                timed(first_print)
            elif firsts:
                first.samples_ns.append(timed(first_print))

        facts = target_run(engine, listed, requests, warmup, progress, first_print_once, extra=[first])
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "warmup": warmup,
                "postgresql": pg_version, "counts": counts(engine), "filled": filled, **facts}


def workshop_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:workshop)."""
    g = r["counts"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, on `generate-history`'s five years "
        f"with its workshop: {g['vehicles']:,} workshop vehicles, {g['cards']:,} job cards since "
        f"{g['first_card']:%d-%m-%Y} ({g['open_cards']:,} open on the board), {g['lines']:,} job lines, "
        f"{g['readings']:,} battery readings, {g['state_changes']:,} state changes, {g['gate_passes']:,} gate passes, "
        f"{g['service_invoices']:,} service invoices. Logged in as the ADMIN of the branch; {r['requests']} timed "
        f"requests each after {r['warmup']} warm-up rounds, interleaved with the floor "
        f"({r['floor_ms']:.2f} ms median); {r['placement']}; load average (1 min) before/after "
        f"{r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}. The delivered cards are generate-history's "
        "(seed/workshop_history.py: bills, receipts, gate passes, part issues matched to the ledger's job issues); "
        "the open cards of the board are the bench's own, through the triggers: see bench/workshop.py.",
        "",
        *target_table(r["results"]),
    ]
    return "\n".join(lines)


def print_workshop(r: dict) -> None:
    print(f"\n{r['counts']}\nfloor {r['floor_ms']:.2f} ms; {r['seconds']} s")
    print_target_rows(r["results"])


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    result = run(args.requests)
    print_workshop(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
