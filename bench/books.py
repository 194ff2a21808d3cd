"""The books on five years of vouchers (issue 14, "Speed": a year's trial balance under 100 ms).

    BOOKS_DATABASE_URL=postgresql://... .venv/bin/python -m bench.books                 # prints the figures
    BOOKS_DATABASE_URL=... .venv/bin/python -m bench.books --synthetic 550000           # first posts vouchers

``BOOKS_DATABASE_URL`` names a copy of a database filled by ``generate-history`` (the bench writes to it),
migrated to the current schema here if it is not. generate-history posts the five years' vouchers from
the documents it makes (issue 14's posting triggers). A database without them (or a scratch one, to try
the bench) gets ``--synthetic N`` vouchers here, once, spread evenly over the five years to today and over
the branches, through the same tables, triggers and monthly totals as a posting: a sale to a customer (the
customer's party ledger, made for every customer), the customer's receipt into cash or the bank, a
purchase with GST input, and a payment to the OEM, in turns (four lines, two, four, two).

Then, through the test client logged in as the ADMIN (every branch; bench/crm.py's way: 25 requests each
after warm-up, interleaved round-robin with the ``SELECT 1`` floor): the trial balance for the financial
year to date (the target), the same for the last whole financial year, the profit and loss and the balance
sheet for the year to date, the cash ledger's account for a month, the day book of a day, and the owner's
home page (every module's at-a-glance panel for the ADMIN's branch).

How the trial balance stays fast and exact: finance.ledger_month holds each ledger's debits and credits
per branch and month, added to by the voucher lines' statement trigger in the same transaction; voucher
lines are never updated or deleted, so the rows are always the sums of the lines (finance.ledger_month_drift
lists any difference; the bench checks it is empty). A report reads those rows for whole months and the
lines only for the part months at the ends of its period.
"""
from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from .screens import ADMIN_CODE, BENCH_PIN, Timing, floor_app, login, print_target_rows, target_run, target_table
from .workshop import prepared

TB_TARGET_MS = 100.0
REPORT_TARGET_MS = 200.0   # the other reports: no target of their own in the issue
HOME_TARGET_MS = 30.0      # the owner's dashboard (issue 14, "Speed")
REQUESTS = 25
WARMUP = 2
CHUNK = 50_000

_VOUCHERS = """
    INSERT INTO finance.voucher (branch_id, voucher_type, voucher_no, voucher_date, narration)
    SELECT (CAST(:branches AS integer[]))[1 + n % cardinality(CAST(:branches AS integer[]))],
           (ARRAY['SALES', 'RECEIPT', 'PURCHASE', 'PAYMENT'])[1 + n % 4],
           'BV' || n, CAST(:start AS date) + (n * :span / :total)::integer, 'Bench voucher ' || n
      FROM generate_series(:first, :last) n"""

# The lines of each kind of voucher: (line, ledger, debit factor, credit factor) of the voucher's amount.
_LINES = """
    INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit, credit)
    SELECT v.voucher_id, t.line_no,
           CASE t.ledger WHEN 'PARTY' THEN (CAST(:parties AS integer[]))[1 + k.n % cardinality(CAST(:parties AS integer[]))]
                         ELSE finance.ledger_key(t.ledger) END,
           round(a.amount * t.dr, 2), round(a.amount * t.cr, 2)
      FROM finance.voucher v
      CROSS JOIN LATERAL (SELECT substr(v.voucher_no, 3)::bigint AS n) k
      CROSS JOIN LATERAL (SELECT 1000 * (50 + (k.n * 7919) % 100) AS amount) a
      JOIN (VALUES ('SALES', 1, 'PARTY', 1.18, 0), ('SALES', 2, 'SALES_VEHICLE', 0, 1),
                   ('SALES', 3, 'OUTPUT_CGST', 0, 0.09), ('SALES', 4, 'OUTPUT_SGST', 0, 0.09),
                   ('RECEIPT', 1, 'CASH', 0.3, 0), ('RECEIPT', 2, 'BANK', 0.88, 0), ('RECEIPT', 3, 'PARTY', 0, 1.18),
                   ('PURCHASE', 1, 'PURCHASE_VEHICLE', 0.8, 0), ('PURCHASE', 2, 'INPUT_CGST', 0.072, 0),
                   ('PURCHASE', 3, 'INPUT_SGST', 0.072, 0), ('PURCHASE', 4, 'SUSPENSE', 0, 0.944),
                   ('PAYMENT', 1, 'SUSPENSE', 0.944, 0), ('PAYMENT', 2, 'BANK', 0, 0.944))
           AS t (kind, line_no, ledger, dr, cr) ON t.kind = v.voucher_type
     WHERE v.voucher_id > :before AND v.voucher_no LIKE 'BV%' AND k.n BETWEEN :first AND :last"""


def synthetic(engine, total: int, progress=print) -> dict:
    """``total`` balanced vouchers over the five years to today, in chunks of CHUNK per transaction."""
    from webapp.formatting import today_ist

    today = today_ist()
    start = today - timedelta(days=5 * 365)
    with engine.begin() as conn:
        branches = conn.execute(sa.text("SELECT array_agg(branch_id ORDER BY branch_id) FROM master.branch")).scalar()
        parties = conn.execute(sa.text(
            """SELECT array_agg(finance.party_ledger('CUSTOMER', customer_id))
                 FROM (SELECT customer_id FROM master.customer ORDER BY customer_id LIMIT :n) c"""),
            {"n": max(total // 8, 1)}).scalar()
    took = time.monotonic()
    for first in range(1, total + 1, CHUNK):
        last = min(first + CHUNK - 1, total)
        with engine.begin() as conn:
            params = {"branches": branches, "parties": parties, "start": start, "span": (today - start).days,
                      "total": total, "first": first, "last": last}
            params["before"] = conn.execute(sa.text("SELECT coalesce(max(voucher_id), 0) FROM finance.voucher")).scalar()
            conn.execute(sa.text(_VOUCHERS), params)
            conn.execute(sa.text(_LINES), params)
        progress(f"books: {last:,} of {total:,} vouchers")
    with engine.begin() as conn:   # committed: statistics analysed in a rolled-back transaction are lost
        conn.execute(sa.text("ANALYZE finance.voucher, finance.voucher_line, finance.ledger_month, finance.ledger"))
    return {"synthetic_vouchers": total, "synthetic_s": round(time.monotonic() - took, 1),
            "party_ledgers": len(parties or [])}


def counts(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM finance.voucher) AS vouchers,
                      (SELECT count(*) FROM finance.voucher_line) AS lines,
                      (SELECT count(*) FROM finance.ledger) AS ledgers,
                      (SELECT count(*) FROM finance.ledger_month) AS month_rows,
                      (SELECT count(*) FROM master.branch) AS branches,
                      (SELECT min(voucher_date) FROM finance.voucher) AS first_day,
                      (SELECT max(voucher_date) FROM finance.voucher) AS last_day""")).mappings().one())


def run(requests: int = REQUESTS, warmup: int = WARMUP, make: int = 0, progress=print) -> dict:
    from webapp.finance.books_queries import fy_start
    from webapp.formatting import today_ist
    from webapp.forms import url_date
    from webapp.security import hash_pin

    stack, app, engine = prepared(progress, "BOOKS_DATABASE_URL")
    with stack:
        filled = synthetic(engine, make, progress) if make else {}
        with engine.connect() as conn:
            drift = conn.execute(sa.text("SELECT count(*) FROM finance.ledger_month_drift()")).scalar()
            assert drift == 0, f"{drift} monthly totals differ from their lines"
            for check in ("billing.invoice_month_drift", "finance.oem_pending_drift"):   # the home screen's (sql/0058)
                drift = conn.execute(sa.text(f"SELECT count(*) FROM {check}()")).scalar()
                assert drift == 0, f"{check}: {drift} kept rows differ from their documents"
            pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            cash = conn.execute(sa.text("SELECT finance.ledger_key('CASH')")).scalar()
        with app.app_context():
            pin_hash = hash_pin(BENCH_PIN)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h, must_change_pin = false WHERE staff_code = :c"),
                         {"h": pin_hash, "c": ADMIN_CODE})
        today = today_ist()
        this_year = {"from": url_date(fy_start(today)), "to": url_date(today)}
        last_start = fy_start(fy_start(today) - timedelta(days=1))
        last_year = {"from": url_date(last_start), "to": url_date(date(last_start.year + 1, 3, 31))}
        month = {"from": url_date(today.replace(day=1)), "to": url_date(today)}
        day = {"from": url_date(today - timedelta(days=1)), "to": url_date(today - timedelta(days=1))}

        def q(args: dict) -> str:
            return "?" + "&".join(f"{k}={v}" for k, v in args.items())

        admin = app.test_client()
        assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
        screens = [
            ("tb_year_to_date", f"Trial balance, the financial year to date `/finance/trial-balance{q(this_year)}`",
             f"/finance/trial-balance{q(this_year)}", TB_TARGET_MS),
            ("tb_last_year", f"Trial balance, the last whole financial year `/finance/trial-balance{q(last_year)}`",
             f"/finance/trial-balance{q(last_year)}", TB_TARGET_MS),
            ("pl", "Profit and loss, the year to date", f"/finance/profit-and-loss{q(this_year)}", REPORT_TARGET_MS),
            ("bs", "Balance sheet, the year to date", f"/finance/balance-sheet{q(this_year)}", REPORT_TARGET_MS),
            ("cash_month", "The cash ledger's account, this month (first page)",
             f"/finance/ledgers/{cash}{q(month)}", REPORT_TARGET_MS),
            ("day_book", "Day book of yesterday (first page)", f"/finance/day-book{q(day)}", REPORT_TARGET_MS),
            ("owner_home", "The owner's home page `/` (at a glance: sales, invoices and money owed, margin per "
                           "vehicle, cash, bank and the OEM's dues by age, workshop, stock)", "/", HOME_TARGET_MS),
        ]
        for _, _, path, _ in screens:
            response = admin.get(path)
            assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
        floor_client = floor_app(app.extensions["erp_db"].engine).test_client()
        listed = [(Timing("floor", "**Floor**: bare Flask route, `SELECT 1`", "floor"), lambda: floor_client.get("/floor"))]
        for key, label, path, target in screens:
            timing = Timing(key, label, "screen")
            timing.target_ms = target
            listed.append((timing, (lambda p: lambda: admin.get(p))(path)))
        facts = target_run(engine, listed, requests, warmup, progress)
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "warmup": warmup,
                "postgresql": pg_version, "counts": counts(engine), "filled": filled, **facts}


def books_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:books)."""
    g = r["counts"]
    made = f" ({r['filled']['synthetic_vouchers']:,} of them synthetic, bench/books.py)" if r["filled"] else ""
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}: {g['vouchers']:,} vouchers{made} with "
        f"{g['lines']:,} lines from {g['first_day']:%d-%m-%Y} to {g['last_day']:%d-%m-%Y} at {g['branches']} branches, "
        f"{g['ledgers']:,} ledgers, {g['month_rows']:,} monthly ledger totals; read as the ADMIN (every branch). "
        f"{r['requests']} timed requests each after {r['warmup']} warm-up rounds, interleaved with the floor "
        f"({r['floor_ms']:.2f} ms median); {r['placement']}. See bench/books.py.",
        "",
        *target_table(r["results"]),
    ]
    return "\n".join(lines)


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--synthetic", type=int, default=0, help="first post this many vouchers of the bench's own")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    result = run(args.requests, make=args.synthetic)
    print(f"\n{result['counts']}\nfloor {result['floor_ms']:.2f} ms; load {result['loadavg_before']} -> "
          f"{result['loadavg_after']}")
    print_target_rows(result["results"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
