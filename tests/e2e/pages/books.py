"""The books (templates/finance/books): what a journey reads on a voucher, the day book and the trial
balance."""
from __future__ import annotations

from playwright.sync_api import Page

from .layout import Screen


class BooksPage(Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.totals = page.locator("table.totals")     # the trial balance's debits and credits
