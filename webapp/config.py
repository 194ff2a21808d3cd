"""Environment-driven settings (12-factor).

Every setting has a documented default (docs/CONFIGURATION.md). Secrets come
from the environment or are generated once into the instance folder with
owner-only permissions; they are never written to logs.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in the environment must not start a misconfigured server
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise RuntimeError(f"{name} must be 1 or more, got {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


# Roles whose PIN opens money, staff and the audit trail: 6 digits unless configured otherwise.
STRICT_PIN_ROLES = ("ADMIN", "MANAGER", "ACCOUNTS")
PIN_ROLES = ("ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS", "DEALER")


def _pin_min_lengths() -> dict[str, int]:
    """ERP_PIN_MIN_LENGTH (default 4) for every role, ERP_PIN_MIN_LENGTH_<ROLE> for one role
    (default 6 for ADMIN, MANAGER and ACCOUNTS)."""
    default = _int("ERP_PIN_MIN_LENGTH", 4)
    lengths = {}
    for role in PIN_ROLES:
        name = f"ERP_PIN_MIN_LENGTH_{role}"
        value = _int(name, 6 if role in STRICT_PIN_ROLES else default)
        if not 4 <= value <= 6:  # a PIN is 4 to 6 digits
            raise RuntimeError(f"{name} must be 4, 5 or 6, got {value}")
        lengths[role] = value
    return lengths


def instance_secret(instance_path: str, filename: str) -> str:
    """Return the secret stored in instance/<filename>, creating it (mode 0600) once."""
    path = Path(instance_path) / filename
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its value
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def settings_from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from the process environment."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or instance_secret(instance_path, "secret_key"),
        "PIN_PEPPER": os.environ.get("PIN_PEPPER") or instance_secret(instance_path, "pin_pepper"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or None,
        # Requests run as this role (not the owner of the tables), so row-level security applies.
        "APP_DATABASE_URL": os.environ.get("APP_DATABASE_URL") or None,
        "APP_DB_ROLE": os.environ.get("ERP_APP_ROLE") or "erp_app",
        "EMBEDDED_PGDATA": os.environ.get("ERP_PGDATA") or str(Path(instance_path) / "pgdata"),
        # Each server process keeps DB_POOL_SIZE connections open and opens up to DB_MAX_OVERFLOW more
        # when busy; `serve` refuses to start when SERVER_WORKERS times that, plus DB_RESERVED_CONNECTIONS
        # for the command line (backup, init-db), does not fit in PostgreSQL's max_connections.
        "DB_POOL_SIZE": _int("ERP_DB_POOL_SIZE", 10),
        "DB_MAX_OVERFLOW": _int("ERP_DB_MAX_OVERFLOW", 5),
        "DB_RESERVED_CONNECTIONS": _int("ERP_DB_RESERVED_CONNECTIONS", 10),
        # The embedded PostgreSQL's memory and connection settings, sized from this PC (webapp/pg_settings.py).
        "PG_TUNE": _bool("ERP_PG_TUNE", True),
        # Per request transaction (SET LOCAL), not for CLI commands: how long a request waits for a
        # row another transaction holds (e.g. an invoice series' counter), and how long one statement
        # may run, before the request gives up with a "busy, try again" page. 0 means no limit.
        "DB_LOCK_TIMEOUT_MS": _int("ERP_DB_LOCK_TIMEOUT_MS", 5000),
        "DB_STATEMENT_TIMEOUT_MS": _int("ERP_DB_STATEMENT_TIMEOUT_MS", 15000),
        # `serve` with the embedded PostgreSQL: how often it checks that the server is alive, and how
        # many restarts within a minute it makes before it gives up (a server that keeps dying).
        "DB_WATCH_SECONDS": _int("ERP_DB_WATCH_SECONDS", 5),
        "DB_MAX_RESTARTS": _int("ERP_DB_MAX_RESTARTS", 3),
        "SESSION_IDLE_MINUTES": _int("ERP_SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("ERP_SESSION_MAX_HOURS", 12),
        "PIN_MAX_FAILURES": _int("ERP_PIN_MAX_FAILURES", 5),
        "PIN_LOCKOUT_MINUTES": _int("ERP_PIN_LOCKOUT_MINUTES", 15),
        # Shortest PIN a role may choose (4 to 6); a shorter existing PIN must be changed at next login.
        "PIN_MIN_LENGTH": _pin_min_lengths(),
        # Per client address: after LOGIN_THROTTLE_AFTER failures within the window, each further
        # failure makes the address wait BASE * 2^k seconds (k = 0, 1, 2, ...; at most MAX) before
        # its next attempt is checked at all.
        "LOGIN_THROTTLE_AFTER": _int("ERP_LOGIN_THROTTLE_AFTER", 10),
        "LOGIN_THROTTLE_WINDOW_MINUTES": _int("ERP_LOGIN_THROTTLE_WINDOW_MINUTES", 15),
        "LOGIN_THROTTLE_BASE_SECONDS": _int("ERP_LOGIN_THROTTLE_BASE_SECONDS", 1),
        "LOGIN_THROTTLE_MAX_SECONDS": _int("ERP_LOGIN_THROTTLE_MAX_SECONDS", 900),
        "PIN_HASH_TIME_COST": _int("ERP_PIN_HASH_TIME_COST", 2),
        "PIN_HASH_MEMORY_KIB": _int("ERP_PIN_HASH_MEMORY_KIB", 65536),
        "LOGIN_RECENT_STAFF": _int("ERP_LOGIN_RECENT_STAFF", 8),
        # `serve` on Linux and macOS: SERVER_WORKERS processes (gunicorn) of SERVER_THREADS threads each; on
        # Windows one process (waitress) of SERVER_THREADS threads.
        "SERVER_WORKERS": _positive("ERP_WORKERS", os.cpu_count() or 1),
        "SERVER_THREADS": _positive("ERP_THREADS", 8),
        "PAGE_SIZE": _int("ERP_PAGE_SIZE", 25),
        # PDFs are laid out in processes of their own (webapp/pdf_render.py), this many per server
        # process; 0 lays them out in the request thread. A print waits at most PDF_TIMEOUT_SECONDS.
        "PDF_WORKERS": _int("ERP_PDF_WORKERS", 1),
        "PDF_TIMEOUT_SECONDS": _int("ERP_PDF_TIMEOUT_SECONDS", 120),
        "FORCE_SECURE_COOKIES": _bool("ERP_SECURE_COOKIES", False),
        # The CSRF token lives as long as the server-side session; a form left open
        # on a counter PC for an hour must still submit.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
        "MAX_CONTENT_LENGTH": _int("ERP_MAX_UPLOAD_MB", 16) * 1024 * 1024,
    }
