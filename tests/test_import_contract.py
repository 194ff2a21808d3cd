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


# ----------------------------------------------------------------------------- module boundaries
# Each module under webapp/ (a package: sales, billing...) shows others one public face, its api.py.
# Another module may import that and nothing else of it: not its views, queries, forms or services.
# The shared core (the modules directly under webapp/) imports no module at all, except the app
# factory (webapp/__init__.py), which registers each module's blueprint and may use any api.py.
# A page that shows another module's panel draws it from webapp/panels.py, never by importing it.

PUBLIC_FACE = "api"
APP_FACTORY = "webapp/__init__.py"


def _targets(node: ast.AST, path: Path, package: Path) -> list[str]:
    """The absolute modules an import loads, relative imports resolved; `from X import a` loads X.a
    when a is a submodule of the package X, else X itself."""
    if not isinstance(node, ast.ImportFrom):
        return _imported_names(node)
    if node.level:
        here = list(path.relative_to(package.parent).with_suffix("").parts)
        base = here[:len(here) - node.level]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    folder = package.parent.joinpath(*module.split("."))
    if not (folder / "__init__.py").exists():
        return [module]
    return sorted({f"{module}.{a.name}" if (folder / f"{a.name}.py").exists() or (folder / a.name).is_dir()
                   else module for a in node.names})


def module_boundary_breaches(package: Path) -> list[str]:
    """'path:line imported' for every import that crosses into another module other than by its api."""
    root = package.name
    modules = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        where = f"{root}/{rel.as_posix()}"
        own = rel.parts[0] if len(rel.parts) > 1 else None  # None: the shared core
        may_use_faces = own is not None or where in (APP_FACTORY, f"{root}/cli.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            for name in _targets(node, path, package) if isinstance(node, (ast.Import, ast.ImportFrom, ast.Call)) \
                    else ():
                parts = name.split(".")
                if parts[0] != root or len(parts) < 2 or parts[1] not in modules or parts[1] == own:
                    continue
                if len(parts) == 2 and where == APP_FACTORY:
                    continue  # the app factory registers the module's blueprint
                if len(parts) == 3 and parts[2] == PUBLIC_FACE and may_use_faces:
                    continue
                found.append(f"{where}:{node.lineno} {name}")
    return sorted(set(found))


def test_no_module_reaches_into_another_beyond_its_public_face():
    assert module_boundary_breaches(ROOT / "webapp") == []


def test_a_public_face_imports_nothing_of_another_module_but_its_face():
    # api.py re-exports its own module; it may lean on another module only through that one's api.
    for face in (ROOT / "webapp").glob(f"*/{PUBLIC_FACE}.py"):
        tree = ast.parse(face.read_text(encoding="utf-8"))
        names = [n for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                 for n in _targets(node, face, ROOT / "webapp")]
        assert all(n.split(".")[1] == face.parent.name or n.endswith(f".{PUBLIC_FACE}")
                   for n in names if n.startswith("webapp.") and n.split(".")[1] in
                   {p.name for p in (ROOT / "webapp").iterdir() if p.is_dir()}), face


def test_the_boundary_check_finds_each_kind_of_breach(tmp_path):
    package = tmp_path / "webapp"
    for module in ("sales", "billing"):
        (package / module).mkdir(parents=True)
        for name in ("__init__", "api", "views", "queries"):
            (package / module / f"{name}.py").write_text("")
    for name in ("posting", "tax"):
        (package / "billing" / f"{name}.py").write_text("")
    (package / "__init__.py").write_text("from .sales import bp\nfrom .billing.views import x\n")
    (package / "pages.py").write_text("from .sales import api\nfrom webapp.billing.queries import q\n")
    (package / "sales" / "views.py").write_text(
        "from ..billing import api\n"                 # allowed: the public face
        "from ..billing.api import post\n"            # allowed
        "from . import queries\n"                     # allowed: its own module
        "from ..billing import posting\n"             # a breach, by name
        "def panel():\n"
        "    from ..billing.views import money\n"     # a breach, inside a function
        "    import webapp.billing.queries\n"         # a breach, absolute
        "    import importlib\n"
        "    return importlib.import_module('webapp.billing.tax')\n")  # a breach, by importlib
    assert module_boundary_breaches(package) == [
        "webapp/__init__.py:2 webapp.billing.views",
        "webapp/pages.py:1 webapp.sales.api",
        "webapp/pages.py:2 webapp.billing.queries",
        "webapp/sales/views.py:4 webapp.billing.posting",
        "webapp/sales/views.py:6 webapp.billing.views",
        "webapp/sales/views.py:7 webapp.billing.queries",
        "webapp/sales/views.py:9 webapp.billing.tax",
    ]


def test_query_modules_know_nothing_of_the_request():
    # SQL lives in queries modules: functions of a connection, never of the signed-in user or the
    # request (who may see a row is the views' and access modules' business, and PostgreSQL's).
    found = []
    for path in sorted((ROOT / "webapp").glob("*/*queries*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported_names(node):
                if name.split(".")[0] in ("flask", "flask_login", "flask_wtf", "werkzeug"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []


def test_sales_reads_the_lead_only_through_crms_public_face():
    # The enquiry became crm's lead (sql/0035): the quotation and booking forms start from it through
    # webapp/crm/api.py, never crm's queries or views; and crm imports nothing of sales.
    package = ROOT / "webapp"

    def crossings(module: str, other: str) -> set[str]:
        found = set()
        for path in (package / module).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found.update(n for n in _targets(node, path, package) if n.startswith(f"webapp.{other}"))
        return found

    assert crossings("sales", "crm") == {"webapp.crm.api"}
    assert crossings("crm", "sales") == set()
