"""The screens used all day, at a 768 px tablet and a 1366 px laptop: no figure is ever hidden.

Every list screen of the navigation (read from webapp.navigation.SECTIONS, so a new module's lists are
covered as soon as they are in the menu) is opened by an administrator, who sees them all, on a
showroom with at least one row in each list. In every table each header cell and each cell of the
first row must be on screen or reachable by scrolling the table's own box sideways: not display:none,
not invisible, not of zero size, not cut off by an ancestor that hides its overflow, and never
outside the window. A box that scrolls says so. The top bar is one row of section menus on a laptop
(every drop-down inside the window, a section's groups side by side) and one "Menu" button that a tap
opens on a tablet, listing every section with the page's own open and each other one tap away. The
sales register fits a laptop without an inner scroll, and the invoice and counter-sale previews show
their totals on a tablet.

The showroom is filled once for the whole module and served by one live server; the tests only read.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from catalog_ids import catalog_ids
from claim_ids import claim_ids
from conftest import truncate_all
from flask import url_for
from inventory_ids import inventory_ids
from playwright.sync_api import Page, expect
from procurement_ids import procurement_ids
from sales_ids import sales_ids
from warranty_ids import warranty_ids

from webapp.billing import posting
from webapp.formatting import today_ist
from webapp.master.queries import insert_staff
from webapp.navigation import SECTIONS
from webapp.sales import services
from webapp.security import hash_pin, role_may_use

from .conftest import TIMEOUT_MS, serving
from .pages.auth import LoginPage
from .pages.billing import CounterSalePage, InvoiceForm, SalesRegisterPage
from .pages.layout import Navigation, cells_out_of_view, table_cells, tables_on_screen

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
VIEWPORTS = {"tablet": TABLET, "laptop": LAPTOP}
ADMIN, PIN = "ADMIN", "4826"


# ----------------------------------------------------------------------------- the showroom


def _key() -> str:
    return str(uuid.uuid4())


def _fill(app, engine) -> dict:
    """A branch with a row in every list screen, on top of the rows the access matrix uses."""
    today = today_ist()
    with engine.begin() as conn:
        branch_id = b.branch(conn, prefix="BLR", legal_name="Volt Motors Private Limited",
                             trade_name="Volt EV Indiranagar")
        with app.app_context():
            pin_hash = hash_pin(PIN)
        insert_staff(conn, {"staff_code": ADMIN, "name": "Ramesh Gowda", "designation": "ADMIN",
                            "branch_id": branch_id}, pin_hash, must_change_pin=False)
    ids = {**catalog_ids(engine, branch_id), **procurement_ids(engine, branch_id), **sales_ids(engine, branch_id),
           **warranty_ids(engine, branch_id)}
    ids.update(inventory_ids(engine, branch_id, ids["part_id"]))
    # Warranty claims: a draft battery claim, a submitted one pending with the OEM and its failed part held.
    ids.update(claim_ids(engine, branch_id))
    with engine.begin() as conn:
        # A scooter with the PM E-DRIVE subsidy, as sold in the showroom, and long real names.
        cat = b.vehicle_catalog(conn, colours=("Pearl White",), battery_kwh="3.70")
        b.price(conn, cat.variant_id, str(today - timedelta(days=30)), ex_showroom="157000.00",
                ex_factory=Decimal("125600.00"), subsidy_rule="PER_KWH", subsidy_per_kwh=Decimal("5000.00"),
                subsidy_cap=Decimal("10000.00"), subsidy_cap_pct=Decimal("15"))
        salesperson, manager = b.staff(conn, branch_id, "SALES"), b.staff(conn, branch_id, "MANAGER")
        customer_id = b.customer(conn, branch_id, name="Venkatesh Subramaniam Iyer")

        def booking(discount: str = "0", customer: int = customer_id, **delivery) -> int:
            b.act_as(conn, salesperson)
            quote = services.on_road_price(conn, cat.variant_id, "Pearl White", today, discount=Decimal(discount))
            return services.create_booking(conn, branch_id=branch_id, customer_id=customer, salesperson_id=salesperson,
                                           quote=quote, booked_on=today, key=_key(), **delivery)

        def unit(received_on=today) -> int:
            return b.unit(conn, cat.variant_id, "Pearl White", branch_id, received_on=str(received_on))

        # Above the salesperson's limit: waits on the discount approvals.
        booking("12500")
        # A fleet buyer registered for GST in Maharashtra: the register's widest row (GSTIN, IGST).
        fleet = b.customer(conn, branch_id, state="27", name="Sahyadri Last Mile Logistics Private Limited",
                           gstin=b.make_gstin("27"))
        b2b = booking(customer=fleet, delivery_state_code="27", delivery_address="Plot 7, MIDC Bhosari, Pune 411026")
        services.allot(conn, b2b, unit())
        b.act_as(conn, manager)
        posting.post_vehicle_invoice(conn, b2b, on=today, key=_key())
        # Allotted, not invoiced: the invoice preview; its PM E-DRIVE claim waits for the e-voucher.
        allotted = booking()
        services.allot(conn, allotted, unit())
        # A unit received 100 days ago: the 90+ days column of the stock ageing.
        unit(received_on=today - timedelta(days=100))
        # A policy whose own-damage cover ends next month: the insurance renewals (which open on it).
        ends = (today.replace(day=1) + timedelta(days=40)).replace(day=10)
        conn.execute(sa.text("""
            INSERT INTO insurance.policy (branch_id, unit_id, customer_id, insurer_id, od_policy_no, od_from, od_to,
                                          premium, idv)
            VALUES (:b, :u, :c, :i, 'OD-2025-118822', :from, :to, 6500, 118000)"""),
            {"b": branch_id, "u": b.unit(conn, cat.variant_id, "Pearl White", b.branch(conn)),
             "c": customer_id, "i": ids["insurer_id"], "from": ends - timedelta(days=364), "to": ends})
        # An OEM scheme in force today.
        conn.execute(sa.text("""
            INSERT INTO oem.scheme (oem_id, name, kind, amount, valid_from, valid_to)
            VALUES (:o, 'Year-end exchange bonus', 'CUSTOMER_DISCOUNT', 5000, :from, :to)"""),
            {"o": cat.oem_id, "from": today - timedelta(days=5), "to": today + timedelta(days=25)})
        b.act_as(conn, None)
    from service_work_ids import service_work_ids  # a job card's work: a row for the parts requests list

    service_work_ids(engine, branch_id)
    from crm_ids import crm_ids  # a demo scooter out on a test ride: a row for the test rides list

    crm_ids(engine, branch_id, ids["lead_id"])
    from communication_ids import communication_ids  # a call on the call list, in the outbox

    communication_ids(engine, branch_id, ids["customer_id"])
    from hr_ids import hr_ids  # employees, a leave waiting and a forgotten out-punch: rows for the HR lists

    hr_ids(engine, branch_id)
    from payroll_ids import payroll_ids  # an approved run: the payroll list and everyone's own payslips

    payroll_ids(engine, branch_id)
    from incentive_ids import adjusted_month  # a salesperson's last month adjusted: a row for the incentives list

    adjusted_month(engine, branch_id)
    from finance_cash_ids import finance_cash_ids  # an expense, a bank account with a line to reconcile

    finance_cash_ids(engine, branch_id)
    from books_ids import books_ids  # a voucher of today (day book, trial balance) and a bank account (chart)

    books_ids(engine, branch_id, ids["customer_id"])
    with engine.begin() as conn:
        # Yesterday's cash counted ₹10 short (the cash closings), last month closed in the books (the months'
        # events), a dealer incentive in force (OEM receivables), a holiday of this year (HR settings),
        # an arrears line (payroll's arrears).
        b.act_as(conn, b.staff(conn, branch_id, "ACCOUNTS"))
        conn.execute(sa.text("""
            INSERT INTO finance.cash_closing (branch_id, closing_date, notes_500, coins_1, book_balance, remark)
            VALUES (:b, :d, 2, 0, 0, 'Ten rupees short; the float is counted again tomorrow')"""),
            {"b": branch_id, "d": today - timedelta(days=1)})
        conn.execute(sa.text("SELECT finance.close_month(:b, :m)"),
                     {"b": branch_id, "m": (today.replace(day=1) - timedelta(days=1)).replace(day=1)})
        conn.execute(sa.text("""
            INSERT INTO oem.scheme (oem_id, name, kind, amount, valid_from, valid_to)
            VALUES (:o, 'Quarter-end volume incentive per scooter', 'DEALER_INCENTIVE', 1500, :from, :to)"""),
            {"o": cat.oem_id, "from": today - timedelta(days=5), "to": today + timedelta(days=25)})
        conn.execute(sa.text("INSERT INTO hr.holiday (branch_id, on_date, name) VALUES (:b, :d, 'Kannada Rajyotsava')"),
                     {"b": branch_id, "d": today.replace(month=11, day=1)})
        # Last month's arrears paid with this month's salary (the arrears list).
        conn.execute(sa.text("""
            INSERT INTO hr.pay_arrears (branch_id, staff_id, for_month, paid_in, amount, reason)
            SELECT :b, staff_id, :last, :this, 1250, 'Conveyance revised from the first of last month'
              FROM hr.employee JOIN master.staff USING (staff_id) WHERE branch_id = :b ORDER BY staff_id LIMIT 1"""),
            {"b": branch_id, "this": today.replace(day=1), "last": (today.replace(day=1) - timedelta(days=1)).replace(day=1)})
        b.act_as(conn, None)
    ids.update(branch_id=branch_id, allotted_booking_id=allotted, part_no="MTX-001")  # catalog_ids' part, in stock
    return ids


def _list_screens(app) -> list[tuple[str, str]]:
    """(label, url) of every link in the navigation an administrator sees."""
    with app.test_request_context():
        return [(link.label, url_for(link.endpoint)) for section in SECTIONS for link in section.links
                if role_may_use("ADMIN", link.endpoint)]


@pytest.fixture(scope="module")
def showroom(_app, owner_engine, _truncatable):
    # owner_engine: the session's committing engine (tests/conftest.py; `engine` is per test).
    _app.extensions["setup_done"] = False
    try:
        yield _fill(_app, owner_engine)
    finally:
        truncate_all(owner_engine, _truncatable)
        _app.extensions["setup_done"] = False


@pytest.fixture(scope="module")
def server(_app, showroom):
    with serving(_app) as live:
        yield live


@pytest.fixture(scope="module")
def signed_in(browser, server) -> dict:
    """The administrator's session cookie, logged in once for the module."""
    context = browser.new_context(base_url=server.url, locale="en-IN", timezone_id="Asia/Kolkata")
    try:
        LoginPage.open(context.new_page()).log_in_typing(ADMIN, PIN)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def open_page(browser, server, signed_in, console):
    """open_page(viewport, touch=False): a page of the logged-in administrator at that window size."""
    contexts = []

    def opener(viewport: dict, touch: bool = False) -> Page:
        context = browser.new_context(base_url=server.url, locale="en-IN", timezone_id="Asia/Kolkata",
                                      viewport=viewport, has_touch=touch, storage_state=signed_in)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        console.watch(page)
        return page

    yield opener
    for context in contexts:
        context.close()


# ----------------------------------------------------------------------------- what is on screen

@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_list_screen_shows_every_column_or_scrolls_to_it(_app, showroom, open_page, console, viewport):
    page = open_page(VIEWPORTS[viewport])
    problems, without_rows = [], []
    screens = _list_screens(_app)
    assert len(screens) > 30, screens
    for label, url in screens:
        response = page.goto(url)
        assert response is not None and response.ok, f"{label}: {url} answered {response and response.status}"
        found = tables_on_screen(page)
        if found["sideways"] > 0:
            problems.append(f"{label}: the page scrolls sideways by {found['sideways']} px")
        problems += [f"{label}: {box} scrolls with no hint" for box in found["silent"]]
        for table in found["tables"]:
            problems += [f"{label}: {table['table']}: {text!r} {why}" for text, why in table["unseen"]]
            if table["empty"]:
                without_rows.append(f"{label}: {table['table']}")
    assert not without_rows, "give these lists a row in _fill(), or the check proves nothing for them:\n" + \
        "\n".join(without_rows)
    assert not problems, "\n".join(problems)
    console.assert_clean()


# ----------------------------------------------------------------------------- the navigation


def test_on_a_laptop_the_navigation_is_one_row_of_section_menus(showroom, open_page, console):
    page = open_page(LAPTOP)
    page.goto("/billing/registers/sales")
    nav = Navigation(page)
    assert page.get_by_role("banner").bounding_box()["height"] < 80
    expect(nav.menu_button).to_be_hidden()
    summaries = nav.section_buttons
    expect(summaries).to_have_text([section.title for section in SECTIONS])
    for summary in summaries.all():
        expect(summary).to_be_visible()
        box = summary.bounding_box()
        assert box["height"] >= 44 and box["y"] + box["height"] <= 80, summary.text_content()
    # The page's own section is marked; its links wait in its drop-down.
    expect(nav.current_section).to_have_text("Billing")
    register = nav.link("Sales register")
    expect(register).to_be_hidden()
    nav.section_button("Billing").click()
    expect(register).to_be_visible()
    expect(register).to_have_attribute("aria-current", "page")
    # Another section's button opens its drop-down and closes the first; Escape closes it.
    nav.section_button("Stock").click()
    ageing = nav.link("Stock ageing")
    expect(ageing).to_be_visible()
    expect(register).to_be_hidden()
    assert ageing.bounding_box()["height"] >= 44
    page.keyboard.press("Escape")
    expect(ageing).to_be_hidden()
    expect(nav.section_button("Stock")).to_be_focused()
    # By keyboard: a section's button opens with Enter, and its link is followed.
    nav.section_button("Stock").focus()
    page.keyboard.press("Enter")
    nav.link("Payables").click()    # purchasing is a group of Stock
    expect(page).to_have_url(re.compile(r"/procurement/payables$"))
    expect(nav.current_section).to_have_text("Stock")
    # A window too narrow for the row of sections gets the one "Menu" button, never a second row.
    page.set_viewport_size({"width": 1150, "height": 768})
    expect(nav.menu_button).to_be_visible()
    assert page.get_by_role("banner").bounding_box()["height"] < 80
    console.assert_clean()


def _admin_links(app) -> dict[str, list[str]]:
    """{section title: the labels of its links an administrator sees} (the most of any role: every other role's
    menu is a part of it, so what fits for the administrator fits for everyone)."""
    with app.test_request_context():
        return {section.title: [link.label for link in section.links if role_may_use("ADMIN", link.endpoint)]
                for section in SECTIONS}


def _on_screen(locator, window: dict) -> str | None:
    box = locator.bounding_box()
    if box["height"] < 44:
        return f"{box['height']:.0f} px high"
    if box["x"] < 0 or box["x"] + box["width"] > window["width"] or box["y"] + box["height"] > window["height"]:
        return f"outside the {window['width']}x{window['height']} window at {box}"
    return None


def test_on_a_laptop_every_sections_drop_down_fits_the_window(_app, showroom, open_page, console):
    """Grouped sections (Sales: leads and bookings; Administration: the showroom and its reminders) open as
    columns, each link a touch-sized row inside the window."""
    page = open_page(LAPTOP)
    page.goto("/crm/funnel")
    nav = Navigation(page)
    expect(nav.current_section).to_have_text("Sales")
    problems = []
    for title, labels in _admin_links(_app).items():
        nav.section_button(title).click()
        for label in labels:
            link = nav.link(label)
            expect(link).to_be_visible()
            why = _on_screen(link, LAPTOP)
            if why:
                problems.append(f"{title} / {label}: {why}")
    assert problems == []
    nav.section_button("Sales").click()
    expect(nav.link("Funnel")).to_have_attribute("aria-current", "page")
    expect(nav.group("Sales", "Leads")).to_be_visible()
    expect(nav.group("Sales", "Leads").get_by_role("link")).to_have_count(5)
    console.assert_clean()


def test_on_a_tablet_one_tap_on_menu_shows_every_section_and_the_pages_links(_app, showroom, open_page, console):
    page = open_page(TABLET, touch=True)
    page.goto("/inventory/vehicles/ageing")
    nav = Navigation(page)
    assert page.get_by_role("banner").bounding_box()["height"] < 80  # brand, Menu and person in one row
    menu = nav.menu_button
    expect(menu).to_have_text(re.compile(r"^Menu\W+Stock$"))  # with the section of the page
    links = nav.links
    expect(links.first).to_be_hidden()
    assert menu.bounding_box()["height"] >= 44
    menu.tap()
    # Every section is a touch-sized button of the panel; the page's section is open, the others folded.
    for section in SECTIONS:
        button = nav.section_button(section.title)
        expect(button).to_be_visible()
        assert _on_screen(button, TABLET) is None, section.title
    expect(nav.link("Stock ageing")).to_have_attribute("aria-current", "page")
    expect(nav.link("Stock ageing")).to_be_visible()
    expect(nav.link("Receivables")).to_be_hidden()
    # Every section's links are one tap away, touch-sized and inside the window; one section open at a time,
    # so the panel fits the tablet however many modules the menu holds.
    problems = []
    for title, labels in _admin_links(_app).items():
        nav.section_button(title).tap()
        expect(links).to_have_count(len(labels))          # the other sections folded
        for label in labels:
            link = nav.link(label)
            expect(link).to_be_visible()
            why = _on_screen(link, TABLET)
            if why:
                problems.append(f"{title} / {label}: {why}")
        panel = nav.panel.bounding_box()
        if panel["y"] + panel["height"] >= TABLET["height"] - 50:
            problems.append(f"{title}: the panel reaches {panel['y'] + panel['height']:.0f} px")
    assert problems == []
    nav.section_button("Billing").tap()
    nav.link("Receivables").tap()
    expect(page).to_have_url(re.compile(r"/billing/registers/receivables$"))
    expect(links.first).to_be_hidden()
    # A tap on the page below the open panel closes it.
    menu.tap()
    expect(nav.link("Receivables")).to_be_visible()
    panel = nav.panel.bounding_box()
    assert panel["y"] + panel["height"] < TABLET["height"] - 50
    page.touchscreen.tap(TABLET["width"] / 2, TABLET["height"] - 20)
    expect(links.first).to_be_hidden()
    console.assert_clean()


# ----------------------------------------------------------------------------- registers and previews


def test_the_sales_register_fits_a_laptop_without_scrolling_sideways(showroom, open_page, console):
    page = open_page(LAPTOP)
    register = SalesRegisterPage.open(page)
    for column in ("Round off", "Total", "TCS"):
        expect(register.column(column)).to_be_in_viewport()
    expect(register.table).to_contain_text("27AAAC")  # the B2B invoice: its GSTIN and IGST, the widest row
    assert cells_out_of_view(register.cells) == []
    assert register.hidden_width() <= 1
    console.assert_clean()


def test_the_invoice_and_counter_sale_previews_show_their_totals_on_a_tablet(showroom, open_page, console):
    page = open_page(TABLET)
    invoice = InvoiceForm.open(page, showroom["allotted_booking_id"])
    expect(invoice.total_row(re.compile(r"^Invoice total ₹1,57,000\.00$"))).to_be_in_viewport(ratio=1)
    assert cells_out_of_view(table_cells(invoice.totals)) == []

    counter = CounterSalePage.open(page)
    counter.part_no(1).fill(showroom["part_no"])
    counter.quantity(1).fill("2")
    counter.preview_button.click()
    grand = counter.grand_total
    expect(grand).to_be_visible()
    grand.scroll_into_view_if_needed()
    expect(grand).to_be_in_viewport(ratio=1)
    assert cells_out_of_view(table_cells(counter.totals)) == []
    console.assert_clean()
