"""A salesperson's morning on a tablet: the follow-up due today is on the dashboard, one tap records
the call; the lead's page takes a demo scooter out on a test ride (an expired licence is refused next to
its expiry date) and back; the manager reads the funnel with its chart on a laptop."""
from __future__ import annotations

from datetime import timedelta

import builders as b
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.crm import Dashboard, FunnelPage
from .pages.layout import no_sideways_scroll

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}


def test_a_follow_up_is_called_in_one_tap_and_the_lead_takes_a_test_ride(new_page, console, engine, make_branch,
                                                                          make_staff):
    branch = make_branch()
    seller, _, _ = make_staff("SAL1", "SALES", "3816", name="Ravi Kumar", branch_id=branch)
    make_staff("MGR1", "MANAGER", "5937", name="Meena Iyer", branch_id=branch)
    today = today_ist()
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn, ("Siachen White",))
        unit = b.unit(conn, cat.variant_id, "Siachen White", branch, vin="MD2ATHERDEM000001")
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": unit})
        conn.execute(sa.text("""
            INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, model_id, salesperson_id, status,
                                  next_action, follow_up_on)
            SELECT :b, :d, 'WEBSITE', 'Priya Raghavan', '9845012345', model_id, :s, 'NEW', 'First call', :d
              FROM oem.variant WHERE variant_id = :v"""), {"b": branch, "d": today, "s": seller, "v": cat.variant_id})
        names = conn.execute(sa.text("SELECT m.name, v.name FROM oem.variant v JOIN oem.model m USING (model_id) "
                                     "WHERE v.variant_id = :v"), {"v": cat.variant_id}).one()
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SAL1", "3816")
    home = Dashboard(page)
    expect(home.follow_ups).to_contain_text("1 today · 0 overdue")
    expect(home.follow_ups).to_contain_text("Priya Raghavan")
    no_sideways_scroll(page)

    # She calls and taps what happened: the lead is contacted, the next call set for three days on.
    home = home.tap_outcome("Priya Raghavan", "Spoke to them")
    expect(home.flash).to_contain_text(f"Priya Raghavan: spoke to them. Next follow-up "
                                       f"{today + timedelta(days=3):%d-%m-%Y}.")
    expect(home.follow_ups).to_contain_text("0 today · 0 overdue")

    lead = home.open_lead_from_list("Priya Raghavan")
    expect(lead.status).to_have_text("Contacted")
    vehicle = f"{names[0]} {names[1]} · Siachen White · 000001"   # the demo scooter, by its VIN's end
    refused = lead.take_out(vehicle, "KA05 20190012345", f"{today - timedelta(days=1):%d-%m-%Y}", "120")
    expect(refused.error_of("Licence valid until")).to_have_text("The licence has expired: no test ride on it")
    out = refused.take_out(vehicle, "KA05 20190012345", f"{today + timedelta(days=400):%d-%m-%Y}", "120")
    expect(out.flash).to_contain_text("is out on the")
    expect(out.status).to_have_text("Test ride")
    back = out.bring_back("131", "Liked the pick-up")
    expect(back.flash).to_contain_text("Test ride of Priya Raghavan back: 11 km.")
    expect(back.rides).to_contain_text("Liked the pick-up")
    no_sideways_scroll(page)

    manager = new_page(viewport=LAPTOP)
    LoginPage.open(manager).log_in("MGR1", "5937")
    funnel = FunnelPage.open(manager)
    expect(funnel.heading).to_be_visible()
    expect(funnel.chart).to_be_visible()
    expect(funnel.totals.get_by_role("row").filter(has_text="Test rides")).to_contain_text("1 (100 %)")
    console.assert_clean()
