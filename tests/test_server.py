"""`flask --app wsgi serve` as the showroom runs it: gunicorn worker processes on every core, a
connection budget that must fit PostgreSQL, the embedded PostgreSQL's settings for the PC, and an
embedded PostgreSQL that stops when the ERP dies, even by SIGKILL, unless another ERP command still
uses it.

The served tests run `init-db` and `serve` as subprocesses on an embedded PostgreSQL of their own in
a scratch folder (not pytest's tmp_path, which is owner-only: as root, pgserver runs PostgreSQL as the
user 'pgserver', who must reach it); the tests' shared database is not touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from test_faults import free_port, postmaster_pid, status_of, wait_for

from webapp.pg_settings import GB, MB, ConnectionBudget, budget_problem, connection_budget, embedded_settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
GONE_WITHIN = 60  # seconds: generous; the guardian usually stops the server in about one


def alive(pid: int | None) -> bool:
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _cmdline(process: psutil.Process) -> list[str]:
    """A live process's command line; nothing for one that has ended (a zombie not yet reaped)."""
    try:
        return process.cmdline()
    except psutil.Error:
        return []


class Showroom:
    """An instance folder of its own: `init-db`, then `serve` on a free port."""

    def __init__(self, folder: Path, **settings: str):
        self.folder = folder
        self.pgdata = folder / "instance" / "pgdata"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "APP_DATABASE_URL", "TEST_DATABASE_URL", "ERP_PGDATA")}
        # ERP_PDF_WORKERS=0: no render process warmed per worker (WeasyPrint and its fonts loaded in each,
        # seconds of CPU); nothing here prints, and tests/test_printed_documents.py covers those processes.
        self.env.update(ERP_INSTANCE_PATH=str(folder / "instance"), ERP_DB_WATCH_SECONDS="1", PYTHONUNBUFFERED="1",
                        ERP_PDF_WORKERS="0", **settings)
        self.server: subprocess.Popen | None = None
        self.console = folder / "console.log"
        self.base = ""

    def run(self, *args: str, **more_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(FLASK + list(args), cwd=ROOT, env={**self.env, **more_env}, capture_output=True,
                              text=True, timeout=300)

    def init_db(self) -> None:
        done = self.run("init-db")
        assert done.returncode == 0, done.stdout + done.stderr

    def init_db_from(self, instance: Path) -> None:
        """The instance folder another showroom's `init-db` made, copied (a stopped PostgreSQL's files; cp -a
        keeps them the user 'pgserver''s): a showroom as `init-db` leaves it, without initdb and every
        migration again."""
        self.folder.mkdir(parents=True)
        subprocess.run(["cp", "-a", str(instance), str(self.folder / "instance")], check=True)

    def serve(self) -> subprocess.Popen:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with open(self.console, "w") as out:
            self.server = subprocess.Popen(FLASK + ["serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                           env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: self.server.poll() is None and status_of(self.base + "/login") in (200, 302), 120,
                 lambda: "GET /login to answer; the console said:\n" + self.console.read_text())
        return self.server

    def workers(self) -> list[psutil.Process]:
        """serve's worker processes: its children running the same command (not the guardian)."""
        return [p for p in psutil.Process(self.server.pid).children() if "serve" in _cmdline(p)]

    def guardian(self) -> psutil.Process:
        (found,) = [p for p in psutil.Process(self.server.pid).children()
                    if any(part.endswith("embedded_guard.py") for part in _cmdline(p))]
        return found

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(60)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(10)
        pid = postmaster_pid(self.pgdata)
        if alive(pid):  # whatever a failed test left running
            os.kill(pid, signal.SIGTERM)


@pytest.fixture
def showroom():
    folder = Path(tempfile.mkdtemp(prefix="erp-server-"))
    made = []

    def make(**settings: str) -> Showroom:
        shop = Showroom(folder / f"shop{len(made)}", **settings)
        made.append(shop)
        return shop

    yield make
    for shop in made:
        shop.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def initialised():
    """One showroom after `init-db` (a fresh embedded PostgreSQL with every migration, stopped again), for the
    tests that only need one to serve: each starts from a copy of its instance folder (Showroom.init_db_from).
    test_serve_writes_the_settings_once_and_they_survive_restarts runs `init-db` itself."""
    folder = Path(tempfile.mkdtemp(prefix="erp-server-"))
    shop = Showroom(folder / "initialised")
    shop.init_db()
    assert postmaster_pid(shop.pgdata) is None  # init-db stopped its PostgreSQL: the files can be copied
    yield shop.folder / "instance"
    shop.close()
    shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------- gunicorn, every core


@pytest.mark.skipif(os.name == "nt", reason="gunicorn is for Linux and macOS; Windows serves with waitress")
def test_serve_answers_from_the_configured_number_of_worker_processes(showroom, initialised):
    shop = showroom(ERP_WORKERS="3", ERP_THREADS="2")
    shop.init_db_from(initialised)
    shop.serve()
    said = shop.console.read_text()
    assert "(3 worker processes x 2 threads, embedded PostgreSQL in" in said
    workers = shop.workers()
    assert len(workers) == 3
    # Many requests at once, each worker on connections of its own (none shared with the master or a
    # sibling: a shared socket would mix two conversations with PostgreSQL and fail some of them).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: status_of(shop.base + "/healthz"), range(60)))
    assert answers == [200] * 60
    # Only the master started the embedded server and runs its watch: one handle, the master's.
    assert (shop.pgdata / ".handle_pids.json").read_text().strip() == f"[{shop.server.pid}]"

    # A worker that dies is replaced by the master; the showroom keeps being served meanwhile.
    killed = workers[0].pid
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: len(shop.workers()) == 3 and killed not in [w.pid for w in shop.workers()], 60,
             "the master to start a worker in place of the killed one")
    assert status_of(shop.base + "/login") in (200, 302)
    assert status_of(shop.base + "/healthz") == 200

    shop.server.send_signal(signal.SIGTERM)  # a service stop: workers, then the embedded PostgreSQL
    assert shop.server.wait(60) == 0
    assert not alive(postmaster_pid(shop.pgdata))


def test_serve_refuses_workers_whose_pools_cannot_fit_in_max_connections(showroom, pg_server_url):
    # The tests' PostgreSQL (its own database, read only: the check comes before anything else).
    shop = showroom(DATABASE_URL=pg_server_url, ERP_WORKERS="40", ERP_DB_POOL_SIZE="20", ERP_DB_MAX_OVERFLOW="5")
    refused = shop.run("serve", "--host", "127.0.0.1", "--port", str(free_port()))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    (line,) = [x for x in refused.stderr.splitlines() if x.startswith("Error:")]
    assert "40 worker processes x 25 database connections each" in line
    assert "max_connections" in line and "lower ERP_WORKERS or ERP_DB_POOL_SIZE" in line


def test_the_connection_budget_counts_every_worker_and_the_command_line():
    budget = ConnectionBudget(workers=2, pool_size=10, max_overflow=5, reserved=10)
    assert (budget.app, budget.total) == (30, 44)
    assert budget_problem(budget, max_connections=100) is None
    assert budget_problem(budget, max_connections=47) is None  # 47 - 3 for superusers = 44: just fits
    problem = budget_problem(budget, max_connections=46)
    assert problem.startswith("2 worker processes x 15 database connections each") and "44" in problem
    assert "\n" not in problem and problem.count(". ") == 0  # one sentence
    assert budget_problem(budget, max_connections=100, reserved_connections=60) is not None  # PostgreSQL 16+
    assert "CONNECTION LIMIT 20" in budget_problem(budget, max_connections=100, role_limit=20)
    config = {"SERVER_WORKERS": 4, "DB_POOL_SIZE": 6, "DB_MAX_OVERFLOW": 2, "DB_RESERVED_CONNECTIONS": 5}
    assert connection_budget(config).app == 32 and connection_budget(config, workers=1).app == 8


# ----------------------------------------------------------------------------- PostgreSQL sized for the PC


def test_the_embedded_settings_follow_the_pcs_memory_and_the_workers():
    showroom_pc = {"SERVER_WORKERS": 2, "SERVER_THREADS": 8, "DB_POOL_SIZE": 10, "DB_MAX_OVERFLOW": 5,
                   "DB_RESERVED_CONNECTIONS": 10}
    eight_gb = embedded_settings(showroom_pc, memory_kb=8 * GB)
    assert eight_gb == {"max_connections": 100, "shared_buffers": 512 * MB, "effective_cache_size": 4 * GB,
                        "work_mem": 32 * MB, "maintenance_work_mem": 256 * MB}
    small = embedded_settings(showroom_pc, memory_kb=2 * GB)
    assert small["shared_buffers"] == 128 * MB and small["work_mem"] == 8 * MB
    busy = embedded_settings({**showroom_pc, "SERVER_WORKERS": 16}, memory_kb=8 * GB)
    assert busy["max_connections"] == 16 * 15 + 4 + 10 + 3  # every pool fits, with the superusers' reserve
    assert busy["work_mem"] == 4 * MB  # 128 requests at once share the memory
    # More than the PC can take: capped, and `serve` then refuses with the sentence above.
    huge = {**showroom_pc, "SERVER_WORKERS": 64, "DB_POOL_SIZE": 50}
    capped = embedded_settings(huge, memory_kb=8 * GB)
    assert capped["max_connections"] == 512
    assert budget_problem(connection_budget(huge), capped["max_connections"]) is not None


def test_serve_writes_the_settings_once_and_they_survive_restarts(showroom):
    # 2 x (60 + 5) + 14 connections: more than PostgreSQL's default 100 (two workers start in a
    # fraction of the time twenty would take, for the same budget check).
    shop = showroom(ERP_WORKERS="2", ERP_DB_POOL_SIZE="60")
    wanted = embedded_settings({"SERVER_WORKERS": 2, "SERVER_THREADS": 8, "DB_POOL_SIZE": 60, "DB_MAX_OVERFLOW": 5,
                                "DB_RESERVED_CONNECTIONS": 10})
    assert wanted["max_connections"] > 100
    shop.init_db()
    auto_conf = shop.pgdata / "postgresql.auto.conf"
    assert "max_connections" not in auto_conf.read_text()  # a command leaves them to serve

    def starts() -> int:  # how often the embedded PostgreSQL has started, by its own log
        return (shop.pgdata / "log").read_text().count("database system is ready to accept connections")

    before = starts()
    shop.serve()
    assert starts() == before + 2  # started, then restarted once for max_connections and shared_buffers
    written = auto_conf.read_text()
    assert f"max_connections = '{wanted['max_connections']}'" in written
    for name in ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem"):
        assert f"{name} = '{wanted[name] // MB}MB'" in written
    stamp = auto_conf.stat().st_mtime_ns

    def running(setting: str) -> str:  # asked by another ERP command, on the server serve runs
        done = subprocess.run([sys.executable, "-c", (
            "import sqlalchemy as sa; from wsgi import app\n"
            "with app.app_context(), app.extensions['erp_db'].owner_engine.connect() as c:\n"
            f"    print(c.execute(sa.text('SHOW {setting}')).scalar())")],
            cwd=ROOT, env=shop.env, capture_output=True, text=True, timeout=120)
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr

    assert running("max_connections") == str(wanted["max_connections"])  # restarted for it by serve
    assert running("work_mem") == f"{wanted['work_mem'] // MB}MB"
    shop.close()
    postmaster = postmaster_pid(shop.pgdata)
    assert not alive(postmaster)
    before = starts()
    shop.serve()  # the same settings: nothing written, no restart
    assert starts() == before + 1
    assert auto_conf.stat().st_mtime_ns == stamp
    assert running("max_connections") == str(wanted["max_connections"])


# ----------------------------------------------------------------------------- the ERP dies, its PostgreSQL too


def test_a_killed_serve_leaves_no_embedded_postgresql_running(showroom, initialised):
    shop = showroom(ERP_WORKERS="2", ERP_THREADS="2")
    shop.init_db_from(initialised)
    shop.serve()
    postmaster = postmaster_pid(shop.pgdata)
    assert alive(postmaster)
    workers = [w.pid for w in shop.workers()]

    os.kill(shop.server.pid, signal.SIGKILL)  # gunicorn's master: no exit handler runs
    shop.server.wait(10)
    wait_for(lambda: not alive(postmaster), GONE_WITHIN,
             lambda: "the embedded PostgreSQL to stop; the console said:\n" + shop.console.read_text())
    wait_for(lambda: not any(alive(w) for w in workers), GONE_WITHIN, "the workers to leave")
    assert (shop.pgdata / ".handle_pids.json").read_text().strip() == "[]"

    # Started again, it serves as before (the killed one left nothing in the way).
    shop.serve()
    assert status_of(shop.base + "/healthz") == 200


HOLDER = """
import sys
from wsgi import app
with app.app_context():
    print(app.extensions["erp_db"].url, flush=True)  # starts the embedded server, or joins it
    sys.stdin.read()                                 # until the test lets it go
"""


def test_a_command_still_using_the_server_keeps_it_after_serve_was_killed(showroom, initialised):
    shop = showroom(ERP_WORKERS="1", ERP_THREADS="2")
    shop.init_db_from(initialised)
    shop.serve()
    postmaster = postmaster_pid(shop.pgdata)
    guardian = shop.guardian()
    # A second ERP command on the same server (as a backup would be), running on.
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=ROOT, env=shop.env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().startswith("postgresql://")
        os.kill(shop.server.pid, signal.SIGKILL)
        shop.server.wait(10)
        wait_for(lambda: not alive(guardian.pid), GONE_WITHIN, "serve's guardian to have looked")
        time.sleep(1)
        assert alive(postmaster), "the server was stopped under a command still using it"
        assert (shop.pgdata / ".handle_pids.json").read_text().strip() == f"[{holder.pid}]"
        # The command ends normally: the last user, it stops the server at its exit.
        holder.stdin.close()
        assert holder.wait(60) == 0
        wait_for(lambda: not alive(postmaster), GONE_WITHIN, "the last user to stop the server")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)


def test_a_killed_command_leaves_no_embedded_postgresql_running_either(showroom, initialised):
    shop = showroom()
    shop.init_db_from(initialised)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=ROOT, env=shop.env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().startswith("postgresql://")
        postmaster = postmaster_pid(shop.pgdata)
        assert alive(postmaster)
        holder.kill()
        holder.wait(10)
        wait_for(lambda: not alive(postmaster), GONE_WITHIN, "the killed command's guardian to stop the server")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
