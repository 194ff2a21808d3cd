"""The salesperson's dashboard and the lead funnel on five years of data (issue 13, "Speed").

    CRM_DATABASE_URL=postgresql://... .venv/bin/python -m bench.crm                  # prints the figures
    CRM_DATABASE_URL=... .venv/bin/python -m bench.run_all --only crm               # also writes docs/PERFORMANCE.md

``CRM_DATABASE_URL`` names a copy of a database filled by ``generate-history`` (the bench writes to it),
migrated to the current schema here if it is not. generate-history makes the CRM's five years
(seed/crm_history.py: calls on every lead, test rides on the demo units, consent, reminders and their
outbox rows); a database generated before it did gets them here, once, by the same function
(``generate_crm``, then ``check_crm``).

The salesperson is the SALES staff of the ADMIN's branch with the most leads, given the bench PIN. Their
open leads due for a call today are the bench's own: ``OPEN_LEADS`` leads inserted with the triggers on,
follow-ups spread over today and the eleven days before (a busy salesperson's list); generate-history
makes none, as a history is what happened and what is due "today" depends on when it is read.

Then, through the test client (bench/workshop.py's way: 25 requests each after warm-up, interleaved
round-robin with the ``SELECT 1`` floor): the salesperson's home page ``/`` (crm's dashboard panel, my
follow-ups today and overdue, above the tiles of the modules they open: leads, bookings) and one of
their booked leads (no target of its own in the issue: timed against the dashboard's), and as the ADMIN the funnel report for a year by
month, by source and by salesperson.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from .screens import ADMIN_CODE, BENCH_PIN, Timing, floor_app, login, print_target_rows, target_run, target_table
from .workshop import prepared

DASHBOARD_TARGET_MS = 30.0
FUNNEL_TARGET_MS = 100.0
REQUESTS = 25
WARMUP = 2
OPEN_LEADS = 60

_OPEN = """
    INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, model_id, salesperson_id, status, follow_up_on,
                          next_action, contacted_at)
    SELECT :branch, :today - 3 - n % 20, (ARRAY['WALK_IN', 'PHONE', 'WEBSITE', 'REFERRAL'])[1 + n % 4],
           'Bench prospect ' || n, (7000000000 + n * 7919)::text,
           (SELECT model_id FROM oem.model ORDER BY model_id OFFSET n % (SELECT count(*) FROM oem.model) LIMIT 1),
           :seller, 'CONTACTED', :today - n % 12, 'Call back with the on-road price', now() - interval '2 days'
      FROM generate_series(1, :n) n"""


def _branch_and_admin(conn):
    return conn.execute(sa.text("SELECT branch_id, staff_id FROM master.staff WHERE staff_code = :c"),
                        {"c": ADMIN_CODE}).one()


def _seller(conn, branch_id: int):
    return conn.execute(sa.text(
        """SELECT s.staff_id, s.staff_code FROM master.staff s
            WHERE s.branch_id = :b AND s.designation = 'SALES' AND s.is_active
            ORDER BY (SELECT count(*) FROM crm.lead l WHERE l.salesperson_id = s.staff_id) DESC, s.staff_id
            LIMIT 1"""), {"b": branch_id}).one()


def fill(app, engine, progress=print) -> dict:
    """The CRM's five years if generate-history did not make them, the salesperson's PIN and today's
    follow-ups, once (a database with them is used as it is)."""
    from webapp.formatting import IST, today_ist
    from webapp.security import hash_pin

    took = {}
    today = today_ist()
    with engine.connect() as conn:
        branch_id, admin_id = _branch_and_admin(conn)
        seller_id, seller_code = _seller(conn, branch_id)
        has_history = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM crm.contact)")).scalar()
        due = conn.execute(sa.text(
            """SELECT count(*) FROM crm.lead WHERE salesperson_id = :s AND follow_up_on <= :t
                  AND status NOT IN ('BOOKED', 'LOST')"""), {"s": seller_id, "t": today}).scalar()
    if not has_history:
        from seed.crm_history import check_crm, generate_crm

        t = time.monotonic()
        with engine.begin() as conn:
            start = conn.execute(sa.text("SELECT min(lead_date) FROM crm.lead")).scalar() or today - timedelta(days=1825)
            made = generate_crm(conn, start, today, datetime.now(IST), progress)
            check_crm(conn)
        took["history_s"] = round(time.monotonic() - t, 1)
        took.update(made)
        progress(f"crm: history {made} in {took['history_s']} s")
    with app.app_context():
        pin_hash = hash_pin(BENCH_PIN)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h, must_change_pin = false WHERE staff_id = :s"),
                     {"h": pin_hash, "s": seller_id})
        if due < OPEN_LEADS:
            conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(seller_id)})
            took["open_leads"] = conn.execute(sa.text(_OPEN), {"branch": branch_id, "today": today,
                                                              "seller": seller_id, "n": OPEN_LEADS}).rowcount
    with engine.connect() as conn:
        conn.execute(sa.text("COMMIT"))
        conn.execute(sa.text("ANALYZE crm.lead"))
    progress(f"crm: filled {took}")
    return took


def counts(engine, seller_id: int, today) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM crm.lead) AS leads, (SELECT count(*) FROM crm.contact) AS contacts,
                      (SELECT count(*) FROM crm.test_ride) AS test_rides,
                      (SELECT count(*) FROM sales.booking) AS bookings,
                      (SELECT count(*) FROM communication.reminder) AS reminders,
                      (SELECT count(*) FROM communication.outbox) AS messages,
                      (SELECT min(lead_date) FROM crm.lead) AS first_lead,
                      (SELECT count(*) FROM crm.lead WHERE salesperson_id = :s) AS seller_leads,
                      (SELECT count(*) FROM sales.booking WHERE salesperson_id = :s) AS seller_bookings,
                      (SELECT count(*) FROM crm.lead WHERE salesperson_id = :s AND follow_up_on <= :t
                          AND status NOT IN ('BOOKED', 'LOST')) AS seller_due"""),
            {"s": seller_id, "t": today}).mappings().one())


def run(requests: int = REQUESTS, warmup: int = WARMUP, progress=print) -> dict:
    from webapp.formatting import today_ist
    from webapp.forms import url_date

    stack, app, engine = prepared(progress, "CRM_DATABASE_URL")
    with stack:
        filled = fill(app, engine, progress)
        today = today_ist()
        with engine.connect() as conn:
            branch_id, _ = _branch_and_admin(conn)
            seller_id, seller_code = _seller(conn, branch_id)
            pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            lead_id = conn.execute(sa.text(  # a booked lead of the salesperson that was called and rode
                """SELECT l.lead_id FROM crm.lead l WHERE l.salesperson_id = :s AND l.status = 'BOOKED'
                      AND EXISTS (SELECT 1 FROM crm.test_ride r WHERE r.lead_id = l.lead_id)
                    ORDER BY (SELECT count(*) FROM crm.contact c WHERE c.lead_id = l.lead_id) DESC, l.lead_id DESC
                    LIMIT 1"""), {"s": seller_id}).scalar()
            year_leads = conn.execute(sa.text(
                "SELECT count(*) FROM crm.lead WHERE branch_id = :b AND lead_date BETWEEN :f AND :t"),
                {"b": branch_id, "f": today.replace(year=today.year - 1), "t": today}).scalar()
        seller = app.test_client()
        assert login(seller, seller_code, BENCH_PIN).status_code == 303
        admin = app.test_client()
        assert login(admin, ADMIN_CODE, BENCH_PIN).status_code == 303
        floor = app.extensions["erp_db"].engine
        floor_client = floor_app(floor).test_client()
        year = {"from": url_date(today.replace(year=today.year - 1)), "to": url_date(today)}
        screens = [
            ("dashboard", "Salesperson's home page `/` (the follow-ups panel: 8 of their due calls, the counts, "
                          "the module tiles)", seller, "/",
             DASHBOARD_TARGET_MS),
            ("lead", f"Lead page `/crm/leads/{lead_id}` (booked; its calls, test ride, booking)", seller,
             f"/crm/leads/{lead_id}", DASHBOARD_TARGET_MS),
            ("funnel_month", f"Funnel for a year by month `/crm/funnel?{urlencode({**year, 'by': 'month'})}` "
                             f"({year_leads:,} leads)", admin, f"/crm/funnel?{urlencode({**year, 'by': 'month'})}",
             FUNNEL_TARGET_MS),
            ("funnel_source", "Funnel for a year by source", admin,
             f"/crm/funnel?{urlencode({**year, 'by': 'source'})}", FUNNEL_TARGET_MS),
            ("funnel_salesperson", "Funnel for a year by salesperson", admin,
             f"/crm/funnel?{urlencode({**year, 'by': 'salesperson'})}", FUNNEL_TARGET_MS),
        ]
        for _, _, client, path, _ in screens:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
        page = seller.get("/").get_data(as_text=True)
        assert "Bench prospect" in page, "the salesperson's dashboard shows none of their follow-ups"
        listed = [(Timing("floor", "**Floor**: bare Flask route, `SELECT 1`", "floor"), lambda: floor_client.get("/floor"))]
        for key, label, client, path, target in screens:
            timing = Timing(key, label, "screen")
            timing.target_ms = target
            listed.append((timing, (lambda c, p: lambda: c.get(p))(client, path)))
        facts = target_run(engine, listed, requests, warmup, progress)
        return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "requests": requests, "warmup": warmup,
                "postgresql": pg_version, "counts": counts(engine, seller_id, today), "filled": filled, **facts}


def crm_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:crm)."""
    g = r["counts"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, on `generate-history`'s five years with its CRM: "
        f"{g['leads']:,} leads since {g['first_lead']:%d-%m-%Y}, {g['contacts']:,} calls, {g['test_rides']:,} test rides, "
        f"{g['bookings']:,} bookings, {g['reminders']:,} reminders and {g['messages']:,} outbox messages. The "
        f"salesperson has {g['seller_leads']:,} leads, {g['seller_bookings']:,} bookings and {g['seller_due']:,} "
        f"follow-ups due today or overdue; the funnel is read as the ADMIN of the branch. {r['requests']} timed "
        f"requests each after {r['warmup']} warm-up rounds, interleaved with the floor "
        f"({r['floor_ms']:.2f} ms median); {r['placement']}; load average (1 min) before/after "
        f"{r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}. See bench/crm.py.",
        "",
        *target_table(r["results"]),
    ]
    return "\n".join(lines)


def print_crm(r: dict) -> None:
    print(f"\n{r['counts']}\nfloor {r['floor_ms']:.2f} ms; {r['seconds']} s; load {r['loadavg_before']} -> "
          f"{r['loadavg_after']}")
    print_target_rows(r["results"])


def main() -> None:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    result = run(args.requests)
    print_crm(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
