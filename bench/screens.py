"""Server time of the main screens, against a floor measured in the same run.

"Server time" is the whole WSGI handling of one request (routing, session row,
role check, CSRF, queries, template, commit, cookies) through Flask's test client,
without any network: ``time.perf_counter_ns()`` around ``client.get(...)``.

The floor is a bare Flask app (built here, never part of the product) whose one
route runs ``SELECT 1`` in a transaction through the ERP app's own engine: the same
pool, pre-ping, psycopg and PostgreSQL, so screen/floor is what the ERP adds on top of
"one query through Flask". All cases are timed interleaved, so that whatever else the
machine is doing falls on all of them alike; see ``Placement`` for the CPU pinning.

The data: a dedicated database on the bench's own embedded PostgreSQL
(instance/bench-pgdata, or BENCH_DATABASE_URL), all migrations applied, one branch and
500 staff, dropped at the end.

Run alone: ``.venv/bin/python -m bench.screens`` (prints JSON); ``make bench`` runs
everything and rewrites docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

SCREEN_TARGET_MS = 15.0  # median
FLOOR_RATIO_TARGET = 3.0  # median screen / median floor
LOGIN_TARGET_MS = 250.0  # median of a successful login POST, production Argon2id

STAFF_COUNT = 500
SEARCH_Q = "kumar"  # matches the name of about one staff member in thirteen
BENCH_PIN = "582047"  # 6 digits: ADMIN, MANAGER and ACCOUNTS need 6 (webapp/config.py)
ADMIN_CODE = "BENCHADMIN"

# The production PIN hashing settings (webapp/config.py defaults), stated here on purpose:
# the test suite's cheap settings must never leak into these figures.
PRODUCTION_HASH = {"PIN_HASH_TIME_COST": 2, "PIN_HASH_MEMORY_KIB": 65536}

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

FIRST_NAMES = ["Arjun", "Priya", "Ramesh", "Kavitha", "Imran", "Lakshmi", "Suresh", "Ananya", "Deepak",
               "Manjunath", "Girish", "Meera", "Farhan", "Shalini", "Vikram", "Divya", "Naveen", "Pooja",
               "Harish", "Sneha"]
SURNAMES = ["Kumar", "Rao", "Nair", "Shetty", "Gowda", "Iyer", "Naik", "Hegde", "Prasad", "Pasha", "Reddy",
            "Sharma", "Patil"]


@dataclass
class Timing:
    key: str
    label: str
    kind: str  # "floor" | "reference" | "screen" | "login" | "component"
    samples_ns: list[int] = field(default_factory=list, repr=False)
    target_ms: float | None = None
    ratio_target: float | None = None
    round_trips: dict | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ns) / 1e6

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ns)  # nearest-rank p95
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] / 1e6

    def summary(self, floor_ms: float | None) -> dict:
        ratio = self.median_ms / floor_ms if floor_ms and self.kind == "screen" else None
        met = None
        if self.kind in ("screen", "login"):
            met = self.median_ms < self.target_ms and (ratio is None or ratio < self.ratio_target)
        return {
            "key": self.key, "label": self.label, "kind": self.kind, "n": len(self.samples_ns),
            "median_ms": round(self.median_ms, 3), "p95_ms": round(self.p95_ms, 3),
            "min_ms": round(min(self.samples_ns) / 1e6, 3),
            "ratio": None if ratio is None else round(ratio, 2),
            "target_ms": self.target_ms, "ratio_target": self.ratio_target, "met": met,
            "round_trips": self.round_trips,
        }


# ----------------------------------------------------------------------------- database


@contextmanager
def database_server():
    """BENCH_DATABASE_URL (a server whose user may CREATE DATABASE), else an embedded server
    of the bench's own (instance/bench-pgdata, or ERP_BENCH_PGDATA): the test suite's server
    may be busy. The embedded server is stopped afterwards (unless another process uses it)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    from webapp.db import EmbeddedServer

    server = EmbeddedServer(os.environ.get("ERP_BENCH_PGDATA", str(ROOT / "instance" / "bench-pgdata")))
    server.DATABASE = "postgres"
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def bench_database(server: str):
    """A fresh database with every migration applied; dropped afterwards."""
    from webapp import migrations
    from webapp.db import scratch_database, sqlalchemy_url

    with scratch_database(server, "erp_bench") as url:
        engine = sa.create_engine(sqlalchemy_url(url))
        migrations.apply_pending(engine)
        engine.dispose()
        yield url


def seed(app: Flask) -> dict:
    """One branch and STAFF_COUNT staff (one ADMIN), all with the PIN BENCH_PIN.

    One real production hash is computed and reused: 500 Argon2id hashes would take a minute
    and measure nothing of interest here.
    """
    from webapp.master.queries import insert_branch, insert_staff
    from webapp.security import hash_pin
    from webapp.validators import gstin_check_character

    with app.app_context():
        pin_hash = hash_pin(BENCH_PIN)
    assert "$m=65536,t=2,p=1$" in pin_hash, pin_hash  # production Argon2id settings
    engine = app.extensions["erp_db"].owner_engine  # seeding is the owner's, as with seed-demo
    with engine.begin() as conn:
        branch_id = insert_branch(conn, {
            "branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Indiranagar",
            "gstin": "29AAJCV4821K1Z" + gstin_check_character("29AAJCV4821K1Z"),
            "address_line1": "No. 14, 100 Feet Road", "address_line2": "Indiranagar", "city": "Bengaluru",
            "pincode": "560038", "phone": "080-41234567", "email": None, "upi_id": None, "invoice_prefix": "BLR"})
        insert_staff(conn, {"staff_code": ADMIN_CODE, "name": "Ramesh Gowda", "designation": "ADMIN",
                            "branch_id": branch_id, "phone": "9845012345"}, pin_hash, must_change_pin=False)
        conn.execute(
            sa.text(
                """INSERT INTO master.staff (staff_code, name, designation, branch_id, phone, email, pin_hash,
                                             must_change_pin, is_active, last_login_at)
                   SELECT 'ST' || lpad(i::text, 4, '0'),
                          (CAST(:first AS text[]))[1 + i % 20] || ' ' || (CAST(:last AS text[]))[1 + (i / 20) % 13],
                          (ARRAY['MANAGER','SALES','SALES','SALES','SERVICE_ADVISOR','TECHNICIAN','TECHNICIAN',
                                 'ACCOUNTS','DEALER'])[1 + i % 9],
                          :branch, '98' || lpad(i::text, 8, '0'), 'st' || i || '@voltev.example', :hash,
                          false, i % 50 <> 0, now() - make_interval(mins => i * 37)
                     FROM generate_series(1, :n) AS i"""
            ),
            {"first": FIRST_NAMES, "last": SURNAMES, "branch": branch_id, "hash": pin_hash, "n": STAFF_COUNT - 1},
        )
        conn.execute(sa.text("ANALYZE master.staff"))
        counts = conn.execute(sa.text(
            "SELECT count(*) AS total, count(*) FILTER (WHERE is_active) AS active, "
            "count(*) FILTER (WHERE is_active AND (staff_code ILIKE :q OR name ILIKE :q OR email ILIKE :q)) "
            "AS search_hits FROM master.staff"), {"q": f"%{SEARCH_Q}%"}).one()
    return {"staff": counts.total, "active": counts.active, "search_hits": counts.search_hits,
            "pin_hash_params": pin_hash.split("$")[3]}


# ----------------------------------------------------------------------------- apps and clients


def make_app(url: str, instance_path: str) -> Flask:
    os.environ["ERP_INSTANCE_PATH"] = instance_path  # secrets etc. never touch the real instance/
    from webapp import create_app

    app = create_app({
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-" + "y" * 24,
        "PIN_PEPPER": "bench-pepper-" + "x" * 24,
        **PRODUCTION_HASH,
    })
    import logging

    from webapp import migrations

    # What init-db does: the role requests log in as, under the branch policies.
    database = app.extensions["erp_db"]
    migrations.prepare_app_role(database.owner_engine, database.app_role, database.app_password)
    logging.getLogger().setLevel(logging.WARNING)
    return app


def floor_app(engine: sa.Engine) -> Flask:
    """A bare Flask app: one route, one SELECT 1 through the ERP's engine. Bench-only.

    Like every ERP request it checks a connection out (pre-ping), runs its statement in a
    transaction and commits. It must not end in ROLLBACK: psycopg forgets its prepared
    statements on rollback (DEALLOCATE ALL), which would slow down the screens that share
    the pooled connection and make them look worse than they are.
    """
    floor = Flask("bench_floor")

    @floor.get("/floor")
    def select_one():
        with engine.begin() as conn:
            return str(conn.execute(sa.text("SELECT 1")).scalar_one())

    return floor


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta"
    return match.group(1)


def login(client, code: str, pin: str):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"staff_code": code, "pin": pin, "csrf_token": token})


# ----------------------------------------------------------------------------- round trips


class RoundTrips:
    """What one request sends to PostgreSQL, from SQLAlchemy's events.

    Every checkout pings first (pool_pre_ping: one SELECT 1 in autocommit); psycopg sends
    BEGIN before the transaction's first statement; the transaction ends in COMMIT (or
    ROLLBACK). The pool's reset-on-return after a COMMIT sends nothing (psycopg skips it).
    """

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.counts: dict[str, int] = {}
        self.statements: list[str] = []

    def _bump(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        self._bump("statements")
        self.statements.append(" ".join(statement.split())[:100])

    def measure(self, call) -> dict:
        self.counts, self.statements = {}, []
        hooks = [(self.engine, "before_cursor_execute", self._execute),
                 (self.engine, "commit", lambda *a: self._bump("commit")),
                 (self.engine, "rollback", lambda *a: self._bump("rollback")),
                 (self.engine.pool, "checkout", lambda *a: self._bump("ping"))]
        for target, name, fn in hooks:
            sa.event.listen(target, name, fn)
        try:
            call()
        finally:
            for target, name, fn in hooks:
                sa.event.remove(target, name, fn)
        counts = self.counts
        begins = counts.get("ping", 0) if counts.get("statements") else 0
        total = sum(counts.get(k, 0) for k in ("ping", "statements", "commit", "rollback")) + begins
        parts = [f"{counts['ping']} pre-ping" if counts.get("ping") else None,
                 f"{begins} BEGIN" if begins else None,
                 f"{counts['statements']} statement{'s' if counts['statements'] > 1 else ''}"
                 if counts.get("statements") else None,
                 "COMMIT" if counts.get("commit") else None, "ROLLBACK" if counts.get("rollback") else None]
        return {"total": total, "parts": " + ".join(p for p in parts if p), "sql": list(self.statements)}


# ----------------------------------------------------------------------------- the bench set-up


@contextmanager
def prepared(progress=print):
    """Bench database, app, seeded data and the clients, ready to be timed."""
    instance = tempfile.mkdtemp(prefix="erp-bench-instance-")
    try:
        with database_server() as server, bench_database(server) as url:
            app = make_app(url, instance)
            database = app.extensions["erp_db"]
            try:
                progress(f"seeding one branch and {STAFF_COUNT} staff ...")
                seeded = seed(app)
                engine = database.engine
                with engine.connect() as conn:
                    pg_version = conn.execute(sa.text("SHOW server_version")).scalar_one()
                admin = app.test_client()
                response = login(admin, ADMIN_CODE, BENCH_PIN)
                assert response.status_code == 303, response.get_data(as_text=True)
                # A shared counter PC showing the login page: its session cookie, and the tiles of
                # the eight staff who logged in there lately.
                terminal = app.test_client()
                with app.test_request_context():
                    from webapp.auth.views import RECENT_COOKIE, _recent_serializer

                    recent_codes = [ADMIN_CODE] + [f"ST{i:04d}" for i in range(1, 8)]
                    recent = _recent_serializer().dumps(recent_codes)
                terminal.set_cookie(RECENT_COOKIE, recent)
                page = terminal.get("/login").get_data(as_text=True)
                assert all(code in page for code in recent_codes), "the recent-staff tiles are missing"
                bare = Flask("bench_bare")
                bare.get("/bare")(lambda: "ok")
                yield SimpleNamespace(
                    app=app, engine=engine, seeded=seeded, pg_version=pg_version, admin=admin,
                    terminal=terminal, first_visit=app.test_client(use_cookies=False),
                    floor=floor_app(engine).test_client(), bare=bare.test_client())
            finally:
                database.dispose()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


ROWS_ONLY = {"HX-Request": "true", "HX-Target": "staff-results", "HX-Current-URL": "http://localhost/master/staff"}


def cases(b: SimpleNamespace) -> list[tuple[Timing, object]]:
    """What is timed, in the order reported. Screens get the targets; the rest are references."""
    listed = [
        (Timing("floor", "**Floor**: bare Flask route, `SELECT 1` through the same engine", "floor"),
         lambda: b.floor.get("/floor")),
        (Timing("bare", "reference: bare Flask route, no database", "reference"), lambda: b.bare.get("/bare")),
        (Timing("login_get", "GET /login (counter PC: session cookie, 8 recent-staff tiles)", "screen"),
         lambda: b.terminal.get("/login")),
        (Timing("login_get_first", "GET /login (first visit, no cookie: inserts a session row)", "screen"),
         lambda: b.first_visit.get("/login")),
        (Timing("dashboard", "GET / dashboard (ADMIN)", "screen"), lambda: b.admin.get("/")),
        (Timing("staff_list", f"GET /master/staff ({STAFF_COUNT} staff; page 1 of 25 rows)", "screen"),
         lambda: b.admin.get("/master/staff")),
        (Timing("staff_search", f"GET /master/staff?q={SEARCH_Q} (whole page)", "screen"),
         lambda: b.admin.get(f"/master/staff?q={SEARCH_Q}")),
        (Timing("staff_search_rows", f"GET /master/staff?q={SEARCH_Q} (htmx search box: rows only)", "screen"),
         lambda: b.admin.get(f"/master/staff?q={SEARCH_Q}", headers=ROWS_ONLY)),
    ]
    for timing, _ in listed:
        if timing.kind == "screen":
            timing.target_ms, timing.ratio_target = SCREEN_TARGET_MS, FLOOR_RATIO_TARGET
    return listed


# ----------------------------------------------------------------------------- the run


def timed(call) -> int:
    start = time.perf_counter_ns()
    response = call()
    response.get_data()  # the body is part of the work
    elapsed = time.perf_counter_ns() - start
    if response.status_code != 200:
        raise AssertionError(f"unexpected {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


class Placement:
    """Which CPU the bench process and the PostgreSQL backends that serve it run on.

    On this kind of virtual machine a round trip between two processes costs about 40 us
    when both run on the same CPU and about 130 us when the wake-up crosses to another CPU,
    and the scheduler picks one or the other for a whole run: unpinned runs come out in two
    modes some 0.3 ms apart. The main figures are taken with both pinned to one CPU
    ("same"), which is reproducible; a shorter pass with them on two CPUs ("split") shows the
    other case. Needs the backends to be local processes this user may re-pin (the embedded
    server); otherwise nothing is pinned and the run says so.
    """

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.original = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
        cpus = sorted(self.original or ())
        self.cpus = (cpus[0], cpus[1]) if len(cpus) >= 2 else None
        self.mode = "none"

    def _backends(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'showroom-erp'")).scalars())

    def pin(self, mode: str) -> bool:
        """mode: "same", "split" or "none"; False when pinning is not possible here."""
        if self.cpus is None:
            return mode == "none"
        if mode == "none":
            targets = (self.original, self.original)
        else:
            a, b = self.cpus
            targets = ({a}, {a}) if mode == "same" else ({a}, {b})
        try:
            os.sched_setaffinity(0, targets[0])
            for pid in self._backends():
                os.sched_setaffinity(pid, targets[1] if mode != "none" else set(range(os.cpu_count() or 1)))
        except (PermissionError, ProcessLookupError, OSError):
            os.sched_setaffinity(0, self.original)
            return False
        self.mode = mode
        return True

    def describe(self, mode: str) -> str:
        if mode == "same":
            return f"bench process and its PostgreSQL backends pinned to CPU {self.cpus[0]}"
        if mode == "split":
            return f"bench process on CPU {self.cpus[0]}, its PostgreSQL backends on CPU {self.cpus[1]}"
        return "not pinned (the scheduler decides)"


def _loadavg() -> tuple[float, float, float]:
    return os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3


def _timed_rounds(listed, rounds: int, after_round=None) -> None:
    for i in range(rounds):
        k = i % len(listed)  # rotate the order so that no case always follows the same one
        for timing, call in listed[k:] + listed[:k]:
            timing.samples_ns.append(timed(call))
        if after_round:
            after_round(False)


def pinned_rounds(engine, listed, requests: int, warmup: int, progress=print,
                  after_round=None) -> tuple[Placement, str]:
    """Pin the bench and its PostgreSQL backends to one CPU where possible, warm every case up, then
    time them interleaved. ``after_round(warming_up)``, if given, runs after each round (a case timed
    outside the rotation, e.g. a document printed for the first time). Returns the placement and its
    mode; the caller unpins when done."""
    placement = Placement(engine)
    mode = "same" if placement.pin("same") else "none"
    for _ in range(warmup):
        for _, call in listed:
            timed(call)
        if after_round:
            after_round(True)
    placement.pin(mode)  # again: the warm-up may have opened connections
    progress(f"timing: {requests} requests each, interleaved ({placement.describe(mode)}) ...")
    _timed_rounds(listed, requests, after_round)
    return placement, mode


def target_run(engine, listed, requests: int, warmup: int, progress=print, after_round=None, extra=()) -> dict:
    """A module's screens against their targets: ``listed`` is [(Timing, call)] with the floor first and
    each screen's ``target_ms`` set, ``extra`` timings filled by ``after_round``. The run's facts for its
    docs/PERFORMANCE.md block: placement, seconds, floor, load averages and one row per timing."""
    load_before = _loadavg()
    started = time.monotonic()
    placement, mode = pinned_rounds(engine, listed, requests, warmup, progress, after_round)
    seconds = time.monotonic() - started
    load_after = _loadavg()
    placement.pin("none")
    floor = listed[0][0]
    rows = [{"key": t.key, "label": t.label, "median_ms": round(t.median_ms, 2), "p95_ms": round(t.p95_ms, 2),
             "n": len(t.samples_ns), "ratio": round(t.median_ms / floor.median_ms, 1), "target_ms": t.target_ms,
             "met": t.median_ms < t.target_ms}
            for t in [t for t, _ in listed[1:]] + [t for t in extra if t.samples_ns]]
    return {"placement": placement.describe(mode), "seconds": round(seconds, 1), "floor_ms": round(floor.median_ms, 3),
            "floor_p95_ms": round(floor.p95_ms, 3), "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after], "results": rows}


def target_table(rows: list[dict]) -> list[str]:
    """The rows of a target_run as a markdown table."""
    return ["| Case | median ms | p95 ms | ratio to floor | target | met? |", "|---|---:|---:|---:|---|---|"] + [
        f"| {row['label']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | {row['ratio']:.1f}× | "
        f"< {row['target_ms']:g} ms | {'yes' if row['met'] else '**no**'} |" for row in rows]


def print_target_rows(rows: list[dict]) -> None:
    for row in rows:
        print(f"{row['median_ms']:>9.2f} {row['p95_ms']:>9.2f} {row['ratio']:>7.1f}x  "
              f"{'yes' if row['met'] else 'NO ':<3} n={row['n']:<3} {row['label']}")


def run(requests: int = 500, warmup: int = 50, logins: int = 40, breakdown_requests: int = 300,
        split_requests: int = 200, progress=print) -> dict:
    from . import profiling

    with prepared(progress) as b:
        listed = cases(b)
        placement = Placement(b.engine)
        mode = "same" if placement.pin("same") else "none"
        progress(f"placement: {placement.describe(mode)}")
        progress(f"warm-up: {warmup} requests each ...")
        for _ in range(warmup):
            for _, call in listed:
                timed(call)
        placement.pin(mode)  # again: the warm-up may have opened connections
        progress(f"timing: {requests} requests each, interleaved ...")
        load_before = _loadavg()
        started = time.monotonic()
        _timed_rounds(listed, requests)
        seconds = time.monotonic() - started
        load_after = _loadavg()

        counter = RoundTrips(b.engine)
        for timing, call in listed:
            if timing.kind != "reference":
                timing.round_trips = counter.measure(call)

        progress(f"where the time goes: {breakdown_requests} instrumented requests each ...")
        breakdown = profiling.breakdown(b.app, [(t, c) for t, c in listed if t.kind in ("screen", "floor")],
                                      breakdown_requests)

        progress(f"login POST: {logins} logins with production Argon2id ...")
        login_timing, argon = _time_logins(b.app, logins)
        fresh = b.app.test_client()
        token = csrf_from(fresh.get("/login").get_data(as_text=True))
        login_timing.round_trips = counter.measure(
            lambda: fresh.post("/login", data={"staff_code": "ST0002", "pin": BENCH_PIN, "csrf_token": token}))

        floor_ms = listed[0][0].median_ms
        split = None
        if mode == "same" and split_requests and placement.pin("split"):
            progress(f"other placement: {split_requests} requests each, {placement.describe('split')} ...")
            other = [(Timing(t.key, t.label, t.kind), call) for t, call in listed]
            _timed_rounds(other, split_requests)
            split_floor = other[0][0].median_ms
            split = {"placement": placement.describe("split"), "requests": split_requests,
                     "floor_ms": round(split_floor, 3),
                     "results": {t.key: {"median_ms": round(t.median_ms, 3), "p95_ms": round(t.p95_ms, 3),
                                         "ratio": round(t.median_ms / split_floor, 2) if t.kind == "screen" else None}
                                 for t, _ in other}}
        placement.pin("none")
        return {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "requests": requests, "warmup": warmup, "logins": logins, "breakdown_requests": breakdown_requests,
            "placement": placement.describe(mode),
            "postgresql": b.pg_version, "seeded": b.seeded, "seconds": round(seconds, 1),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "floor_ms": round(floor_ms, 3),
            "results": [t.summary(floor_ms) for t, _ in listed]
            + [login_timing.summary(floor_ms), argon.summary(None)],
            "breakdown": breakdown,
            "split": split,
        }


def _time_logins(app: Flask, count: int) -> tuple[Timing, Timing]:
    """A whole successful login POST (a fresh terminal each time), and Argon2id verify alone."""
    from webapp.security import verify_pin

    timing = Timing("login_post", "POST /login (right PIN; Argon2id t=2, 64 MiB)", "login",
                    target_ms=LOGIN_TARGET_MS)
    argon = Timing("argon2_verify", "of which: Argon2id verify alone (`verify_pin`)", "component")
    codes = [f"ST{i:04d}" for i in range(1, STAFF_COUNT) if i % 50][:count]  # every 50th is inactive
    for code in codes[:3] + codes:  # the first three are warm-up
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        start = time.perf_counter_ns()
        response = client.post("/login", data={"staff_code": code, "pin": BENCH_PIN, "csrf_token": token})
        elapsed = time.perf_counter_ns() - start
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        timing.samples_ns.append(elapsed)
    timing.samples_ns = timing.samples_ns[3:]
    with app.extensions["erp_db"].engine.connect() as conn:
        pin_hash = conn.execute(sa.text("SELECT pin_hash FROM master.staff WHERE staff_code = 'ST0001'")).scalar_one()
    with app.app_context():
        for _ in range(count):
            start = time.perf_counter_ns()
            assert verify_pin(pin_hash, BENCH_PIN)
            argon.samples_ns.append(time.perf_counter_ns() - start)
    return timing, argon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--split-requests", type=int, default=200)
    args = parser.parse_args()
    result = run(args.requests, args.warmup, args.logins, split_requests=args.split_requests)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
