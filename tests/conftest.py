"""Test fixtures: a real PostgreSQL database made fresh for this run, dropped at its end.

With TEST_DATABASE_URL (a server URL whose user may CREATE DATABASE) that server is
used; otherwise the embedded PostgreSQL under instance/test-pgdata.

How a test is isolated from the next:

* By default (Flask test-client tests, database tests) a test runs in **one transaction that
  is rolled back at its end** (as pypi/warehouse does): one owner connection per test, an outer
  transaction, and every ``engine.begin()`` / ``engine.connect()`` of the fixtures and builders,
  and every request's transaction (``Database.engine_override``, webapp/db.py), a SAVEPOINT on
  it. A request still runs as the app role (``SET LOCAL ROLE erp_test_app``, row-level
  security applies) and its "commit" still runs the checks of a real COMMIT (``SET CONSTRAINTS
  ALL IMMEDIATE`` fires the deferred triggers) before RELEASE SAVEPOINT; its transaction-local
  settings (erp.staff_id, erp.branch_id, lock_timeout...) and its role are put back afterwards,
  so nothing leaks into the next request or the fixtures. Nothing is committed, nothing to empty
  (the emptied tables' identity sequences are set back, as TRUNCATE ... RESTART IDENTITY would).
  Differences to know: ``now()`` is the test's start for every request and fixture; a deferred
  trigger created during the test stays IMMEDIATE after the first request that commits.
* Tests that need real commits are marked ``@pytest.mark.commits`` (or use the ``committed`` /
  ``make_app`` / ``live_server`` fixtures, which imply it): races between connections, a second
  app instance, CLI commands, a live server thread, time that must move between requests
  (``now()`` is the transaction's start, the same for every request of a rolled-back test),
  statement counting on the app's engine. They commit for real and get clean tables afterwards
  (truncation of every table that migrations left empty; seeded reference tables put back).

The default fails loudly rather than passing wrongly: during a rolled-back test a new connection
to the test database (another engine, a CLI command, a thread) raises, as do ``engine.url``,
event listeners on the shared engines, use of the shared connection from another thread, and a
transaction begun while another connection's explicit transaction is open (a race staged in one
connection would see the other's uncommitted rows). tests/test_isolation.py checks the above.
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp import create_app, migrations
from webapp.db import EmbeddedServer, scratch_database, sqlalchemy_url, url_with_user
from webapp.security import hash_pin
from webapp.validators import gstin_check_character

ROOT = Path(__file__).resolve().parent.parent
TEST_PEPPER = "test-pepper-" + "x" * 20

# The app's requests log in as this role, as in a showroom (row-level security applies to it);
# fixtures that seed data use the owner's engine. Roles belong to the server, not the database.
APP_ROLE = "erp_test_app"
APP_PASSWORD = "erp-test-app-" + "z" * 20

# Cheap Argon2 settings keep the suite fast; test_pins checks the production defaults.
FAST_HASH = {"PIN_HASH_TIME_COST": 1, "PIN_HASH_MEMORY_KIB": 1024}
# Staff of every role log in with 4-digit PINs in tests; test_login_abuse checks the production
# rule (6 digits for ADMIN, MANAGER, ACCOUNTS) with the defaults of webapp/config.py.
SHORT_PINS_ALLOWED = {"PIN_MIN_LENGTH": {}}


def gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


# ----------------------------------------------------------------------------- database


@pytest.fixture(scope="session")
def pg_server_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedServer(os.environ.get("ERP_TEST_PGDATA", str(ROOT / "instance" / "test-pgdata")))
    server.DATABASE = "postgres"
    url = server.start()
    scratch_cluster(url)
    yield url
    # The embedded server stops when this process exits (pgserver's exit handler).


# The tests' own embedded cluster holds nothing but scratch databases, made again by every run: it
# need not survive a power cut, so it does not wait for the disk at each commit, nor when a database is
# copied from the template (CREATE DATABASE ... STRATEGY FILE_COPY). A showroom's server keeps
# PostgreSQL's safe defaults; tests that start one (test_server.py, test_faults.py) run with them.
# Nor does it compile queries (JIT): the tests' statements are short, a compilation costs more than it saves.
SCRATCH_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "jit": "off"}


def scratch_cluster(server_url: str) -> None:
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            running = dict(conn.execute(sa.text("SELECT name, setting FROM pg_settings WHERE name = ANY(:n)"),
                                        {"n": list(SCRATCH_SETTINGS)}).all())
            changed = [name for name, value in SCRATCH_SETTINGS.items() if running.get(name) != value]
            for name in changed:
                conn.execute(sa.text(f"ALTER SYSTEM SET {name} = '{SCRATCH_SETTINGS[name]}'"))
            if changed:
                conn.execute(sa.text("SELECT pg_reload_conf()"))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(pg_server_url):
    with scratch_database(pg_server_url, "erp_test") as url:
        engine = sa.create_engine(sqlalchemy_url(url))
        migrations.apply_pending(engine)
        with server_wide_lock(pg_server_url):
            # The app role belongs to the server, which every pytest-xdist worker shares: the first
            # worker creates it, the others find it (two CREATE ROLE at once: one fails).
            migrations.prepare_app_role(engine, APP_ROLE, APP_PASSWORD)
        engine.dispose()
        yield url


APP_ROLE_LOCK = 7_301_204_002  # arbitrary, constant: "a test run is preparing the app role"


@contextmanager
def server_wide_lock(server_url: str):
    """An advisory lock taken in the server's own database (advisory locks are per database; the
    workers' scratch databases differ, this one they share)."""
    lock_engine = sa.create_engine(sqlalchemy_url(server_url), poolclass=sa.pool.NullPool)
    try:
        with lock_engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": APP_ROLE_LOCK})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": APP_ROLE_LOCK})
    finally:
        lock_engine.dispose()


@pytest.fixture(scope="session")
def owner_engine(database_url):
    """The owner's real engine (its connections commit): the `engine` of tests that commit."""
    eng = sa.create_engine(sqlalchemy_url(database_url), connect_args={"options": "-c timezone=Asia/Kolkata"})
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def _truncatable(owner_engine):
    """Tables that migrations leave empty: the ones tests may fill and must empty again."""
    with owner_engine.connect() as conn:
        tables = conn.execute(sa.text(
            """SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1""")).scalars().all()
        empty = [t for t in tables if not conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {t})")).scalar()]
    # The audit trail also holds the seeding of reference data; tests start from an empty one.
    truncatable = sorted(set(empty) | {"audit.log"})
    truncate_all(owner_engine, truncatable)
    return truncatable


class SeededTables:
    """The reference rows migrations seed (GST rates, on-road items, the PDI checklist, discount
    limits...), copied once; a test that commits and changes them through the screens (a settings
    form, the POST fuzz) gets them put back, so the next test starts from the shipped data."""

    def __init__(self, engine, truncatable):
        self.engine = engine
        with engine.begin() as conn:
            tables = conn.execute(sa.text(
                """SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                    WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'seed_copy')
                      AND schemaname <> 'audit' ORDER BY 1""")).scalars().all()
            self.tables = [t for t in tables if t not in set(truncatable)]
            conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS seed_copy"))
            self.columns = {}
            for n, table in enumerate(self.tables):
                conn.execute(sa.text(f"CREATE TABLE seed_copy.t{n} AS SELECT * FROM {table}"))
                self.columns[table] = conn.execute(sa.text(
                    """SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                        WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped
                          AND attgenerated = ''"""), {"t": table}).scalar()
            self.sums = self._checksums(conn)

    def _checksums(self, conn) -> list:
        return [conn.execute(sa.text(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                                     f"FROM {t} x")).scalar() for t in self.tables]

    def restore(self) -> None:
        with self.engine.begin() as conn:
            changed = [n for n, (now, then) in enumerate(zip(self._checksums(conn), self.sums)) if now != then]
            if not changed:
                return
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # no triggers, no FK checks
            for n in changed:
                table, cols = self.tables[n], self.columns[self.tables[n]]
                conn.execute(sa.text(f"DELETE FROM {table}"))
                conn.execute(sa.text(f"INSERT INTO {table} ({cols}) OVERRIDING SYSTEM VALUE "
                                     f"SELECT {cols} FROM seed_copy.t{n}"))


@pytest.fixture(scope="session")
def _seeded(owner_engine, _truncatable):
    return SeededTables(owner_engine, _truncatable)


# The identity (and serial) sequences of the given tables, set back to their start: what TRUNCATE ... RESTART
# IDENTITY does to them.
RESTART_SEQUENCES = sa.text(
    """SELECT count(setval(s.seqrelid, s.seqstart, false)) FROM pg_sequence s
        WHERE s.seqrelid IN (SELECT d.objid FROM pg_depend d
                              WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                                AND d.deptype IN ('a', 'i') AND d.refobjid = ANY(CAST(:tables AS regclass[])))""")


def truncate_all(engine, tables) -> None:
    """Every given table empty and numbered from the start again, as TRUNCATE ... RESTART IDENTITY CASCADE of them
    all would leave them, but only the tables holding rows are touched, by DELETE with triggers and foreign keys
    off: a TRUNCATE of master.branch cascades to nearly every table, seconds of a committing test's teardown for
    the few rows it wrote. (Rows a test left in a seeded table are put back by SeededTables.restore.)"""
    with engine.begin() as conn:
        holding = conn.execute(sa.text(
            "SELECT ARRAY[" + ", ".join(f"EXISTS (SELECT FROM {t})" for t in tables) + "]")).scalar()
        full = [t for t, rows in zip(tables, holding) if rows]
        if full:
            conn.exec_driver_sql("; ".join(["SET LOCAL session_replication_role = replica",
                                            *(f"DELETE FROM {t}" for t in full),
                                            "SET LOCAL session_replication_role = origin"]))
        conn.execute(RESTART_SEQUENCES, {"tables": list(tables)})


@pytest.fixture(scope="session")
def _restart_sequences(owner_engine, _truncatable):
    """Numbers the emptied tables' identity columns from the start again after a rolled-back test (a
    rollback does not undo nextval), as TRUNCATE ... RESTART IDENTITY does after one that commits: every
    test starts from the same ids."""
    with owner_engine.connect() as conn:
        sequences = conn.execute(sa.text(
            """SELECT DISTINCT CAST(CAST(d.objid AS regclass) AS text) FROM pg_depend d
                 JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND d.refobjid = ANY(CAST(:tables AS regclass[]))"""),
            {"tables": _truncatable}).scalars().all()
    restart = sa.text("SELECT count(setval(seqrelid, seqstart, false)) FROM pg_sequence "
                      "WHERE seqrelid = ANY(CAST(:s AS regclass[]))")

    def run(conn) -> None:
        conn.execute(restart, {"s": sequences})

    return run


# ----------------------------------------------------------------------------- isolation: one rolled-back transaction

# Fixtures whose use means the test commits for real (see the module docstring).
COMMITTING_FIXTURES = frozenset({"committed", "make_app", "live_server"})

NEEDS_COMMITS = ("this test runs in one transaction that is rolled back at its end (tests/conftest.py), so {what}; "
                 "mark it @pytest.mark.commits if it needs real commits")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "commits: the test commits for real (races, another app or server thread, CLI, time that "
                   "moves between requests...); every table is emptied afterwards (tests/conftest.py)")


def needs_commits(item) -> bool:
    return (item.get_closest_marker("commits") is not None
            or not COMMITTING_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
            or "e2e" in Path(str(item.path)).relative_to(ROOT).parts)


# What a request sets for its own transaction: every name the app (webapp/, sql/) passes to set_config or
# SET LOCAL, found in its source so a new one is covered; put back after each savepoint is released.
SET_NAMES = sorted(set(re.findall(r"set_config\('([a-z_.]+)'|SET LOCAL ([a-z_]+)", "\n".join(
    f.read_text(encoding="utf-8") for f in (*ROOT.glob("sql/**/*.sql"), *ROOT.glob("webapp/**/*.py"))))))
APPLY_SETTINGS = sa.text("SELECT count(set_config(n, v, true)) "
                         "FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) AS x(n, v) WHERE v IS NOT NULL")


class RollbackStatements:
    """The statements a savepoint's "commit" runs, in one round trip before RELEASE SAVEPOINT.

    ``checks``: what COMMIT checks besides: the deferred constraint triggers fire now (SET CONSTRAINTS ALL
    IMMEDIATE raises what the COMMIT would), then those migrations declared INITIALLY DEFERRED are
    deferred again, as the next transaction would have them. ``reset``: the settings back to the
    connection's (PostgreSQL's own TO DEFAULT; the app's erp.* placeholders to '')."""

    def __init__(self, engine):
        with engine.connect() as conn:
            names = [a or b for a, b in SET_NAMES]
            known = set(conn.execute(sa.text("SELECT name FROM pg_settings WHERE name = ANY(CAST(:n AS text[])) "
                                              "AND context IN ('user', 'superuser')"), {"n": names}).scalars())
            deferred = conn.execute(sa.text(
                """SELECT string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.conname), ', ')
                     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                    WHERE c.condeferred""")).scalar()
        self.names = sorted(known) + sorted(n for n in names if "." in n)
        self.checks = "SET CONSTRAINTS ALL IMMEDIATE" + (f"; SET CONSTRAINTS {deferred} DEFERRED" if deferred else "")
        self.reset = "; ".join([*(f"SET LOCAL {n} TO DEFAULT" for n in sorted(known)),
                                "SELECT " + ", ".join(f"set_config('{n}', '', true)" for n in self.names if "." in n)])


@pytest.fixture(scope="session")
def _rollback_statements(owner_engine):
    return RollbackStatements(owner_engine)


class SharedConnection:
    """The test's one connection (the owner's), in its outer transaction, and the stack of the
    transactions (savepoints) that the test's engines have open on it, innermost last."""

    def __init__(self, conn, database: str, statements: RollbackStatements):
        self.conn = conn
        self.database = database
        self.statements = statements
        self.thread = threading.get_ident()
        self.stack: list[SavepointTransaction] = []
        self.role: str | None = None  # the role set on it now (None: the owner, the session's own)

    def check(self, what: str = "its connection is used from another thread (a server thread?)") -> None:
        if threading.get_ident() != self.thread:
            raise RuntimeError(NEEDS_COMMITS.format(what=what))

    def capture(self) -> tuple[list, list]:
        """The settings of the enclosing transaction, for one that begins inside another."""
        names = self.statements.names
        values = self.conn.execute(sa.text("SELECT current_setting(n, true) FROM unnest(CAST(:n AS text[])) AS n"),
                                   {"n": names}).scalars().all()
        return names, values

    def release(self, savepoint: str, role: str | None, settings: tuple[list, list] | None, checks: bool) -> None:
        """COMMIT's checks (when asked), role and settings back to the enclosing transaction's, RELEASE: one
        round trip."""
        sql = [self.statements.checks] if checks else []
        if self.role != role:
            sql.append(f"SET LOCAL ROLE {role or 'NONE'}")
        sql += [self.statements.reset, f"RELEASE SAVEPOINT {savepoint}"]
        self.conn.exec_driver_sql("; ".join(sql))
        self.role = role
        if settings is not None:
            self.conn.execute(APPLY_SETTINGS, {"n": settings[0], "v": settings[1]})


_savepoint_numbers = itertools.count(1)


class SavepointTransaction:
    """What a connection of the test's engines calls its transaction: a SAVEPOINT on the shared
    connection. commit() runs COMMIT's deferred checks, puts the role and settings back and releases it;
    rollback() rolls back to it (PostgreSQL puts the role and settings back by itself)."""

    def __init__(self, owner: TestConnection, explicit: bool = True):
        self.owner = owner
        shared = self.shared = owner.shared
        if any(tx.explicit and tx.owner is not owner for tx in shared.stack):
            # Real connections would not see what the open transaction of another one wrote: a race.
            raise RuntimeError(NEEDS_COMMITS.format(
                what="a transaction cannot begin while another connection's transaction is open"))
        self.explicit = explicit  # begun by begin(), not on the first statement
        self.saved_role = shared.role
        self.saved_settings = shared.capture() if shared.stack else None
        # Plain SQL, not SQLAlchemy's begin_nested: one round trip with the role, and the app's own
        # begin_nested() savepoints nest inside it as they would in a real transaction.
        self.savepoint = f"test_tx_{next(_savepoint_numbers)}"
        sql = [f"SAVEPOINT {self.savepoint}"]
        if owner.role != shared.role:
            sql.append(f"SET LOCAL ROLE {owner.role or 'NONE'}")
        shared.conn.exec_driver_sql("; ".join(sql))
        shared.role = owner.role
        shared.stack.append(self)
        self.is_active = True
        self.foreign_commit = False  # another connection's transaction committed inside this one

    def _innermost(self) -> None:
        if self.shared.stack[-1] is not self:
            raise RuntimeError(NEEDS_COMMITS.format(
                what="its connections' transactions must end in the order they began (they are savepoints "
                     "on one connection)"))

    def _end(self) -> None:
        self.is_active = False
        self.shared.stack.pop()

    def commit(self) -> None:
        if not self.is_active:
            raise sa.exc.InvalidRequestError("This transaction is inactive")
        self.shared.check()
        self._innermost()
        self._release(checks=True)

    def _release(self, checks: bool) -> None:
        shared = self.shared
        try:
            shared.release(self.savepoint, self.saved_role, self.saved_settings, checks)
        except BaseException:
            self.rollback()
            raise
        self._end()
        if shared.stack and shared.stack[-1].owner is not self.owner:
            shared.stack[-1].foreign_commit = True

    def rollback(self) -> None:
        if not self.is_active:
            return
        self.shared.check()
        self._innermost()
        if self.foreign_commit:
            self._end()
            raise RuntimeError(NEEDS_COMMITS.format(
                what="a transaction cannot be rolled back after another connection committed inside it"))
        self.shared.conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {self.savepoint}; RELEASE SAVEPOINT {self.savepoint}")
        self.shared.role = self.saved_role
        self._end()

    def close(self) -> None:
        """The connection closes with this transaction open: rolled back, unless another connection
        committed inside it (real connections would have kept that work): then released, unchecked."""
        if not self.is_active:
            return
        if self.foreign_commit:
            self.shared.check()
            self._innermost()
            self._release(checks=False)
        else:
            self.rollback()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.is_active:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


class TestConnection:
    """Stands for a Connection of the test's engines: each of its transactions is a savepoint on the
    shared connection, run as its engine's role (autobegun like SQLAlchemy's on the first statement)."""

    def __init__(self, shared: SharedConnection, role: str | None):
        self.shared = shared
        self.role = role
        self.closed = False
        self._tx: SavepointTransaction | None = None

    def _active(self) -> SavepointTransaction | None:
        return self._tx if self._tx is not None and self._tx.is_active else None

    def begin(self, *, explicit: bool = True) -> SavepointTransaction:
        self.shared.check()
        if self.closed:
            raise sa.exc.ResourceClosedError("This Connection is closed")
        if self._active():
            raise sa.exc.InvalidRequestError("a transaction is already begun for this connection")
        self._tx = SavepointTransaction(self, explicit)
        return self._tx

    def _autobegin(self) -> None:
        if self._active() is None:
            self.begin(explicit=False)

    def execute(self, *args, **kwargs):
        self._autobegin()
        return self.shared.conn.execute(*args, **kwargs)

    def exec_driver_sql(self, *args, **kwargs):
        self._autobegin()
        return self.shared.conn.exec_driver_sql(*args, **kwargs)

    def scalar(self, *args, **kwargs):
        self._autobegin()
        return self.shared.conn.scalar(*args, **kwargs)

    def scalars(self, *args, **kwargs):
        self._autobegin()
        return self.shared.conn.scalars(*args, **kwargs)

    def begin_nested(self):
        self._autobegin()
        return self.shared.conn.begin_nested()

    def in_transaction(self) -> bool:
        return self._active() is not None

    def commit(self) -> None:
        if self._active():
            self._tx.commit()

    def rollback(self) -> None:
        if self._active():
            self._tx.rollback()

    def close(self) -> None:
        if self._active():
            self._tx.close()
        self.closed = True

    invalidate = close

    @property
    def dialect(self):
        return self.shared.conn.dialect

    @property
    def connection(self):
        """The DBAPI connection (seed/history.py COPYs through it), in this connection's transaction."""
        self._autobegin()
        return self.shared.conn.connection

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        raise AttributeError(NEEDS_COMMITS.format(what=f"its connections offer no .{name}"))


class TestEngine:
    """Stands for an Engine in a rolled-back test: connect() and begin() work on the shared connection,
    as the owner (the fixtures' `engine`) or as the app role (the app's requests, Database.engine_override).
    Anything else an Engine has (its url, its events, ...) fails, naming the commits marker."""

    __test__ = False  # not a test class, in the test modules that import it

    def __init__(self, shared: SharedConnection, role: str | None = None):
        self.shared = shared
        self.role = role

    def connect(self) -> TestConnection:
        self.shared.check()
        return TestConnection(self.shared, self.role)

    @contextmanager
    def begin(self):
        with self.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        pass

    def __getattr__(self, name):
        raise AttributeError(NEEDS_COMMITS.format(what=f"its engine offers no .{name} (no connection of its own)"))


# While a test runs rolled back, a new connection to the test database would neither see its rows nor be
# rolled back with it: refused, whichever engine opens it.
_rolled_back: dict[str, SharedConnection | None] = {"shared": None}


@sa.event.listens_for(sa.engine.Engine, "engine_connect")
def _refuse_connections_of_their_own(conn):
    shared = _rolled_back["shared"]
    if shared is not None and conn.engine.url.database == shared.database:
        conn.close()
        raise RuntimeError(NEEDS_COMMITS.format(what="it cannot open a connection of its own to the database"))


@pytest.fixture
def _isolation(request, owner_engine, _truncatable, _seeded, _rollback_statements, _restart_sequences):
    """The test's shared connection in its outer transaction, rolled back at the end; None for a test
    that commits (marked `commits`), whose tables are emptied and seeded rows put back afterwards."""
    if needs_commits(request.node):
        yield None
        truncate_all(owner_engine, _truncatable)
        _seeded.restore()
        return
    conn = owner_engine.connect()
    outer = conn.begin()
    shared = SharedConnection(conn, owner_engine.url.database, _rollback_statements)
    _rolled_back["shared"] = shared
    try:
        yield shared
    finally:
        _rolled_back["shared"] = None
        outer.rollback()
        with conn.begin():
            _restart_sequences(conn)
        conn.close()


@pytest.fixture
def engine(_isolation, owner_engine):
    """The owner's engine for seeding and checking: in a rolled-back test its connections are savepoints
    on the test's connection (what they "commit" the requests see, and all is rolled back at the end)."""
    return owner_engine if _isolation is None else TestEngine(_isolation)


def app_config(database_url: str, **overrides) -> dict:
    # Requests log in as the app role on whichever server and database the app is given.
    app_url = url_with_user(overrides.get("DATABASE_URL") or database_url, APP_ROLE, APP_PASSWORD)
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "APP_DATABASE_URL": app_url,
        "SECRET_KEY": "test-secret-key-" + "y" * 20,
        "PIN_PEPPER": TEST_PEPPER,
        "DB_POOL_SIZE": 5,
        **FAST_HASH,
        **SHORT_PINS_ALLOWED,
        **overrides,
    }


@pytest.fixture(scope="session")
def _app(database_url):
    app = create_app(app_config(database_url))
    yield app
    app.extensions["erp_db"].dispose()


@pytest.fixture
def app(_app, _isolation):
    """The app on the test database. In a rolled-back test each request's transaction is a savepoint
    on the test's connection, run as the app role; a test that commits gets every table emptied after."""
    database = _app.extensions["erp_db"]
    _app.extensions["setup_done"] = False
    if _isolation is not None:
        database.engine_override = TestEngine(_isolation, APP_ROLE)
    try:
        yield _app
    finally:
        database.engine_override = None
        _app.extensions["setup_done"] = False


@pytest.fixture
def make_app(database_url, _isolation):
    """Build further app instances (e.g. a second server process sharing the database); the test commits."""
    made = []

    def factory(**overrides):
        instance = create_app(app_config(database_url, **overrides))
        made.append(instance)
        return instance

    yield factory
    for instance in made:
        instance.extensions["erp_db"].dispose()


@pytest.fixture
def conn(engine):
    """A connection for database tests, its transaction rolled back at the end (nothing to clean)."""
    from builders import rolled_back

    with rolled_back(engine) as connection:
        yield connection


@pytest.fixture
def committed(_isolation, owner_engine):
    """For races between connections: data is committed, and every table emptied afterwards."""
    assert _isolation is None
    yield owner_engine


@pytest.fixture
def client(app):
    return app.test_client()


# ----------------------------------------------------------------------------- data


@pytest.fixture
def make_branch(app, engine):
    counter = iter(range(1, 1000))

    def factory(**overrides) -> int:
        n = next(counter)
        data = {
            "branch_code": f"BR{n}", "legal_name": f"Test Motors {n} Pvt Ltd", "trade_name": None,
            "gstin": gstin(f"29AABCT{1000 + n:04d}K1Z"), "address_line1": "1 MG Road", "address_line2": None,
            "city": "Bengaluru", "pincode": "560001", "phone": "080-41234567", "email": None, "upi_id": None,
            "invoice_prefix": f"T{n}",
        }
        data.update(overrides)
        with app.app_context(), engine.begin() as conn:
            from webapp.master.queries import insert_branch

            return insert_branch(conn, data)

    return factory


@pytest.fixture
def make_staff(app, engine, make_branch):
    """Create a staff member with a known PIN; returns (staff_id, code, pin)."""
    state = {"branch_id": None}

    def factory(code: str, role: str = "ADMIN", pin: str = "2580", *, must_change_pin: bool = False,
                branch_id: int | None = None, **fields):
        if branch_id is None:
            if state["branch_id"] is None:
                state["branch_id"] = make_branch()
            branch_id = state["branch_id"]
        with app.app_context():
            pin_hash = hash_pin(pin)
        data = {"staff_code": code, "name": fields.pop("name", f"Staff {code}"), "designation": role,
                "branch_id": branch_id, **fields}
        with engine.begin() as conn:
            from webapp.master.queries import insert_staff

            staff_id = insert_staff(conn, data, pin_hash, must_change_pin=must_change_pin)
        return staff_id, code, pin

    return factory


# ----------------------------------------------------------------------------- web helpers

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta"
    return match.group(1)


def page_csrf(client, path: str = "/login") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def login(client, code: str, pin: str, follow: bool = False):
    token = page_csrf(client, "/login")
    return client.post("/login", data={"staff_code": code, "pin": pin, "csrf_token": token},
                       follow_redirects=follow)


@pytest.fixture
def logged_in(client, make_staff):
    """A client logged in as a member of the given role: logged_in('MANAGER') -> (client, staff_id)."""

    def as_role(role: str = "ADMIN", code: str | None = None):
        code = code or f"{role[:3]}{secrets.randbelow(900) + 100}"
        staff_id, code, pin = make_staff(code, role)
        response = login(client, code, pin)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client, staff_id

    return as_role
