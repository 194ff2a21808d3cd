"""Buying from the OEM (/procurement): the purchase order and the goods receipt from a dispatch list."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn


class PurchaseOrderForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^New purchase order"))

    def order(self, row: int, vehicle: str, qty: int) -> PurchaseOrderForm:
        self.main.get_by_label(f"Vehicle row {row}: variant and colour").select_option(label=vehicle)
        self.main.get_by_label(f"Vehicle row {row}: quantity").fill(str(qty))
        return self

    def save_draft(self) -> PurchaseOrderPage:
        self.submit(self.main.get_by_role("button", name="Save draft"))
        return PurchaseOrderPage(self.page)


class PurchaseOrderPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        # CSS: the order's status is a bare <span class="badge"> beside the heading, with no label or
        # role (templates/procurement/po_detail.html, po_status() of procurement/_macros.html).
        self.status = self.main.locator(".page-head .badge")
        self.lines = self.main.get_by_role("table").first

    @classmethod
    def open(cls, page: Page, po_id: int) -> PurchaseOrderPage:
        page.goto(f"/procurement/orders/{po_id}")
        return cls(page)

    def press(self, name: str) -> PurchaseOrderPage:
        """A button on the order (approve, mark sent ...); its confirmation question is answered yes."""
        self.page.once("dialog", lambda dialog: dialog.accept())
        self.submit(self.main.get_by_role("button", name=name))
        return PurchaseOrderPage(self.page)

    def receive_goods(self) -> GoodsReceiptPage:
        self.main.get_by_role("link", name="Receive goods").click()
        receipt = GoodsReceiptPage(self.page)
        expect(receipt.heading).to_be_visible()
        return receipt


class GoodsReceiptPage(LoggedIn):
    """Receiving goods against an order: the pasted dispatch list, checked row by row, or one vehicle
    at a time (a barcode scanner's Enter moves along its boxes)."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Receive goods"))
        self.dispatch_list = self.main.get_by_label("Dispatch list")
        self.one_at_a_time = self.main.get_by_role("group", name=re.compile(r"^One vehicle at a time"))
        self.preview = self.main.get_by_role("region", name=re.compile(r"^Preview"))
        self.confirm_button = self.main.get_by_role("button", name="Confirm and post the receipt")

    def preview_row(self, vin: str) -> Locator:
        return self.preview.get_by_role("row").filter(has_text=vin)

    def paste(self, text: str) -> GoodsReceiptPage:
        self.dispatch_list.fill(text)
        return self

    def check(self) -> GoodsReceiptPage:
        self.submit(self.main.get_by_role("button", name="Check the list"))
        return GoodsReceiptPage(self.page)

    def confirm(self) -> PostedGoodsReceiptPage:
        self.submit(self.confirm_button)
        return PostedGoodsReceiptPage(self.page)


class PostedGoodsReceiptPage(LoggedIn):
    """A posted goods receipt: its vehicles (the table with a VIN column) and its parts."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Goods receipt "))
        self.vehicles = self.main.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name="VIN", exact=True))
