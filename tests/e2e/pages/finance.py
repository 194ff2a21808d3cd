"""The Tally export and OEM receivables (templates/finance/tally, templates/finance/receivables)."""
from __future__ import annotations

from playwright.sync_api import Page

from .layout import Screen


class TallyExportPage(Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Tally export")
        self.company = page.locator("#tally-company")
        self.company_name = page.get_by_label("Tally company name")
        self.total = page.locator("#tally-total")
        self.masters = page.get_by_role("link", name="Masters XML")
        self.vouchers = page.get_by_role("link", name="Vouchers XML")

    @classmethod
    def open(cls, page: Page, **args) -> TallyExportPage:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        page.goto("/finance/tally" + (f"?{query}" if query else ""))
        return cls(page)

    def count(self, voucher_type: str):
        """The row of a voucher type (SALES, RECEIPT...) in the counts table."""
        return self.page.locator(f'tr[data-type="{voucher_type}"]')

    def set_company(self, name: str) -> TallyExportPage:
        self.company_name.fill(name)
        self.submit(self.page.get_by_role("button", name="Save the company name"))
        return TallyExportPage(self.page)

    def download(self, link) -> bytes:
        with self.page.expect_download() as info:
            link.click()
        return open(info.value.path(), "rb").read()


class OemReceivablesPage(Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="OEM receivables")
        self.pending_total = page.locator("#pending-total")

    @classmethod
    def open(cls, page: Page) -> OemReceivablesPage:
        page.goto("/finance/oem-receivables")
        return cls(page)

    def row(self, oem_id: int, source: str):
        return self.page.locator(f'tr[data-oem="{oem_id}"][data-source="{source}"]')
