"""Page numbers for long lists.

A long list never counts every row it could show: its query counts at most `count_cap(number,
size)` rows (the rows before the page and COUNT_AHEAD more), which costs as much as reading the
page itself when an index gives the order. Fewer found than that: the total is exact. As many: the
list has at least that many, the pager says "1000+", and Next is there, since the cap is always
beyond the page. A page number stays a plain ?page= in the URL, so it can be bookmarked."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

# How many rows past the start of the page a list counts before it says "N+".
COUNT_AHEAD = 1000


def count_cap(number: int, size: int) -> int:
    """The most rows a list counts for page `number`: those before it and COUNT_AHEAD more."""
    return (number - 1) * size + COUNT_AHEAD


def capped_count(body: str) -> str:
    """SQL counting the rows of `body` (a FROM ... WHERE ...) up to the parameter :cap
    (count_cap): a scalar sub-select, for a select list or alone."""
    return f"(SELECT count(*) FROM (SELECT 1 {body} LIMIT :cap) n)"


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int
    exact: bool = True  # False: `total` rows were counted and there are more (shown as "total+")

    @classmethod
    def counted(cls, number: int, size: int, found: int) -> Page:
        """The page of a list whose count stopped at count_cap(number, size); a count that did not
        stop there (a window count over rows a search had to read anyway) may be larger: exact."""
        return cls(number, size, found, found != count_cap(number, size))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.number * self.size)

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def requested_page() -> int:
    """The ?page= asked for; anything that is not a small positive number means page 1."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def paged(search, size: int | None = None):
    """Run ``search(page_number, page_size)`` for the ?page= asked for; a stale link past the
    end (rows deactivated or received since) shows the last page instead of an empty one.
    Returns (rows, Page)."""
    size = size or current_app.config["PAGE_SIZE"]
    number = requested_page()
    rows, total = search(number, size)
    last = Page(number, size, total).pages
    if number > last:
        number = last
        rows, total = search(number, size)
    return rows, Page(number, size, total)


def paged_capped(search, size: int | None = None):
    """paged() for a list whose ``search(number, size)`` counts at most count_cap(number, size) rows
    (see the module's docstring): a stale link past the end still shows the last page."""
    size = size or current_app.config["PAGE_SIZE"]
    number = requested_page()
    rows, found = search(number, size)
    page = Page.counted(number, size, found)
    if page.exact and number > page.pages:
        number = page.pages
        rows, found = search(number, size)
        page = Page.counted(number, size, found)
    return rows, page
