"""Command line: flask --app wsgi init-db | create-admin | serve | backup | restore.

seed-demo and generate-history live outside the app package (seed/commands.py, added by wsgi.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app

from . import db, migrations, pdf
from .formatting import IST
from .security import hash_pin, pin_policy_problem


def _database() -> db.Database:
    return current_app.extensions["erp_db"]


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.command("init-db")
def init_db_command():
    """Apply the new sql/ files in order (idempotent; refuses edited ones)."""
    database = _database()
    try:
        applied = migrations.apply_pending(database.owner_engine)
        # Requests log in as the app role (row-level security applies to it): created when missing,
        # granted what the app needs on every table, including those the files above just made.
        migrations.prepare_app_role(database.owner_engine, database.app_role, database.app_password,
                                    set_password=not current_app.config.get("APP_DATABASE_URL"))
    except migrations.MigrationError as exc:
        _fail(str(exc))
    if applied:
        for name in applied:
            click.echo(f"applied {name}")
    else:
        click.echo("database is up to date")
    click.echo(f"the app connects as {database.app_role}")


@click.command("create-admin")
@click.option("--code", required=True, help="Staff code used to log in, e.g. ADMIN")
@click.option("--name", required=True)
@click.option("--pin", required=True, help="6 digits (ERP_PIN_MIN_LENGTH_ADMIN), not guessable")
@click.option("--branch", "branch_code", default=None, help="Branch code (default: the first branch)")
def create_admin_command(code: str, name: str, pin: str, branch_code: str | None):
    """Create an ADMIN without the browser (recovery, scripted installs)."""
    import sqlalchemy as sa

    from .master import api as master_api

    try:
        pin_hash = hash_pin(pin)
    except ValueError as exc:
        _fail(str(exc))
    problem = pin_policy_problem(pin, "ADMIN", code.strip().upper())  # the PIN fields' rules (data, not access)
    if problem:
        _fail(problem[0].lower() + problem[1:])
    with _database().owner_engine.begin() as conn:
        branch_id = conn.execute(
            # CAST: psycopg sends parameters separately and PostgreSQL cannot type a bare "$1 IS NULL".
            sa.text("SELECT branch_id FROM master.branch WHERE (CAST(:code AS text) IS NULL "
                    "OR branch_code = :code) ORDER BY branch_id LIMIT 1"), {"code": branch_code}).scalar()
        if branch_id is None:
            _fail("no showroom (branch) yet: open the app in a browser to run the setup wizard, "
                  "or run seed-demo" if branch_code is None else f"no branch with code {branch_code}")
        try:
            master_api.insert_staff(conn, {"staff_code": code.strip().upper(), "name": name.strip(),
                                        "designation": "ADMIN", "branch_id": branch_id}, pin_hash,  # data, not access
                                 must_change_pin=False)
        except sa.exc.IntegrityError as exc:
            _fail(f"could not create the administrator: {exc.orig.diag.message_primary}")
    click.echo(f"administrator {code.upper()} created")


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("ERP_HOST", "0.0.0.0"), show_default="0.0.0.0")
@click.option("--port", default=lambda: int(os.environ.get("ERP_PORT", "8000")), type=int, show_default="8000")
def serve_command(host: str, port: int):
    """Serve the ERP on the showroom LAN: gunicorn on Linux and macOS (ERP_WORKERS processes), waitress on
    Windows."""
    from . import server
    from .pg_settings import connection_budget, server_budget_problem

    app = current_app._get_current_object()
    database = _database()
    database.tune_embedded = True  # the embedded PostgreSQL runs with the settings for this PC and these workers
    gunicorn = server.uses_gunicorn()
    workers = app.config["SERVER_WORKERS"] if gunicorn else 1
    threads = app.config["SERVER_THREADS"]
    problem = server_budget_problem(database.owner_engine, database.app_role, connection_budget(app.config, workers))
    if problem:
        _fail("the ERP cannot start: " + problem)
    pending = migrations.pending(database.owner_engine)
    if pending:
        _fail("the database needs `flask --app wsgi init-db` first (pending: " + ", ".join(pending) + ")")
    where = "embedded PostgreSQL in " + str(database.embedded.pgdata) if database.embedded else "DATABASE_URL"
    if gunicorn:
        how = f"{workers} worker process{'es' if workers != 1 else ''} x {threads} threads"
    else:
        how = f"{threads} threads"
    click.echo(f"Showroom ERP on http://{host}:{port}/ ({how}, {where}). Ctrl+C stops it.")
    if host in ("0.0.0.0", "::"):
        for addr in _lan_addresses():
            click.echo(f"  from other PCs on the LAN: http://{addr}:{port}/")
    if app.config["DB_POOL_SIZE"] + app.config["DB_MAX_OVERFLOW"] < threads:
        click.echo(f"  note: ERP_DB_POOL_SIZE + ERP_DB_MAX_OVERFLOW is below ERP_THREADS ({threads}): at the busiest "
                   "moments some requests wait for a database connection")
    watch = None
    if database.embedded:  # a DATABASE_URL server is kept running by its own service manager
        from .embedded_watch import EmbeddedWatch

        # Only here, in the process that started the server (gunicorn's master), never in a worker.
        watch = EmbeddedWatch(database, interval=max(app.config["DB_WATCH_SECONDS"], 1),
                              max_restarts=app.config["DB_MAX_RESTARTS"])
        app.extensions["erp_db_watch"] = watch
        watch.start()
    try:
        if gunicorn:
            # gunicorn's master handles SIGTERM (a graceful stop) and Ctrl+C itself, then exits through
            # SystemExit: the finally below and the exit handler that stops the embedded PostgreSQL run.
            database.dispose()  # no connection of this process is copied into the workers
            def worker_started():
                database.after_fork()
                pdf.warm_up(app)

            server.run_gunicorn(app, server.gunicorn_options(host, port, workers, threads,
                                                            os.environ.get("ERP_LOG_LEVEL", "INFO")),
                                post_fork=worker_started)
        else:
            # SIGTERM (service stop) must run the exit handlers that stop the embedded PostgreSQL cleanly.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            pdf.warm_up(app)
            server.run_waitress(app, host, port, threads)
    finally:
        if watch is not None:
            watch.stop()
        database.dispose()


def _lan_addresses() -> list[str]:
    import socket

    found = set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the LAN interface
            found.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def _pg_tool(name: str) -> str:
    return str(db.bin_path() / name)


@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Default: instance/backups/erp-YYYYMMDD-HHMMSS.dump")
def backup_command(output: Path | None):
    """Write a pg_dump custom-format backup (works for the embedded database too)."""
    url = db.libpq_url(_database().url)
    if output is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / f"erp-{datetime.now(IST):%Y%m%d-%H%M%S}.dump"
    # umask: the file holds every record and PIN hash, so it is private from its first byte.
    result = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(output), url],
                            capture_output=True, text=True, umask=0o077)
    if result.returncode != 0:
        output.unlink(missing_ok=True)  # an empty or partial file must not pass for a backup
        _fail("backup failed: " + result.stderr.strip())
    os.chmod(output, 0o600)
    click.echo(f"backup written to {output} ({output.stat().st_size:,} bytes)")


@click.command("restore")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current data is replaced by the backup")
@click.option("--verbose", is_flag=True, help="Also print what pg_restore and psql said")
def restore_command(dump: Path, yes: bool, verbose: bool):
    """Replace the database's contents with a backup made by `backup`."""
    import tempfile

    if not yes:
        _fail("restore replaces every record with the backup's; run again with --yes to confirm")
    try:
        schemas = _schemas_in_dump(dump)
    except subprocess.CalledProcessError as exc:
        _fail("restore failed, nothing was changed: this file is not a backup made by `backup` ("
              + _first_line(exc.stderr or "", "pg_restore could not read it") + ")")
    database = _database()
    url = db.libpq_url(database.url)
    database.dispose()  # no pooled connection may hold locks on what is being replaced
    # All or nothing: the drops and the whole restore script run in one psql transaction,
    # so a damaged backup leaves the current data exactly as it was.
    drops = "".join(f'DROP SCHEMA IF EXISTS "{s}" CASCADE;\n' for s in schemas if s != "public")
    # What the two programs say goes to files, not the console: a failed restore would otherwise
    # print a "drop cascades to ..." line for every table after the one sentence that matters.
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        # --no-privileges: the grants are made again below, to this installation's app role.
        script = subprocess.Popen([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", "-",
                                   str(dump)], stdout=subprocess.PIPE, stderr=restore_err)
        psql = subprocess.Popen([_pg_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
                                 "-v", "ON_ERROR_STOP=1", "--dbname", url],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err)
        try:
            psql.stdin.write(drops.encode())
            while chunk := script.stdout.read(1 << 20):
                psql.stdin.write(chunk)
        except BrokenPipeError:
            script.kill()  # psql stopped on an error (its message is read below); pg_restore must not block
        script.stdout.close()
        if script.wait() != 0:
            # pg_restore could not read the whole backup (e.g. a file cut short). psql must never reach
            # the end of its input: --single-transaction would COMMIT the drops and the part read so far.
            # Killing it ends its connection, and PostgreSQL rolls the transaction back.
            psql.kill()
            psql.wait()
        try:
            psql.stdin.close()
        except BrokenPipeError:
            pass
        failed = psql.wait() != 0 or script.returncode != 0
        said = {name: _read_all(f) for name, f in (("pg_restore", restore_err), ("psql", psql_err))}
    if failed:
        reason = _restore_failure(said)
        log_path = _write_restore_log(dump, said)
        if verbose:
            for name, text in said.items():
                if text:
                    click.echo(f"--- {name} said:\n{text}", err=True)
        where = f"; the messages of pg_restore and psql are in {log_path}" if log_path else ""
        _fail(f"restore failed, nothing was changed: {reason}{where}")
    try:
        migrations.prepare_app_role(database.owner_engine, database.app_role, database.app_password,
                                    set_password=not current_app.config.get("APP_DATABASE_URL"))
    except migrations.MigrationError as exc:
        _fail(f"restored {dump}, but the app role could not be granted its rights: {exc}")
    click.echo(f"restored {dump}")


def _read_all(handle) -> str:
    handle.seek(0)
    return handle.read().decode(errors="replace").strip()


def _first_line(text: str, default: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), default)


def _restore_failure(said: dict[str, str]) -> str:
    """One sentence: PostgreSQL's first ERROR (psql stops at it), else why pg_restore stopped."""
    import re

    for line in said["psql"].splitlines():
        found = re.search(r"(?:ERROR|FATAL):\s+(.*)", line)
        if found:
            return f"PostgreSQL refused the backup's contents ({found.group(1).strip()})"
    for line in said["pg_restore"].splitlines():
        if "error:" in line:
            return "the backup file could not be read to its end (" + line.split("error:", 1)[1].strip() + ")"
    return "pg_restore could not read the backup"


def _write_restore_log(dump: Path, said: dict[str, str]) -> Path | None:
    """instance/logs/restore-YYYYMMDD-HHMMSS.log, owner-only (PostgreSQL's messages may quote rows)."""
    folder = Path(current_app.instance_path) / "logs"
    path = folder / f"restore-{datetime.now(IST):%Y%m%d-%H%M%S}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"restore of {dump} failed at {datetime.now(IST):%d-%m-%Y %H:%M:%S}; nothing was changed\n")
            for name, text in said.items():
                fh.write(f"\n--- {name}:\n{text or '(nothing)'}\n")
    except OSError:
        return None
    return path


def _schemas_in_dump(dump: Path) -> list[str]:
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True,
                             check=True).stdout
    schemas = []
    for line in listing.splitlines():
        parts = line.split()
        # e.g. "5; 2615 16390 SCHEMA - master postgres"
        if len(parts) >= 6 and parts[3] == "SCHEMA":
            schemas.append(parts[5])
    return schemas


def _database_errors_as_message(callback):
    """A command stopped by a database error prints one line naming the statement and PostgreSQL's
    message, never a traceback with the values sent (a staff name, a PIN hash) or the DETAIL."""
    import functools

    import sqlalchemy as sa

    if getattr(callback, "reports_database_errors", False):
        return callback

    @functools.wraps(callback)
    def run(*args, **kwargs):
        from .errors import describe_db_error

        try:
            return callback(*args, **kwargs)
        except sa.exc.DBAPIError as exc:
            raise click.ClickException("the database refused: " + describe_db_error(exc)) from None

    run.reports_database_errors = True
    return run


def add_commands(app: Flask, commands) -> None:
    """Add click commands to the app's command line, each reporting a database error in one line."""
    for command in commands:
        command.callback = _database_errors_as_message(command.callback)
        app.cli.add_command(command)


def register(app: Flask) -> None:
    add_commands(app, (init_db_command, create_admin_command, serve_command, backup_command, restore_command))
