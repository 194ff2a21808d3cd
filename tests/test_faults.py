"""Faults the showroom meets in daily use: a record held by a stuck posting (a busy page, not a
hung server), the embedded PostgreSQL dying (started again by `serve`), errors logged without what
was typed, a failed restore told in one sentence, and a form sent after logout."""
from __future__ import annotations

import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

ROOT = Path(__file__).resolve().parent.parent
PIN = "2580"


def text(response) -> str:
    return response.get_data(as_text=True)


# ----------------------------------------------------------------------------- 1. a record held by another posting


@pytest.fixture
def counter_shop(make_app, engine, make_staff):
    """A booking with one receipt posted (so its series' counter row exists), an accounts person
    logged in, on an app whose requests wait at most 300 ms for a lock."""
    app = make_app(DB_LOCK_TIMEOUT_MS=300)
    with engine.begin() as conn:
        sale = b.sale_setup(conn)
        booking_id = b.booking(conn, sale)
    make_staff("AC901", "ACCOUNTS", PIN, branch_id=sale.branch_id)
    client = app.test_client()
    assert login(client, "AC901", PIN).status_code == 303
    first = pay(client, booking_id, mode="CASH", amount="1000")
    assert first.status_code == 303, text(first)
    return client, engine, sale, booking_id


def pay(client, booking_id: int, headers: dict | None = None, **fields):
    page = text(client.get(f"/billing/bookings/{booking_id}/receipt"))
    form = dict(re.findall(r'name="(key|received_from|csrf_token)"[^>]*value="([^"]*)"', page))
    form.update(fields)
    return client.post(f"/billing/bookings/{booking_id}/receipt", data=form, headers=headers or {})


def receipts(engine, booking_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM billing.receipt WHERE booking_id = :b"),
                            {"b": booking_id}).scalar()


class HeldCounter:
    """Another connection holding the branch's receipt counter row (FOR UPDATE in an open
    transaction), as a posting stuck half-way does. Should the app wait for it anyway, the server
    ends this holder after 60 s idle, so the test fails instead of hanging."""

    def __init__(self, engine, branch_id: int):
        self.engine, self.branch_id = engine, branch_id

    def __enter__(self):
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        self.conn.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '60s'"))
        held = self.conn.execute(sa.text(
            "SELECT last_no FROM master.document_counter WHERE branch_id = :b AND series = 'RCT' FOR UPDATE"),
            {"b": self.branch_id}).all()
        assert len(held) == 1
        return self

    def __exit__(self, *exc):
        self.tx.rollback()
        self.conn.close()


def assert_busy_page(response, *, fragment: bool):
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = text(response)
    assert "The system is busy with the same record; try again in a moment" in body
    assert "not answering" not in body  # the database is there: not the "unreachable" page
    if fragment:
        assert body.strip().startswith('<p class="flash error" role="alert">') and "<html" not in body
    else:
        assert '<section class="card error-page">' in body
    for leak in ("LockNotAvailable", "lock timeout", "document_counter", "psycopg"):
        assert leak not in body


def test_a_receipt_waiting_on_a_held_counter_gets_the_busy_page_and_posts_nothing(counter_shop):
    client, engine, sale, booking_id = counter_shop
    with HeldCounter(engine, sale.branch_id):
        assert_busy_page(pay(client, booking_id, mode="CASH", amount="2000"), fragment=False)
        assert_busy_page(pay(client, booking_id, {"HX-Request": "true", "HX-Target": "money-form"},
                             mode="UPI", amount="3000", reference="UTR1234567890"), fragment=True)
        # The thread is free and the request's transaction gone: an unrelated page answers meanwhile.
        assert client.get("/").status_code == 200
        assert receipts(engine, booking_id) == 1
    # Released: the same payment posts, numbered straight after the first.
    again = pay(client, booking_id, mode="CASH", amount="2000")
    assert again.status_code == 303, text(again)
    assert receipts(engine, booking_id) == 2
    with engine.connect() as conn:
        numbers = conn.execute(sa.text("SELECT receipt_no FROM billing.receipt WHERE booking_id = :b "
                                       "ORDER BY receipt_id"), {"b": booking_id}).scalars().all()
    assert [n.rsplit("/", 1)[1] for n in numbers] == ["1", "2"]


def test_the_limits_are_set_for_the_request_transaction_only(make_app, engine):
    app = make_app(DB_LOCK_TIMEOUT_MS=1234, DB_STATEMENT_TIMEOUT_MS=5678)
    from webapp.db import get_conn

    with app.test_request_context("/"):
        conn = get_conn()
        assert conn.execute(sa.text("SHOW lock_timeout")).scalar() == "1234ms"
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "5678ms"
    # A command's connection (the owner's engine, e.g. generate-history or restore) is not limited.
    with app.app_context():
        database = app.extensions["erp_db"]
        owner = getattr(database, "owner_engine", database.engine)
        with owner.connect() as conn:
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
            assert conn.execute(sa.text("SHOW lock_timeout")).scalar() == "0"


def test_the_limits_come_from_the_environment_with_defaults(monkeypatch, tmp_path):
    from webapp.config import settings_from_environment

    defaults = settings_from_environment(str(tmp_path))
    assert (defaults["DB_LOCK_TIMEOUT_MS"], defaults["DB_STATEMENT_TIMEOUT_MS"]) == (5000, 15000)
    monkeypatch.setenv("ERP_DB_LOCK_TIMEOUT_MS", "2000")
    monkeypatch.setenv("ERP_DB_STATEMENT_TIMEOUT_MS", "9000")
    chosen = settings_from_environment(str(tmp_path))
    assert (chosen["DB_LOCK_TIMEOUT_MS"], chosen["DB_STATEMENT_TIMEOUT_MS"]) == (2000, 9000)


# ----------------------------------------------------------------------------- 3. errors logged without what was typed


def formatted(records_of) -> str:
    """What the console shows: the records through a plain formatter, tracebacks included."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        records_of()
    finally:
        root.removeHandler(handler)
    return stream.getvalue()


# An engine of its own, whose failed statement the server logs.
@pytest.mark.commits
def test_a_failed_statement_logged_by_the_server_shows_the_statement_never_the_values(app, database_url):
    """waitress ("Exception while serving"), werkzeug and Flask log an exception with its traceback;
    str() of a database error carries the values sent and PostgreSQL's DETAIL ("Failing row
    contains (...)"). Even from an engine without hide_parameters none of them reaches the log."""
    from webapp.db import sqlalchemy_url

    careless = sa.create_engine(sqlalchemy_url(database_url), poolclass=sa.pool.NullPool)
    buyer, secret = "Revathi Subramaniam", "csrf-secret-7f3a9c1e"

    def serve_a_failing_request():
        try:
            with careless.begin() as conn:
                conn.execute(sa.text("INSERT INTO master.customer (branch_id, name, mobile, state_code, address_line1) "
                                     "VALUES (NULL, :name, :mobile, '29', :notes)"),
                             {"name": buyer, "mobile": "9845012345", "notes": secret})
        except sa.exc.DBAPIError as exc:
            assert buyer in str(exc)  # what the log would show but for the app's record factory
            logging.getLogger("waitress").exception("Exception while serving /billing/invoices/new")
            logging.getLogger("webapp.billing").warning("could not post: %s", exc)

    try:
        logged = formatted(serve_a_failing_request)
    finally:
        careless.dispose()
    assert "Exception while serving /billing/invoices/new" in logged and "Traceback" in logged
    assert "INSERT INTO master.customer" in logged and "NotNullViolation" in logged
    for value in (buyer, "Revathi", "9845012345", secret):
        assert value not in logged


def test_the_embedded_servers_own_log_names_the_error_but_not_the_failing_row(pg_server_url, engine):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("only the embedded server's log is the ERP's to set")
    server_log = Path(os.environ.get("ERP_TEST_PGDATA", str(ROOT / "instance" / "test-pgdata"))) / "log"
    written = server_log.stat().st_size
    buyer = f"Walkin{os.getpid()}Zq{time.monotonic_ns() % 10**6}"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW log_error_verbosity")).scalar() == "terse"
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(sa.text("INSERT INTO master.customer (branch_id, name, mobile, state_code) "
                                 "VALUES (NULL, :name, '9845012345', '29')"), {"name": buyer})

    def logged_since() -> str:
        with open(server_log, "rb") as fh:
            fh.seek(written)
            return fh.read().decode(errors="replace")

    wait_for(lambda: 'null value in column "branch_id"' in logged_since(), 10, "PostgreSQL to log the error")
    assert buyer not in logged_since() and "Failing row contains" not in logged_since()


# ----------------------------------------------------------------------------- 5. a form sent after logout


def staff_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM master.staff")).scalar()


NOT_SAVED = "You were logged out; the form was not saved: please enter it again"


def new_staff_form(client) -> dict:
    token = page_csrf(client, "/master/staff/new")
    return {"csrf_token": token, "staff_code": "S77", "name": "Meena Iyer", "designation": "SALES", "pin": "482915"}


def login_at(client, location: str, code: str = "ADM1"):
    """Log in on the login page the app sent the browser to (its hidden next field included)."""
    page = text(client.get(location))
    fields = dict(re.findall(r'name="(csrf_token|next)"[^>]*value="([^"]*)"', page))
    return client.post("/login", data={**fields, "staff_code": code, "pin": PIN})


def log_out_in_another_tab(client):
    response = client.post("/logout", data={"csrf_token": page_csrf(client, "/")})
    assert response.status_code in (302, 303)


def test_a_form_sent_after_logout_returns_to_its_page_after_login_with_a_message(client, make_staff, engine):
    make_staff("ADM1", "ADMIN", PIN)
    assert login(client, "ADM1", PIN).status_code == 303
    before = staff_count(engine)
    form = new_staff_form(client)        # the form drawn in the first tab
    log_out_in_another_tab(client)

    refused = client.post("/master/staff/new", data=form, headers={"Referer": "http://localhost/master/staff/new"})
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/login?next=/master/staff/new"
    assert staff_count(engine) == before
    login_page = text(client.get(refused.headers["Location"]))
    assert "the form was not saved" in login_page

    back = login_at(client, refused.headers["Location"])
    assert back.status_code == 303 and back.headers["Location"] == "/master/staff/new"
    page = text(client.get("/master/staff/new"))
    assert NOT_SAVED in page
    assert NOT_SAVED not in text(client.get("/master/staff/new"))  # said once


def test_an_htmx_form_sent_after_logout_is_sent_to_login_and_back(client, make_staff, engine):
    make_staff("ADM1", "ADMIN", PIN)
    assert login(client, "ADM1", PIN).status_code == 303
    form = new_staff_form(client)
    log_out_in_another_tab(client)

    refused = client.post("/master/staff/new", data=form,
                          headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/master/staff/new"})
    assert refused.status_code == 401
    assert refused.headers["HX-Redirect"] == "/login?next=/master/staff/new"
    assert refused.get_data() == b""
    back = login_at(client, refused.headers["HX-Redirect"])
    assert back.headers["Location"] == "/master/staff/new"
    assert NOT_SAVED in text(client.get("/master/staff/new"))


def test_a_form_from_another_site_after_logout_never_leads_there(client, make_staff):
    make_staff("ADM1", "ADMIN", PIN)
    assert login(client, "ADM1", PIN).status_code == 303
    form = new_staff_form(client)
    log_out_in_another_tab(client)

    refused = client.post("/master/staff/new", data=form, headers={"Referer": "https://evil.example/master/x"})
    assert refused.status_code == 303 and refused.headers["Location"] == "/login"
    htmx = client.post("/master/staff/new", data=form,
                       headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"})
    assert htmx.headers["HX-Redirect"] == "/login"
    # A next= typed into the address bar is only ever a local path, too.
    token = page_csrf(client, "/login?next=https://evil.example/")
    landed = client.post("/login", data={"staff_code": "ADM1", "pin": PIN, "csrf_token": token,
                                         "next": "https://evil.example/"})
    assert landed.status_code == 303 and not landed.headers["Location"].startswith(("http", "//"))


# ----------------------------------------------------------------------------- 2. the embedded PostgreSQL dies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@pytest.fixture
def scratch_dir():
    """A folder of its own outside pytest's temporary root, which pytest keeps owner-only: when tests
    run as root, pgserver runs PostgreSQL as the user 'pgserver', who must be able to reach it."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="erp-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def served_showroom(scratch_dir):
    """`flask serve` as `make run` starts it, on an embedded PostgreSQL of its own in a scratch folder
    (the shared test server is not touched); stopped, with its PostgreSQL, at the end."""
    tmp_path = scratch_dir
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "APP_DATABASE_URL", "TEST_DATABASE_URL", "ERP_PGDATA")}
    env.update(ERP_INSTANCE_PATH=str(tmp_path / "instance"), ERP_PGDATA=str(pgdata), ERP_DB_WATCH_SECONDS="1",
               PYTHONUNBUFFERED="1", ERP_PDF_WORKERS="0")  # nothing printed: no render process to warm
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    prepared = subprocess.run(flask + ["init-db"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    port = free_port()
    console = tmp_path / "console.log"
    with open(console, "w") as out:
        server = subprocess.Popen(flask + ["serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        yield server, f"http://127.0.0.1:{port}", pgdata, console
    finally:
        server.send_signal(signal.SIGTERM)  # the exit handlers stop the embedded PostgreSQL
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        pid = postmaster_pid(pgdata)
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting: {what() if callable(what) else what}")


def test_serve_starts_the_embedded_postgresql_again_when_it_was_killed(served_showroom):
    server, base, pgdata, console = served_showroom
    wait_for(lambda: server.poll() is None and status_of(base + "/healthz") == 200, 120, "the server to answer")
    assert status_of(base + "/setup") == 200  # a page that needs the database (an empty showroom)
    killed = postmaster_pid(pgdata)
    assert killed is not None

    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: postmaster_pid(pgdata) not in (None, killed) and status_of(base + "/healthz") == 200, 30,
             lambda: "the database to be started again; the console said:\n" + console.read_text())
    assert status_of(base + "/setup") == 200
    assert server.poll() is None  # the same server process, never restarted by a person
    wait_for(lambda: "is running again" in console.read_text(), 30, "the console to say so")
    assert "has stopped; starting it again" in console.read_text()


class FakeDatabase:
    """What the watch uses of webapp.db.Database, with a server that is dead whenever asked."""

    def __init__(self, pgdata: Path):
        self.embedded = type("Server", (), {"pgdata": pgdata})()
        self.moved_to = []

    def server_restarted(self, url: str) -> None:
        self.moved_to.append(url)


def test_a_database_that_keeps_dying_is_restarted_three_times_a_minute_then_left_with_a_message(tmp_path, caplog):
    from webapp.embedded_watch import EmbeddedWatch

    now = [0.0]
    started = []
    database = FakeDatabase(tmp_path / "pgdata")
    watch = EmbeddedWatch(database, max_restarts=3, window=60, clock=lambda: now[0], running=lambda _: False,
                          restart=lambda server: started.append(now[0]) or "postgresql://postgres:@/erp?host=/tmp")
    outcomes = []
    for at in (0, 5, 10, 15, 20):
        now[0] = at
        outcomes.append(watch.check())
    assert outcomes == ["restarted", "restarted", "restarted", "gave up", "off"]
    assert started == [0, 5, 10]
    assert "no longer restarted by itself" in watch.gave_up and "make run" in watch.gave_up
    assert any(r.levelno == logging.ERROR and "no longer restarted" in r.getMessage() for r in caplog.records)


def test_restarts_spread_over_more_than_a_minute_go_on(tmp_path):
    from webapp.embedded_watch import EmbeddedWatch

    now = [0.0]
    watch = EmbeddedWatch(FakeDatabase(tmp_path / "pgdata"), max_restarts=3, window=60, clock=lambda: now[0],
                          running=lambda _: False, restart=lambda server: "postgresql://x")
    for at in (0, 50, 100, 150, 200, 250):
        now[0] = at
        assert watch.check() == "restarted"
    assert watch.gave_up is None


def test_once_restarting_is_given_up_the_503_page_says_what_to_do(make_app):
    from webapp.embedded_watch import EmbeddedWatch

    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x", APP_DATABASE_URL=None)
    watch = EmbeddedWatch(app.extensions["erp_db"])
    watch.gave_up = "The showroom's database stopped 4 times within 60 seconds and is no longer restarted by itself."
    app.extensions["erp_db_watch"] = watch
    for headers in ({}, {"HX-Request": "true", "HX-Target": "staff-results"}):
        response = app.test_client().get("/master/staff", headers=headers)
        assert response.status_code == 503
        assert "no longer restarted by itself" in text(response)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="gunicorn's workers are forked: Linux and macOS only")
def test_the_watchs_message_reaches_the_server_processes_forked_before_it_gave_up(tmp_path):
    """gunicorn's workers draw the 503 page; the watch runs in the master, which forked them at the
    start: what it gives up with later must still reach them."""
    from webapp.embedded_watch import EmbeddedWatch

    watch = EmbeddedWatch(FakeDatabase(tmp_path / "pgdata"))
    go_read, tell_child = os.pipe()
    answer, child_says = os.pipe()
    pid = os.fork()
    if pid == 0:  # the "worker": waits until the master gave up, then reads what it sees
        try:
            os.close(tell_child)
            os.read(go_read, 1)
            os.write(child_says, (watch.gave_up or "(nothing)").encode())
        finally:
            os._exit(0)
    os.close(go_read)
    os.close(child_says)
    assert watch.gave_up is None
    watch.gave_up = "The showroom's database stopped 4 times within 60 seconds and is no longer restarted by itself."
    os.write(tell_child, b"x")
    seen = os.read(answer, 4096).decode()
    os.waitpid(pid, 0)
    assert seen == watch.gave_up

