"""How many database connections the server needs, and the embedded PostgreSQL's settings for this PC.

`serve` runs SERVER_WORKERS processes, each with its own pool of the app role's connections
(DB_POOL_SIZE kept open, DB_MAX_OVERFLOW more when busy), has an owner's pool of its own (OWNER_POOL),
and keeps DB_RESERVED_CONNECTIONS free for the command line (backup, init-db, create-admin). It
refuses to start when that cannot fit in the server's max_connections (``budget_problem``).

The embedded server's settings, when `serve` starts it, are sized from the PC's memory,
conservatively (the same PC runs the app, its PDF processes and often a browser), and from the
workers and pools (``embedded_settings``). They are written with ALTER SYSTEM (postgresql.auto.conf in
pgdata, so they survive restarts) only when they differ from what the server runs with (webapp/db.py
``EmbeddedServer``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

OWNER_POOL = 2 + 2  # Database.owner_engine: pool_size + max_overflow, in `serve` and in each command
SUPERUSER_RESERVED = 3  # PostgreSQL's superuser_reserved_connections default: never for the app role

MB = 1024  # in kB, PostgreSQL's unit for memory settings
GB = 1024 * MB


@dataclass(frozen=True)
class ConnectionBudget:
    workers: int
    pool_size: int
    max_overflow: int
    reserved: int

    @property
    def per_worker(self) -> int:
        return self.pool_size + self.max_overflow

    @property
    def app(self) -> int:
        """The app role's connections when every worker's pool is full."""
        return self.workers * self.per_worker

    @property
    def total(self) -> int:
        return self.app + OWNER_POOL + self.reserved


def connection_budget(config, workers: int | None = None) -> ConnectionBudget:
    return ConnectionBudget(workers=config["SERVER_WORKERS"] if workers is None else workers,
                            pool_size=config["DB_POOL_SIZE"], max_overflow=config.get("DB_MAX_OVERFLOW", 5),
                            reserved=config.get("DB_RESERVED_CONNECTIONS", 10))


def budget_problem(budget: ConnectionBudget, max_connections: int, superuser_reserved: int = SUPERUSER_RESERVED,
                   reserved_connections: int = 0, role_limit: int = -1) -> str | None:
    """One sentence when the budget does not fit the server's limits, else None."""
    usable = max_connections - superuser_reserved - reserved_connections
    need = (f"{budget.workers} worker processes x {budget.per_worker} database connections each (ERP_DB_POOL_SIZE "
            f"{budget.pool_size} + ERP_DB_MAX_OVERFLOW {budget.max_overflow})")
    if budget.total > usable:
        return (f"{need} plus {budget.reserved + OWNER_POOL} for the command line make {budget.total}, more than the "
                f"{usable} this PostgreSQL allows (max_connections {max_connections}): lower ERP_WORKERS or "
                f"ERP_DB_POOL_SIZE, or raise max_connections")
    if 0 <= role_limit < budget.app:
        return (f"{need} make {budget.app}, more than the app role's CONNECTION LIMIT {role_limit}: lower ERP_WORKERS "
                f"or ERP_DB_POOL_SIZE, or raise the role's limit")
    return None


def server_budget_problem(owner_engine, app_role: str, budget: ConnectionBudget) -> str | None:
    """``budget_problem`` against the limits of the server behind ``owner_engine``."""
    with owner_engine.connect() as conn:
        row = conn.execute(sa.text(
            """SELECT current_setting('max_connections')::int AS max_connections,
                      current_setting('superuser_reserved_connections')::int AS superuser_reserved,
                      coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
                      coalesce((SELECT rolconnlimit FROM pg_roles WHERE rolname = :role), -1) AS role_limit"""),
            {"role": app_role}).one()
    return budget_problem(budget, row.max_connections, row.superuser_reserved, row.reserved, row.role_limit)


# ----------------------------------------------------------------------------- the embedded server's settings


def machine_memory_kb() -> int:
    """This PC's memory, or the container's limit when lower (cgroup v2 / v1)."""
    import psutil

    total = psutil.virtual_memory().total
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw))
    return total // 1024


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def embedded_settings(config, memory_kb: int | None = None) -> dict[str, int]:
    """The embedded server's settings: memory ones in kB (whole MB), max_connections a count.

    - max_connections: what ``connection_budget`` needs plus PostgreSQL's superuser reserve, at least
      PostgreSQL's default 100, at most one per 16 MB of memory (then `serve` refuses to start);
    - shared_buffers: 1/16 of the memory, 128 MB to 1 GB (a PC shared with a browser, not a database
      server's 1/4: the operating system's file cache does the rest);
    - effective_cache_size: 1/2 of the memory (a hint to the planner, nothing is allocated);
    - work_mem: per sort or hash of a query: 1/16 of the memory shared by every request that can run at
      once (workers x threads), 4 to 64 MB;
    - maintenance_work_mem: 1/32 of the memory, 64 to 512 MB (index builds, VACUUM, a restore)."""
    ram = machine_memory_kb() if memory_kb is None else memory_kb
    budget = connection_budget(config)
    ceiling = max(100, ram // (16 * MB))
    active = max(1, budget.workers * config.get("SERVER_THREADS", 8))
    whole_mb = lambda kb: max(MB, kb // MB * MB)  # noqa: E731
    return {
        "max_connections": min(max(100, budget.total + SUPERUSER_RESERVED), ceiling),
        "shared_buffers": whole_mb(_clamp(ram // 16, 128 * MB, 1 * GB)),
        "effective_cache_size": whole_mb(max(ram // 2, 256 * MB)),
        "work_mem": whole_mb(_clamp(ram // (16 * active), 4 * MB, 64 * MB)),
        "maintenance_work_mem": whole_mb(_clamp(ram // 32, 64 * MB, 512 * MB)),
    }


UNIT_KB = {"kB": 1, "8kB": 8, "MB": MB, "GB": GB}


def _as_value(value: int, unit: str | None) -> str:
    return f"{value // MB}MB" if unit in UNIT_KB else str(value)


def apply_settings(server_url: str, wanted: dict[str, int]) -> list[str]:
    """ALTER SYSTEM every setting whose running value differs from ``wanted``, reload; returns the
    changed ones that only a restart applies (max_connections, shared_buffers). Nothing is written when
    the server already runs with them, so starting again changes nothing."""
    from .db import sqlalchemy_url

    admin = sa.create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            rows = conn.execute(sa.text("SELECT name, setting, unit, context FROM pg_settings "
                                        "WHERE name = ANY(:n)"), {"n": list(wanted)}).all()
            changed = []
            for row in rows:
                running = int(row.setting) * UNIT_KB.get(row.unit, 1)
                if running != wanted[row.name]:
                    # The name comes from this module, the value is a whole number: nothing to quote.
                    conn.execute(sa.text(f"ALTER SYSTEM SET {row.name} = '{_as_value(wanted[row.name], row.unit)}'"))
                    changed.append(row)
            if changed:
                conn.execute(sa.text("SELECT pg_reload_conf()"))
    finally:
        admin.dispose()
    return [row.name for row in changed if row.context == "postmaster"]


def recommended_text(settings: dict[str, int]) -> str:
    """The settings as postgresql.conf lines (for the documentation and the log)."""
    return ", ".join(f"{name} = {_as_value(value, None if name == 'max_connections' else 'kB')}"
                     for name, value in settings.items())
