"""Insurance (/insurance): the policy recorded for a sale."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page

from .layout import LoggedIn

if TYPE_CHECKING:
    from .sales import SalePage


class PolicyForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Insurance policy"))
        self.own_damage = self.main.get_by_role("group", name=re.compile(r"^Own damage"))
        self.third_party = self.main.get_by_role("group", name=re.compile(r"^Third party"))

    def fill(self, *, insurer: str, premium: str, idv: str, od_no: str, tp_no: str, nominee: str,
             relation: str) -> PolicyForm:
        self.main.get_by_label("Insurer").select_option(label=insurer)
        self.main.get_by_label("Premium (₹)").fill(premium)
        self.main.get_by_label("IDV (₹)").fill(idv)
        self.own_damage.get_by_label("Own-damage policy no.").fill(od_no)
        self.third_party.get_by_label("Third-party policy no.").fill(tp_no)
        self.main.get_by_label("Nominee", exact=True).fill(nominee)
        self.main.get_by_label("Nominee's relation").fill(relation)
        return self

    def record(self) -> SalePage:
        from .sales import SalePage

        self.submit(self.main.get_by_role("button", name="Record the policy"))
        return SalePage(self.page)
