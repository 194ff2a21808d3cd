"""The attendance sheet of a month and the payroll run for 200 staff (issue 15, "Speed").

    .venv/bin/python -m bench.payroll              # prints the figures
    .venv/bin/python -m bench.payroll --write      # also writes them into docs/PERFORMANCE.md (bench:payroll)

A throwaway database (bench/screens.py's: BENCH_DATABASE_URL, a server whose user may CREATE DATABASE, else
the bench's own embedded server; ERP_BENCH_PGDATA=instance/test-pgdata uses the test suite's) gets every
migration, one branch with 200 staff and their employment details: 180 on the day shift (09:30-18:30) and 20
on the night shift (22:00-06:00, the last night's out-punch on the 1st of the next month), weekly off Tuesday,
one holiday, last month's punches at the terminal (arrivals spread around the start, some late, some half days
and absences, about 10,000 punches), casual, half-day and loss-of-pay leave approved, and a salary structure
each. Then, through the test client as the branch's ADMIN (bench/crm.py's way: interleaved round-robin with the
``SELECT 1`` floor after warm-up), the month's sheet (`/hr/sheet`: every person's days and totals); the month is
closed once (timed, its figures kept per person); and the payroll run's computation (`hr.payroll_compute` of a
draft run of the 200, in its own committed transaction each time: a draft is recomputed as often as wanted).
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from .screens import (
    ADMIN_CODE,
    BENCH_PIN,
    Timing,
    bench_database,
    database_server,
    floor_app,
    login,
    make_app,
    print_target_rows,
    target_run,
    target_table,
)

SHEET_TARGET_MS = 100.0
RUN_TARGET_S = 2.0
STAFF = 200
NIGHT_STAFF = 20
REQUESTS = 25
WARMUP = 3
RUNS = 10

ROLES = ["SALES", "SALES", "SERVICE_ADVISOR", "TECHNICIAN", "TECHNICIAN", "ACCOUNTS", "SALES", "TECHNICIAN"]


def last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def fill(engine, month: date, progress=print) -> dict:
    """The branch, its 200 staff with shifts, leave, a month of punches and salary structures. Returns the ids."""
    from webapp.formatting import IST
    from webapp.master.queries import insert_branch
    from webapp.security import hash_pin
    from webapp.validators import gstin_check_character

    started = time.monotonic()
    rng = random.Random(15)
    days = [month + timedelta(days=n) for n in range(31) if (month + timedelta(days=n)).month == month.month]
    holiday = next(d for d in days[9:] if d.isoweekday() != 2)
    working = [d for d in days if d.isoweekday() != 2 and d != holiday]
    pin_hash = hash_pin(BENCH_PIN)
    with engine.begin() as conn:
        def one(sql: str, **params):
            return conn.execute(sa.text(sql), params).scalar_one()

        branch = insert_branch(conn, {
            "branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Indiranagar",
            "gstin": "29AAJCV4821K1Z" + gstin_check_character("29AAJCV4821K1Z"), "address_line1": "No. 14, 100 Feet Road",
            "address_line2": None, "city": "Bengaluru", "pincode": "560038", "phone": "080-41234567", "email": None,
            "upi_id": None, "invoice_prefix": "BLR", "head_office": False})
        staff = conn.execute(sa.text("""
            INSERT INTO master.staff (staff_code, name, designation, branch_id, pin_hash, must_change_pin)
            SELECT CASE WHEN i = 0 THEN :admin ELSE 'HR' || lpad(i::text, 3, '0') END, 'Staff ' || i,
                   CASE WHEN i = 0 THEN 'ADMIN' WHEN i <= 4 THEN 'MANAGER' ELSE (CAST(:roles AS text[]))[1 + i % 8] END,
                   :b, :h, false
              FROM generate_series(0, :n - 1) i ORDER BY i RETURNING staff_id"""),
            {"admin": ADMIN_CODE, "roles": ROLES, "b": branch, "h": pin_hash, "n": STAFF}).scalars().all()
        conn.execute(sa.text("""INSERT INTO hr.shift (branch_id, name, starts_at, ends_at, grace_minutes, half_day_hours,
                                                      absent_hours, weekly_off, is_default)
                                VALUES (:b, 'General', '09:30', '18:30', 10, 6, 3, 2, true)"""), {"b": branch})
        night_shift = one("""INSERT INTO hr.shift (branch_id, name, starts_at, ends_at, grace_minutes, half_day_hours,
                                                   absent_hours, weekly_off, is_default)
                             VALUES (:b, 'Night', '22:00', '06:00', 10, 6, 3, 2, false) RETURNING shift_id""", b=branch)
        conn.execute(sa.text("INSERT INTO hr.holiday (branch_id, on_date, name) VALUES (:b, :d, 'Local holiday')"),
                     {"b": branch, "d": holiday})
        admin, managers, rest = staff[0], staff[1:5], staff[5:]
        night = set(rest[-NIGHT_STAFF:])
        conn.execute(sa.text("""INSERT INTO hr.employee (staff_id, joined_on, manager_id, shift_id)
                                VALUES (:s, :j, :m, :sh)"""),
                     [{"s": s, "j": date(2024, 1, 1), "m": admin if s in managers else (None if s == admin else managers[n % 4]),
                       "sh": night_shift if s in night else None} for n, s in enumerate(staff)])
        conn.execute(sa.text("INSERT INTO hr.leave_quota (leave_code, year, days) VALUES ('CL', :y, 12) "
                             "ON CONFLICT DO NOTHING"), {"y": month.year})
        terminal = one("""INSERT INTO hr.terminal (branch_id, name, token_sha256, enabled_by)
                          VALUES (:b, 'Front desk', repeat('c', 64), :a) RETURNING terminal_id""", b=branch, a=admin)

        # Leave: one person in four takes a day (casual or loss of pay) or a half day; approved by the manager.
        leave, off = [], {}
        for n, s in enumerate(rest):
            if n % 4:
                continue
            day = working[(n * 7) % len(working)]
            code, half = (("CL", None), ("LOP", None), ("CL", "FIRST"))[n % 3]
            leave.append({"b": branch, "s": s, "c": code, "d": day, "h": half})
            if half is None:
                off[s] = day
        conn.execute(sa.text("""INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, half,
                                                                  reason)
                                VALUES (:b, :s, :c, :d, :d, :h, 'Family function')"""), leave)
        conn.execute(sa.text("""UPDATE hr.leave_application a SET status = 'APPROVED', decided_at = now(),
                                       decided_by = e.manager_id
                                  FROM hr.employee e WHERE e.staff_id = a.staff_id AND a.branch_id = :b"""), {"b": branch})

        # The month's punches at the terminal (the owner's tools write a terminal punch's time: seed-demo's way).
        punches = []
        for s in staff:
            for day in working:
                if off.get(s) == day or rng.random() < 0.02:          # on leave, or absent
                    continue
                if s in night:
                    start = datetime(day.year, day.month, day.day, 22, 0, tzinfo=IST)
                    arrive = start + timedelta(minutes=rng.randint(-15, 14))
                    leave_at = start + timedelta(hours=8, minutes=rng.randint(0, 25))
                else:
                    start = datetime(day.year, day.month, day.day, 9, 30, tzinfo=IST)
                    arrive = start + timedelta(minutes=rng.randint(-20, 16))
                    half_day = rng.random() < 0.03
                    leave_at = start + (timedelta(hours=4, minutes=30) if half_day
                                        else timedelta(hours=9, minutes=rng.randint(0, 40)))
                punches += [{"b": branch, "s": s, "k": "IN", "at": arrive, "t": terminal},
                            {"b": branch, "s": s, "k": "OUT", "at": leave_at, "t": terminal}]
        punches.sort(key=lambda p: (p["s"], p["at"]))
        conn.execute(sa.text("""INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, terminal_id)
                                VALUES (:b, :s, :k, :at, :t)"""), punches)

        # A salary structure each: gross from Rs 15,000 to Rs 1,20,000 (some under the ESI limit, some over
        # the PF ceiling, most above the professional tax threshold).
        structures = []
        for n, s in enumerate(staff):
            gross = 15000 + (n * 5279) % 105000
            basic = gross // 2
            hra = gross * 2 // 10
            structures.append({"s": s, "g": gross, "basic": basic, "hra": hra, "special": gross - basic - hra})
        conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra, special)
                                VALUES (:s, DATE '2024-01-01', :g, :basic, :hra, :special)"""), structures)
    with engine.connect() as conn:
        conn.execute(sa.text("COMMIT"))
        for table in ("hr.punch", "hr.employee", "hr.leave_application", "hr.pay_structure", "master.staff"):
            conn.execute(sa.text(f"ANALYZE {table}"))
    took = round(time.monotonic() - started, 1)
    progress(f"payroll: {len(staff)} staff, {len(punches)} punches, {len(leave)} leave applications in {took} s")
    return {"branch": branch, "admin": admin, "punches": len(punches), "leave": len(leave), "fill_s": took,
            "working_days": len(working), "holiday": holiday}


def time_runs(engine, branch: int, month: date, runs: int, progress=print) -> dict:
    """The payroll run: its draft made once, then computed `runs` times, each in its own committed transaction."""
    with engine.begin() as conn:
        run_id = conn.execute(sa.text("INSERT INTO hr.payroll_run (branch_id, month) VALUES (:b, :m) RETURNING run_id"),
                              {"b": branch, "m": month}).scalar_one()
    samples, lines = [], 0
    for n in range(runs + 1):   # the first is a warm-up
        started = time.perf_counter_ns()
        with engine.begin() as conn:
            lines = conn.execute(sa.text("SELECT hr.payroll_compute(:r)"), {"r": run_id}).scalar_one()
        if n:
            samples.append((time.perf_counter_ns() - started) / 1e6)
    ordered = sorted(samples)
    with engine.connect() as conn:
        totals = conn.execute(sa.text("""SELECT count(*) AS lines, sum(gross) AS gross, sum(net_pay) AS net,
                                                count(*) FILTER (WHERE esi_employee > 0) AS esi,
                                                count(*) FILTER (WHERE tds > 0) AS tds
                                           FROM hr.payroll_line WHERE run_id = :r"""), {"r": run_id}).mappings().one()
    progress(f"payroll_compute: {lines} lines, median {statistics.median(samples):.0f} ms")
    return {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 1),
            "n": len(samples), "lines": lines, **{k: totals[k] for k in ("gross", "net", "esi", "tds")}}


def run(requests: int = REQUESTS, warmup: int = WARMUP, runs: int = RUNS, progress=print) -> dict:
    from webapp.formatting import today_ist

    month = last_month(today_ist())
    with ExitStack() as stack:
        instance = tempfile.mkdtemp(prefix="erp-bench-payroll-")
        stack.callback(shutil.rmtree, instance, True)
        server = stack.enter_context(database_server())
        url = stack.enter_context(bench_database(server))
        app = make_app(url, instance)
        stack.callback(app.extensions["erp_db"].dispose)
        engine = app.extensions["erp_db"].owner_engine   # seeding and the payroll computation: the owner's
        with app.app_context():
            filled = fill(engine, month, progress)
        admin = app.test_client()
        assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
        path = f"/hr/sheet?month={month:%Y-%m}"
        page = admin.get(path)
        assert page.status_code == 200 and page.get_data(as_text=True).count('title="Present"') > STAFF * 15, \
            "the sheet does not show the month's days"
        floor_client = floor_app(app.extensions["erp_db"].engine).test_client()
        sheet = Timing("sheet", f"Attendance sheet of {month:%m-%Y} `{path}` ({STAFF} staff, every day and the totals)",
                       "screen")
        sheet.target_ms = SHEET_TARGET_MS
        listed = [(Timing("floor", "**Floor**: bare Flask route, `SELECT 1`", "floor"), lambda: floor_client.get("/floor")),
                  (sheet, lambda: admin.get(path))]
        facts = target_run(engine, listed, requests, warmup, progress)

        started = time.perf_counter_ns()
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :a)"),
                         {"b": filled["branch"], "m": month, "a": filled["admin"]})
        close_ms = (time.perf_counter_ns() - started) / 1e6
        payroll = time_runs(engine, filled["branch"], month, runs, progress)
        with engine.connect() as conn:
            pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "month": month, "postgresql": pg_version,
                "requests": requests, "warmup": warmup, "filled": filled, "close_ms": round(close_ms, 1),
                "payroll": payroll, **facts}


def payroll_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:payroll)."""
    f, p = r["filled"], r["payroll"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}: one branch of {STAFF} staff ({NIGHT_STAFF} on the night "
        f"shift), {r['month']:%m-%Y} with {f['working_days']} working days, {f['punches']:,} punches at the terminal and "
        f"{f['leave']} leave applications approved. The sheet through the test client as the branch's ADMIN, "
        f"{r['requests']} timed requests after {r['warmup']} warm-up rounds, interleaved with the floor "
        f"({r['floor_ms']:.2f} ms median); {r['placement']}; load average (1 min) before/after "
        f"{r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}. See bench/payroll.py.",
        "",
        *target_table(r["results"]),
        f"| Payroll run: `hr.payroll_compute` of the {p['lines']} staff (its own committed transaction, "
        f"{p['n']} runs after one warm-up) | {p['median_ms']:.0f} | {p['p95_ms']:.0f} | | < {RUN_TARGET_S * 1000:g} ms | "
        f"{'yes' if p['median_ms'] < RUN_TARGET_S * 1000 else '**no**'} |",
        "",
        f"Closing the month (once: every person's days read and their figures kept) took {r['close_ms']:.0f} ms.",
    ]
    return "\n".join(lines)


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--write", action="store_true", help="write the block into docs/PERFORMANCE.md")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    result = run(args.requests, runs=args.runs)
    print(f"\nfloor {result['floor_ms']:.2f} ms; load {result['loadavg_before']} -> {result['loadavg_after']}")
    print_target_rows(result["results"])
    print(f"payroll_compute: {result['payroll']}; close {result['close_ms']} ms")
    if args.write:
        from .run_all import DOC, replace_block

        DOC.write_text(replace_block(DOC.read_text(encoding="utf-8"), "payroll", payroll_block(result)), encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
