"""Whole journeys through the showroom ERP in a real browser (Debian's Chromium).

What a unit test cannot see: the login keypad's JavaScript, htmx swapping search results in
place, the Content-Security-Policy refusing anything inline, and a tablet-sized screen.
"""
from __future__ import annotations

import re

import pytest
from conftest import gstin
from playwright.sync_api import Page, expect

from .pages.auth import LoginPage, SetupPage
from .pages.layout import DashboardPage, ErrorPage
from .pages.master import StaffListPage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
TOUCH_TARGET_PX = 44


def test_first_day_setup_staff_and_a_technician_who_sees_only_their_modules(page: Page, console):
    # An empty database: whatever address is opened, the setup wizard comes first.
    page.goto("/")
    setup = SetupPage(page)
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(setup.heading).to_be_visible()

    login = (
        setup.fill_showroom(legal_name="Vidyut EV Motors Pvt Ltd", gstin=gstin("29AAACV4821K1Z"),
                            address="14 Hosur Road, Koramangala", city="Bengaluru", pincode="560034",
                            phone="080-41234567", invoice_prefix="BLR")
        .fill_administrator(name="Ramesh Gowda", code="ADMIN", pin="4826")
        .save()
    )
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(login.flash).to_contain_text("The showroom is set up")

    # The administrator logs in with the on-screen keypad.
    dashboard = login.log_in("ADMIN", "4826")
    expect(dashboard.heading).to_have_text("Namaste, Ramesh Gowda")
    for module in ("Staff", "Showroom profile", "Audit log"):
        expect(dashboard.module(module)).to_be_visible()

    # ... adds a technician through the Add staff form ...
    dashboard.open_module("Staff")
    staff = StaffListPage(page)
    expect(staff.heading).to_be_visible()
    detail = staff.add_staff().fill(name="Suresh Kumar", code="tech7", role="Technician", first_pin="5927",
                                    mobile="9845012345").save()
    expect(detail.heading("Suresh Kumar")).to_contain_text("TECH7")
    expect(detail.flash).to_contain_text("Suresh Kumar (TECH7) can now log in")
    expect(detail.detail("Role")).to_have_text("Technician")
    expect(detail.detail("Must change PIN")).to_have_text("Yes")

    # ... and finds them with search-as-you-type: rows swap in place, the address follows.
    detail.open_module("Staff")
    expect(staff.rows).to_have_count(2)
    page.evaluate("() => { window.e2eSameDocument = true; }")
    with page.expect_response(lambda r: "q=sures" in r.url and r.request.headers.get("hx-request") == "true"):
        staff.type_search("sures")
    expect(staff.rows).to_have_count(1)
    expect(staff.row("TECH7")).to_contain_text("Suresh Kumar")
    expect(staff.row("TECH7")).to_contain_text("Technician")
    expect(page).to_have_url(re.compile(r"/master/staff\?q=sures(&|$)"))
    assert page.evaluate("() => window.e2eSameDocument === true"), "the search reloaded the page"
    expect(staff.search_box).to_be_focused()  # the person can keep typing

    # Shared counter PC: hand over to the technician.
    login = staff.switch_user()
    expect(login.heading).to_be_visible()
    expect(login.flash).to_contain_text("Ramesh Gowda logged out")
    expect(login.recent_staff.get_by_role("button")).to_have_text([re.compile(r"^Ramesh Gowda")])

    # Their first login must change the PIN the administrator gave them.
    change = login.log_in_first_time("TECH7", "5927")
    expect(page).to_have_url(re.compile(r"/profile/pin$"))
    dashboard = change.change(current="5927", new="7391")
    expect(dashboard.flash).to_contain_text("Your PIN is changed")
    expect(dashboard.heading).to_have_text("Namaste, Suresh Kumar")

    # A technician sees only their own modules; the staff screens refuse them.
    expect(dashboard.module("My profile")).to_be_visible()
    expect(dashboard.module("Spare parts")).to_be_visible()  # the catalog is theirs to read
    expect(dashboard.module("Customers")).to_have_count(0)  # customers belong to the counter
    for module in ("Staff", "Showroom profile", "Audit log"):
        expect(dashboard.module(module)).to_have_count(0)
        expect(dashboard.main.get_by_role("link", name=module)).to_have_count(0)
    response = page.goto("/master/staff")
    assert response is not None and response.status == 403
    refused = ErrorPage(page)
    expect(refused.heading).to_have_text("Not allowed")
    expect(refused.main).to_contain_text("Your role does not give access to this page")

    # Log out: back at the login, and the dashboard is closed again.
    login = DashboardPage.open(page).log_out()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(login.heading).to_be_visible()
    expect(login.flash).to_contain_text("Suresh Kumar logged out")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))
    console.assert_clean()


def test_five_wrong_pins_lock_the_code_and_then_even_the_right_pin_is_refused(page: Page, console, make_staff):
    make_staff("LK1", "SALES", "4826", name="Lakshmi K")
    login = LoginPage.open(page)

    for tries_left in (4, 3, 2, 1):
        login.attempt("LK1", "1357")
        expect(login.pin).to_have_accessible_description(re.compile(rf"{tries_left} more wrong tr(y|ies) lock"))
        expect(login.staff_code).to_have_value("LK1")  # kept, so only the PIN is re-entered
        expect(login.pin).to_have_value("")

    login.attempt("LK1", "1357")
    locked = re.compile(r"Too many wrong PINs: this staff code is locked until \d\d:\d\d")
    expect(login.pin).to_have_accessible_description(locked)

    login.attempt("LK1", "4826")  # the right PIN, but too late
    expect(login.pin).to_have_accessible_description(locked)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="Switch user")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))
    console.assert_clean()


def test_a_768px_tablet_gets_big_keys_a_working_staff_list_and_no_sideways_scrolling(new_page, console,
                                                                                     make_staff):
    make_staff("RG1", "ADMIN", "4826", name="Ramesh Gowda")
    for n, name in enumerate(("Anita Desai", "Bhaskar Rao", "Chitra Nair"), start=1):
        make_staff(f"S{n:02d}", "SALES", "4826", name=name, phone=f"98450{n:05d}")
    page = new_page(viewport=TABLET, has_touch=True)

    login = LoginPage.open(page)
    expect(login.keys).to_have_count(12)
    for key in login.keys.all():
        box = key.bounding_box()
        assert box is not None and box["height"] >= TOUCH_TARGET_PX, f"key {key.inner_text()!r}: {box}"
    for control in (login.staff_code, login.pin, login.log_in_button):
        box = control.bounding_box()
        assert box is not None and box["height"] >= TOUCH_TARGET_PX, box

    dashboard = login.log_in("RG1", "4826")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= TABLET["width"]
    assert dashboard.horizontal_overflow() <= 0

    dashboard.open_module("Staff")
    staff = StaffListPage(page)
    expect(staff.rows).to_have_count(4)
    staff.type_search("chitra")
    expect(staff.rows).to_have_count(1)
    expect(staff.row("S03")).to_contain_text("Chitra Nair")
    expect(page).to_have_url(re.compile(r"\?q=chitra"))
    console.assert_clean()
