"""A busy Saturday (issue 11): many staff at once against the real server, over HTTP.

    .venv/bin/python -m bench.load                          # 10 users, then 50 users, 60 s each
    .venv/bin/python -m bench.load --users 50 --seconds 30  # one size only
    .venv/bin/python -m bench.run_all --only load           # also writes docs/PERFORMANCE.md

What it does:

1. Prepares a bench database with `generate-history`'s five years (bench/sales.py's set-up: one
   branch holding all the data, 500 staff of every role with the bench PIN, must_change_pin false)
   and adds a few more ADMINs there (the set-up has one), so that every virtual user is a
   different member of staff.
2. Starts the real server as a subprocess, exactly as a showroom does:
   ``flask --app wsgi serve --host 127.0.0.1 --port <free port>``, with DATABASE_URL pointing at
   the bench database, its own ERP_INSTANCE_PATH (a temporary folder) and the bench's secrets;
   waits until GET /login answers 200. Whatever ``serve`` runs (waitress threads today, a
   process per worker tomorrow), the server is the process tree under that command.
3. For each size (default 10, then 50 users): every virtual user logs in ONCE (GET /login for
   the CSRF token, a real POST /login with the production Argon2id check, all users at the
   same moment), opens each of its routes once (warm-up, not counted), then clicks without
   pause through the mix in ROUTES for a fixed time and stops. Then the same users hammer the
   floor route (GET /healthz: `SELECT 1`, no session) for the same time.
4. Reports per route and overall: requests, req/s, p50/p95/p99 latency (nearest-rank), errors
   (any status >= 400, a redirect to /login, timeouts, connection errors; by status or
   exception), the ratio mixed req/s / floor req/s, the targets of the issue, the server's
   process count, RSS and PSS (from /proc, summed over its process tree), and the CPU time the
   server and the load client each used: both run on the same machine, so the client's share
   is CPU the server did not have.

The client is aiohttp (asyncio): one process drives 50 users with little CPU of its own (its HTTP
parser is C), which matters when client and server share two cores; one ClientSession per
virtual user keeps that user's cookies and one keep-alive connection, as a browser tab would.
Locust would need gevent and a second process model; httpx's async client costs several times
the CPU per request.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
RESULTS = ROOT / "bench" / "results"

# ----------------------------------------------------------------------------- the mix

# What staff click on a busy Saturday: (key, weight, endpoint, extra capability, path, label).
# Weights are an ADMIN's mix (they add up to 100); every other role draws from the routes its
# role may open (the endpoint's declared roles, webapp/capabilities.py, and the extra capability
# where the data need it: the history holds vehicle invoices only, which only accountants and
# managers may see), with the same weights. {placeholders} are filled per click from ids picked
# from the data; a SALES user opens only their own sales (a salesperson sees only their own).
ROUTES = [
    ("dashboard", 12, "dashboard.home", None, "/", "GET / dashboard"),
    ("vehicles", 9, "inventory.unit_list", None, "/inventory/vehicles", "vehicle list (in stock, page 1)"),
    ("vehicle_search", 9, "inventory.unit_list", None, "/inventory/vehicles?q={fragment}&status=",
     "vehicle search (motor no. fragment, every status)"),
    ("unit", 4, "inventory.unit_detail", None, "/inventory/vehicles/{unit}", "a vehicle unit's page"),
    ("parts", 9, "inventory.part_stock_list", None, "/inventory/parts", "parts stock list"),
    ("pipeline", 10, "sales.pipeline", None, "/sales/", "sales pipeline (/sales/)"),
    ("sale", 13, "sales.booking_detail", None, "/sales/bookings/{booking}", "a sale page"),
    ("sales_register", 8, "billing.sales_register", None,
     "/billing/registers/sales?kind=VEHICLE&from={fy_start}&to={today}", "sales register (vehicle, this FY)"),
    ("receivables", 6, "billing.receivables", None, "/billing/registers/receivables", "receivables register"),
    ("invoice", 8, "billing.invoice_detail", "invoice.read_vehicle", "/billing/invoices/{invoice}",
     "an invoice page"),
    ("invoice_pdf", 5, "billing.invoice_pdf", "invoice.read_vehicle", "/billing/invoices/{invoice}/pdf",
     "an invoice PDF (three copies)"),
    ("staff", 7, "master.staff_list", None, "/master/staff", "staff list"),
]
FLOOR = ("floor", 1, "platform.healthz", None, "/healthz", "**Floor**: GET /healthz (`SELECT 1`, no session)")

# Who the virtual users are: user i has ROLE_CYCLE[i % 10] (10 users: 4 SALES, 2 ACCOUNTS,
# 2 SERVICE_ADVISOR, 1 MANAGER, 1 ADMIN; 50 users: five times that).
ROLE_CYCLE = ("SALES", "ACCOUNTS", "SERVICE_ADVISOR", "MANAGER", "SALES", "ADMIN", "SALES", "ACCOUNTS",
              "SERVICE_ADVISOR", "SALES")
EXTRA_ADMINS = 30  # the set-up has one ADMIN; every virtual user is a different member of staff

# The issue's targets, by number of users.
TARGETS = {50: {"rps": 200.0, "p95_ms": 150.0, "errors": 0}, 10: {"p95_ms": 50.0}}

REQUEST_TIMEOUT_S = 30.0
ID_POOL = 400  # bookings, invoices, units picked at random from the data
SCRUBBED = ("DATABASE_URL", "APP_DATABASE_URL", "ERP_PGDATA", "SECRET_KEY", "PIN_PEPPER", "ERP_INSTANCE_PATH",
            "FLASK_APP", "ERP_HOST", "ERP_PORT", "ERP_PIN_HASH_TIME_COST", "ERP_PIN_HASH_MEMORY_KIB")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Route:
    key: str
    weight: int
    endpoint: str
    extra: str | None
    path: str
    label: str
    roles: frozenset = frozenset()


def routes(app, table=ROUTES) -> list[Route]:
    """The table, with the roles that may open each route worked out from the app itself; checks
    that each path really is served by its endpoint."""
    from webapp.capabilities import role_can
    from webapp.security import PUBLIC, allowed_roles

    adapter = app.url_map.bind("127.0.0.1")
    listed = []
    for row in table:
        route = Route(*row)
        sample = route.path.split("?")[0].format(fragment="x", unit=1, booking=1, invoice=1, fy_start="", today="")
        endpoint, _ = adapter.match(sample, method="GET")
        assert endpoint == route.endpoint, f"{route.path} is served by {endpoint}, not {route.endpoint}"
        declared = allowed_roles(app.view_functions[route.endpoint], "GET")
        roles = set(ROLE_CYCLE) if declared == PUBLIC else set(declared or ())
        if route.extra:
            roles = {r for r in roles if role_can(r, route.extra)}
        route.roles = frozenset(roles)
        listed.append(route)
    return listed


def role_shares(listed: list[Route]) -> dict[str, dict[str, float]]:
    """Each role's share of clicks per route (percent)."""
    shares = {}
    for role in dict.fromkeys(ROLE_CYCLE):
        mine = [r for r in listed if role in r.roles]
        total = sum(r.weight for r in mine)
        shares[role] = {r.key: round(100 * r.weight / total, 1) for r in mine}
    return shares


# ----------------------------------------------------------------------------- statistics


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Stats:
    """Latencies (ms) and errors of one route in one phase."""
    key: str
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    def summary(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)  # every answered request; timeouts and connection errors have none
        requests = len(ordered) + sum(v for k, v in self.errors.items() if k == "timeout" or k.startswith("conn:"))
        return {"key": self.key, "label": self.label, "requests": requests,
                "rps": round(requests / seconds, 1) if seconds else None,
                "p50_ms": _r(percentile(ordered, 50)), "p95_ms": _r(percentile(ordered, 95)),
                "p99_ms": _r(percentile(ordered, 99)), "max_ms": _r(ordered[-1] if ordered else None),
                "errors": sum(self.errors.values()), "error_kinds": dict(self.errors)}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def merged(key: str, label: str, parts: list[Stats]) -> Stats:
    total = Stats(key, label)
    for s in parts:
        total.latencies.extend(s.latencies)
        total.errors.update(s.errors)
    return total


# ----------------------------------------------------------------------------- the server's process tree


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def tree_usage(pid: int) -> dict:
    """Processes, total RSS and PSS (KiB) and CPU seconds (user + system) of pid's process tree.
    RSS counts pages shared between forked workers once per process; PSS splits them."""
    tick = os.sysconf("SC_CLK_TCK")
    rss = pss = 0
    cpu = 0.0
    pids, names = [], Counter()
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pids.append(p)
        names[re.search(r"Name:\s+(\S+)", status).group(1)] += 1
        found = re.search(r"VmRSS:\s+(\d+)", status)
        rss += int(found.group(1)) if found else 0
        cpu += (int(stat[11]) + int(stat[12])) / tick
        try:
            found = re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{p}/smaps_rollup").read_text(), re.M)
            pss += int(found.group(1)) if found else 0
        except OSError:
            pass
    return {"processes": len(pids), "pids": pids, "names": dict(names), "rss_kib": rss, "pss_kib": pss,
            "cpu_s": round(cpu, 2)}


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`flask --app wsgi serve --host 127.0.0.1 --port <free>` on the bench database, its output in a log."""

    def __init__(self, database_url: str, config: dict, instance: str, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update({"DATABASE_URL": database_url, "ERP_INSTANCE_PATH": instance, "PYTHONUNBUFFERED": "1",
                    "SECRET_KEY": config["SECRET_KEY"], "PIN_PEPPER": config["PIN_PEPPER"],
                    "ERP_APP_ROLE": config["APP_DB_ROLE"],
                    # the production PIN hashing, stated: a test setting must never leak into the figures
                    "ERP_PIN_HASH_TIME_COST": "2", "ERP_PIN_HASH_MEMORY_KIB": "65536"})
        self.command = FLASK + ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(log, "ab") as out:
            # As `make run` does: init-db first (a no-op on the migrated bench database, unless a function
            # file of sql/functions/ changed since), then serve.
            init = subprocess.run(FLASK + ["init-db"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=300)
            if init.returncode != 0:
                raise RuntimeError(f"init-db failed with {init.returncode}:\n{self.log_tail()}")
            # Its own session: a Ctrl+C on the bench must not reach the server mid-request.
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self.known_pids: set[int] = {self.process.pid}

    def wait_ready(self, timeout: float = 120) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}; see {self.log}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer GET /login within {timeout:g} s; see {self.log}")

    def usage(self) -> dict:
        usage = tree_usage(self.process.pid)
        self.known_pids.update(usage["pids"])
        return usage

    def banner(self) -> str:
        """What serve said about itself ("Showroom ERP on ... (N threads, ...)")."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return next((ln.strip() for ln in lines if ln.startswith("Showroom ERP on")), "")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_problems(self) -> dict:
        """What the server logged that looks like a failure: tracebacks and ERROR/CRITICAL lines."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        lines = text.splitlines()
        bad = [ln for ln in lines if re.search(r"\b(ERROR|CRITICAL)\b|Traceback|Exception", ln)]
        exceptions = Counter(m.group(0) for ln in lines
                             for m in [re.match(r"^[\w.]+(Error|Exception|Timeout)\b", ln)] if m)
        depths = [int(m.group(1)) for ln in lines for m in [re.search(r"Task queue depth is (\d+)", ln)] if m]
        return {"log_lines": len(lines), "tracebacks": text.count("Traceback (most recent call last)"),
                "error_lines": len(bad), "first_error_lines": bad[:20], "exceptions": dict(exceptions),
                "queue_warnings": len(depths), "max_queue_depth": max(depths, default=0)}

    def stop(self) -> None:
        """SIGTERM (a service stop), then whatever of the tree we saw is left, by pid."""
        try:
            self.usage()
        except OSError:
            pass
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in sorted(self.known_pids - {self.process.pid}):
            try:
                os.kill(pid, signal.SIGTERM)  # a worker the server left behind: ours, by its pid
            except (ProcessLookupError, PermissionError):
                pass


# ----------------------------------------------------------------------------- data and users


@dataclass
class Staff:
    staff_id: int
    code: str
    role: str


@dataclass
class Data:
    bookings: list[int]
    invoices: list[int]
    units: list[int]
    fragments: list[str]
    fy_start: str
    today: str
    own_bookings: dict[int, list[int]] = field(default_factory=dict)


def local_postmaster(engine) -> int | None:
    """The PostgreSQL server's main process when it runs on this machine (the embedded bench server),
    found as the parent of this connection's backend; None for a server elsewhere."""
    with engine.connect() as conn:
        backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    try:
        stat = Path(f"/proc/{backend}/stat").read_text()
        if "postgres" not in Path(f"/proc/{backend}/comm").read_text():
            return None
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def fy_start(d: date) -> date:
    return date(d.year if d.month >= 4 else d.year - 1, 4, 1)


def seed_admins(engine, admin_code: str, count: int = EXTRA_ADMINS) -> None:
    """More ADMINs in the bench's branch, with the bench ADMIN's PIN hash (the same PIN)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            """INSERT INTO master.staff (staff_code, name, designation, branch_id, phone, pin_hash, must_change_pin,
                                         is_active)
               SELECT 'LOADADM' || lpad(i::text, 2, '0'), 'Load Admin ' || i, 'ADMIN', s.branch_id,
                      '97' || lpad(i::text, 8, '0'), s.pin_hash, false, true
                 FROM master.staff s, generate_series(1, :n) AS i
                WHERE s.staff_code = :admin"""), {"n": count, "admin": admin_code})


def pick_data(engine, today: date, invoice_pool: int = ID_POOL, seed: float = 0.42) -> Data:
    """Ids to click on, picked at random (repeatably) from the five years of data."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT setseed(:s)"), {"s": seed})
        bookings = list(conn.execute(sa.text(
            "SELECT booking_id FROM sales.booking ORDER BY random() LIMIT :n"), {"n": ID_POOL}).scalars())
        invoices = list(conn.execute(sa.text(
            "SELECT invoice_id FROM billing.invoice WHERE kind = 'VEHICLE' ORDER BY random() LIMIT :n"),
            {"n": invoice_pool}).scalars())
        units = list(conn.execute(sa.text(
            "SELECT unit_id FROM inventory.vehicle_unit ORDER BY random() LIMIT :n"), {"n": ID_POOL}).scalars())
        fragments = list(conn.execute(sa.text(
            "SELECT substr(motor_no, 6, 5) FROM inventory.vehicle_unit ORDER BY random() LIMIT 100")).scalars())
    return Data(bookings, invoices, units, fragments, fy_start(today).isoformat(), today.isoformat())


class StaffPool:
    """Hands out active staff by role, each once (every virtual user is a different person)."""

    def __init__(self, engine, data: Data):
        self.engine, self.data = engine, data
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                """SELECT s.staff_id, s.staff_code, s.designation FROM master.staff s
                    WHERE s.is_active AND NOT s.must_change_pin
                      AND (s.designation <> 'SALES'
                           OR (SELECT count(*) FROM sales.booking b WHERE b.salesperson_id = s.staff_id) >= 20)
                    ORDER BY s.staff_id""")).all()
        self.free: dict[str, list[Staff]] = {}
        for staff_id, code, role in rows:
            self.free.setdefault(role, []).append(Staff(staff_id, code, role))

    def take(self, role: str) -> Staff:
        if not self.free.get(role):
            raise RuntimeError(f"no more active {role} staff in the bench database for another virtual user")
        staff = self.free[role].pop(0)
        if role == "SALES":
            with self.engine.connect() as conn:
                self.data.own_bookings[staff.staff_id] = list(conn.execute(sa.text(
                    "SELECT booking_id FROM sales.booking WHERE salesperson_id = :s ORDER BY booking_id DESC LIMIT 40"),
                    {"s": staff.staff_id}).scalars())
        return staff

    def users(self, count: int) -> list[Staff]:
        return [self.take(ROLE_CYCLE[i % len(ROLE_CYCLE)]) for i in range(count)]


# ----------------------------------------------------------------------------- the virtual users


class User:
    """One member of staff in one browser tab: own cookies, one keep-alive connection."""

    def __init__(self, staff: Staff, base: str, listed: list[Route], data: Data, seed: int):
        import aiohttp

        self.staff, self.base, self.data = staff, base, data
        self.rng = random.Random(seed)
        self.routes = [r for r in listed if staff.role in r.roles]
        self.weights = [r.weight for r in self.routes]
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies from a bare IP address (127.0.0.1)
            connector=aiohttp.TCPConnector(limit=1), timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))

    def path(self, route: Route) -> str:
        d, rng = self.data, self.rng
        bookings = d.own_bookings.get(self.staff.staff_id) if self.staff.role == "SALES" else d.bookings
        return route.path.format(
            booking=rng.choice(bookings or d.bookings), invoice=rng.choice(d.invoices), unit=rng.choice(d.units),
            fragment=rng.choice(d.fragments), fy_start=d.fy_start, today=d.today)

    def pick(self) -> Route:
        return self.rng.choices(self.routes, self.weights)[0]

    async def login(self, pin: str) -> float:
        """GET /login, then the real POST with its CSRF token; returns the POST's seconds."""
        async with self.session.get(self.base + "/login") as response:
            html = await response.text()
            if response.status != 200:
                raise RuntimeError(f"GET /login answered {response.status}")
        token = CSRF_META.search(html)
        if not token:
            raise RuntimeError("GET /login has no csrf-token meta")
        started = time.perf_counter()
        async with self.session.post(self.base + "/login", allow_redirects=False, data={
                "staff_code": self.staff.code, "pin": pin, "csrf_token": token.group(1)}) as response:
            await response.read()
            elapsed = time.perf_counter() - started
            if response.status != 303 or response.headers.get("Location", "").startswith("/login"):
                raise RuntimeError(f"login of {self.staff.code} ({self.staff.role}) answered {response.status} "
                                   f"-> {response.headers.get('Location')}")
        return elapsed

    async def get(self, path: str, stats: Stats) -> None:
        import aiohttp

        started = time.perf_counter()
        try:
            async with self.session.get(self.base + path, allow_redirects=False) as response:
                await response.read()
                elapsed_ms = (time.perf_counter() - started) * 1000
                status = response.status
                location = response.headers.get("Location", "")
        except asyncio.TimeoutError:
            stats.errors["timeout"] += 1
            return
        except aiohttp.ClientError as exc:
            stats.errors[f"conn:{type(exc).__name__}"] += 1
            return
        stats.latencies.append(elapsed_ms)
        if status >= 400:
            stats.errors[str(status)] += 1
        elif 300 <= status < 400 and location.split("?")[0].endswith("/login"):
            stats.errors[f"{status}->/login"] += 1  # the session was lost: as good as an error

    async def close(self) -> None:
        await self.session.close()


async def _click(user: User, until: float, stats: dict[str, Stats], only: Route | None) -> None:
    while time.monotonic() < until:
        route = only or user.pick()
        await user.get(user.path(route), stats[route.key])


def postgres_cpu(pid: int | None) -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes (postmaster and its children)."""
    return tree_usage(pid)["cpu_s"] if pid else None


async def timed_phase(users: list[User], seconds: float, listed: list[Route], server: Server,
                      only: Route | None = None, postgres_pid: int | None = None) -> dict:
    """Every user clicks without pause for `seconds`; per-route and overall figures."""
    stats = {r.key: Stats(r.key, r.label) for r in ([only] if only else listed)}
    pg_before = postgres_cpu(postgres_pid)
    before, client_before = server.usage(), time.process_time()
    load_before = os.getloadavg()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(_click(u, until, stats, only) for u in users))
    elapsed = time.monotonic() - started  # requests in flight at the deadline are finished and counted
    after, client_cpu = server.usage(), time.process_time() - client_before
    pg_after = postgres_cpu(postgres_pid)
    rows = [s.summary(elapsed) for s in stats.values() if s.latencies or s.errors]
    overall = merged("overall", "**all routes**", list(stats.values())).summary(elapsed)
    return {"users": len(users), "seconds": round(elapsed, 2), "routes": rows, "overall": overall,
            "server_cpu_s": round(after["cpu_s"] - before["cpu_s"], 1), "client_cpu_s": round(client_cpu, 1),
            "postgres_cpu_s": None if pg_before is None else round(pg_after - pg_before, 1),
            "loadavg_before": round(load_before[0], 2), "loadavg_after": round(os.getloadavg()[0], 2),
            "server_after": {k: after[k] for k in ("processes", "rss_kib", "pss_kib")}}


async def log_in(users: list[User], pin: str) -> dict:
    """Everyone logs in at the same moment (Saturday, 10 a.m.)."""
    started = time.monotonic()
    seconds = sorted(await asyncio.gather(*(u.login(pin) for u in users)))
    return {"logins": len(seconds), "wall_s": round(time.monotonic() - started, 2),
            "p50_ms": _r(1000 * percentile(seconds, 50)), "max_ms": _r(1000 * seconds[-1])}


async def warm_up(users: list[User], pdf_users: int = 3) -> None:
    """Each user opens each of its routes once (PDFs: only the first few users), not counted."""
    throwaway: dict[str, Stats] = {}

    async def one(i: int, user: User):
        for route in user.routes:
            if route.key == "invoice_pdf" and i >= pdf_users:
                continue
            await user.get(user.path(route), throwaway.setdefault(route.key, Stats(route.key, "")))

    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    failed = {k: dict(s.errors) for k, s in throwaway.items() if s.errors}
    if failed:
        raise RuntimeError(f"warm-up requests failed: {failed}")


def targets_met(users: int, mixed: dict) -> dict:
    target = TARGETS.get(users)
    if not target:
        return {}
    overall = mixed["overall"]
    met = {}
    if "rps" in target:
        met["rps"] = {"target": f">= {target['rps']:g} req/s", "value": overall["rps"],
                      "met": overall["rps"] >= target["rps"]}
    if "p95_ms" in target:
        met["p95_ms"] = {"target": f"p95 < {target['p95_ms']:g} ms", "value": overall["p95_ms"],
                         "met": overall["p95_ms"] is not None and overall["p95_ms"] < target["p95_ms"]}
    if "errors" in target:
        met["errors"] = {"target": f"{target['errors']} errors", "value": overall["errors"],
                         "met": overall["errors"] <= target["errors"]}
    return met


# ----------------------------------------------------------------------------- set-up shared with bench/soak.py


class Bench:
    """The bench database with five years of data, seeded staff, and the real server on it."""

    def __init__(self, progress=print, invoice_pool: int = ID_POOL, prefix: str = "erp-bench-load-"):
        from contextlib import ExitStack

        from . import sales
        from .screens import ADMIN_CODE, BENCH_PIN

        self.progress, self.pin = progress, BENCH_PIN
        self.stack = ExitStack()
        try:
            stack, b = sales.prepared(progress)
            self.stack.enter_context(stack)
            self.b = b
            seed_admins(b.engine, ADMIN_CODE)
            with b.engine.connect() as conn:
                self.sizes = {"staff": conn.execute(sa.text("SELECT count(*) FROM master.staff")).scalar_one(),
                              **b.counts}
            self.data = pick_data(b.engine, b.today, invoice_pool)
            self.postgres_pid = local_postmaster(b.engine)
            self.pool = StaffPool(b.engine, self.data)
            self.listed = routes(b.app)
            self.log_dir = Path(tempfile.mkdtemp(prefix=prefix))
            self.stack.callback(shutil.rmtree, self.log_dir, True)
            progress("starting the server: flask --app wsgi serve --host 127.0.0.1 ...")
            self.server = Server(b.app.config["DATABASE_URL"], b.app.config, b.app.instance_path,
                                 self.log_dir / "serve.log")
            self.stack.callback(self._stop_server)
            self.ready_s = self.server.wait_ready()
            self.server_at_start = self.server.usage()
            progress(f"server up on {self.server.base} in {self.ready_s:.1f} s "
                     f"({self.server_at_start['processes']} process(es))")
        except BaseException:
            self.stack.close()
            raise

    def _stop_server(self) -> None:
        self.server.stop()  # first: what the server says while stopping belongs in the log too
        self.problems = self.server.log_problems()
        RESULTS.mkdir(parents=True, exist_ok=True)
        kept = RESULTS / f"serve-{time.strftime('%Y%m%d-%H%M%S')}.log"
        try:
            shutil.copyfile(self.server.log, kept)
            self.kept_log = str(kept.relative_to(ROOT))
        except OSError:
            self.kept_log = None

    def users(self, count: int, listed: list[Route] | None = None, roles: tuple[str, ...] | None = None,
              data: Data | None = None) -> list[User]:
        staff = ([self.pool.take(roles[i % len(roles)]) for i in range(count)] if roles
                 else self.pool.users(count))
        return [User(s, self.server.base, listed or self.listed, data or self.data, seed=s.staff_id)
                for s in staff]

    def close(self) -> None:
        self.stack.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def server_description(bench: Bench) -> str:
    return " ".join(["flask", "--app", "wsgi", "serve", "--host", "127.0.0.1", "--port", str(bench.server.port)])


# ----------------------------------------------------------------------------- the run


async def _one_size(bench: Bench, count: int, seconds: float) -> dict:
    progress = bench.progress
    users = bench.users(count)
    try:
        progress(f"{count} users: logging in at once ...")
        logins = await log_in(users, bench.pin)
        progress(f"{count} users: warm-up (each route once) ...")
        await warm_up(users)
        progress(f"{count} users: clicking the mix for {seconds:g} s ...")
        mixed = await timed_phase(users, seconds, bench.listed, bench.server, postgres_pid=bench.postgres_pid)
        floor_route = Route(*FLOOR)
        progress(f"{count} users: GET /healthz (floor) for {seconds:g} s ...")
        floor = await timed_phase(users, seconds, bench.listed, bench.server, only=floor_route,
                                  postgres_pid=bench.postgres_pid)
    finally:
        await asyncio.gather(*(u.close() for u in users))
    roles = Counter(u.staff.role for u in users)
    ratio = (mixed["overall"]["rps"] / floor["overall"]["rps"]) if floor["overall"]["rps"] else None
    return {"users": count, "roles": dict(roles), "logins": logins, "mixed": mixed, "floor": floor,
            "ratio": None if ratio is None else round(ratio, 3), "targets": targets_met(count, mixed)}


async def print_when_posted(bench: Bench, parallel: int = 4) -> dict:
    """Each invoice of the pool printed once, as the counter does when it posts it: the mixed run's
    PDFs are then reprints (a kept PDF read back, webapp/pdf.py), as a Saturday's are. Timed."""
    users = bench.users(parallel, roles=("ACCOUNTS",))
    stats = Stats("first_print", "")
    started = time.monotonic()
    try:
        await log_in(users, bench.pin)
        queue = list(bench.data.invoices)

        async def printer(user: User):
            while queue:
                await user.get(f"/billing/invoices/{queue.pop()}/pdf", stats)

        await asyncio.gather(*(printer(u) for u in users))
    finally:
        await asyncio.gather(*(u.close() for u in users))
    if stats.errors:
        raise RuntimeError(f"first prints failed: {dict(stats.errors)}")
    return {"invoices": len(bench.data.invoices), "parallel": parallel, "wall_s": round(time.monotonic() - started, 1),
            **{k: v for k, v in stats.summary(time.monotonic() - started).items() if k in ("p50_ms", "p95_ms")}}


def run(user_counts=(10, 50), seconds: float = 60, progress=print, printed: bool = True) -> dict:
    with Bench(progress) as bench:
        first_prints = None
        if printed:
            progress(f"printing the {len(bench.data.invoices)} invoices of the pool once, as when they were posted ...")
            first_prints = asyncio.run(print_when_posted(bench))
        sizes = []
        for count in user_counts:
            sizes.append(asyncio.run(_one_size(bench, count, seconds)))
        at_end = bench.server.usage()
        result = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "postgresql": bench.b.pg_version,
            "generated": bench.b.counts, "generated_s": round(bench.b.generated_s, 1), "staff": bench.sizes["staff"],
            "server_command": server_description(bench), "server_ready_s": round(bench.ready_s, 2),
            "server_banner": bench.server.banner(),
            "server_at_start": {k: bench.server_at_start[k] for k in ("processes", "rss_kib", "pss_kib")},
            "server_at_end": {k: at_end[k] for k in ("processes", "names", "rss_kib", "pss_kib")},
            "seconds": seconds, "routes": [(r.key, r.weight, r.path, r.label, sorted(r.roles)) for r in bench.listed],
            "role_shares": role_shares(bench.listed), "sizes": sizes,
            "invoice_pool": len(bench.data.invoices), "id_pool": ID_POOL, "first_prints": first_prints,
        }
    result["server_log"] = bench.problems
    result["server_log_file"] = bench.kept_log
    return result


# ----------------------------------------------------------------------------- reporting


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _errors(row: dict) -> str:
    if not row["errors"]:
        return "0"
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(row["error_kinds"].items()))
    return f"**{row['errors']}** ({kinds})"


def _said(r: dict, lead: str = " (") -> str:
    """What serve said about itself, quoted, when it said it."""
    banner = r.get("server_banner")
    if not banner:
        return ""
    return f'{lead}it said "{banner}"' + (")" if lead == " (" else "")


def _per_request(phase: dict) -> str:
    """CPU milliseconds per request of the mix, in the server and in PostgreSQL."""
    n = phase["overall"]["requests"]
    if not n:
        return "no requests"
    pg = phase.get("postgres_cpu_s")
    return (f"CPU per request: server {1000 * phase['server_cpu_s'] / n:.1f} ms"
            + ("" if pg is None else f", PostgreSQL {1000 * pg / n:.1f} ms"))


def _cpu(value) -> str:
    return "—" if value is None else f"{value}"


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def route_table(phase: dict, floor: dict | None = None) -> list[str]:
    lines = ["| Route | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    rows = ([floor["overall"] | {"label": FLOOR[5]}] if floor else []) + phase["routes"] + [phase["overall"]]
    for row in rows:
        lines.append(f"| {row['label']} | {row['requests']:,} | {row['rps']:.1f} | {_ms(row['p50_ms'])} | "
                     f"{_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | {_ms(row['max_ms'])} | {_errors(row)} |")
    return lines


def load_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:load)."""
    from .run_all import machine

    info = machine()
    g = r["generated"]
    lines = [
        f"Measured {r['date']} on {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, "
        f"PostgreSQL {r['postgresql']}, with `generate-history`'s five years ({g['bookings']:,} bookings, "
        f"{g['invoices']:,} vehicle invoices, {g['units']:,} vehicle units, {g['parts']:,} parts, "
        f"{g['moves']:,} stock moves) and {r['staff']} staff. Server: `{r['server_command']}` as a subprocess "
        f"(up in {r['server_ready_s']} s{_said(r, '; ')}), the load client (aiohttp, one process) on the same machine. "
        f"Each size: every user logs in once at the same moment, opens each of its routes once (not counted), "
        f"then clicks without pause for {r['seconds']:g} s; then the same users request the floor route "
        "for as long. Latency is from sending the request to the last byte of the answer, nearest-rank "
        "percentiles; an error is any status >= 400, a redirect to /login, a timeout "
        f"({REQUEST_TIMEOUT_S:g} s) or a connection error. Ids (sales, invoices, units, search fragments) are "
        f"picked at random from the data ({r['id_pool']} of each); a SALES user opens only its own sales. "
        + first_prints_said(r),
        "",
        "| Users | roles | logins (all at once) | mixed req/s | floor req/s | ratio | p95 ms | errors | "
        "CPU s: server / PostgreSQL / client | target | met? |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for size in r["sizes"]:
        m, f = size["mixed"], size["floor"]
        roles = ", ".join(f"{v} {k}" for k, v in sorted(size["roles"].items()))
        lg = size["logins"]
        targets = size["targets"]
        target = "; ".join(t["target"] for t in targets.values())
        met = "; ".join(("yes" if t["met"] else f"**no** ({t['value']})") for t in targets.values())
        ratio = f"{size['ratio']:.2f}" if size["ratio"] is not None else "—"
        lines.append(f"| {size['users']} | {roles} | {lg['wall_s']} s (POST p50 {lg['p50_ms']:.0f} ms) | "
                     f"{m['overall']['rps']:.1f} | {f['overall']['rps']:.1f} | {ratio} | "
                     f"{_ms(m['overall']['p95_ms'])} | {m['overall']['errors'] + f['overall']['errors']} | "
                     f"{m['server_cpu_s']} / {_cpu(m['postgres_cpu_s'])} / {m['client_cpu_s']} | {target} | {met} |")
    for size in r["sizes"]:
        m = size["mixed"]
        lines += ["", f"**{size['users']} users** ({m['seconds']} s mixed; load average "
                      f"{m['loadavg_before']} before, {m['loadavg_after']} after; {_per_request(m)}):", ""]
        lines += route_table(m, size["floor"])
    start, end = r["server_at_start"], r["server_at_end"]
    shares = ", ".join(f"{role}: " + " ".join(f"{k} {v:g}%" for k, v in s.items())
                       for role, s in r["role_shares"].items())
    log = r.get("server_log") or {}
    lines += [
        "",
        f"Server process tree: {start['processes']} process(es), RSS {_mib(start['rss_kib'])} "
        f"(PSS {_mib(start['pss_kib'])}) when it was up; {end['processes']} process(es) "
        f"({', '.join(f'{v} {k}' for k, v in end['names'].items())}), RSS {_mib(end['rss_kib'])} "
        f"(PSS {_mib(end['pss_kib'])}) at the end. Server log: {log.get('tracebacks', 0)} tracebacks, "
        f"{log.get('error_lines', 0)} error lines"
        + (f", {log['queue_warnings']} waitress \"task queue depth\" warnings (deepest {log['max_queue_depth']})"
           if log.get("queue_warnings") else "") + ".",
        "",
        f"Mix by role (share of clicks): {shares}.",
    ]
    return "\n".join(lines)


def first_prints_said(r: dict) -> str:
    f = r.get("first_prints")
    if not f:
        return ("The pool's invoices were not printed beforehand (--cold-pdfs): every PDF of the mix may be a "
                "first print, laid out by WeasyPrint.")
    return (f"Before the timed runs the {f['invoices']} invoices of the pool were each printed once ({f['parallel']} "
            f"at a time, {f['wall_s']} s, p50 {_ms(f['p50_ms'])} ms, p95 {_ms(f['p95_ms'])} ms per first print), as "
            "the counter prints an invoice when it posts it: the mix's PDFs are reprints, read back from the kept "
            "PDFs (`--cold-pdfs` leaves this out).")


def print_result(r: dict) -> None:
    print(first_prints_said(r))
    for size in r["sizes"]:
        m, f = size["mixed"], size["floor"]
        print(f"\n== {size['users']} users ({', '.join(f'{v} {k}' for k, v in sorted(size['roles'].items()))}); "
              f"logins: {size['logins']}")
        print(f"{'route':<18}{'requests':>9}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}  errors")
        for row in [f["overall"] | {"key": "FLOOR /healthz"}] + m["routes"] + [m["overall"]]:
            errors = row["errors"] and f"{row['errors']} {row['error_kinds']}" or "0"
            print(f"{row['key']:<18}{row['requests']:>9}{row['rps']:>8.1f}{_ms(row['p50_ms']):>8}"
                  f"{_ms(row['p95_ms']):>8}{_ms(row['p99_ms']):>8}{_ms(row['max_ms']):>9}  {errors}")
        print(f"ratio mixed/floor req/s: {size['ratio']}; CPU s: server {m['server_cpu_s']}, PostgreSQL "
              f"{m['postgres_cpu_s']}, client {m['client_cpu_s']} in {m['seconds']} s; load avg "
              f"{m['loadavg_before']} -> {m['loadavg_after']}; {_per_request(m)}")
        for name, t in size["targets"].items():
            print(f"  target {t['target']}: {t['value']} -> {'met' if t['met'] else 'NOT met'}")
    s, e = r["server_at_start"], r["server_at_end"]
    print(f"\nserver: {s['processes']} process(es) RSS {_mib(s['rss_kib'])} at start; {e['processes']} process(es) "
          f"{e['names']} RSS {_mib(e['rss_kib'])} PSS {_mib(e['pss_kib'])} at the end")
    log = r.get("server_log") or {}
    print(f"server log ({r.get('server_log_file')}): {log.get('tracebacks')} tracebacks, "
          f"{log.get('error_lines')} error lines {log.get('exceptions') or ''}; {log.get('queue_warnings')} "
          f"waitress queue warnings (deepest {log.get('max_queue_depth')})")
    for line in log.get("first_error_lines", [])[:10]:
        print("   ", line[:200])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A busy Saturday: N staff at once against the real server.")
    parser.add_argument("--users", default="10,50", help="comma-separated sizes, run one after the other")
    parser.add_argument("--seconds", type=float, default=60, help="clicking time per size (and as long on the floor)")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON too")
    parser.add_argument("--cold-pdfs", action="store_true",
                        help="skip printing the pool's invoices first: every PDF of the mix is then a first print")
    args = parser.parse_args(argv)
    counts = tuple(int(n) for n in args.users.split(","))
    result = run(counts, args.seconds, progress=lambda m: print(f"[load] {m}", file=sys.stderr, flush=True),
                 printed=not args.cold_pdfs)
    print_result(result)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
