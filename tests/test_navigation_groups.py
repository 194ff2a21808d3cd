"""The menu's groups (webapp/navigation.py): crm's screens are a group of Sales, communication's a group of
Administration (and the call list in "My account"); each role sees the links its capabilities open, under the
group's heading, in the top bar of every page."""
from __future__ import annotations

import html
import re

import pytest

from webapp.navigation import SECTIONS


def menu(client) -> str:
    return re.search(r'<nav class="modules"[^>]*>(.*?)</nav>', client.get("/").get_data(as_text=True), re.DOTALL).group(1)


def labels(part: str) -> list[str]:
    return [html.unescape(m).strip() for m in re.findall(r">([^<]+)</a>", part)]


def group(part: str, section: str, heading: str) -> list[str]:
    found = re.search(rf'<ul aria-label="{section}: {heading}">(.*?)</ul>', part, re.DOTALL)
    return labels(found.group(1)) if found else []


@pytest.mark.parametrize("role, leads, reminders, elsewhere, hidden", [
    ("SALES", ["Leads", "Follow-ups", "Test rides"], [], ["Call list"],
     ["Funnel", "Lost reasons", "Outbox", "Reminder rules", "Templates", "Channels"]),
    ("MANAGER", ["Leads", "Follow-ups", "Test rides", "Funnel", "Lost reasons"], ["Outbox"], ["Call list"],
     ["Reminder rules", "Templates", "Channels"]),
    ("ADMIN", ["Leads", "Follow-ups", "Test rides", "Funnel", "Lost reasons"],
     ["Outbox", "Reminder rules", "Templates", "Channels"], ["Call list"], []),
    ("SERVICE_ADVISOR", [], [], ["Call list"], ["Leads", "Follow-ups", "Outbox"]),
    ("TECHNICIAN", [], [], [], ["Leads", "Outbox", "Call list"]),
])
def test_each_role_finds_the_crm_and_reminder_screens_it_may_open(logged_in, role, leads, reminders, elsewhere,
                                                                    hidden):
    client, _ = logged_in(role)
    part = menu(client)
    assert group(part, "Sales", "Leads") == leads
    assert group(part, "Administration", "Reminders") == reminders
    shown = labels(part)
    assert all(label in shown for label in elsewhere), shown
    assert not any(label in shown for label in hidden), shown
    for label in leads + reminders + elsewhere:      # each opens for the role
        href = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(label)}</a>', part).group(1)
        assert client.get(href).status_code == 200, (role, label, href)


def test_a_sections_groups_are_consecutive_and_never_named_like_a_section():
    titles = {section.title for section in SECTIONS}
    for section in SECTIONS:
        seen = [g for g, _ in section.groups()]
        assert len(seen) == len(set(seen)), f"{section.title}: a group's links are split: {seen}"
        assert not titles & set(seen), f"{section.title}: a group named like a section (the menu finds sections by name)"
