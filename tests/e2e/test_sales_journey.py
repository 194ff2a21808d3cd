"""Selling one scooter in a real browser, on a 768 px tablet, from the walk-in to the printed invoice:
the salesperson writes the lead, quotes the on-road price (PM E-DRIVE subsidy shown as a deduction),
books with an advance and allots the oldest scooter in stock; accounts posts the tax invoice and takes
the subsidy and the balance; the salesperson records the insurance policy, the RTO registration and
the PDI checklist and hands the scooter over; the manager finds the sale delivered on the pipeline and
prints the invoice, whose PDF is read back.
"""
from __future__ import annotations

import io
import re
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.billing import InvoicePage
from .pages.layout import no_sideways_scroll
from .pages.sales import LeadForm, PipelinePage, SalePage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
CUSTOMER = "Priya Raghavan"
MOBILE = "9845012345"


# ----------------------------------------------------------------------------- the journey


def _pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages))


def test_a_walk_in_is_quoted_booked_invoiced_paid_insured_registered_delivered_and_the_invoice_printed(
        new_page, console, engine, make_branch, make_staff):
    branch = make_branch(invoice_prefix="BLR", upi_id="voltmotors@okaxis", legal_name="Volt Motors Pvt Ltd")
    make_staff("SAL1", "SALES", "3816", name="Ravi Kumar", branch_id=branch)
    make_staff("ACC1", "ACCOUNTS", "4826", name="Anil Shetty", branch_id=branch)
    make_staff("MGR1", "MANAGER", "5937", name="Meena Iyer", branch_id=branch)
    # The catalog, the stock and the masters are other screens' work: set up in the database. A
    # 2.9 kWh scooter at ₹1,35,000 earns ₹5,000 a kWh of PM E-DRIVE subsidy, capped at ₹10,000.
    with engine.begin() as conn:
        variant = b.variant(conn, b.model(conn, b.oem(conn, brand="Ather Energy"), name="Rizta"), name="Z",
                            battery_kwh="2.90")
        b.colour(conn, variant, "Siachen White")
        b.price(conn, variant, "2024-04-01", ex_showroom="135000.00", subsidy_rule="PER_KWH",
                subsidy_per_kwh=Decimal("5000.00"), subsidy_cap=Decimal("10000.00"))
        oldest = b.new_vin()
        b.unit(conn, variant, "Siachen White", branch, vin=oldest, received_on="2025-09-10")
        b.unit(conn, variant, "Siachen White", branch, received_on="2025-10-15")
        customer = b.customer(conn, branch, name=CUSTOMER)
        conn.execute(sa.text("UPDATE master.customer SET mobile = :m WHERE customer_id = :c"),
                     {"m": MOBILE, "c": customer})
        conn.execute(sa.text("INSERT INTO master.financier (name) VALUES ('HDFC Bank')"))
        conn.execute(sa.text("INSERT INTO master.insurer (name) VALUES ('ICICI Lombard General Insurance')"))
    today = today_ist()
    fy = f"{(today.year if today.month >= 4 else today.year - 1) % 100:02d}"
    page = new_page(viewport=TABLET, has_touch=True)

    # The salesperson writes down the walk-in: CRM > Leads > New lead. Her mobile is known (a customer
    # already): the form says so as it is typed.
    LoginPage.open(page).log_in("SAL1", "3816").open_module("Leads")
    page.get_by_role("link", name="New lead").click()
    form = LeadForm(page)
    expect(form.heading).to_be_visible()
    form.fill(came_by="Walk-in", name=CUSTOMER, mobile=MOBILE, model="Ather Energy Rizta")
    expect(form.duplicates).to_contain_text("This mobile number is known")
    expect(form.duplicates).to_contain_text(CUSTOMER)
    enquiry = form.save()
    expect(enquiry.flash).to_contain_text(f"Lead of {CUSTOMER} saved")
    expect(enquiry.heading).to_contain_text(f"Lead of {CUSTOMER}")

    # The on-road price: ₹1,35,000 + insurance 6,500 + RTO 1,200 + HSRP 800 + accessories 2,500.
    quote = enquiry.quote_a_price().choose("Ather Energy Rizta Z · Siachen White · ₹1,35,000.00")
    expect(quote.breakdown.row("Ex-showroom price")).to_contain_text("₹1,35,000.00")
    quote.charge("Insurance premium", "6500").charge("Registration fee and road tax", "1200")
    quote.charge("High security registration plate", "800").charge("Accessories kit", "2500")
    expect(quote.breakdown.row("On-road price")).to_contain_text("₹1,46,000.00")
    expect(quote.breakdown.row("PM E-DRIVE subsidy")).to_contain_text("-₹10,000.00")
    expect(quote.breakdown.row("The customer pays")).to_contain_text("₹1,36,000.00")
    quotation = quote.save()
    expect(quotation.flash).to_contain_text("on-road ₹1,46,000.00, the customer pays ₹1,36,000.00")
    expect(quotation.heading).to_contain_text(f"Quotation BLRQT/{fy}/1")
    expect(quotation.breakdown.row("Accessories kit")).to_contain_text("taxable")
    expect(quotation.breakdown.row("High security registration plate")).to_contain_text("collected for others")

    # She books at the quoted price with ₹10,000 by UPI: the advance is a receipt voucher.
    booking = quotation.book()
    expect(booking.customers).to_contain_text(CUSTOMER)  # found by the lead's mobile number
    sale = booking.choose_customer(CUSTOMER).take_advance("10000", "UPI", "412345678901").book()
    expect(sale.flash).to_contain_text(f"Booking BLRBKG/{fy}/1 made for {CUSTOMER}. Advance of ₹10,000.00 received.")
    expect(sale.heading).to_contain_text(f"Booking BLRBKG/{fy}/1")
    expect(sale.stage).to_have_text("Booked")
    advance = sale.receipts.get_by_role("row").filter(has_text="Advance")
    expect(advance).to_contain_text(f"BLRRCT/{fy}/1")
    expect(advance).to_contain_text("₹10,000.00")
    # 1,46,000 less the advance: 1,36,000, of which the OEM pays the 10,000 subsidy and she 1,26,000.
    expect(sale.to_pay).to_have_text("₹1,26,000.00")
    expect(sale.money).to_contain_text("the PM E-DRIVE subsidy ₹10,000.00 (OEM)")
    assert no_sideways_scroll(page) <= 0, "the sale page scrolls sideways on a tablet"

    # The oldest scooter in stock is suggested; she allots it.
    allot = sale.allot()
    expect(allot.units).to_have_count(2)
    expect(allot.unit(oldest)).to_be_checked()
    sale = allot.allot()
    expect(sale.flash).to_contain_text(f"Unit {oldest} allotted to booking BLRBKG/{fy}/1.")
    expect(sale.stage).to_have_text("Unit allotted")

    # Accounts posts the tax invoice and takes the subsidy (against the e-voucher) and the balance.
    sale.switch_user().log_in("ACC1", "4826").open_module("Pipeline")
    sale = PipelinePage(page).open_sale("Unit allotted", f"BLRBKG/{fy}/1")
    invoice_form = sale.post_invoice()
    expect(invoice_form.lines).to_contain_text("Rizta")
    invoice = invoice_form.post()
    expect(invoice.flash).to_contain_text(f"Tax invoice BLRINV/{fy}/1 posted")
    expect(invoice.heading).to_contain_text(f"Tax invoice BLRINV/{fy}/1")
    sale = invoice.back_to_sale()
    expect(sale.stage).to_have_text("Invoiced, awaiting delivery")

    subsidy = sale.payment_form(sale.money.get_by_role("link", name="Credit the PM E-DRIVE subsidy (₹10,000.00)"))
    expect(subsidy.get_by_label("Mode")).to_have_value("SUBSIDY")
    subsidy.get_by_label("Reference").fill("EV2611240001")
    receipt = sale.post_receipt(subsidy)
    expect(receipt.flash).to_contain_text(f"Receipt BLRRCT/{fy}/2: ₹10,000.00 received (PM E-DRIVE subsidy)")
    sale = receipt.back_to_sale()
    balance = sale.payment_form(sale.money.get_by_role("link", name="Take a payment"))
    expect(balance.get_by_label("Amount received")).to_have_value(re.compile(r"^1,?26,?000(\.00)?$"))
    balance.get_by_label("Mode").select_option(label="UPI")
    balance.get_by_label("Reference").fill("412345678999")
    receipt = sale.post_receipt(balance)
    expect(receipt.flash).to_contain_text(f"Receipt BLRRCT/{fy}/3: ₹1,26,000.00 received (UPI)")
    sale = receipt.back_to_sale()
    expect(sale.to_pay).to_have_text("₹0.00")
    expect(sale.money).to_contain_text("Fully paid")

    # The salesperson records the policy, the RTO papers and the PDI, then hands the scooter over.
    sale.switch_user().log_in("SAL1", "3816").open_module("Pipeline")
    sale = PipelinePage(page).open_sale("Invoiced, awaiting delivery", f"BLRBKG/{fy}/1")
    policy = sale.record_policy()
    expect(policy.own_damage.get_by_label("Own damage from")).to_have_value(f"{today:%d-%m-%Y}")
    sale = policy.fill(insurer="ICICI Lombard General Insurance", premium="6500", idv="128250",
                       od_no="OD/3005/112233", tp_no="TP/3005/445566", nominee="Suresh Raghavan",
                       relation="Spouse").record()
    expect(sale.flash).to_contain_text("Policy recorded.")
    expect(sale.insurance).to_contain_text("OD/3005/112233")

    sale.open_step("Update registration", "RTO registration")
    page.get_by_label("Form 20 (application) on").fill(f"{today:%d-%m-%Y}")
    page.get_by_label("Form 21 (sale certificate) on").fill(f"{today:%d-%m-%Y}")
    page.get_by_label("Temporary registration no.").fill("KA01TR2026001")
    sale = sale.save_step()
    expect(sale.flash).to_contain_text("Registration details saved.")
    expect(sale.steps).to_contain_text("temporary KA01TR2026001")
    expect(sale.steps).to_contain_text(f"Form 20 {today:%d-%m-%Y}")

    pdi = sale.pdi()
    checks = pdi.checks
    expect(checks).to_have_count(8)
    # Both answers are within reach of a finger on a tablet, nothing drawn over them.
    first = checks.first
    for answer in ("OK", "Fault"):
        pdi.answer(first, answer).click(trial=True, timeout=2_000)
        box = pdi.answer_button(first, answer).bounding_box()
        assert box and box["height"] >= 44, f"the {answer} button is too small to tap: {box}"
    for n in range(8):
        pdi.answer(checks.nth(n), "OK").check()
    sale.submit(pdi.save_button)
    sale = SalePage(page)
    expect(sale.flash).to_contain_text("PDI saved: 8 of 8 items checked.")

    sale.open_step("Hand over", "Hand over the vehicle")
    expect(page.get_by_label("Received by (name)")).to_have_value(CUSTOMER)
    page.get_by_label("Odometer at handover (km)").fill("3")
    sale.submit(page.get_by_role("main").get_by_role("button", name="Hand over"))
    sale = SalePage(page)
    expect(sale.flash).to_contain_text(f"Vehicle handed over to {CUSTOMER}.")
    expect(sale.stage).to_have_text("Delivered")
    # Only the permanent number is still to come from the RTO.
    still_pending = sale.pending.get_by_role("listitem").filter(has_text="Pending")
    expect(still_pending).to_have_count(1)
    expect(still_pending).to_contain_text("Registration")
    assert no_sideways_scroll(page) <= 0, "the sale page scrolls sideways on a tablet"

    # The manager finds it on Sales > Pipeline, in the Delivered column, and prints the invoice.
    sale.switch_user().log_in("MGR1", "5937").open_module("Pipeline")
    pipeline = PipelinePage(page)
    expect(pipeline.heading).to_be_visible()
    card = pipeline.card("Delivered", f"BLRBKG/{fy}/1")
    expect(card).to_contain_text(CUSTOMER)
    expect(card).to_contain_text("Paid")
    expect(pipeline.column("Booked").get_by_role("link")).to_have_count(0)
    card.click()
    sale = SalePage(page)
    expect(sale.stage).to_have_text("Delivered")
    sale.money.get_by_role("link", name=f"BLRINV/{fy}/1").click()
    invoice = InvoicePage(page)
    expect(invoice.heading).to_be_visible()
    assert no_sideways_scroll(page) <= 0, "the invoice page scrolls sideways on a tablet"
    expect(invoice.print_link).to_have_attribute("target", "_blank")
    with page.expect_popup() as popup_info:
        invoice.print_link.click()
    popup = popup_info.value
    pdf_url = invoice.print_link.get_attribute("href")
    assert pdf_url and pdf_url.endswith("/pdf"), pdf_url
    popup.wait_for_url(f"**{pdf_url}", wait_until="commit")  # the PDF opens in its own tab
    response = page.context.request.get(pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = _pdf_text(response.body())
    assert f"BLRINV/{fy}/1" in text
    assert "ORIGINAL FOR RECIPIENT" in text
    assert CUSTOMER in text
    # The vehicle and the accessories kit, GST-inclusive; insurance, RTO and HSRP are collected for others.
    assert "Invoice total ₹1,37,500.00" in text
    console.assert_clean()
