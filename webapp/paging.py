"""Page numbers for long lists."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

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
