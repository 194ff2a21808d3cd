"""Page objects live in tests/e2e/pages/ (one module per module of the app), never in a journey.

A plain AST check of every tests/e2e/test_*.py, with no browser. A journey may call get_by_role,
get_by_label and get_by_text (what a person sees) and the page objects; it may not
  - define a class (a page object belongs in tests/e2e/pages/),
  - locate by selector: .locator(), .query_selector(), .eval_on_selector(), .wait_for_selector(),
    .frame_locator(), or a page's selector shortcuts (page.click("#id"), page.fill("css", ...)),
  - put CSS into the browser's hands: a string with querySelector / getElementsBy / closest(,
  - define a page helper: a function, other than a test or a fixture, that takes or returns a Page
    or a Locator, or that finds elements or runs script on a page (get_by_*, locator, evaluate).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

HERE = Path(__file__).parent
JOURNEYS = sorted(p for p in HERE.glob("test_*.py") if p.name != Path(__file__).name)

SELECTOR_CALLS = {"locator", "query_selector", "query_selector_all", "eval_on_selector", "eval_on_selector_all",
                  "wait_for_selector", "frame_locator", "dispatch_event"}
# Page methods whose first argument is a selector (on a Locator they take none).
PAGE_SHORTCUTS = {"click", "dblclick", "fill", "type", "press", "check", "uncheck", "set_checked", "hover", "tap",
                  "focus", "select_option", "set_input_files", "text_content", "inner_text", "inner_html",
                  "input_value", "get_attribute", "is_visible", "is_hidden", "is_checked", "is_enabled",
                  "is_disabled", "is_editable", "drag_and_drop"}
PAGE_NAMES = {"page", "popup"}
FINDERS = {"get_by_role", "get_by_label", "get_by_text", "get_by_placeholder", "get_by_alt_text", "get_by_title",
           "get_by_test_id", "locator", "evaluate", "evaluate_all", "evaluate_handle"} | SELECTOR_CALLS
PLAYWRIGHT_TYPES = {"Page", "Locator", "ElementHandle", "FrameLocator"}
CSS_IN_SCRIPT = ("querySelector", "getElementsBy", "closest(")


def _is_fixture(func: ast.FunctionDef) -> bool:
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
        if isinstance(target, ast.Name) and target.id == "fixture":
            return True
    return False


def _mentions_playwright_type(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation)
    return any(name in text.replace(".", " ").replace("[", " ").replace("|", " ").split() for name in
               PLAYWRIGHT_TYPES)


def _is_page_helper(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    args = func.args.posonlyargs + func.args.args + func.args.kwonlyargs
    for arg in args:
        if _mentions_playwright_type(arg.annotation):
            return f"takes a {ast.unparse(arg.annotation)}"
    if _mentions_playwright_type(func.returns):
        return f"returns a {ast.unparse(func.returns)}"
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FINDERS:
            return f"calls .{node.func.attr}()"
    return None


def violations(source: str, filename: str = "<test>") -> list[str]:
    """What in a journey's source belongs in tests/e2e/pages/, as 'file:line: why'."""
    tree = ast.parse(source, filename)
    found = []

    def at(node: ast.AST, why: str) -> None:
        found.append(f"{filename}:{node.lineno}: {why}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            at(node, f"class {node.name}: page objects live in tests/e2e/pages/")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in SELECTOR_CALLS:
                at(node, f".{name}() locates by selector: find by role, label or text in a page object")
            elif (name in PAGE_SHORTCUTS and isinstance(node.func.value, ast.Name)
                  and node.func.value.id in PAGE_NAMES and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                at(node, f"{node.func.value.id}.{name}({node.args[0].value!r}, ...) locates by selector")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for css in CSS_IN_SCRIPT:
                if css in node.value:
                    at(node, f"script with {css}: a DOM query belongs in tests/e2e/pages/")
    for node in tree.body:  # module-level helpers; tests and fixtures may use the page objects
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.startswith("test_") or _is_fixture(node):
                continue
            why = _is_page_helper(node)
            if why:
                at(node, f"{node.name}() {why}: a page helper, it belongs in tests/e2e/pages/")
    return found


def test_there_are_journeys_to_check():
    assert len(JOURNEYS) >= 6, JOURNEYS
    assert (HERE / "pages" / "__init__.py").is_file()
    assert not (HERE / "pages.py").exists(), "the page objects moved to the package tests/e2e/pages/"


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: p.name)
def test_a_journey_holds_no_page_object_and_no_css_locator(path: Path):
    assert violations(path.read_text(encoding="utf-8"), path.name) == []


BAD = '''
from playwright.sync_api import Locator, Page

class StockPage:
    pass

def no_sideways_scroll(page: Page) -> int:
    return page.evaluate("() => 1")

def rows(scope) -> Locator:
    return scope

def helper(p):
    return p.get_by_role("row")

def _key():
    return "not a page helper"

@pytest.fixture
def signed_in(page):
    page.get_by_label("Staff code").fill("ADMIN")

def test_x(page):
    page.locator("#today").click()
    page.get_by_role("main").locator("table.lines")
    page.click("#save")
    page.evaluate("() => document.querySelectorAll('main td').length")
    page.get_by_role("button", name="Save").click()
'''


def test_the_check_finds_each_kind_of_violation():
    found = violations(BAD, "bad.py")
    assert sorted(int(f.split(":")[1]) for f in found) == [4, 7, 10, 13, 24, 25, 26, 27], found
    assert any("class StockPage" in f for f in found)
    assert any("no_sideways_scroll() takes a Page" in f for f in found)
    assert any("rows() returns a Locator" in f for f in found)
    assert any("helper() calls .get_by_role()" in f for f in found)
    assert not any("_key" in f or "signed_in" in f or "Save" in f for f in found)
