"""The accountant on a 768 px tablet: names the Tally company, sees the month's vouchers counted by
type, downloads the vouchers and the masters (each parsed back: balanced, every ledger in the
masters), then opens OEM receivables and, from a figure, the claims behind it. Every screen is then
photographed at 768x1024 and 1366x768 (into $FINANCE_SCREENSHOTS when set, else the test's temporary
folder) and must not scroll sideways."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import builders as b
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from test_finance_oem_receivables import seed_subsidy, seed_workshop
from test_finance_tally import seed_books

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.finance import OemReceivablesPage, TallyExportPage
from .pages.layout import screens_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_the_accountant_exports_the_month_to_tally_and_follows_the_oem_money(
        new_page, console, engine, make_staff, tmp_path):
    month = today_ist().replace(day=1)
    with engine.begin() as conn:
        sub = seed_subsidy(conn)
        branch_id = sub["sale"].branch_id
        shop = seed_workshop(conn, branch_id)
        seed_books(conn, branch_id, b.branch(conn), on=month)
        # seed_books' eight vouchers, and those the seeded sale and job cards posted themselves
        counts = dict(conn.execute(sa.text(
            """SELECT voucher_type, count(*) FROM finance.voucher
                WHERE branch_id = :b AND voucher_date BETWEEN :f AND :t GROUP BY 1"""),
            {"b": branch_id, "f": month, "t": month + timedelta(days=10)}).all())
    assert sum(counts.values()) >= 8
    make_staff("AC01", "ACCOUNTS", "482913", name="Farah Begum", branch_id=branch_id)
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("AC01", "482913")

    period = {"from": month.strftime("%d-%m-%Y"), "to": (month + timedelta(days=10)).strftime("%d-%m-%Y")}
    tally = TallyExportPage.open(page, **period)
    expect(tally.heading).to_be_visible()
    expect(tally.company).to_contain_text("Pvt Ltd")
    tally = tally.set_company("Volt & Sons Motors 2026-27")
    expect(tally.flash).to_contain_text("Volt & Sons Motors 2026-27")
    expect(tally.company).to_have_text("Volt & Sons Motors 2026-27")
    expect(tally.count("SALES")).to_contain_text(str(counts["SALES"]))
    expect(tally.total).to_have_text(str(sum(counts.values())))
    vouchers = ET.fromstring(tally.download(tally.vouchers))
    masters = ET.fromstring(tally.download(tally.masters))
    assert vouchers.findtext(".//SVCURRENTCOMPANY") == "Volt & Sons Motors 2026-27"
    found = vouchers.findall(".//VOUCHER")
    assert len(found) == sum(counts.values())
    for v in found:
        assert sum(Decimal(a.text) for a in v.iter("AMOUNT")) == 0
    ledgers = {led.get("NAME") for led in masters.iter("LEDGER")}
    assert {e.text for e in vouchers.iter("LEDGERNAME")} <= ledgers

    receivables = OemReceivablesPage.open(page)
    expect(receivables.heading).to_be_visible()
    row = receivables.row(sub["sale"].catalog.oem_id, "SUBSIDY")
    expect(row).to_contain_text("₹15,000.00")
    row.get_by_role("link", name="₹5,000.00 1").last.click()          # pending 90+ days
    expect(page.get_by_role("heading")).to_contain_text("90+ days")
    expect(page.get_by_role("main")).to_contain_text("Claimed PMED-2")
    console.assert_clean()

    shots = Path(os.environ.get("FINANCE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    screens = {"tally-export": f"/finance/tally?from={period['from']}&to={period['to']}", "oem-receivables": "/finance/oem-receivables",
               "oem-receivable-items": f"/finance/oem-receivables/items?source=WARRANTY&oem={shop['oem_id']}&stage=pending",
               "oem-free-services": f"/finance/oem-receivables/items?source=FREE_SERVICE&oem={shop['oem_id']}&stage=unclaimed"}
    assert screens_too_wide(page, screens, shots, "h29") == []
    console.assert_clean()
