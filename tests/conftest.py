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
from webapp.db import EmbeddedServer, scratch_database, sqlalchemy_url
from webapp.security import hash_pin
from webapp.validators import gstin_check_character

ROOT = Path(__file__).resolve().parent.parent
TEST_PEPPER = "test-pepper-" + "x" * 20

# Cheap Argon2 settings keep the suite fast; test_pins checks the production defaults.
FAST_HASH = {"PIN_HASH_TIME_COST": 1, "PIN_HASH_MEMORY_KIB": 1024}


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


def truncate_all(engine, tables) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def app_config(database_url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "y" * 20,
        "PIN_PEPPER": TEST_PEPPER,
        "DB_POOL_SIZE": 5,
        **FAST_HASH,
        **overrides,
    }


@pytest.fixture(scope="session")
def _app(database_url):
    app = create_app(app_config(database_url))
    yield app
    app.extensions["erp_db"].dispose()


@pytest.fixture
def app(_app, engine, _truncatable):
    """The app on the test database; every table is emptied after the test."""
    _app.extensions["setup_done"] = False
    yield _app
    truncate_all(engine, _truncatable)
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
