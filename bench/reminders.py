"""A reminder run over 30,000 vehicles (issue 13, "Speed": under 10 s).

    .venv/bin/python -m bench.reminders                      # a scratch database on the tests' server
    REMINDERS_DATABASE_URL=postgresql://... .venv/bin/python -m bench.reminders   # a copy of a five-year database

With no REMINDERS_DATABASE_URL, a scratch database is migrated on the tests' server (TEST_DATABASE_URL, else
the embedded one under instance/test-pgdata, as tools/schema_snapshot.py does) and filled set-based: two
branches, 30,000 customers (a birthday on one in three), 30,000 workshop vehicles of three models sold over
five years (each with a last reading and a next service due spread over the coming months), a free-service
schedule per model, a recall by manufacture months, and one rule per event. With REMINDERS_DATABASE_URL (a
copy: the run writes reminders and outbox rows), its own data is used and only the rules are added.

With REMINDERS_DATABASE_URL and REMINDERS_ROLLBACK=1, the database is left as it was: everything happens in
one transaction rolled back at the end (the migrations it lacks, the function files, the rules and both runs; the
workshop vehicles are generate-history's, seed/workshop_history.py); for a
five-year database of generate-history that no one else is using at the time.

Then communication.run_reminders is timed for a day (the first run makes and queues; the second makes
nothing: idempotent)."""
from __future__ import annotations

import os
import time
from contextlib import ExitStack
from datetime import date, datetime

import sqlalchemy as sa

from tools.schema_snapshot import snapshot_server
from webapp import migrations
from webapp.db import scratch_database, sqlalchemy_url
from webapp.formatting import IST, today_ist
from webapp.validators import gstin_check_character

VEHICLES = 30_000
TARGET_S = 10.0

_FILL = [
    """INSERT INTO master.branch (branch_code, legal_name, gstin, address_line1, city, pincode, phone, invoice_prefix)
       VALUES ('BENCH1', 'Bench Motors Pvt Ltd', :branch_gstin, '1 MG Road', 'Bengaluru', '560001', '080-41234567',
               'BN1')""",
    """INSERT INTO oem.oem (brand, legal_name, gstin, address)
       VALUES ('Bench EV', 'Bench EV Ltd', :oem_gstin, 'Hosur Road, Bengaluru')""",
    """INSERT INTO oem.model (oem_id, name, segment, is_low_speed)
       SELECT oem_id, 'Model ' || n, 'E2W', false FROM oem.oem, generate_series(1, 3) n""",
    """INSERT INTO oem.variant (model_id, name, hsn_code, battery_chemistry, battery_kwh, vehicle_warranty_years,
                                battery_warranty_years, battery_warranty_km)
       SELECT model_id, 'Std', '871160', 'LFP', 3.0, 3, 5, 60000 FROM oem.model""",
    """INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
       SELECT model_id, s, s * 3, s * 2500 FROM oem.model, generate_series(1, 3) s""",
    """INSERT INTO master.customer (branch_id, name, mobile, city, state_code, date_of_birth)
       SELECT b.branch_id, 'Customer ' || n, (9000000000 + n)::text, 'Bengaluru', '29',
              CASE WHEN n % 3 = 0 THEN DATE '1970-01-01' + (n * 37) % 12000 END
         FROM master.branch b, generate_series(1, :n) n WHERE b.branch_code = 'BENCH1'""",
    """INSERT INTO service.vehicle (vin, motor_no, variant_id, customer_id, sale_date, mfg_month, branch_id,
                                    last_odometer_km, last_odometer_on, next_service_due_on, next_service_due_km)
       SELECT 'MD9BENCH' || lpad(c.customer_id::text, 9, '0'), 'BNCM' || lpad(c.customer_id::text, 9, '0'),
              v.variant_id, c.customer_id, s.sold, date_trunc('month', s.sold - 45)::date, c.branch_id,
              ((:today - s.sold) * (10 + c.customer_id % 30))::integer, :today - c.customer_id % 60,
              :today + c.customer_id % 180, ((:today - s.sold) * (10 + c.customer_id % 30))::integer + 5000
         FROM master.customer c
         CROSS JOIN LATERAL (SELECT :today - 1 - (c.customer_id * 7) % 1800 AS sold) s
         JOIN LATERAL (SELECT variant_id FROM oem.variant ORDER BY variant_id OFFSET c.customer_id % 3 LIMIT 1) v ON true""",
    """INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, model_id, mfg_from, mfg_to)
       SELECT oem_id, 'BENCH-RC-1', 'Bench brake hose check', 'RECALL', :today - 10, 'MFG_RANGE', min(m.model_id),
              date_trunc('month', :today - 400)::date, date_trunc('month', :today - 300)::date
         FROM oem.oem JOIN oem.model m USING (oem_id) GROUP BY oem_id""",
]

RULES = [("SERVICE_DUE", 7), ("FREE_SERVICE_LAPSE", 10), ("INSURANCE_OD", 15), ("INSURANCE_TP", 15),
         ("WARRANTY_VEHICLE", 30), ("WARRANTY_BATTERY", 30), ("RECALL", 0), ("DELIVERY_PROMISED", 2),
         ("FOLLOW_UP", 0), ("BIRTHDAY", 0)]


def _gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


def add_rules(conn) -> None:
    conn.execute(sa.text("""
        INSERT INTO communication.template (code, channel, language, body, dlt_template_id)
        VALUES ('BENCH', 'SMS', 'en', 'Dear {customer_name}, {vehicle_no} {due_date} {due_km} {branch_name}',
                '1107000000000000001') ON CONFLICT DO NOTHING"""))
    for event, days in RULES:
        conn.execute(sa.text("""INSERT INTO communication.rule (event, days_before, channel, template_code)
                                VALUES (:e, :d, 'SMS', 'BENCH') ON CONFLICT DO NOTHING"""), {"e": event, "d": days})


def timed_run(engine, on: date) -> tuple[float, int, int]:
    with engine.connect() as conn:
        began = time.perf_counter()
        rows = conn.execute(sa.text("SELECT made, queued FROM communication.run_reminders(:on, :now)"),
                            {"on": on, "now": datetime.now(IST)}).all()
        conn.commit()
        return time.perf_counter() - began, sum(r[0] for r in rows), sum(r[1] for r in rows)


def in_one_transaction(url: str, today: date) -> int:
    """The whole measurement in one transaction, rolled back (see the module's docstring)."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                applied = set(conn.execute(sa.text("SELECT filename FROM platform.schema_migration")).scalars())
                began = time.perf_counter()
                raw = conn.connection.driver_connection      # the SQL as written (no parameters), in this transaction
                for migration in migrations.available():
                    if migration.filename not in applied:
                        raw.execute(migration.sql)
                for functions in migrations.function_files():
                    raw.execute(functions.sql)
                if not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM service.vehicle)")).scalar():
                    raise SystemExit("no workshop vehicles: generate-history's workshop makes them "
                                     "(seed/workshop_history.py)")
                add_rules(conn)
                conn.execute(sa.text("ANALYZE"))
                counts = conn.execute(sa.text("""SELECT (SELECT count(*) FROM service.vehicle),
                                                        (SELECT count(*) FROM insurance.policy),
                                                        (SELECT count(*) FROM master.customer)""")).one()
                print(f"prepared in {time.perf_counter() - began:.1f} s: {counts[0]} vehicles, {counts[1]} policies, "
                      f"{counts[2]} customers")
                runs = []
                for _ in range(2):
                    began = time.perf_counter()
                    rows = conn.execute(sa.text("SELECT made, queued FROM communication.run_reminders(:on, :now)"),
                                        {"on": today, "now": datetime.now(IST)}).all()
                    runs.append((time.perf_counter() - began, sum(r[0] for r in rows), sum(r[1] for r in rows)))
            finally:
                tx.rollback()
    finally:
        engine.dispose()
    print(f"reminder run over {counts[0]} vehicles: {runs[0][0]:.2f} s ({runs[0][1]} made, {runs[0][2]} queued); "
          f"again: {runs[1][0]:.2f} s ({runs[1][1]} made); target {TARGET_S:.0f} s; rolled back")
    return 0 if runs[0][0] < TARGET_S else 1


def main() -> int:
    today = today_ist()
    if os.environ.get("REMINDERS_DATABASE_URL") and os.environ.get("REMINDERS_ROLLBACK") == "1":
        return in_one_transaction(os.environ["REMINDERS_DATABASE_URL"], today)
    with ExitStack() as stack:
        url = os.environ.get("REMINDERS_DATABASE_URL")
        if not url:
            server = stack.enter_context(snapshot_server())
            url = stack.enter_context(scratch_database(server, "erp_bench_reminders"))
        engine = sa.create_engine(sqlalchemy_url(url))
        stack.callback(engine.dispose)
        if not os.environ.get("REMINDERS_DATABASE_URL"):
            migrations.apply_pending(engine)
            began = time.perf_counter()
            with engine.begin() as conn:
                for statement in _FILL:
                    conn.execute(sa.text(statement), {"n": VEHICLES, "today": today, "branch_gstin": _gstin("29AABCB1234K1Z"),
                                                      "oem_gstin": _gstin("29AABCE1234K1Z")})
            print(f"filled {VEHICLES} vehicles in {time.perf_counter() - began:.1f} s")
        with engine.begin() as conn:
            add_rules(conn)
            conn.execute(sa.text("ANALYZE"))
            vehicles = conn.execute(sa.text("SELECT count(*) FROM service.vehicle")).scalar()
        with engine.connect() as conn:     # each event's share of the work (what is due, nothing written)
            shares = []
            for event, days in RULES:
                began = time.perf_counter()
                found = conn.execute(sa.text("SELECT count(*) FROM communication.due_events(:on, :h, :e)"),
                                     {"on": today, "h": days, "e": [event]}).scalar()
                shares.append(f"{event} {time.perf_counter() - began:.2f} s ({found})")
            print("what is due, by event: " + ", ".join(shares))
        first = timed_run(engine, today)
        second = timed_run(engine, today)
        print(f"reminder run over {vehicles} vehicles: {first[0]:.2f} s ({first[1]} made, {first[2]} queued); "
              f"again: {second[0]:.2f} s ({second[1]} made); target {TARGET_S:.0f} s")
    return 0 if first[0] < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
