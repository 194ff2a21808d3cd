"""Migrations: `init-db` may be run any number of times, by two people at once, and
refuses to go on when a numbered file that was already applied has been edited since; the
function files (sql/functions/) run after the numbered ones, and again whenever they change.

Each test uses its own scratch database on the test server (created and dropped
here) and, where it edits files, a copy of sql/ in a temporary folder.
"""
from __future__ import annotations

import hashlib
import shutil
import threading
import time

import pytest
import sqlalchemy as sa
from conftest import APP_PASSWORD, APP_ROLE

from tools.schema_snapshot import dump_schema
from webapp import migrations
from webapp.db import scratch_database, sqlalchemy_url

FIRST = "0001_platform.sql"
SHIPPED = [m.filename for m in migrations.available()]  # every numbered file under sql/, in order
FUNCTION_FILES = [f.filename for f in migrations.function_files()]  # "functions/10_platform.sql", ...
BILLING = "functions/80_billing.sql"


@pytest.fixture
def scratch_db(pg_server_url):
    """An empty database of its own; call it for an engine on it (one per simulated process)."""
    engines = []
    with scratch_database(pg_server_url, "erp_scratch") as url:

        def new_engine(**kwargs) -> sa.Engine:
            engines.append(sa.create_engine(sqlalchemy_url(url), **kwargs))
            return engines[-1]

        yield new_engine
        for eng in engines:
            eng.dispose()


@pytest.fixture
def sql_dir(tmp_path):
    """A copy of sql/ that a test may edit."""
    target = tmp_path / "sql"
    shutil.copytree(migrations.SQL_DIR, target)
    return target


def schema_snapshot(engine) -> dict:
    """Everything the migrations define, as plain data that can be compared."""
    schemas = ("master", "audit", "platform")
    queries = {
        "columns": """SELECT table_schema, table_name, column_name, data_type, is_nullable,
                             coalesce(column_default, ''), coalesce(generation_expression, '')
                        FROM information_schema.columns WHERE table_schema = ANY(:s) ORDER BY 1, 2, 3""",
        "constraints": """SELECT n.nspname, c.conname, pg_get_constraintdef(c.oid)
                            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                           WHERE n.nspname = ANY(:s) ORDER BY 1, 2""",
        "indexes": "SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY(:s) ORDER BY 1, 2",
        "triggers": """SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
                         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                         JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = ANY(:s) AND NOT t.tgisinternal ORDER BY 1, 2""",
        "functions": """SELECT n.nspname, p.proname, md5(pg_get_functiondef(p.oid))
                          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = ANY(:s) ORDER BY 1, 2""",
        "reference_rows": """SELECT 'state', count(*) FROM master.state
                             UNION ALL SELECT 'role', count(*) FROM master.role ORDER BY 1""",
        "migrations": "SELECT filename, sha256 FROM platform.schema_migration ORDER BY 1",
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(sa.text(q), {"s": list(schemas)})]
                for name, q in queries.items()}


def applied_files(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT filename, sha256 FROM platform.schema_migration ORDER BY filename"))]


def function_files_recorded(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT filename, sha256 FROM platform.schema_function_file ORDER BY filename"))]


def functiondef(engine, signature: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_get_functiondef(CAST(:f AS regprocedure))"), {"f": signature}).scalar()


def lock_is_free(engine) -> bool:
    with engine.connect() as conn:
        free = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": migrations.LOCK_KEY}).scalar()
        if free:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": migrations.LOCK_KEY})
        return free


def test_init_db_twice_applies_everything_once_and_then_nothing(scratch_db):
    engine = scratch_db()
    assert migrations.pending(engine) == [*SHIPPED, *FUNCTION_FILES]
    assert migrations.apply_pending(engine) == [*SHIPPED, *FUNCTION_FILES]
    first = schema_snapshot(engine)
    assert migrations.apply_pending(engine) == []
    assert migrations.pending(engine) == []
    assert schema_snapshot(engine) == first
    assert first["columns"] and first["triggers"] and first["functions"]  # the snapshot really saw the schema
    assert applied_files(engine) == [
        (name, hashlib.sha256((migrations.SQL_DIR / name).read_text(encoding="utf-8").encode()).hexdigest())
        for name in SHIPPED]
    assert function_files_recorded(engine) == [(f.filename, f.sha256) for f in migrations.function_files()]
    assert lock_is_free(engine)


def test_a_new_file_is_applied_on_its_own_later(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    (sql_dir / "9001_showroom_notes.sql").write_text("CREATE TABLE master.showroom_note (note text);\n")
    assert migrations.pending(engine, sql_dir) == ["9001_showroom_notes.sql"]
    # A numbered migration may drop what a function file defines (a view with a column): they all run again.
    assert migrations.apply_pending(engine, sql_dir) == ["9001_showroom_notes.sql", *FUNCTION_FILES]
    assert [f for f, _ in applied_files(engine)] == [*SHIPPED, "9001_showroom_notes.sql"]


def test_an_applied_file_that_was_edited_stops_init_db_before_anything_is_applied(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    before = schema_snapshot(engine)
    first = sql_dir / FIRST
    first.write_text(first.read_text(encoding="utf-8") + "\n-- a harmless-looking comment\n", encoding="utf-8")
    (sql_dir / "9001_showroom_notes.sql").write_text("CREATE TABLE master.showroom_note (note text);\n")
    with pytest.raises(migrations.MigrationError, match=FIRST):
        migrations.apply_pending(engine, sql_dir)
    assert schema_snapshot(engine) == before  # 9001 was not applied either
    assert lock_is_free(engine)


def test_a_file_the_database_has_but_the_code_lacks_stops_init_db(scratch_db, sql_dir):
    engine = scratch_db()
    (sql_dir / "9001_showroom_notes.sql").write_text("CREATE TABLE master.showroom_note (note text);\n")
    migrations.apply_pending(engine, sql_dir)
    (sql_dir / "9001_showroom_notes.sql").unlink()  # an older copy of the code on a newer database
    with pytest.raises(migrations.MigrationError, match="9001_showroom_notes.sql"):
        migrations.apply_pending(engine, sql_dir)


def test_a_failing_migration_leaves_no_trace_and_can_be_fixed_and_rerun(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    broken = sql_dir / "9001_broken.sql"
    broken.write_text("CREATE TABLE master.half_done (x int);\nSELECT 1 / 0;\n")
    with pytest.raises(Exception, match="division by zero"):
        migrations.apply_pending(engine, sql_dir)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('master.half_done')")).scalar() is None
    assert [f for f, _ in applied_files(engine)] == SHIPPED
    assert lock_is_free(engine)
    broken.write_text("CREATE TABLE master.half_done (x int);\n")
    assert migrations.apply_pending(engine, sql_dir) == ["9001_broken.sql", *FUNCTION_FILES]


def test_after_init_db_the_same_engine_still_rolls_back_what_it_did_not_commit(scratch_db):
    """init-db borrows a pooled connection; it must not hand it back in autocommit mode."""
    engine = scratch_db(pool_size=1, max_overflow=0)
    migrations.apply_pending(engine)
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TABLE master.should_vanish (x int)"))
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('master.should_vanish')")).scalar() is None


def test_two_init_db_at_once_on_a_fresh_database_apply_each_file_exactly_once(scratch_db, sql_dir):
    # A slow second file keeps the first runner busy long enough for the other to arrive and wait.
    (sql_dir / "9001_slow.sql").write_text("SELECT pg_sleep(0.4);\nCREATE TABLE master.slow_marker (x int);\n")
    engines = [scratch_db(), scratch_db()]  # two processes: separate pools, separate connections
    monitor = scratch_db()
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(i):
        start.wait()
        try:
            results[i] = migrations.apply_pending(engines[i], sql_dir)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    saw_a_waiter = False
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(t.is_alive() for t in threads):
        with monitor.connect() as conn:
            saw_a_waiter = saw_a_waiter or conn.execute(sa.text(
                """SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                                      AND database = (SELECT oid FROM pg_database
                                                       WHERE datname = current_database()))""")).scalar()
        time.sleep(0.02)
    for t in threads:
        t.join(timeout=10)

    assert not any(isinstance(r, Exception) for r in results.values()), results
    assert sorted(results.values(), key=len) == [[], [*SHIPPED, "9001_slow.sql", *FUNCTION_FILES]]
    assert [f for f, _ in applied_files(monitor)] == [*SHIPPED, "9001_slow.sql"]
    assert saw_a_waiter, "the two runs did not overlap, so the test proved nothing"
    assert lock_is_free(monitor)


# ----------------------------------------------------------------------------- function files


def dump(engine) -> str:
    """pg_dump of the scratch database, as make schema prints it."""
    return dump_schema(engine.url.render_as_string(hide_password=False))


def test_the_function_files_run_once_and_again_change_nothing(scratch_db):
    engine = scratch_db()
    migrations.apply_pending(engine)
    before = dump(engine)
    assert migrations.apply_pending(engine) == []  # recorded and unchanged: not run again
    with engine.begin() as conn:  # as if each had been edited: all of them run again...
        conn.execute(sa.text("DELETE FROM platform.schema_function_file"))
    assert migrations.pending(engine) == FUNCTION_FILES
    assert migrations.apply_pending(engine) == FUNCTION_FILES
    assert migrations.apply_pending(engine) == []
    assert dump(engine) == before  # ...and the database is as it was
    assert lock_is_free(engine)


def test_an_edited_function_file_is_applied_again_on_an_existing_database(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    billing = sql_dir / BILLING
    old = "a unit must be allotted before invoicing"
    assert old in functiondef(engine, "billing.post_invoice()")
    billing.write_text(billing.read_text(encoding="utf-8").replace(old, "allot a unit before invoicing"),
                       encoding="utf-8")

    assert migrations.pending(engine, sql_dir) == [BILLING]  # `serve` waits for init-db
    assert migrations.apply_pending(engine, sql_dir) == [BILLING]  # no numbered file refused, none re-run
    assert "allot a unit before invoicing" in functiondef(engine, "billing.post_invoice()")
    assert dict(function_files_recorded(engine))[BILLING] == hashlib.sha256(billing.read_bytes()).hexdigest()
    assert migrations.apply_pending(engine, sql_dir) == []
    assert [f for f, _ in applied_files(engine)] == SHIPPED


def test_a_broken_function_file_changes_nothing_of_its_own_and_is_tried_again(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    billing = sql_dir / BILLING
    good = billing.read_text(encoding="utf-8")
    before = functiondef(engine, "billing.threshold_on(text, date)")
    fixed = good.replace("SELECT amount FROM billing.threshold", "SELECT amount * 2 FROM billing.threshold")
    billing.write_text(fixed + "\nCREATE OR REPLACE FUNCTION billing.oops( RETURNS int;\n", encoding="utf-8")
    with pytest.raises(Exception, match="syntax error"):
        migrations.apply_pending(engine, sql_dir)
    assert functiondef(engine, "billing.threshold_on(text, date)") == before  # the file is one transaction
    assert migrations.pending(engine, sql_dir) == [BILLING]
    assert lock_is_free(engine)
    billing.write_text(fixed, encoding="utf-8")
    assert migrations.apply_pending(engine, sql_dir) == [BILLING]
    assert "amount * 2" in functiondef(engine, "billing.threshold_on(text, date)")
    assert migrations.pending(engine, sql_dir) == []


def test_what_a_new_numbered_migration_drops_the_function_files_put_back(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    before = dump(engine)
    (sql_dir / "9001_rework.sql").write_text(
        "DROP VIEW billing.receivable;\nDROP TRIGGER delivery_post ON sales.delivery;\n")
    assert migrations.apply_pending(engine, sql_dir) == ["9001_rework.sql", *FUNCTION_FILES]
    assert dump(engine) == before


def test_a_sql_file_not_named_like_a_migration_stops_init_db(scratch_db, sql_dir):
    engine = scratch_db()
    (sql_dir / "fix_invoice.sql").write_text("SELECT 1;\n")
    with pytest.raises(migrations.MigrationError, match="fix_invoice.sql"):
        migrations.apply_pending(engine, sql_dir)
    assert (sql_dir / migrations.SNAPSHOT).exists()  # the snapshot is read, never applied (see the first test)


def test_the_app_role_may_run_every_function_and_not_touch_the_records(scratch_db, sql_dir):
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    migrations.prepare_app_role(engine, APP_ROLE, APP_PASSWORD)
    billing = sql_dir / BILLING
    billing.write_text(billing.read_text(encoding="utf-8") + "\n-- a comment\n", encoding="utf-8")
    assert migrations.apply_pending(engine, sql_dir) == [BILLING]  # CREATE OR REPLACE keeps the grants
    with engine.connect() as conn:
        denied = conn.execute(sa.text(
            """SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE pg_get_userbyid(n.nspowner) = current_user AND n.nspname <> 'public'
                  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                  AND NOT has_function_privilege(:r, p.oid, 'EXECUTE')"""), {"r": APP_ROLE}).scalars().all()
        assert denied == []
        assert not conn.execute(sa.text(
            "SELECT has_table_privilege(:r, 'platform.schema_function_file', 'INSERT, UPDATE, DELETE')"),
            {"r": APP_ROLE}).scalar()


def test_a_showroom_database_from_before_the_function_files_gets_them_and_ends_as_a_fresh_one(
        scratch_db, sql_dir, pg_server_url):
    functions = sql_dir / migrations.FUNCTIONS
    shutil.move(functions, sql_dir.parent / "later")  # the code of before: numbered files only
    engine = scratch_db()
    assert migrations.apply_pending(engine, sql_dir) == SHIPPED
    with engine.begin() as conn:  # which had no record of function files either
        conn.execute(sa.text("DROP TABLE platform.schema_function_file"))
    shutil.move(sql_dir.parent / "later", functions)
    assert migrations.pending(engine, sql_dir) == FUNCTION_FILES  # `serve` waits for init-db
    assert migrations.apply_pending(engine, sql_dir) == FUNCTION_FILES
    with scratch_database(pg_server_url, "erp_scratch") as url:
        fresh = sa.create_engine(sqlalchemy_url(url))
        try:
            migrations.apply_pending(fresh)
            assert dump(engine) == dump(fresh)
        finally:
            fresh.dispose()
