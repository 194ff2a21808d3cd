"""Reminders in a real browser: the administrator writes a Kannada template and previews it on a real
customer's details, runs the reminders from the screen and reads the outbox; the service advisor works the
call list on a 768 px tablet (an outcome per call) and sees the bell's count. Every communication screen
is photographed at 768x1024 and 1366x768 (into $COMMUNICATION_SCREENSHOTS when set, else the test's
temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.communication import Bell, CallListPage, TemplateFormPage
from .pages.layout import LoggedIn, no_sideways_scroll, screens_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_reminders_are_written_previewed_run_and_called(new_page, engine, make_staff, make_branch, tmp_path):
    branch = make_branch()
    make_staff("ADM1", "ADMIN", "482913", name="Asha Rao", branch_id=branch)
    make_staff("SA01", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=branch)
    with engine.begin() as conn:
        cb.rule(conn, "SERVICE_DUE", 7, "SMS", code="SERVICE_DUE")
        cb.rule(conn, "SERVICE_DUE", 3, "CALL", code="SERVICE_CALL")
        _, customer = cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=2), due_km=5000)
        conn.execute(sa.text("UPDATE master.customer SET name = 'Meera Krishnan' WHERE customer_id = :c"),
                     {"c": customer})
        part = b.part(conn, part_no="BELL-PAD-01")
        conn.execute(sa.text("UPDATE master.part SET reorder_level = 5 WHERE part_id = :p"), {"p": part})
        b.receive(conn, branch, part, 1, "100.00")

    page = new_page(viewport=TABLET, has_touch=True)
    dashboard = LoginPage.open(page).log_in("ADM1", "482913")
    dashboard.open_module("Outbox")
    page.get_by_role("navigation", name="Reminders").get_by_role("link", name="Templates").click()
    page.get_by_role("link", name="Add a template").click()
    form = TemplateFormPage(page).fill(code="SERVICE_DUE", channel="SMS", language="ಕನ್ನಡ (Kannada)",
                                       text="ನಮಸ್ಕಾರ {customer_name}, ಸರ್ವೀಸ್ {due_date} ({due_km} ಕಿ.ಮೀ.)",
                                       dlt_id="1107160000000054321").show_preview()
    expect(form.preview).to_contain_text("ನಮಸ್ಕಾರ Meera Krishnan, ಸರ್ವೀಸ್")
    form.text.fill("ನಮಸ್ಕಾರ {customer}, ಸರ್ವೀಸ್ {due_date}")
    form = form.show_preview()
    expect(page.get_by_text("Unknown placeholder {customer}")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)   # nothing to save before a good preview
    form.text.fill("ನಮಸ್ಕಾರ {customer_name}, ಸರ್ವೀಸ್ {due_date} ({due_km} ಕಿ.ಮೀ.)")
    form.show_preview().save()
    dashboard.open_module("Outbox")
    with page.expect_navigation():
        page.get_by_role("button", name="Run reminders now").click()
    expect(page.get_by_role("status")).to_contain_text("Reminders made: 2, queued: 2.")
    assert no_sideways_scroll(page) <= 0

    folder = Path(os.environ.get("COMMUNICATION_SCREENSHOTS") or tmp_path)
    with engine.connect() as conn:
        template_id = conn.execute(sa.text("SELECT min(template_id) FROM communication.template")).scalar()
        rule_id = conn.execute(sa.text("SELECT min(rule_id) FROM communication.rule")).scalar()
    admin_screens = {"rules": "/communication/", "rule": f"/communication/rules/{rule_id}",
                     "templates": "/communication/templates", "template": f"/communication/templates/{template_id}",
                     "channels": "/communication/settings", "outbox": "/communication/outbox",
                     "consent": f"/communication/customers/{customer}/consent"}
    assert screens_too_wide(page, admin_screens, folder, "communication") == []

    page.set_viewport_size(TABLET)
    LoggedIn(page).log_out().log_in("SA01", "4826")
    bell = Bell(page)
    expect(bell.count).to_have_text("2")                       # the part at its reorder level, the call
    dashboard.open_module("Call list")
    calls = CallListPage(page)
    expect(calls.row("Meera Krishnan")).to_contain_text("Tell Meera Krishnan")
    assert screens_too_wide(page, {"calls": "/communication/calls", "notifications": "/communication/notifications"},
                            folder, "communication") == []
    page.set_viewport_size(TABLET)
    page.goto("/communication/calls")
    calls = CallListPage(page).record_outcome("Meera Krishnan", "No answer", "Switched off")
    expect(calls.flash).to_contain_text("Meera Krishnan: No answer.")
    expect(calls.main).to_contain_text("No call to make today.")
    notifications = Bell(page).open()
    expect(notifications.item("Parts at reorder level")).to_contain_text("1")
    expect(notifications.item("Reminder calls to make today")).to_have_count(0)   # made: none left today
