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
