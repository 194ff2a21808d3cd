"""Apply the ordered .sql files under sql/ that are new, and record them; then re-apply the
function files under sql/functions/ that changed.

Two kinds of file:
- sql/NNNN_*.sql, the numbered migrations: tables, constraints, indexes, policies, reference
  rows. Each is applied once, in filename order, and never edited afterwards: init-db refuses
  to run when a file that was already applied has since been edited.
- sql/functions/NN_<schema>.sql, the current definition of every function, trigger and view
  (CREATE OR REPLACE ...), so a fix is an edit of the definition where it lives. After the
  numbered migrations, each function file whose sha256 differs from the one recorded in
  platform.schema_function_file is run again, in filename order, each in a transaction of its
  own. Applying a numbered migration forgets those records (in its own transaction), so every
  function file runs again after it: a migration that dropped a view or a trigger with a column
  gets it back, and a fresh database gets the numbered files, then every function file.

Idempotent, serialised by an advisory lock (two `init-db` at once are safe).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
FUNCTIONS = "functions"  # sql/functions/: re-applied when edited
SNAPSHOT = "schema.sql"  # sql/schema.sql: pg_dump of a migrated database, for reading (make schema)
NUMBERED = re.compile(r"[0-9]{4}_.+[.]sql")
LOCK_KEY = 7_301_204_001  # arbitrary, constant: "init-db is running"

BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.schema_migration (
    filename   text PRIMARY KEY,
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS platform.schema_function_file (
    filename   text PRIMARY KEY,
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""
# Run with each numbered migration, in its transaction: the function files all run again after it.
FORGET_FUNCTION_FILES = "DELETE FROM platform.schema_function_file"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    filename: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """The numbered migrations, in filename order."""
    stray = [p.name for p in sql_dir.glob("*.sql") if p.name != SNAPSHOT and not NUMBERED.fullmatch(p.name)]
    if stray:
        raise MigrationError(
            "these files under sql/ are not named like a migration (NNNN_name.sql): " + ", ".join(sorted(stray)))
    return [Migration(p.name, p.read_text(encoding="utf-8"))
            for p in sorted(sql_dir.glob("*.sql")) if NUMBERED.fullmatch(p.name)]


def function_files(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """sql/functions/*.sql in filename order, named "functions/NN_schema.sql"."""
    return [Migration(f"{FUNCTIONS}/{p.name}", p.read_text(encoding="utf-8"))
            for p in sorted((sql_dir / FUNCTIONS).glob("*.sql"))]


def _changed_function_files(files: list[Migration], recorded: dict[str, str]) -> list[Migration]:
    return [f for f in files if recorded.get(f.filename) != f.sha256]


def apply_pending(engine: Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply new migrations in filename order, then the function files that changed (all of them
    after a new migration); return the names applied ("0019_x.sql", "functions/80_billing.sql")."""
    files = available(sql_dir)
    functions = function_files(sql_dir)
    raw = engine.raw_connection()
    pg = raw.driver_connection  # psycopg: runs multi-statement scripts with $$ bodies as-is
    try:
        pg.autocommit = True
        pg.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            pg.execute(BOOTSTRAP)
            applied = dict(pg.execute("SELECT filename, sha256 FROM platform.schema_migration").fetchall())
            edited = [m.filename for m in files if m.filename in applied and applied[m.filename] != m.sha256]
            if edited:
                raise MigrationError(
                    "these applied migration files were edited afterwards: " + ", ".join(edited)
                    + ". Restore them and put the change in a new numbered file."
                )
            missing = sorted(set(applied) - {m.filename for m in files})
            if missing:
                raise MigrationError("the database has migrations this code does not know: " + ", ".join(missing))
            done = []
            for m in files:
                if m.filename in applied:
                    continue
                with pg.transaction():
                    pg.execute(m.sql)
                    pg.execute(
                        "INSERT INTO platform.schema_migration (filename, sha256) VALUES (%s, %s)",
                        (m.filename, m.sha256),
                    )
                    pg.execute(FORGET_FUNCTION_FILES)
                done.append(m.filename)
            recorded = dict(pg.execute("SELECT filename, sha256 FROM platform.schema_function_file").fetchall())
            for f in _changed_function_files(functions, recorded):
                with pg.transaction():
                    pg.execute(f.sql)
                    pg.execute(
                        """INSERT INTO platform.schema_function_file (filename, sha256) VALUES (%s, %s)
                           ON CONFLICT (filename) DO UPDATE SET sha256 = excluded.sha256, applied_at = now()""",
                        (f.filename, f.sha256),
                    )
                done.append(f.filename)
            gone = sorted(set(recorded) - {f.filename for f in functions})
            if gone:  # a renamed or merged function file: what it defined stays in the database
                pg.execute("DELETE FROM platform.schema_function_file WHERE filename = ANY(%s)", (gone,))
            return done
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        # Hand the pooled connection back as it was lent: left in autocommit, it would make the
        # engine's next "transaction" commit statement by statement and never roll back.
        try:
            pg.autocommit = False
        except Exception:  # broken connection: keep it out of the pool
            raw.invalidate()
        raw.close()


def pending(engine: Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Names of migrations not yet applied and of function files edited since they were (for the
    start-up check of `serve`)."""
    with engine.connect() as conn:
        exists = conn.exec_driver_sql("SELECT to_regclass('platform.schema_migration')").scalar()
        applied = set()
        if exists:
            applied = {r[0] for r in conn.exec_driver_sql("SELECT filename FROM platform.schema_migration")}
        recorded = {}
        if conn.exec_driver_sql("SELECT to_regclass('platform.schema_function_file')").scalar():
            recorded = dict(conn.exec_driver_sql("SELECT filename, sha256 FROM platform.schema_function_file").all())
    return ([m.filename for m in available(sql_dir) if m.filename not in applied]
            + [f.filename for f in _changed_function_files(function_files(sql_dir), recorded)])


def prepare_app_role(engine: Engine, role: str, password: str | None, *, set_password: bool = True) -> None:
    """Make the role requests log in as: created when missing (with ``password``), and granted
    USAGE on every schema, SELECT/INSERT/UPDATE/DELETE on every table, the sequences and EXECUTE
    on the functions, so the tables of every migration applied so far are covered (init-db runs
    this after each run). It owns nothing and is no superuser, so the branch policies of
    sql/0014 apply to it. ``set_password``: the password is the one generated into instance/
    (kept in step); with APP_DATABASE_URL the DBA's role and password are left alone."""
    import psycopg
    from psycopg import sql

    raw = engine.raw_connection()
    pg = raw.driver_connection
    try:
        pg.autocommit = True
        pg.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            owner = pg.execute("SELECT current_user").fetchone()[0]
            if role == owner:
                raise MigrationError(f"the app role {role} is the owner of the tables: row-level security "
                                     "would not apply to it. Give the app a role of its own.")
            exists = pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            ident = sql.Identifier(role)
            try:
                if exists is None:
                    pg.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                                       "NOBYPASSRLS").format(ident, sql.Literal(password)))
                elif set_password and password is not None:
                    pg.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password)))
            except psycopg.errors.InsufficientPrivilege:
                raise MigrationError(
                    f"{owner} may not create or change the role {role}: have the database administrator create "
                    "it and give its URL as APP_DATABASE_URL (see the README)") from None
            rights = pg.execute(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)).fetchone()[0]
            if rights:
                raise MigrationError(f"the app role {role} is a superuser or bypasses row-level security: "
                                     "branch isolation would not apply to it.")
            schemas = [r[0] for r in pg.execute(
                """SELECT nspname FROM pg_namespace
                    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
                      AND pg_get_userbyid(nspowner) = current_user ORDER BY 1""").fetchall()]
            with pg.transaction():
                for schema in schemas:
                    s = sql.Identifier(schema)
                    pg.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, ident))
                    pg.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}")
                               .format(s, ident))
                    pg.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, ident))
                    pg.execute(sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {} TO {}").format(s, ident))
                # The record of migrations is the owner's; the audit trail is only ever added to.
                for record in ("platform.schema_migration", "platform.schema_function_file"):
                    pg.execute(sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}")
                               .format(sql.SQL(record), ident))
                pg.execute(sql.SQL("REVOKE UPDATE, DELETE ON audit.log FROM {}").format(ident))
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        try:
            pg.autocommit = False
        except Exception:
            raw.invalidate()
        raw.close()
