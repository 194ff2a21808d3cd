"""The app package never depends on seed/ (the benchmark history generator and the demo showroom):
seed/ imports webapp, never the other way round, and the server loads neither of them."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_PEPPER

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = "seed"


def _imported_names(node: ast.AST) -> list[str]:
    """The absolute modules an import statement or an importlib / __import__ call names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""] if node.level == 0 else []  # relative: inside the importing package
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
            and isinstance(node.args[0].value, str):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__"):
            return [node.args[0].value]
    return []


def imports_of(package: Path, forbidden: str) -> list[str]:
    """'path:line module' for every import of `forbidden` (or a module under it) in the package's files,
    at module level or inside a function."""
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported_names(node):
                if name == forbidden or name.startswith(forbidden + "."):
                    found.append(f"{path.relative_to(package.parent)}:{node.lineno} {name}")
    return found


def test_no_module_of_the_app_package_imports_seed():
    assert imports_of(ROOT / "webapp", FORBIDDEN) == []


def test_the_check_finds_every_form_of_import(tmp_path):
    package = tmp_path / "webapp"
    (package / "sales").mkdir(parents=True)
    (package / "__init__.py").write_text("import seed\nimport seedling\nfrom . import seed as local\n")
    (package / "sales" / "views.py").write_text(
        "from seed.history import Sizes\n"
        "def later():\n"
        "    import seed.demo as demo\n"
        "    import importlib\n"
        "    return importlib.import_module('seed.commands'), __import__('seed')\n")
    (package / "cli.py").write_text("from .seeds import x\nfrom seeding import y\n")
    assert imports_of(package, FORBIDDEN) == [
        "webapp/__init__.py:1 seed",
        "webapp/sales/views.py:1 seed.history",
        "webapp/sales/views.py:3 seed.demo",
        "webapp/sales/views.py:5 seed.commands",
        "webapp/sales/views.py:5 seed",
    ]


LOAD = """
import sys
import {module}
{after}
loaded = sorted(m for m in sys.modules if m == "seed" or m.startswith("seed."))
print("seed modules:", ",".join(loaded) or "none")
"""


def _python(code: str, tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "ERP_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k" * 40,
           "PIN_PEPPER": TEST_PEPPER,
           # Nothing connects while the app is built; these only keep the embedded server unstarted.
           "DATABASE_URL": "postgresql://erp@127.0.0.1:9/erp", "APP_DATABASE_URL": "postgresql://app@127.0.0.1:9/erp"}
    done = subprocess.run([sys.executable, *(args or ("-c", code))], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_importing_webapp_and_creating_the_app_loads_nothing_of_seed(tmp_path):
    out = _python(LOAD.format(module="webapp", after="webapp.create_app()"), tmp_path)
    assert "seed modules: none" in out


@pytest.mark.parametrize("command", ["seed-demo", "generate-history"])
def test_the_command_line_app_has_the_seed_commands_without_loading_them(tmp_path, command):
    # wsgi.py is what `flask --app wsgi` (and so `make run`, `make seed-demo`) loads.
    out = _python(LOAD.format(module="wsgi", after=f"assert {command!r} in wsgi.app.cli.commands"), tmp_path)
    assert "seed modules: seed,seed.commands" in out  # neither seed.history nor seed.demo
    helped = _python("", tmp_path, "-m", "flask", "--app", "wsgi", command, "--help")
    assert helped.startswith(f"Usage: python -m flask {command} [OPTIONS]")
