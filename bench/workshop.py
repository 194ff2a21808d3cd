"""The service workshop on five years of data (issue 12, "Speed").

    WORKSHOP_DATABASE_URL=postgresql://... .venv/bin/python -m bench.workshop     # prints the figures
    WORKSHOP_DATABASE_URL=... .venv/bin/python -m bench.run_all --only workshop   # also writes docs/PERFORMANCE.md

``WORKSHOP_DATABASE_URL`` names a copy of a database filled by ``generate-history`` and migrated to
the current schema (generate-history makes no job cards yet). Its workshop is filled here once,
when it has no job card, with set-based SQL:

* ``service.vehicle``: one row per delivered unit, inserted as ``INSERT ... SELECT unit_id,
  branch_id`` from the deliveries; the vehicle trigger copies VIN, motor number, variant, owner,
  sale date, registration and first odometer reading, and checks them.
* Registration numbers: generate-history leaves ``sales.registration.reg_no`` empty, so each
  workshop vehicle gets a distinct Karnataka plate (an UPDATE of ``service.vehicle``, triggers on).
* History (``HISTORY_CARDS`` job cards, about five per vehicle, spread over the years since each
  sale): DELIVERED cards with their state history (open, approved, in progress, quality check,
  ready, delivered), the customer's approval, a labour line (and a part line on about one card in
  three), one battery reading of the vehicle's pack (SoH falling with age) and the gate pass. These
  rows are written with ``session_replication_role = replica``: the CHECK, NOT NULL and UNIQUE
  constraints hold, but the triggers do not run (foreign keys, numbering, audit, gate-pass rules).
  A card becomes DELIVERED only through a gate pass, and a gate pass needs the bill of the card's
  work; posting 150,000 service invoices is beyond a bench fill. So the fill does by hand what the
  triggers would: numbers from ``master.next_document_no`` in opening order (JC and GP series),
  the state history, the flags of a reading, the vehicle's last odometer reading and next service
  due. Not made: a bill for historical cards (their gate passes say paid in full with no invoice),
  stock moves for historical part lines (issued_qty is set, the ledger is untouched), audit log rows.
* Open cards (``OPEN_CARDS``, the workshop board of the ADMIN's branch today): inserted with the
  triggers on, in every board state, reached by the allowed moves (estimate sent, approval recorded,
  work started, waiting for parts, quality check, ready) in bulk UPDATEs, each card with a proposed
  labour line and a battery reading judged by its trigger. The READY ones are billed with
  ``billing.post_service_invoice`` as the bill screen does (service invoices for the PDF bench).

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

from .screens import ADMIN_CODE, BENCH_PIN, Placement, Timing, _loadavg, floor_app, login, make_app, timed

SCREEN_TARGET_MS = 30.0
PDF_TARGET_MS = 300.0
REQUESTS = 25
WARMUP = 2
HISTORY_CARDS = 150_000
OPEN_CARDS = 560          # 70 in each of the 8 open board states
ROOT = Path(__file__).resolve().parent.parent

LABOUR = [  # labour master rows the fill needs (added only when missing)
    ("PS-GEN", "Periodic service (general check-up)", "1.50", "450.00"),
    ("BAT-CHK", "Battery health check and BMS scan", "0.50", "250.00"),
    ("BRK-ADJ", "Brake inspection and adjustment", "0.75", "300.00"),
    ("MTR-DIAG", "Hub motor and controller diagnosis", "1.00", "500.00"),
    ("WASH", "Wash and polish", "0.50", "150.00"),
]

_VEHICLES = """
INSERT INTO service.vehicle (unit_id, branch_id)
SELECT d.unit_id, b.branch_id
  FROM sales.delivery d JOIN sales.booking b USING (booking_id)
 WHERE NOT EXISTS (SELECT 1 FROM service.vehicle v WHERE v.unit_id = d.unit_id)
 ORDER BY d.delivered_on, d.delivery_id
"""

_PLATES = """
UPDATE service.vehicle v
   SET registration_no = 'KA' || lpad((1 + v.vehicle_id % 50)::text, 2, '0')
                         || chr(65 + (v.vehicle_id / 10000) % 26) || chr(65 + (v.vehicle_id / 397) % 26)
                         || lpad((v.vehicle_id % 10000)::text, 4, '0')
 WHERE v.registration_no IS NULL
   AND NOT EXISTS (SELECT 1 FROM service.vehicle x WHERE x.registration_no IS NOT NULL)
"""

# The plan of the historical cards: the k-th visit of a vehicle every `step` days after its sale
# (step chosen so the whole fleet makes about :cards visits), until three weeks ago.
_PLAN = """
CREATE TEMP TABLE ws_plan ON COMMIT DROP AS
WITH v AS (
    SELECT v.vehicle_id, v.branch_id, v.customer_id, v.unit_id, v.sale_date, c.name AS customer_name,
           greatest((now() AT TIME ZONE 'Asia/Kolkata')::date - 21 - v.sale_date, 0) AS age,
           12 + v.vehicle_id % 31 AS km_per_day
      FROM service.vehicle v JOIN master.customer c USING (customer_id)
), step AS (SELECT sum(age)::numeric / (:cards + count(*) / 2) AS d FROM v)  -- floor() below drops half a visit a vehicle
SELECT v.*, k, (k * step.d)::integer AS day_no,
       ((v.sale_date + (k * step.d)::integer)::timestamp + make_interval(hours => 9 + (v.vehicle_id + k) % 8,
                                                                         mins => (v.vehicle_id * 7 + k * 13) % 60))
           AT TIME ZONE 'Asia/Kolkata' AS opened_at,
       ((k * step.d)::integer * v.km_per_day + (v.vehicle_id * k) % 97)::integer AS odometer_km,
       CASE WHEN k % 7 = 3 THEN 'RUNNING_REPAIR' WHEN k % 5 = 2 THEN 'BATTERY_CHECK' ELSE 'PAID_SERVICE' END AS service_type,
       gen_random_uuid() AS card_key
  FROM v, step, generate_series(1, floor(v.age / step.d)::integer) AS k
 WHERE step.d > 0
"""

_HISTORY = [
    # Job cards, numbered in opening order as the trigger would; DELIVERED 7 hours after opening.
    """INSERT INTO service.job_card (branch_id, job_card_no, opened_at, vehicle_id, customer_id, service_type, state,
                                     state_changed_at, odometer_km, previous_odometer_km, complaints, promised_at,
                                     advisor_id, closed_at, idempotency_key)
       SELECT p.branch_id, master.next_document_no(p.branch_id, 'JC', (p.opened_at AT TIME ZONE 'Asia/Kolkata')::date),
              p.opened_at, p.vehicle_id, p.customer_id, p.service_type, 'DELIVERED', p.opened_at + interval '7 hours',
              p.odometer_km, lag(p.odometer_km) OVER (PARTITION BY p.vehicle_id ORDER BY p.k),
              CASE p.service_type WHEN 'RUNNING_REPAIR' THEN 'Brake noise, range dropped a little'
                                  WHEN 'BATTERY_CHECK' THEN 'Battery check, charge not holding overnight'
                                  ELSE 'Periodic service due' END,
              p.opened_at + interval '8 hours', a.staff_id, p.opened_at + interval '7 hours', p.card_key
         FROM ws_plan p
         LEFT JOIN LATERAL (SELECT staff_id FROM master.staff s WHERE s.branch_id = p.branch_id
                             AND s.designation IN ('SERVICE_ADVISOR', 'MANAGER', 'ADMIN') ORDER BY s.staff_id LIMIT 1) a ON true
        ORDER BY p.opened_at, p.vehicle_id""",
    """CREATE TEMP TABLE ws_card ON COMMIT DROP AS
       SELECT j.job_card_id, p.*
         FROM service.job_card j JOIN ws_plan p ON p.card_key = j.idempotency_key""",
    # Every state it went through.
    """INSERT INTO service.job_state_change (job_card_id, from_state, to_state, changed_at, changed_by)
       SELECT c.job_card_id, s.from_state, s.to_state, c.opened_at + s.after, NULL
         FROM ws_card c, (VALUES (NULL, 'OPEN', interval '0'), ('OPEN', 'APPROVED', interval '30 minutes'),
                                 ('APPROVED', 'IN_PROGRESS', interval '1 hour'), ('IN_PROGRESS', 'QC', interval '5 hours'),
                                 ('QC', 'READY', interval '6 hours'), ('READY', 'DELIVERED', interval '7 hours'))
                         AS s (from_state, to_state, after)
        ORDER BY c.job_card_id, s.after""",
    # The customer's approval, and the work under it.
    """INSERT INTO service.job_approval (job_card_id, approved_at, approved_by_name, mode, amount, recorded_by, idempotency_key)
       SELECT c.job_card_id, c.opened_at + interval '30 minutes', left(c.customer_name, 120),
              CASE WHEN c.k % 3 = 0 THEN 'PHONE' ELSE 'IN_PERSON' END, round(lo.rate * 1.18, 2), NULL, gen_random_uuid()
         FROM ws_card c JOIN master.labour_operation lo
           ON lo.operation_code = CASE c.service_type WHEN 'BATTERY_CHECK' THEN 'BAT-CHK'
                                                      WHEN 'RUNNING_REPAIR' THEN 'BRK-ADJ' ELSE 'PS-GEN' END
        ORDER BY c.job_card_id""",
    """INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst, coverage,
                                     technician_id, status, approval_id, added_by, added_at, done_by, done_at)
       SELECT c.job_card_id, lo.operation_code, 1, lo.rate, false, 'CUSTOMER', t.staff_id, 'DONE', a.approval_id,
              NULL, c.opened_at + interval '15 minutes', t.staff_id, c.opened_at + interval '5 hours'
         FROM ws_card c
         JOIN service.job_approval a ON a.job_card_id = c.job_card_id
         JOIN master.labour_operation lo
           ON lo.operation_code = CASE c.service_type WHEN 'BATTERY_CHECK' THEN 'BAT-CHK'
                                                      WHEN 'RUNNING_REPAIR' THEN 'BRK-ADJ' ELSE 'PS-GEN' END
         LEFT JOIN LATERAL (SELECT staff_id FROM master.staff s WHERE s.branch_id = c.branch_id
                             AND s.designation = 'TECHNICIAN' ORDER BY s.staff_id
                            OFFSET c.vehicle_id % greatest((SELECT count(*) FROM master.staff s2 WHERE s2.branch_id = c.branch_id
                                                            AND s2.designation = 'TECHNICIAN'), 1) LIMIT 1) t ON true
        ORDER BY c.job_card_id""",
    # A part on about one card in three (issued_qty set; no stock move: see the module's docstring).
    """INSERT INTO service.job_line (job_card_id, part_id, qty, unit_price, price_includes_gst, coverage,
                                     technician_id, status, approval_id, added_by, added_at, done_by, done_at, issued_qty)
       SELECT c.job_card_id, p.part_id, 1, p.mrp, true, 'CUSTOMER', l.technician_id, 'DONE', l.approval_id,
              NULL, c.opened_at + interval '20 minutes', l.technician_id, c.opened_at + interval '5 hours', 1
         FROM ws_card c
         JOIN service.job_line l ON l.job_card_id = c.job_card_id
         JOIN LATERAL (SELECT part_id, mrp FROM master.part WHERE unit = 'NOS' AND is_active ORDER BY part_id
                       OFFSET (c.job_card_id * 17) % 200 LIMIT 1) p ON true
        WHERE c.job_card_id % 3 = 0
        ORDER BY c.job_card_id""",
    # One reading of the vehicle's pack on the day: SoH falls about 2.5 points a year, with noise.
    """INSERT INTO service.battery_reading (job_card_id, pack_id, read_at, soh_pct, soc_pct, cycle_count, cell_v_max,
                                            cell_v_min, pack_temp_max_c, insulation_mohm, fault_codes, charger_ok, flags,
                                            recorded_by)
       SELECT r.job_card_id, r.pack_id, r.read_at, r.soh, r.soc, r.cycles, r.vmax, r.vmin, r.temp, 50.000, '{}', true,
              array_remove(ARRAY[CASE WHEN (r.vmax - r.vmin) * 1000 > 100 THEN 'CELL_DELTA' END,
                                 CASE WHEN r.soh < coalesce(r.floor_pct, 70) THEN 'SOH' END], NULL),
              NULL
         FROM (SELECT c.job_card_id, f.pack_id, c.opened_at + interval '1 hour' AS read_at,
                      greatest(100 - c.day_no / 365.0 * 2.5 - (c.job_card_id % 30) / 10.0, 40)::numeric(5,2) AS soh,
                      (35 + c.job_card_id % 60)::numeric(5,2) AS soc, least(c.day_no / 2, 20000) AS cycles,
                      4.100::numeric(5,3) AS vmax,
                      (4.100 - (20 + (c.job_card_id % 97) + c.day_no / 40) / 1000.0)::numeric(5,3) AS vmin,
                      (30 + c.job_card_id % 15)::numeric(4,1) AS temp, va.battery_min_soh_pct AS floor_pct
                 FROM ws_card c
                 JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id
                 JOIN oem.variant va ON va.variant_id = v.variant_id
                 JOIN LATERAL (SELECT pack_id FROM inventory.battery_fitment bf WHERE bf.unit_id = c.unit_id
                                ORDER BY bf.fitted_on DESC LIMIT 1) f ON true) r
        ORDER BY r.job_card_id""",
    # The gate pass that delivered it, numbered in order.
    """INSERT INTO service.gate_pass (branch_id, job_card_id, gate_pass_no, issued_at, issued_by, invoice_id, paid_in_full,
                                      received_by_name, idempotency_key)
       SELECT c.branch_id, c.job_card_id,
              master.next_document_no(c.branch_id, 'GP', ((c.opened_at + interval '7 hours') AT TIME ZONE 'Asia/Kolkata')::date),
              c.opened_at + interval '7 hours', NULL, NULL, true, left(c.customer_name, 100), gen_random_uuid()
         FROM ws_card c ORDER BY c.opened_at, c.job_card_id""",
    # The vehicle's last reading and next service due, as the card triggers keep them.
    """UPDATE service.vehicle v
          SET last_odometer_km = l.odometer_km, last_odometer_on = (l.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
              last_odometer_job_card_id = l.job_card_id
         FROM (SELECT DISTINCT ON (vehicle_id) vehicle_id, job_card_id, odometer_km, opened_at
                 FROM ws_card ORDER BY vehicle_id, opened_at DESC) l
        WHERE v.vehicle_id = l.vehicle_id""",
    """UPDATE service.vehicle v
          SET next_service_due_on = n.due_on, next_service_due_km = n.due_km, next_free_service_no = n.free_service_no
         FROM (SELECT DISTINCT ON (vehicle_id) vehicle_id, opened_at, odometer_km FROM ws_card
                ORDER BY vehicle_id, opened_at DESC) l,
              LATERAL service.next_service_due(l.vehicle_id, ((l.opened_at + interval '7 hours') AT TIME ZONE 'Asia/Kolkata')::date,
                                               l.odometer_km) n
        WHERE v.vehicle_id = l.vehicle_id""",
]

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
    """The workshop's five years, once (a database with job cards is used as it is)."""
    took = {}
    with engine.connect() as conn:
        branch_id, admin_id = _branch_and_admin(conn)
        has_history, has_open = conn.execute(sa.text(
            """SELECT EXISTS (SELECT 1 FROM service.job_card WHERE state = 'DELIVERED'),
                      EXISTS (SELECT 1 FROM service.job_card WHERE state NOT IN ('DELIVERED', 'CANCELLED'))""")).one()
    with engine.begin() as conn:
        # generate-history registers no plate (sales.registration.reg_no is empty): the look-up by a
        # registration fragment needs them, so each vehicle gets a distinct Karnataka plate (the bench branch's).
        plates = conn.execute(sa.text(_PLATES)).rowcount
    if plates:
        with engine.connect() as conn:
            conn.execute(sa.text("COMMIT"))
            conn.execute(sa.text("ANALYZE service.vehicle"))
        progress(f"workshop: {plates:,} registration numbers given")
    if has_history and has_open:
        progress("workshop: job cards already there, kept")
        return took
    t = time.monotonic()
    with engine.begin() as conn:
        for code, name, hours, rate in LABOUR:
            conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                    VALUES (:c, :n, :h, :r) ON CONFLICT DO NOTHING"""),
                         {"c": code, "n": name, "h": hours, "r": rate})
        made = conn.execute(sa.text(_VEHICLES)).rowcount
    took["vehicles_s"] = round(time.monotonic() - t, 1)
    progress(f"workshop: {made:,} vehicles in {took['vehicles_s']} s (vehicle trigger on)")
    t = time.monotonic()
    if not has_history:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(_PLAN), {"cards": HISTORY_CARDS})
            for i, sql in enumerate(_HISTORY):
                n = conn.execute(sa.text(sql)).rowcount
                progress(f"  history step {i}: {n:,} rows ({time.monotonic() - t:.0f} s)")
        took["history_s"] = round(time.monotonic() - t, 1)
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


def prepared(progress=print):
    url = os.environ.get("WORKSHOP_DATABASE_URL")
    if not url:
        raise SystemExit("WORKSHOP_DATABASE_URL: a copy of a five-year database (see the module's docstring)")
    stack = ExitStack()
    instance = tempfile.mkdtemp(prefix="erp-bench-workshop-")
    stack.callback(shutil.rmtree, instance, True)
    from webapp import migrations

    app = make_app(url, instance)
    stack.callback(app.extensions["erp_db"].dispose)
    engine = app.extensions["erp_db"].owner_engine
    migrations.apply_pending(engine)
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
        placement = Placement(engine)
        mode = "same" if placement.pin("same") else "none"
        progress(f"warm-up: {warmup} rounds ...")
        for _ in range(warmup):
            for _, call in listed:
                timed(call)
            timed(first_print)
        progress(f"timing: {requests} requests each, interleaved ({placement.describe(mode)}) ...")
        load_before = _loadavg()
        started = time.monotonic()
        for i in range(requests):
            k = i % len(listed)
            for timing, call in listed[k:] + listed[:k]:
                timing.samples_ns.append(timed(call))
            if firsts:
                first.samples_ns.append(timed(first_print))
        seconds = time.monotonic() - started
        load_after = _loadavg()
        placement.pin("none")
        floor_ms = listed[0][0].median_ms
        rows = []
        for timing in [t for t, _ in listed[1:]] + ([first] if first.samples_ns else []):
            rows.append({"key": timing.key, "label": timing.label, "median_ms": round(timing.median_ms, 2),
                         "p95_ms": round(timing.p95_ms, 2), "n": len(timing.samples_ns),
                         "ratio": round(timing.median_ms / floor_ms, 1), "target_ms": timing.target_ms,
                         "met": timing.median_ms < timing.target_ms})
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "warmup": warmup,
                "placement": placement.describe(mode), "postgresql": pg_version, "counts": counts(engine),
                "filled": filled, "seconds": round(seconds, 1), "floor_ms": round(floor_ms, 3),
                "floor_p95_ms": round(listed[0][0].p95_ms, 3),
                "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
                "results": rows}


def workshop_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:workshop)."""
    g = r["counts"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, on `generate-history`'s five years with the workshop "
        f"filled by bench/workshop.py: {g['vehicles']:,} workshop vehicles, {g['cards']:,} job cards since "
        f"{g['first_card']:%d-%m-%Y} ({g['open_cards']:,} open on the board), {g['lines']:,} job lines, "
        f"{g['readings']:,} battery readings, {g['state_changes']:,} state changes, {g['gate_passes']:,} gate passes, "
        f"{g['service_invoices']:,} service invoices. Logged in as the ADMIN of the branch; {r['requests']} timed "
        f"requests each after {r['warmup']} warm-up rounds, interleaved with the floor "
        f"({r['floor_ms']:.2f} ms median); {r['placement']}; load average (1 min) before/after "
        f"{r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}. The historical cards are written with "
        "the triggers off (numbers, state history, readings' flags and gate passes made by the fill; no bill, "
        "stock move or audit row for them): see bench/workshop.py.",
        "",
        "| Case | median ms | p95 ms | ratio to floor | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in r["results"]:
        lines.append(f"| {row['label']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | {row['ratio']:.1f}× | "
                     f"< {row['target_ms']:g} ms | {'yes' if row['met'] else '**no**'} |")
    return "\n".join(lines)


def print_workshop(r: dict) -> None:
    print(f"\n{r['counts']}\nfloor {r['floor_ms']:.2f} ms; {r['seconds']} s")
    for row in r["results"]:
        print(f"{row['median_ms']:>9.2f} {row['p95_ms']:>9.2f} {row['ratio']:>7.1f}x  "
              f"{'yes' if row['met'] else 'NO ':<3} n={row['n']:<3} {row['label']}")


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
