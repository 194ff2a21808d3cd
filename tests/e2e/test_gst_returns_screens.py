"""The GST return screens on a 768 px tablet and a 1366 px laptop, as the accountant uses them: GSTR-1
for June 2026 with its sections and the download a finger can hit, GSTR-3B, and the reconciliation
listing the documents without a voucher; the page itself never scrolls sideways (wide tables scroll in
their own box). Screenshots go to $ERP_SCREENSHOTS (else the test's temporary folder)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_gst_returns import _books_cleared, _build

from .pages.auth import LoginPage
from .pages.finance_returns import GstReturnPage
from .pages.layout import no_sideways_scroll

pytestmark = pytest.mark.browser

VIEWPORTS = {"768x1024": {"width": 768, "height": 1024}, "1366x768": {"width": 1366, "height": 768}}
PIN = "582047"


@pytest.fixture
def june(engine, make_staff):
    with engine.begin() as conn:
        m = _build(conn)
        _books_cleared(conn, m)
    make_staff("GSTACC", "ACCOUNTS", PIN, branch_id=m.branch)
    return m


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_returns_read_on_a_tablet_and_a_laptop(june, new_page, console, size, tmp_path):
    page = new_page(viewport=VIEWPORTS[size])
    LoginPage.open(page).log_in_typing("GSTACC", PIN)
    out = Path(os.environ.get("ERP_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    gstr1 = GstReturnPage.open(page, "GSTR-1", june.gstin, "062026")
    expect(gstr1.heading).to_be_visible()
    expect(gstr1.section("5 B2C large (inter-state)")).to_be_visible()
    expect(gstr1.main.get_by_text(june.numbers["b2cl"]).first).to_be_visible()
    box = gstr1.download_json.bounding_box()
    assert box is not None and box["height"] >= 40, box          # touch-sized
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(out / f"gstr1-{size}.png"), full_page=True)

    gstr3b = GstReturnPage.open(page, "GSTR-3B", june.gstin, "062026")
    expect(gstr3b.main.get_by_role("heading", name="3.2 Inter-state supplies to unregistered persons")).to_be_visible()
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(out / f"gstr3b-{size}.png"), full_page=True)

    reconcile = GstReturnPage.open(page, "GST reconciliation", june.gstin, "062026")
    expect(reconcile.main.get_by_text("no voucher in the books").first).to_be_visible()
    assert no_sideways_scroll(page) <= 0
    page.screenshot(path=str(out / f"reconcile-{size}.png"), full_page=True)
    console.assert_clean()
