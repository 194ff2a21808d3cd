"""The production HTTP server behind `flask --app wsgi serve`.

Linux and macOS: gunicorn, SERVER_WORKERS processes (default: one per core) of SERVER_THREADS threads
each (gthread workers), so a busy Saturday's requests use every core. The process that runs `serve`
is gunicorn's master: it has already started the embedded PostgreSQL (and its watch) when it forks
the workers, and each worker drops what it inherited of the master's database pools
(``Database.after_fork``) before it serves. Sessions, lockouts, throttling and document counters
live in PostgreSQL, so the workers share nothing else.

Windows (no fork, no gunicorn): waitress, one process of SERVER_THREADS threads, as before.
"""
from __future__ import annotations

import os

from flask import Flask


def uses_gunicorn() -> bool:
    if os.name == "nt":
        return False
    try:
        import gunicorn  # noqa: F401
    except ImportError:  # a venv installed before gunicorn was required: waitress still serves
        return False
    return True


def run_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    import waitress

    waitress.serve(app, host=host, port=port, threads=threads, ident="showroom-erp", connection_limit=200,
                   channel_timeout=120)


def gunicorn_options(host: str, port: int, workers: int, threads: int, log_level: str = "WARNING") -> dict:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # A worker that stops answering its master's heartbeat this long is replaced. The gthread worker
        # beats from its own loop, not from the request threads, so a long report does not count.
        "timeout": 60,
        "graceful_timeout": 30,  # SIGTERM: requests under way get this long to finish
        "keepalive": 5,
        "proc_name": "showroom-erp",
        # As waitress: no line per request on the console (docs/CONFIGURATION.md, ERP_LOG_LEVEL),
        # no proxy trusted to say the client's address or scheme.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "debug" if log_level.upper() == "DEBUG" else "warning",
        "forwarded_allow_ips": "",
    }


def run_gunicorn(app: Flask, options: dict, post_fork) -> None:
    """Serve ``app`` with gunicorn in this process (the master) until SIGTERM or Ctrl+C; returns by
    SystemExit, so the caller's ``finally`` and the exit handlers (the embedded PostgreSQL's stop) run."""
    from gunicorn.app.base import BaseApplication

    class ShowroomServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", lambda server, worker: post_fork())

        def load(self):
            return app

    ShowroomServer().run()
