"""GST returns (templates/finance/returns): GSTR-1 with its sections and downloads, GSTR-3B, and the
reconciliation of the return with the sales register and the books."""
from __future__ import annotations

from playwright.sync_api import Page

from .layout import LoggedIn


class GstReturnPage(LoggedIn):
    """One of the three return screens, for a GSTIN and a period (?gstin=&fp=MMYYYY[&span=Q])."""

    PATHS = {"GSTR-1": "/finance/returns/gstr1", "GSTR-3B": "/finance/returns/gstr3b",
             "GST reconciliation": "/finance/returns/reconcile"}

    def __init__(self, page: Page, title: str):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=title, level=1)
        self.tabs = self.main.get_by_role("navigation", name="GST returns")
        self.month = self.main.get_by_label("Month", exact=False).first
        self.download_json = self.main.get_by_role("link", name="Download JSON", exact=False)
        self.refusal = self.main.get_by_role("alert")

    @classmethod
    def open(cls, page: Page, title: str, gstin: str, fp: str) -> GstReturnPage:
        page.goto(f"{cls.PATHS[title]}?gstin={gstin}&fp={fp}")
        return cls(page, title)

    def section(self, name: str):
        """A section's heading, e.g. section('5 B2C large (inter-state)')."""
        return self.main.get_by_role("heading", name=name, level=2)
