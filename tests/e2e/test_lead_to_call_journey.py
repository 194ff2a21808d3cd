"""Issue 13's journey on a 768 px tablet: a lead taken by phone (the form says so when a known mobile is
typed), a test ride out and back, a follow-up set, the booking form filled from the lead and the booking
saved (the lead is then booked); then the administrator runs the reminders from the screen, prints the
call list (its PDF read as text) and records a call's outcome."""
from __future__ import annotations

from datetime import timedelta

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.communication import CallListPage
from .pages.crm import LeadPage
from .pages.layout import LoggedIn, no_sideways_scroll
from .pages.sales import LeadForm

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
KNOWN = "9845066666"      # a customer the showroom already has
MOBILE = "9845012345"     # the caller's own


def test_a_phone_lead_rides_is_followed_up_and_booked_then_the_reminder_calls_are_printed_and_made(
        new_page, console, engine, make_branch, make_staff):
    branch = make_branch()
    make_staff("SAL1", "SALES", "3816", name="Ravi Kumar", branch_id=branch)
    make_staff("ADM1", "ADMIN", "482913", name="Asha Rao", branch_id=branch)
    today = today_ist()
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn, ("Siachen White",))
        b.price(conn, cat.variant_id, str(today - timedelta(days=30)), ex_showroom="125000.00")
        demo = b.unit(conn, cat.variant_id, "Siachen White", branch, vin="MD2ATHERDEM000001")
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": demo})
        b.unit(conn, cat.variant_id, "Siachen White", branch)
        known = b.customer(conn, branch, name="Sunil Hegde")
        conn.execute(sa.text("UPDATE master.customer SET mobile = :m WHERE customer_id = :c"), {"m": KNOWN, "c": known})
        # A workshop customer whose service falls due in two days: the reminder run makes a call of it.
        cb.rule(conn, "SERVICE_DUE", 3, "CALL", code="SERVICE_CALL")
        _, serviced = cb.vehicle(conn, branch, due_on=today + timedelta(days=2), due_km=5000)
        conn.execute(sa.text("UPDATE master.customer SET name = 'Meera Krishnan' WHERE customer_id = :c"),
                     {"c": serviced})
        brand, model, variant = conn.execute(sa.text("""
            SELECT o.brand, m.name, v.name FROM oem.variant v JOIN oem.model m USING (model_id)
              JOIN oem.oem o ON o.oem_id = m.oem_id WHERE v.variant_id = :v"""), {"v": cat.variant_id}).one()

    page = new_page(viewport=TABLET, has_touch=True)
    # The salesperson takes the call: CRM > Leads > New lead. The number first given is a known one.
    LoginPage.open(page).log_in("SAL1", "3816").open_module("Leads")
    page.get_by_role("link", name="New lead").click()
    form = LeadForm(page)
    form.fill(came_by="Phone", name="Priya Raghavan", mobile=KNOWN, model=f"{brand} {model}")
    expect(form.duplicates).to_contain_text("This mobile number is known")
    expect(form.duplicates).to_contain_text("Sunil Hegde")
    form.main.get_by_label("Mobile").fill(MOBILE)                  # her brother's phone: her own, then
    expect(form.duplicates).not_to_contain_text("This mobile number is known")
    form.main.get_by_label("Needs finance").check()
    form.save()
    lead = LeadPage(page)
    expect(lead.flash).to_contain_text("Lead of Priya Raghavan saved")
    expect(lead.status).to_have_text("Contacted")
    assert no_sideways_scroll(page) <= 0

    # A test ride on the demo scooter, out and back.
    vehicle = f"{model} {variant} · Siachen White · 000001"
    out = lead.take_out(vehicle, "KA05 20190012345", f"{today + timedelta(days=400):%d-%m-%Y}", "120")
    expect(out.status).to_have_text("Test ride")
    back = out.bring_back("127", "Smooth; wants the EMI options")
    expect(back.flash).to_contain_text("Test ride of Priya Raghavan back: 7 km.")

    # The follow-up: call with the EMI options the day after tomorrow.
    when = today + timedelta(days=2)
    followed = back.set_next_action("Call with the EMI options", f"{when:%d-%m-%Y}")
    expect(followed.main).to_contain_text(f"Call with the EMI options on {when:%d-%m-%Y}")

    # She comes back to book: her customer record is made from the lead; the booking form starts from it.
    booking = followed.make_customer().book_without_quotation()
    expect(booking.heading).to_contain_text("for the lead of Priya Raghavan")
    expect(booking.customer("Priya Raghavan")).to_be_checked()
    expect(booking.main.get_by_label("Finance needed (loan / hypothecation)")).to_be_checked()
    assert no_sideways_scroll(page) <= 0
    sale = booking.choose(f"{brand} {model} {variant} · Siachen White · ₹1,25,000.00").book()
    expect(sale.flash).to_contain_text("made for Priya Raghavan")
    expect(sale.stage).to_have_text("Booked")
    with engine.connect() as conn:
        status, booked = conn.execute(sa.text("""
            SELECT l.status, b.booking_no FROM crm.lead l JOIN sales.booking b ON b.lead_id = l.lead_id
             WHERE l.mobile = :m"""), {"m": MOBILE}).one()
    assert status == "BOOKED" and booked

    # The administrator runs the reminders from the screen, prints the call list and makes the call.
    admin = LoggedIn(page).switch_user().log_in("ADM1", "482913")
    admin.open_module("Outbox")
    with page.expect_navigation():
        page.get_by_role("button", name="Run reminders now").click()
    expect(page.get_by_role("status")).to_contain_text("Reminders made: 1")
    admin.open_module("Call list")
    calls = CallListPage(page)
    expect(calls.row("Meera Krishnan")).to_be_visible()
    printed = calls.printed_text()
    assert "CALL LIST" in printed and "Meera Krishnan" in printed, printed
    calls = calls.record_outcome("Meera Krishnan", "No answer", "Switched off")
    expect(calls.flash).to_contain_text("Meera Krishnan: No answer.")
    expect(calls.main).to_contain_text("No call to make today.")
    assert no_sideways_scroll(page) <= 0
    console.assert_clean()
