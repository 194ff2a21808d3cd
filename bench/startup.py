"""`make run` to a served page: the time from launching

    .venv/bin/flask --app wsgi init-db && .venv/bin/flask --app wsgi serve --port <free port>

until GET /login answers with a page (HTTP 200), on a warm venv, with the embedded
PostgreSQL in a fresh ERP_INSTANCE_PATH (a temporary folder: instance/ is not touched).

* First start: the instance folder is empty, so init-db also creates the PostgreSQL
  cluster (initdb) and applies every migration. With no staff yet, GET /login sends the
  browser to the first-run setup page; the clock stops when that page is served.
* Warm restart: the same command again on the same folder after a clean stop (SIGTERM,
  which also stops the embedded PostgreSQL). Before the restarts the demo showroom is
  seeded (not timed), so GET /login itself answers 200.

The two commands run one after the other exactly as `&&` runs them (the second starts
when the first exits with 0); timing them separately gives the split. The server listens
on 127.0.0.1 instead of `make run`'s 0.0.0.0, which makes no difference to the timing.

Run alone: ``.venv/bin/python -m bench.startup`` (prints JSON).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
TARGET_S = 10.0
# Settings that would point the child at another database or instance: never inherited.
SCRUBBED = ("DATABASE_URL", "ERP_PGDATA", "SECRET_KEY", "PIN_PEPPER", "ERP_INSTANCE_PATH", "FLASK_APP",
            "ERP_HOST", "ERP_PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(instance: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env["ERP_INSTANCE_PATH"] = instance
    return env


def _served(port: int) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            response.read()
            return response.status, response.geturl()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.geturl()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def start_once(instance: str, log: Path) -> tuple[subprocess.Popen, dict]:
    """init-db, then serve; returns the running server and the timings (seconds)."""
    env = _environment(instance)
    port = free_port()
    started = time.perf_counter()
    init = subprocess.run(FLASK + ["init-db"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    init_done = time.perf_counter()
    if init.returncode != 0:
        raise RuntimeError(f"init-db failed: {init.stdout}{init.stderr}")
    with open(log, "a") as out:
        server = subprocess.Popen(FLASK + ["serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    answer = None
    while time.perf_counter() - started < 120:
        answer = _served(port)
        if answer is not None and answer[0] == 200:
            break
        if server.poll() is not None:
            raise RuntimeError(f"serve exited with {server.returncode}; see {log}")
        time.sleep(0.01)
    else:
        stop(server)
        raise RuntimeError(f"no page served within 120 s (last answer {answer}); see {log}")
    served = time.perf_counter()
    return server, {
        "total_s": round(served - started, 2),
        "init_db_s": round(init_done - started, 2),
        "serve_s": round(served - init_done, 2),
        "init_db_said": init.stdout.strip().splitlines()[-1] if init.stdout.strip() else "",
        "page": answer[1].split(str(port), 1)[-1],
    }


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, as a service stop sends it: the app exits and stops its embedded PostgreSQL."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _postgres_stopped(pgdata: Path, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while (pgdata / "postmaster.pid").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop_leftover_postgres(pgdata: Path) -> None:
    """Only if our own child's PostgreSQL did not stop: stop it with pg_ctl (never by name)."""
    if not (pgdata / "postmaster.pid").exists():
        return
    from webapp.db import bin_path

    user = ["runuser", "-u", "pgserver", "--"] if os.geteuid() == 0 else []
    subprocess.run(user + [str(bin_path() / "pg_ctl"), "-D", str(pgdata), "-w", "stop"], capture_output=True)


def run(restarts: int = 3, progress=print) -> dict:
    instance = Path(tempfile.mkdtemp(prefix="erp-startup-"))
    os.chmod(instance, 0o755)  # the embedded PostgreSQL runs as its own user when started by root
    log = instance / "serve.log"
    pgdata = instance / "pgdata"
    try:
        progress("first start (empty instance folder: initdb + migrations) ...")
        server, first = start_once(str(instance), log)
        stop(server)
        if not _postgres_stopped(pgdata):
            raise RuntimeError("the embedded PostgreSQL did not stop with the server")
        seeded = subprocess.run(FLASK + ["seed-demo"], cwd=ROOT, env=_environment(str(instance)),
                                capture_output=True, text=True, timeout=300)
        if seeded.returncode != 0:
            raise RuntimeError(f"seed-demo failed: {seeded.stdout}{seeded.stderr}")
        _postgres_stopped(pgdata)
        warm = []
        for i in range(restarts):
            progress(f"warm restart {i + 1}/{restarts} ...")
            server, timing = start_once(str(instance), log)
            stop(server)
            if not _postgres_stopped(pgdata):
                raise RuntimeError("the embedded PostgreSQL did not stop with the server")
            warm.append(timing)
        return {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "target_s": TARGET_S,
            "first": first,
            "warm": warm,
            "warm_median": {k: round(statistics.median(w[k] for w in warm), 2)
                            for k in ("total_s", "init_db_s", "serve_s")},
        }
    finally:
        _stop_leftover_postgres(pgdata)
        shutil.rmtree(instance, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time `init-db && serve` to the first served page.")
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.restarts), indent=2))


if __name__ == "__main__":
    main()
