"""A service invoice as the service advisor sees it on a 768 px tablet and a 1366 px laptop: the groups
of lines (paid by the customer, warranty, free service) and the invoice's totals are on screen or in
the lines' own scrolling box, the page never scrolls sideways, and "Take a payment" is a button a
gloved finger can hit. Screenshots of both go to $ERP_SCREENSHOTS (else the test's temporary folder).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import builders as b
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.billing import api
from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.billing import ServiceInvoicePage
from .pages.layout import cells_out_of_view, no_sideways_scroll, table_cells

pytestmark = pytest.mark.browser

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "laptop": {"width": 1366, "height": 768}}


@pytest.fixture
def service_invoice(engine, make_branch, make_staff) -> int:
    branch_id = make_branch(upi_id="voltmotors@okaxis", invoice_prefix="BLR")
    make_staff("SA1", "SERVICE_ADVISOR", branch_id=branch_id)
    with engine.begin() as conn:
        customer_id = b.customer(conn, branch_id, name="Asha Rao")
        conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                VALUES ('PS-2', 'Periodic service 2', 1.5, 1000),
                                       ('BAT-DIAG', 'Battery pack diagnosis', 1, 650)"""))
        b.part(conn, part_no="BRK-SHOE-01", purchase_price="100.00")
        b.part(conn, part_no="CTRL-UNIT-7", purchase_price="4200.00")
        return api.post_service_invoice(
            conn, branch_id=branch_id, customer_id=customer_id, invoice_date=today_ist(),
            idempotency_key=str(uuid.uuid4()), vehicle="KA01AB1234 · VIN MD2A00000000000001 · 3,140 km",
            reference="BLRJC/26/41", lines=[
                {"kind": "LABOUR", "code": "PS-2", "qty": "1", "unit_price": "1000.00", "price_includes_gst": False},
                {"kind": "PART", "code": "BRK-SHOE-01", "qty": "2"},
                {"kind": "PART", "code": "CTRL-UNIT-7", "qty": "1", "coverage": "WARRANTY"},
                {"kind": "LABOUR", "code": "BAT-DIAG", "qty": "1", "coverage": "WARRANTY"},
                {"kind": "LABOUR", "code": "PS-2", "description": "Free service 2 labour", "qty": "1",
                 "unit_price": "450.00", "coverage": "FREE_SERVICE"}])


@pytest.mark.parametrize("screen", sorted(VIEWPORTS))
def test_the_service_invoice_reads_in_groups_on_a_tablet_and_a_laptop(service_invoice, new_page, console, screen,
                                                                      tmp_path):
    page = new_page(viewport=VIEWPORTS[screen])
    LoginPage.open(page).log_in_typing("SA1", "2580")
    invoice = ServiceInvoicePage.open(page, service_invoice)
    expect(invoice.heading).to_be_visible()
    expect(invoice.heading).to_contain_text("Service invoice BLRSI/")
    for title in ("Paid by the customer", "Under warranty: no charge to the customer",
                  "Free service: no charge to the customer"):
        expect(invoice.group(title)).to_be_visible()
    invoice.totals.scroll_into_view_if_needed()
    expect(invoice.total("Invoice total")).to_be_in_viewport()
    assert cells_out_of_view(table_cells(invoice.totals)) == []
    assert no_sideways_scroll(page) <= 0
    box = invoice.take_payment.bounding_box()
    assert box is not None and box["height"] >= 40, box   # touch-sized
    out = Path(os.environ.get("ERP_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"service-invoice-{screen}.png"), full_page=True)
    console.assert_clean()
