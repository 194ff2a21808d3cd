"""The shell every screen shares: the top bar with the Modules navigation, the dashboard, the error
page; and helpers for details lists, sections and what a window shows or hides."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from .auth import LoginPage


class Screen:
    """Any screen: its <main> and the flashed messages."""

    def __init__(self, page: Page):
        self.page = page
        self.main = page.get_by_role("main")
        self.flash = page.get_by_role("status")  # the flashed messages

    def submit(self, button: Locator) -> None:
        """Click a form's submit button and wait for the page it leads to (also when that is the same URL)."""
        with self.page.expect_navigation():
            button.click()


class Navigation:
    """The Modules navigation of the top bar: one menu button per section on a wide screen, one "Menu"
    button on a tablet. The menu buttons are <summary> elements, which have no ARIA role (Playwright
    gives none, and templates/base.html adds none): they are found by the text a person reads inside
    the navigation's list items, and the list of all of them by the <summary> tag."""

    def __init__(self, page: Page):
        self.page = page
        self.nav = page.get_by_role("navigation", name="Modules")
        self._items = self.nav.get_by_role("listitem", include_hidden=True)
        # The one "Menu" button of a narrow window; it also names the section of the page.
        self.menu_button = self.nav.get_by_text(re.compile(r"^Menu\b"))
        # Every section's menu button in order. CSS: a <summary> has no role (base.html).
        self.section_buttons = self._items.locator("summary")
        # The section of the page: marked by aria-current on its <summary>, which has no role (base.html).
        self.current_section = self.nav.locator("summary[aria-current]")
        self.links = self.nav.get_by_role("link")
        # The sections open in the tablet's "Menu" list (one at a time). CSS: <details open> has no state role.
        self.open_sections = self.nav.locator(".nav-section[open]")
        # The list of sections: the drop-down panel of the "Menu" button on a tablet.
        self.panel = self.nav.get_by_role("list").first

    def section_button(self, title: str) -> Locator:
        """A section's menu button, e.g. section_button('Billing')."""
        return self._items.get_by_text(title, exact=True)

    def group(self, section: str, heading: str) -> Locator:
        """A group of a section's links under its heading (webapp/navigation.py), e.g. group('Sales', 'Leads')."""
        return self.nav.get_by_role("list", name=f"{section}: {heading}")

    def link(self, name: str, include_hidden: bool = False) -> Locator:
        return self.nav.get_by_role("link", name=name, exact=True, include_hidden=include_hidden)

    def section_button_holding(self, link: str) -> Locator:
        """The menu button of the section whose drop-down holds the link. CSS: <summary> has no role."""
        return self._items.filter(
            has=self.page.get_by_role("link", name=link, exact=True, include_hidden=True)).locator("summary")


class LoggedIn(Screen):
    """Any screen behind the login: the top bar with the modules and the user's buttons."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.top_bar = page.get_by_role("banner")
        self.navigation = Navigation(page)

    def module(self, name: str) -> Locator:
        """The link to a module, shown as a person finds it: the links wait in menus (one per section on
        a wide screen, one "Menu" on a tablet, which opens the page's section), so the menu that holds the
        link is opened first, and on a tablet its section in the list."""
        nav = self.navigation
        link = nav.link(name)
        waiting = nav.link(name, include_hidden=True)
        if waiting.count() and not waiting.is_visible():
            if nav.menu_button.is_visible():
                nav.menu_button.click()
                expect(nav.panel).to_be_visible()
                # The menu opens one section itself (the page's own, else the first; static/js/app.js) as it
                # opens: wait for that, so a tap on the link's section is not undone by it (or undoes it).
                expect(nav.open_sections).to_have_count(1)
                if not waiting.is_visible():
                    nav.section_button_holding(name).click()
            else:
                nav.section_button_holding(name).click()
            expect(link).to_be_visible()
        return link

    def open_module(self, name: str) -> None:
        self.module(name).click()

    def switch_user(self) -> LoginPage:
        from .auth import LoginPage

        self.submit(self.top_bar.get_by_role("button", name="Switch user"))
        return LoginPage(self.page)

    def log_out(self) -> LoginPage:
        from .auth import LoginPage

        self.submit(self.top_bar.get_by_role("button", name="Log out"))
        return LoginPage(self.page)


class DashboardPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Namaste, "))

    @classmethod
    def open(cls, page: Page) -> DashboardPage:
        page.goto("/")
        return cls(page)

    def horizontal_overflow(self) -> int:
        """How far the page is wider than the window (0 when there is no horizontal scrollbar)."""
        return no_sideways_scroll(self.page)


class ErrorPage(Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)


# ----------------------------------------------------------------------------- shared helpers


def detail(scope: Locator, term: str) -> Locator:
    """The value shown for a term of a details list, e.g. detail(main, 'Role'). The term has the role
    'term'; its value is the <dd> right after it (nothing in ARIA ties the two: an XPath step)."""
    return scope.get_by_role("term").filter(has_text=re.compile(rf"^{re.escape(term)}$")).locator(
        "xpath=following-sibling::dd[1]")


def section(scope: Locator, heading: str) -> Locator:
    """A card found by its level-2 heading (which starts with the given text). CSS: the templates give
    these <section>s no accessible name (no aria-labelledby), so they have no role 'region'."""
    return scope.locator("section").filter(
        has=scope.page.get_by_role("heading", name=re.compile(rf"^{re.escape(heading)}"), level=2))


def table_cells(table: Locator) -> Locator:
    """Every header cell and cell of the table(s), those hidden from view included."""
    return (table.get_by_role("columnheader", include_hidden=True)
            .or_(table.get_by_role("rowheader", include_hidden=True))
            .or_(table.get_by_role("cell", include_hidden=True)))


def no_sideways_scroll(page: Page) -> int:
    """How far the page is wider than the window (0 or less: no horizontal scrollbar)."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


def screens_too_wide(page: Page, screens: dict[str, str], folder, prefix: str) -> list[str]:
    """Each screen (name -> address) opened at a tablet's and a laptop's size and photographed
    (folder/PREFIX-NAME-WIDTHxHEIGHT.png); the ones that scroll sideways, as "name at WIDTHxHEIGHT"."""
    wide = []
    for size in ({"width": 768, "height": 1024}, {"width": 1366, "height": 768}):
        size_name = f"{size['width']}x{size['height']}"
        page.set_viewport_size(size)
        for name, url in screens.items():
            page.goto(url)
            expect(page.get_by_role("main")).to_be_visible()
            if no_sideways_scroll(page) > 0:
                wide.append(f"{name} at {size_name}")
            page.screenshot(path=str(folder / f"{prefix}-{name}-{size_name}.png"), full_page=True)
    return wide


def this_screen_too_wide(page: Page, folder, name: str) -> list[str]:
    """The page as it is (a POST's answer, say) photographed at a tablet's and a laptop's size once its
    fonts are in (folder/NAME-WIDTHxHEIGHT.png); the sizes at which it scrolls sideways."""
    wide = []
    for size in ({"width": 768, "height": 1024}, {"width": 1366, "height": 768}):
        size_name = f"{size['width']}x{size['height']}"
        page.set_viewport_size(size)
        page.evaluate("() => document.fonts.ready")
        if no_sideways_scroll(page) > 0:
            wide.append(size_name)
        page.screenshot(path=str(folder / f"{name}-{size_name}.png"), full_page=True)
    return wide


def loaded_font_faces(page: Page) -> set[str]:
    """The @font-face faces the page has loaded, as "family weight" (a face is fetched only when
    the page shows a character of its unicode-range)."""
    return set(page.evaluate("""async () => {
      await document.fonts.ready;
      return [...document.fonts].filter(f => f.status === "loaded")
                                .map(f => f.family.replace(/"/g, "") + " " + f.weight);
    }"""))


def cells_out_of_view(cells: Locator) -> list[str]:
    """The texts of the cells that cannot be seen without scrolling: outside the window, or outside the
    visible part of their table's scrolling box (the .table-scroll <div>, which has no role)."""
    return cells.evaluate_all("""cells => {
      const width = document.documentElement.clientWidth;
      return cells.filter(cell => {
        const r = cell.getBoundingClientRect();
        const box = cell.closest(".table-scroll");
        const b = box ? box.getBoundingClientRect() : {left: 0, right: width};
        return r.width < 1 || r.left < Math.max(0, b.left) - 1 || r.right > Math.min(width, b.right) + 1
          || getComputedStyle(cell).visibility !== "visible";
      }).map(cell => cell.textContent.trim());
    }""")


# For each table in <main>: every header cell and every cell of the first body row, with the reason it
# cannot be seen (null when it can). An ancestor that scrolls makes what it holds reachable; from there
# on the ancestor itself must be in view. Also: the tables whose first row is the "nothing found" row,
# and the scrolling boxes that do not say they scroll. A layout audit of the whole DOM (computed
# styles of every ancestor), not a locator: it reads the document as CSS lays it out.
_TABLES_JS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
                                                 ? "." + el.className.trim().split(/\s+/).join(".") : "");
  function unseen(cell) {
    const style = getComputedStyle(cell);
    if (style.display === "none") { return "display:none"; }
    if (style.visibility !== "visible") { return "visibility:" + style.visibility; }
    const r = cell.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) { return "zero size"; }
    let box = {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    for (let el = cell.parentElement; el && el !== document.documentElement; el = el.parentElement) {
      const s = getComputedStyle(el);
      if (parseFloat(s.opacity) === 0) { return "inside a transparent " + name(el); }
      const e = el.getBoundingClientRect();
      if (s.overflowX === "auto" || s.overflowX === "scroll") {
        box = {left: e.left, right: e.right, top: e.top, bottom: e.bottom};
        continue;
      }
      if ((s.overflowX === "hidden" || s.overflowX === "clip") && (box.left < e.left - 1 || box.right > e.right + 1)) {
        return "cut off sideways by " + name(el);
      }
      if ((s.overflowY === "hidden" || s.overflowY === "clip") && (box.top < e.top - 1 || box.bottom > e.bottom + 1)) {
        return "cut off by " + name(el);
      }
    }
    if (box.left < -1 || box.right > width + 1) {
      return `outside the ${width} px window (${Math.round(box.left)} to ${Math.round(box.right)} px)`;
    }
    return null;
  }
  const tables = Array.from(document.querySelectorAll("main table")).map((table, n) => {
    const head = table.tHead ? Array.from(table.tHead.rows).flatMap(row => Array.from(row.cells)) : [];
    const first = Array.from(table.tBodies).flatMap(body => Array.from(body.rows))[0];
    const cells = head.concat(first ? Array.from(first.cells) : []);
    const section = table.closest("section, .card, main");
    const heading = section && section.querySelector("h1, h2");
    return {
      table: `table ${n + 1} (${name(table)})` + (heading ? ` under "${heading.textContent.trim().slice(0, 40)}"` : ""),
      cells: cells.length,
      empty: !first || !!first.querySelector("td.empty"),
      unseen: cells.map(c => [c.textContent.trim().replace(/\s+/g, " ").slice(0, 30) || "(no text)", unseen(c)])
                   .filter(([, why]) => why),
    };
  });
  const silent = Array.from(document.querySelectorAll("main *")).filter(el => {
    const s = getComputedStyle(el);
    return (s.overflowX === "auto" || s.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1
      && el.querySelector("table") && getComputedStyle(el, "::before").content === "none";
  }).map(name);
  return {tables, silent, sideways: document.scrollingElement.scrollWidth - window.innerWidth};
}
"""


def tables_on_screen(page: Page) -> dict:
    """What the window shows of every table in <main>: {'tables': [{'table', 'cells', 'empty', 'unseen'}],
    'silent': scrolling boxes with no hint that they scroll, 'sideways': how far the page scrolls sideways}."""
    return page.evaluate(_TABLES_JS)
