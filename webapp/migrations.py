"""Apply the ordered .sql files under sql/ that are new, and record them.

Idempotent, serialised by an advisory lock (two `init-db` at once are safe), and
refuses to run when a file that was already applied has since been edited.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LOCK_KEY = 7_301_204_001  # arbitrary, constant: "init-db is running"

BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.schema_migration (
    filename   text PRIMARY KEY,
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


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
    return [Migration(p.name, p.read_text(encoding="utf-8")) for p in sorted(sql_dir.glob("*.sql"))]


def apply_pending(engine: Engine, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply new migrations in filename order; return the names applied."""
    files = available(sql_dir)
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
                done.append(m.filename)
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
    """Names of migrations not yet applied (for the start-up check of `serve`)."""
    with engine.connect() as conn:
        exists = conn.exec_driver_sql("SELECT to_regclass('platform.schema_migration')").scalar()
        applied = set()
        if exists:
            applied = {r[0] for r in conn.exec_driver_sql("SELECT filename FROM platform.schema_migration")}
    return [m.filename for m in available(sql_dir) if m.filename not in applied]


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
                pg.execute(sql.SQL("REVOKE INSERT, UPDATE, DELETE ON platform.schema_migration FROM {}")
                           .format(ident))
                pg.execute(sql.SQL("REVOKE UPDATE, DELETE ON audit.log FROM {}").format(ident))
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        try:
            pg.autocommit = False
        except Exception:
            raw.invalidate()
        raw.close()
