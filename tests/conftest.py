"""Test fixtures: a real PostgreSQL database made fresh for this run, dropped at its end.

With TEST_DATABASE_URL (a server URL whose user may CREATE DATABASE) that server is
used; otherwise the embedded PostgreSQL under instance/test-pgdata. Each test that
touches the database gets clean tables afterwards (truncation of every table that
migrations left empty; seeded reference tables are kept).
"""
from __future__ import annotations

import os
import re
import secrets
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
    yield server.start()
    # The embedded server stops when this process exits (pgserver's exit handler).


@pytest.fixture(scope="session")
def database_url(pg_server_url):
    with scratch_database(pg_server_url, "erp_test") as url:
        engine = sa.create_engine(sqlalchemy_url(url))
        migrations.apply_pending(engine)
        migrations.prepare_app_role(engine, APP_ROLE, APP_PASSWORD)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url):
    eng = sa.create_engine(sqlalchemy_url(database_url), connect_args={"options": "-c timezone=Asia/Kolkata"})
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def _truncatable(engine):
    """Tables that migrations leave empty: the ones tests may fill and must empty again."""
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            """SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1""")).scalars().all()
        empty = [t for t in tables if not conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {t})")).scalar()]
    # The audit trail also holds the seeding of reference data; tests start from an empty one.
    return sorted(set(empty) | {"audit.log"})


class SeededTables:
    """The reference rows migrations seed (GST rates, on-road items, the PDI checklist, discount
    limits...), copied once; a test that changes them through the screens (a settings form, the
    POST fuzz) gets them put back, so the next test starts from the shipped data."""

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
def _seeded(engine, _truncatable):
    return SeededTables(engine, _truncatable)


def truncate_all(engine, tables) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


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
def app(_app, engine, _truncatable, _seeded):
    """The app on the test database; every table is emptied after the test, the seeded reference
    rows put back as shipped."""
    _app.extensions["setup_done"] = False
    yield _app
    truncate_all(engine, _truncatable)
    _seeded.restore()
    _app.extensions["setup_done"] = False


@pytest.fixture
def make_app(database_url, engine, _truncatable):
    """Build further app instances (e.g. a second server process sharing the database)."""
    made = []

    def factory(**overrides):
        instance = create_app(app_config(database_url, **overrides))
        made.append(instance)
        return instance

    yield factory
    for instance in made:
        instance.extensions["erp_db"].dispose()
    truncate_all(engine, _truncatable)


@pytest.fixture
def conn(engine):
    """A connection for database tests, its transaction rolled back at the end (nothing to clean)."""
    from builders import rolled_back

    with rolled_back(engine) as connection:
        yield connection


@pytest.fixture
def committed(engine, _truncatable):
    """For races between connections: data is committed, and every table emptied afterwards."""
    yield engine
    truncate_all(engine, _truncatable)


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
