"""The command line the installer and the administrator use: init-db, create-admin,
seed-demo, backup and restore, run against databases made for these tests."""
from __future__ import annotations

import re
import stat
import threading
import time

import pytest
import sqlalchemy as sa
from conftest import APP_PASSWORD, APP_ROLE, app_config, gstin, login, server_wide_lock

from seed.commands import register as register_seed_commands
from webapp import create_app, migrations
from webapp.db import scratch_database, sqlalchemy_url


def run(app, *args: str):
    """Run a CLI command the way `flask --app wsgi ...` does (with the app's context pushed)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def fresh_database(pg_server_url):
    """An empty database of its own (no migrations applied); dropped afterwards."""
    with scratch_database(pg_server_url, "erp_cli") as url:
        engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
        yield url, engine
        engine.dispose()


@pytest.fixture(scope="module")
def _migrated_template(pg_server_url):
    """A database migrated once, as init-db leaves it, that each test's database is copied from."""
    with scratch_database(pg_server_url, "erp_cli_tpl") as url:
        engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
        migrations.apply_pending(engine)
        with server_wide_lock(pg_server_url):  # the role is the server's: one worker at a time
            migrations.prepare_app_role(engine, APP_ROLE, APP_PASSWORD)  # as init-db does
        engine.dispose()
        yield sa.engine.make_url(sqlalchemy_url(url)).database


@pytest.fixture
def showroom_db(pg_server_url, _migrated_template, tmp_path, monkeypatch):
    """A migrated database of its own (a copy of the template) and an app on it (instance folder
    under tmp_path). The tests' shared database is not touched: nothing there to empty afterwards."""
    with scratch_database(pg_server_url, "erp_cli", template=_migrated_template) as url:
        engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
        monkeypatch.setenv("ERP_INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app(app_config(url))
        register_seed_commands(app)  # as wsgi.py does: seed-demo, generate-history
        yield app, engine
        app.extensions["erp_db"].dispose()
        engine.dispose()


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def add_branch(engine, code: str = "BLR1") -> int:
    with engine.begin() as conn:
        return conn.execute(sa.text(
            """INSERT INTO master.branch (branch_code, legal_name, gstin, address_line1, city, pincode, phone,
                                          invoice_prefix)
               VALUES (:c, 'Volt Motors Private Limited', :g, '14, 100 Feet Road', 'Bengaluru', '560038',
                       '080-41234567', :c) RETURNING branch_id"""),
            {"c": code, "g": gstin("29AAJCV4821K1Z")}).scalar_one()


def snapshot(engine) -> dict:
    """What a showroom would miss after a bad restore: its rows and its database rules."""
    with engine.connect() as conn:
        return {
            "staff": conn.execute(sa.text(
                "SELECT staff_id, staff_code, name, designation, is_active, pin_hash FROM master.staff "
                "ORDER BY staff_id")).all(),
            "branches": conn.execute(sa.text("SELECT branch_id, branch_code, phone FROM master.branch "
                                             "ORDER BY branch_id")).all(),
            "audit": conn.execute(sa.text("SELECT count(*) FROM audit.log")).scalar(),
            "triggers": conn.execute(sa.text(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")).scalar(),
            "constraints": conn.execute(sa.text(
                "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname IN ('master', 'audit', 'platform')")).scalar(),
        }


# ----------------------------------------------------------------------------- init-db


def test_init_db_applies_the_schema_once_and_then_says_it_is_up_to_date(fresh_database, make_app):
    url, engine = fresh_database
    app = make_app(DATABASE_URL=url)
    first = run(app, "init-db")
    assert first.exit_code == 0, first.output
    shipped = [m.filename for m in migrations.available()]
    functions = [f.filename for f in migrations.function_files()]  # run after the numbered files
    said = first.output.strip().splitlines()
    assert " ".join(said[:-1]).split() == [word for name in shipped + functions for word in ("applied", name)]
    assert said[-1] == f"the app connects as {APP_ROLE}"
    assert scalar(engine, "SELECT count(*) FROM master.role") == 7
    # The app role may work with the tables (under the branch policies), not change the migrations.
    assert scalar(engine, "SELECT has_table_privilege(:r, 'sales.booking', 'SELECT, INSERT, UPDATE, DELETE')",
                  r=APP_ROLE)
    assert not scalar(engine, "SELECT has_table_privilege(:r, 'platform.schema_migration', 'INSERT')", r=APP_ROLE)
    assert not scalar(engine, "SELECT has_table_privilege(:r, 'audit.log', 'UPDATE')", r=APP_ROLE)

    second = run(app, "init-db")
    assert second.exit_code == 0, second.output
    assert second.output.strip().splitlines() == ["database is up to date", f"the app connects as {APP_ROLE}"]
    assert scalar(engine, "SELECT count(*) FROM platform.schema_migration") == len(shipped)


# ----------------------------------------------------------------------------- create-admin


def test_create_admin_makes_an_administrator_who_can_log_in(showroom_db):
    app, engine = showroom_db
    add_branch(engine)
    result = run(app, "create-admin", "--code", "ramesh", "--name", "Ramesh Gowda", "--pin", "4826")
    assert result.exit_code == 0, result.output
    assert "administrator RAMESH created" in result.output
    assert scalar(engine, "SELECT designation FROM master.staff WHERE staff_code = 'RAMESH'") == "ADMIN"

    client = app.test_client()
    assert login(client, "RAMESH", "4826").status_code == 303
    page = client.get("/master/staff")
    assert page.status_code == 200 and "Ramesh Gowda" in page.get_data(as_text=True)


@pytest.mark.parametrize("pin, message", [
    ("12ab", "4 to 6 digits"),
    ("123", "4 to 6 digits"),
    ("1234567", "4 to 6 digits"),
    ("1111", "repeated or running sequence"),
    ("1234", "repeated or running sequence"),
])
def test_create_admin_refuses_a_bad_pin_with_a_message(showroom_db, pin, message):
    app, engine = showroom_db
    add_branch(engine)
    result = run(app, "create-admin", "--code", "RAMESH", "--name", "Ramesh Gowda", "--pin", pin)
    assert result.exit_code != 0
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a crash
    assert scalar(engine, "SELECT count(*) FROM master.staff") == 0


def test_create_admin_without_a_showroom_says_to_run_the_setup_first(showroom_db):
    app, engine = showroom_db
    result = run(app, "create-admin", "--code", "RAMESH", "--name", "Ramesh Gowda", "--pin", "4826")
    assert result.exit_code == 1
    assert "no showroom (branch) yet" in result.output and "setup wizard" in result.output
    assert scalar(engine, "SELECT count(*) FROM master.staff") == 0


def test_create_admin_names_a_branch_that_does_not_exist(showroom_db):
    app, engine = showroom_db
    add_branch(engine)
    result = run(app, "create-admin", "--code", "RAMESH", "--name", "Ramesh Gowda", "--pin", "4826",
                 "--branch", "XYZ")
    assert result.exit_code == 1 and "no branch with code XYZ" in result.output


def test_create_admin_with_a_code_already_taken_is_refused(showroom_db):
    app, engine = showroom_db
    add_branch(engine)
    assert run(app, "create-admin", "--code", "RAMESH", "--name", "Ramesh Gowda", "--pin", "4826").exit_code == 0
    again = run(app, "create-admin", "--code", "RAMESH", "--name", "Someone Else", "--pin", "7391")
    assert again.exit_code == 1
    assert "could not create the administrator" in again.output
    assert scalar(engine, "SELECT array_agg(name) FROM master.staff") == ["Ramesh Gowda"]


# ----------------------------------------------------------------------------- seed-demo


def test_seed_demo_creates_staff_of_every_role_and_shows_each_pin_once(showroom_db):
    app, engine = showroom_db
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output

    with engine.connect() as conn:
        roles = set(conn.execute(sa.text("SELECT role_code FROM master.role")).scalars())
        staff = conn.execute(sa.text("SELECT staff_code, designation, must_change_pin FROM master.staff")).all()
    assert {s.designation for s in staff} == roles
    assert all(s.must_change_pin for s in staff)

    pin_lines = re.findall(r"^\s+(\S+)\s.*PIN (\d{6})$", result.output, re.M)
    printed = dict(pin_lines)
    assert len(pin_lines) == len(staff)  # one line per member, none twice
    assert set(printed) == {s.staff_code for s in staff}

    # Every printed PIN opens its own account (and asks for a new PIN first).
    for code in ("ADMIN", "S01", "D01"):
        client = app.test_client()
        assert login(client, code, printed[code]).status_code == 303, code
        assert client.get("/").headers["Location"].endswith("/profile/pin")

    # Enough to sell a scooter at once: a priced variant on the day with units in stock, a customer,
    # a financier and an insurer.
    with engine.connect() as conn:
        sellable = conn.execute(sa.text("""
            SELECT count(*) FROM inventory.vehicle_unit u
             WHERE u.status = 'IN_STOCK' AND EXISTS (
                   SELECT 1 FROM oem.price_on(u.variant_id, u.colour, (now() AT TIME ZONE 'Asia/Kolkata')::date))""")).scalar()
        parties = conn.execute(sa.text("""SELECT (SELECT count(*) FROM master.customer), (SELECT count(*) FROM master.financier),
                                                 (SELECT count(*) FROM master.insurer)""")).one()
    assert sellable >= 10 and all(n >= 1 for n in parties)

    # The demo's booked lead was booked by a real booking made from it (its customer, the scooter it came
    # for), so the funnel shows a booking; every booked lead has one.
    with engine.connect() as conn:
        booked = conn.execute(sa.text("""
            SELECT l.name, l.status, b.booking_no, c.mobile = l.mobile AS same_mobile,
                   v.model_id = l.model_id AS same_model
              FROM crm.lead l JOIN sales.booking b ON b.lead_id = l.lead_id
              JOIN master.customer c ON c.customer_id = b.customer_id JOIN oem.variant v ON v.variant_id = b.variant_id
             WHERE l.customer_id = b.customer_id""")).all()
        unbooked = conn.execute(sa.text("""
            SELECT count(*) FROM crm.lead l WHERE l.status = 'BOOKED'
               AND NOT EXISTS (SELECT 1 FROM sales.booking b WHERE b.lead_id = l.lead_id)""")).scalar()
    assert [(r.name, r.status, r.same_mobile, r.same_model) for r in booked] == [("Nandini Rao", "BOOKED", True, True)]
    assert booked[0].booking_no and unbooked == 0

    again = run(app, "seed-demo")
    assert again.exit_code == 0
    assert "nothing added" in again.output and "PIN" not in again.output
    assert scalar(engine, "SELECT count(*) FROM master.staff") == len(staff)
    demo_sold_here_scooter_has_its_service_history(engine)


def demo_sold_here_scooter_has_its_service_history(engine):
    """The demo's scooter sold here through the sales flow, with its visits to the workshop since."""
    with engine.connect() as conn:
        sale = conn.execute(sa.text("""
            SELECT v.vehicle_id, v.unit_id, u.status, b.stage, b.invoice_id, d.delivered_on, v.sale_date,
                   (SELECT customer_balance FROM billing.booking_balance WHERE booking_id = b.booking_id) AS owed
              FROM service.vehicle v
              JOIN inventory.vehicle_unit u ON u.unit_id = v.unit_id
              JOIN sales.delivery d ON d.unit_id = u.unit_id
              JOIN sales.booking b ON b.booking_id = d.booking_id
             WHERE v.registration_no = 'KA03NE2468'""")).mappings().one()
        assert sale["status"] == "DELIVERED" and sale["stage"] == "DELIVERED" and sale["invoice_id"]
        assert sale["delivered_on"] == sale["sale_date"] and sale["owed"] == 0
        cards = conn.execute(sa.text("""
            SELECT j.service_type, j.free_service_no, j.state, j.invoice_id,
                   billing.invoice_paid_in_full(j.invoice_id) AS paid,
                   (SELECT count(*) FROM service.battery_reading r WHERE r.job_card_id = j.job_card_id) AS readings,
                   (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date = (now() AT TIME ZONE 'Asia/Kolkata')::date AS today
              FROM service.job_card j WHERE j.vehicle_id = :v ORDER BY j.opened_at"""),
            {"v": sale["vehicle_id"]}).mappings().all()
    delivered = [c for c in cards if c["state"] == "DELIVERED"]
    assert [(c["service_type"], c["free_service_no"]) for c in delivered] == [
        ("FREE_SERVICE", 1), ("FREE_SERVICE", 2), ("PAID_SERVICE", None)]
    assert all(c["readings"] == 1 for c in delivered)          # the vehicle page's SoH trend
    assert delivered[-1]["invoice_id"] and delivered[-1]["paid"] is True
    assert [c["state"] for c in cards if c["today"]] == ["OPEN"]  # in again today


# ----------------------------------------------------------------------------- generate-history


def test_generate_history_fills_an_empty_stock_once(showroom_db):
    app, engine = showroom_db
    small = ("--units", "5", "--parts", "3", "--moves", "20", "--sales", "0")
    without_branch = run(app, "generate-history", *small)
    assert without_branch.exit_code == 1
    assert "Error: no branch: run the setup wizard or seed-demo first" in without_branch.output

    add_branch(engine)
    result = run(app, "generate-history", *small)
    assert result.exit_code == 0, result.output
    assert "generating" in result.output and "generated {" in result.output
    assert scalar(engine, "SELECT count(*) FROM inventory.vehicle_unit") == 5
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move") == 20

    again = run(app, "generate-history", *small)
    assert again.exit_code == 1
    assert "Error: this database already holds a generated history; it is generated only once" in again.output
    assert scalar(engine, "SELECT count(*) FROM inventory.vehicle_unit") == 5


def test_generate_history_refuses_a_showroom_with_stock_of_its_own(showroom_db):
    app, engine = showroom_db
    from seed.demo import seed_demo

    with app.app_context(), engine.begin() as conn:
        seed_demo(conn, lambda: "2580", month=False)  # the demo's stock alone would be welcome (as seed-demo --history)
    with engine.begin() as conn:  # one scooter the showroom received itself
        assert conn.execute(sa.text(
            """INSERT INTO inventory.vehicle_unit (vin, motor_no, charger_serial, key_no, variant_id, colour,
                                                   mfg_month, branch_id, status, received_on)
               SELECT 'MD9WNSTCK26000001', 'MTROWN1', 'CHGOWN1', 'K1', variant_id, colour, date_trunc('month', now()),
                      branch_id, 'IN_STOCK', now()::date
                 FROM inventory.vehicle_unit LIMIT 1"""))
    refused = run(app, "generate-history", "--units", "5", "--parts", "3", "--moves", "20", "--sales", "0")
    assert refused.exit_code == 1
    assert "already has stock or sales of its own" in refused.output
    assert scalar(engine, "SELECT count(*) FROM master.part WHERE part_no LIKE 'GP-%'") == 0


def test_generate_history_refuses_the_demo_with_its_month_of_documents_and_says_what_takes_it(showroom_db):
    app, engine = showroom_db
    assert run(app, "seed-demo").exit_code == 0   # with last month's sales and purchases, the showroom's own
    refused = run(app, "generate-history", "--units", "5", "--parts", "3", "--moves", "20", "--sales", "0")
    assert refused.exit_code == 1
    assert "already has stock or sales of its own" in refused.output and "seed-demo --history" in refused.output
    assert scalar(engine, "SELECT count(*) FROM master.part WHERE part_no LIKE 'GP-%'") == 0


def test_seed_demo_with_history_gives_the_demo_showroom_five_years_once(showroom_db):
    app, engine = showroom_db
    sizes = ("--units", "40", "--parts", "5", "--moves", "60", "--sales", "20")
    result = run(app, "seed-demo", "--history", *sizes)
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+S01\s.*PIN \d{6}$", result.output, re.M)  # the demo's PINs, then the history
    assert "generated {" in result.output
    demo_units = scalar(engine, "SELECT count(*) FROM inventory.vehicle_unit WHERE vin LIKE 'MD9DEM0%'")
    assert demo_units == 15 + 1   # in stock, and the scooter sold here that comes back for service
    assert scalar(engine, "SELECT count(*) FROM inventory.vehicle_unit") >= demo_units + 40
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE reference IS DISTINCT FROM "
                          "'DEMO OPENING'") == 60
    # The sales are the demo showroom's: its branches, sold by its own salespeople (and the demo's own sale
    # and its booked lead's booking).
    assert scalar(engine, "SELECT count(*) FROM sales.booking") == 20 + 2
    assert scalar(engine, """SELECT count(*) FROM sales.booking b JOIN master.branch br USING (branch_id)
                              WHERE br.branch_code NOT IN ('BLR1', 'MYS1')""") == 0
    assert scalar(engine, """SELECT count(*) FROM sales.booking b JOIN master.staff s ON s.staff_id = b.salesperson_id
                              WHERE s.staff_code NOT IN ('S01', 'S02', 'S11')""") == 0
    # Five years back, and the ledger still adds up (generate_history checks it; the demo's opening too).
    assert scalar(engine, "SELECT min(received_on) < now() - interval '4 years' FROM inventory.vehicle_unit")
    with engine.connect() as conn:
        wrong = conn.execute(sa.text(
            """SELECT count(*) FROM inventory.part_stock s
                 JOIN (SELECT branch_id, part_id, sum(qty) q FROM inventory.stock_move GROUP BY 1, 2) m
                USING (branch_id, part_id) WHERE s.qty <> m.q""")).scalar()
    assert wrong == 0

    again = run(app, "seed-demo", "--history", *sizes)
    assert again.exit_code == 1
    assert "nothing added" in again.output and "it is generated only once" in again.output
    assert scalar(engine, "SELECT count(*) FROM sales.booking") == 20 + 2


# ----------------------------------------------------------------------------- backup / restore


def seed_some_data(app, engine):
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    return snapshot(engine)


def test_backup_then_restore_brings_back_what_was_changed(showroom_db, tmp_path):
    app, engine = showroom_db
    saved = seed_some_data(app, engine)
    dump = tmp_path / "before.dump"
    result = run(app, "backup", "--output", str(dump))
    assert result.exit_code == 0, result.output
    assert dump.exists() and stat.S_IMODE(dump.stat().st_mode) == 0o600

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET name = 'Changed By Mistake', is_active = false "
                             "WHERE designation <> 'ADMIN'"))
        conn.execute(sa.text("UPDATE master.branch SET phone = '080-99999999'"))
    assert snapshot(engine) != saved

    restored = run(app, "restore", "--yes", str(dump))
    assert restored.exit_code == 0, restored.output
    assert f"restored {dump}" in restored.output
    assert snapshot(engine) == saved

    # The app works on the restored database without a restart, and the rules are back.
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM master.staff"))


def test_backup_without_an_output_goes_to_the_instance_backups_folder(showroom_db, tmp_path):
    app, engine = showroom_db
    result = run(app, "backup")
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "instance" / "backups").glob("erp-*.dump"))
    assert len(files) == 1
    assert re.fullmatch(r"erp-\d{8}-\d{6}\.dump", files[0].name)
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert str(files[0]) in result.output


def test_a_backup_that_fails_leaves_no_file_that_looks_like_a_backup(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("ERP_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/x")
    named = tmp_path / "tonight.dump"
    result = run(app, "backup", "-o", str(named))
    assert result.exit_code == 1
    assert "backup failed" in result.output
    assert not named.exists()
    result = run(app, "backup")
    assert result.exit_code == 1
    assert list((tmp_path / "instance" / "backups").glob("*")) == []


def test_restore_without_yes_refuses_and_changes_nothing(showroom_db, tmp_path):
    app, engine = showroom_db
    seed_some_data(app, engine)
    dump = tmp_path / "b.dump"
    assert run(app, "backup", "-o", str(dump)).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.branch SET phone = '080-99999999'"))
    changed = snapshot(engine)

    result = run(app, "restore", str(dump))
    assert result.exit_code == 1
    assert "--yes" in result.output
    assert snapshot(engine) == changed


def test_restore_of_a_file_that_is_not_a_backup_fails_cleanly_and_changes_nothing(showroom_db, tmp_path):
    app, engine = showroom_db
    before = seed_some_data(app, engine)
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"this is a photo of the showroom, not a backup\n" * 100)

    result = run(app, "restore", "--yes", str(junk))
    assert result.exit_code == 1
    assert "restore failed, nothing was changed" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a crash
    assert snapshot(engine) == before


def test_restore_of_a_damaged_backup_fails_and_leaves_the_data_unchanged(showroom_db, tmp_path):
    """A backup cut short (a full USB stick, a copy interrupted) must not half-replace the database."""
    app, engine = showroom_db
    seed_some_data(app, engine)
    good = tmp_path / "good.dump"
    assert run(app, "backup", "-o", str(good)).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.branch SET phone = '080-77777777'"))
    current = snapshot(engine)

    data = good.read_bytes()
    for keep in (0.97, 0.9, 0.8, 0.7, 0.6, 0.5):
        damaged = tmp_path / f"damaged-{keep}.dump"
        damaged.write_bytes(data[: int(len(data) * keep)])
        result = run(app, "restore", "--yes", str(damaged))
        assert result.exit_code == 1, f"kept {keep}: {result.output}"
        assert "restore failed, nothing was changed" in result.output
        assert snapshot(engine) == current, f"kept {keep} of the backup changed the database"


def test_a_backup_is_never_readable_by_others_even_while_it_is_being_written(showroom_db, tmp_path):
    """pg_dump waits for a table another transaction holds; its half-written file must already be private."""
    app, engine = showroom_db
    seed_some_data(app, engine)
    dump = tmp_path / "slow.dump"
    blocker = engine.connect()
    tx = blocker.begin()
    blocker.execute(sa.text("LOCK TABLE master.staff IN ACCESS EXCLUSIVE MODE"))
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=run(app, "backup", "-o", str(dump))))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not dump.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert dump.exists(), "pg_dump did not create its file while waiting"
        mode_while_writing = stat.S_IMODE(dump.stat().st_mode)
    finally:
        tx.rollback()
        blocker.close()
        worker.join(30)
    assert result["r"].exit_code == 0, result["r"].output
    assert mode_while_writing & 0o077 == 0, oct(mode_while_writing)


def test_a_restore_the_database_refuses_part_way_reports_the_error_instead_of_hanging(showroom_db, tmp_path):
    """psql stops at the first error while a large backup is still streaming in: the command must end."""
    app, engine = showroom_db
    seed_some_data(app, engine)
    with engine.begin() as conn:
        # Several megabytes of table data, so pg_restore is still writing when psql gives up.
        conn.execute(sa.text("CREATE TABLE public.visit_log AS SELECT g AS n, md5(g::text) || md5((g * 7)::text) "
                             "AS note FROM generate_series(1, 60000) g"))
    dump = tmp_path / "big.dump"
    assert run(app, "backup", "-o", str(dump)).exit_code == 0
    before = snapshot(engine)
    # public is not replaced by a restore, so its table is in the way: psql fails on it.
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=run(app, "restore", "--yes", str(dump))), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "restore hung after psql stopped"
    assert result["r"].exit_code == 1
    assert "restore failed, nothing was changed" in result["r"].output
    assert "visit_log" in result["r"].output
    assert snapshot(engine) == before


def test_a_failed_restore_says_one_sentence_and_keeps_the_details_in_a_log_file(showroom_db, tmp_path):
    """psql reports every object a DROP SCHEMA ... CASCADE takes with it, hundreds of lines: the
    operator sees one sentence, and the programs' messages go to a file under instance/logs."""
    app, engine = showroom_db
    seed_some_data(app, engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE public.visit_log (n integer)"))  # in the restore's way
    dump = tmp_path / "b.dump"
    assert run(app, "backup", "-o", str(dump)).exit_code == 0
    before = snapshot(engine)

    result = run(app, "restore", "--yes", str(dump))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: restore failed, nothing was changed: ")
    assert 'relation "visit_log" already exists' in lines[0]
    assert "drop cascades" not in result.output and "NOTICE" not in result.output
    logs = list((tmp_path / "instance" / "logs").glob("restore-*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[0]
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    details = logs[0].read_text()
    assert "drop cascades" in details and 'relation "visit_log" already exists' in details
    assert snapshot(engine) == before

    verbose = run(app, "restore", "--yes", "--verbose", str(dump))
    assert verbose.exit_code == 1
    assert "drop cascades" in verbose.output and "restore failed, nothing was changed" in verbose.output


def test_a_restore_of_a_backup_cut_short_says_so_in_one_sentence(showroom_db, tmp_path):
    app, engine = showroom_db
    seed_some_data(app, engine)
    good = tmp_path / "good.dump"
    assert run(app, "backup", "-o", str(good)).exit_code == 0
    before = snapshot(engine)
    cut = tmp_path / "cut.dump"
    cut.write_bytes(good.read_bytes()[: int(good.stat().st_size * 0.7)])

    result = run(app, "restore", "--yes", str(cut))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "restore failed, nothing was changed" in lines[0] and "drop cascades" not in result.output
    assert snapshot(engine) == before


def test_a_command_stopped_by_the_database_prints_the_statement_not_the_values(showroom_db):
    """A database error in a command is one line: what PostgreSQL said and the statement, never the
    values sent with it (a name, a PIN hash) nor a traceback."""
    import click

    from webapp.cli import _database_errors_as_message
    from webapp.db import database as current_database

    app, engine = showroom_db

    @click.command("add-walk-in")
    def add_walk_in():
        database = current_database()
        with getattr(database, "owner_engine", database.engine).begin() as conn:
            conn.execute(sa.text("INSERT INTO master.customer (branch_id, name, mobile, state_code) "
                                 "VALUES (NULL, :name, :mobile, '29')"),
                         {"name": "Revathi Subramaniam", "mobile": "9845012345"})

    add_walk_in.callback = _database_errors_as_message(add_walk_in.callback)
    app.cli.add_command(add_walk_in)
    result = run(app, "add-walk-in")
    assert result.exit_code == 1
    assert "NotNullViolation" in result.output and "INSERT INTO master.customer" in result.output
    for value in ("Revathi", "9845012345", "Traceback"):
        assert value not in result.output
