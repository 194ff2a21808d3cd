"""Reminders and messages (templates/communication): the call list with each call's outcome, a template's
form with its preview, a customer's consent, and the staff bell of the top bar."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from .layout import LoggedIn


class Bell:
    """The bell in the top bar: a count of what waits for the user, polled every minute."""

    def __init__(self, page: Page):
        self.link = page.get_by_role("banner").get_by_role("link", name=re.compile(r"Waiting for you"))
        self.count = self.link.locator(".bell-count")

    def open(self) -> NotificationsPage:
        self.link.click()
        return NotificationsPage(self.link.page)


class NotificationsPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Waiting for you"))

    def item(self, label: str) -> Locator:
        return self.main.get_by_role("listitem").filter(has_text=label)


class CallListPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Call list"))

    def row(self, name: str) -> Locator:
        return self.main.get_by_role("row").filter(has_text=name)

    def printed_text(self) -> str:
        """The printed call list (its Print link's PDF, fetched in this browser's session) as text,
        read with the PDF-text helper of the billing tests."""
        from types import SimpleNamespace

        from test_billing_invoices import pdf_text

        response = self.page.context.request.get(self.main.get_by_role("link", name="Print").get_attribute("href"))
        assert response.ok and response.headers["content-type"] == "application/pdf", response.status
        return pdf_text(SimpleNamespace(get_data=response.body))

    def record_outcome(self, name: str, outcome: str, note: str = "") -> CallListPage:
        self.row(name).get_by_role("link", name="Outcome").click()
        self.page.get_by_label("Outcome").select_option(label=outcome)
        if note:
            self.page.get_by_label("Note").fill(note)
        self.submit(self.page.get_by_role("button", name="Save the outcome"))
        return CallListPage(self.page)


class TemplateFormPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.text = page.get_by_label("Text", exact=True)
        self.preview = page.get_by_role("region", name=re.compile(r"^Preview"))

    def fill(self, *, code: str, channel: str, language: str, text: str, dlt_id: str = "") -> TemplateFormPage:
        self.page.get_by_label("Code", exact=True).fill(code)
        self.page.get_by_label("Channel", exact=True).select_option(label=channel)
        self.page.get_by_label("Language", exact=True).select_option(label=language)
        self.text.fill(text)
        if dlt_id:
            self.page.get_by_label("DLT template id (SMS)").fill(dlt_id)
        return self

    def show_preview(self) -> TemplateFormPage:
        self.submit(self.page.get_by_role("button", name="Preview"))
        return TemplateFormPage(self.page)

    def save(self) -> LoggedIn:
        self.submit(self.page.get_by_role("button", name="Save"))
        return LoggedIn(self.page)
