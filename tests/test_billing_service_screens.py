"""The workshop's bill on screen and on paper: a service invoice posted through billing.api (as the job
card will post it) shows its customer-paid, warranty and free-service lines in separate groups with their
totals, SAC/HSN per line and the amount in words, page and PDF alike; the service advisor takes the
payment (UPI with the QR of what is owed, card, cash) until it is paid in full; accounts correct it with
a credit note; a job card all under warranty prints as a no-charge job sheet for the customer to sign;
the sales register and the receivables list the service invoice (not the job sheet).
"""
from __future__ import annotations

import html
import io
import re
import uuid
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login

from webapp.billing import api
from webapp.formatting import today_ist
from webapp.money import amount_in_words

TODAY = today_ist()
M = Decimal


class Shop(dict):
    __getattr__ = dict.__getitem__


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(response))))


def pdf_text(response) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)


def squeezed(value: str) -> str:
    return re.sub(r"\s+", "", value)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert match, f"no hidden {name}"
    return match.group(1)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture
def shop(app, engine, client, make_branch, make_staff):
    """A Karnataka workshop taking UPI, with a labour operation, a part in stock and a customer; its
    service advisor logged in."""
    branch_id = make_branch(upi_id="voltmotors@okaxis", invoice_prefix="BLR")
    with engine.begin() as conn:
        customer_id = b.customer(conn, branch_id, name="Asha Rao")
        conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                VALUES ('PS-2', 'Periodic service 2', 1.5, 1000)"""))
        part_id = b.part(conn, part_no="BRK-SHOE-01", purchase_price="100.00")    # MRP ₹200, HSN 8714
        b.receive(conn, branch_id, part_id, 10, "100.00")
    make_staff("SA1", "SERVICE_ADVISOR", branch_id=branch_id)
    make_staff("ACC1", "ACCOUNTS", branch_id=branch_id)
    make_staff("TEC1", "TECHNICIAN", branch_id=branch_id)
    assert login(client, "SA1", "2580").status_code == 303
    return Shop(client=client, branch=branch_id, customer=customer_id, part=part_id)


def bill(engine, shop, lines, **kw) -> int:
    with engine.begin() as conn:
        return api.post_service_invoice(conn, branch_id=shop.branch, customer_id=shop.customer, invoice_date=TODAY,
                                        lines=lines, idempotency_key=str(uuid.uuid4()),
                                        vehicle="KA01AB1234 · VIN MD2A00000000000001 · 3,140 km",
                                        reference="BLRJC/26/41", **kw)


MIXED = [
    {"kind": "LABOUR", "code": "PS-2", "qty": "1", "unit_price": "1000.00", "price_includes_gst": False},
    {"kind": "PART", "code": "BRK-SHOE-01", "qty": "2", "coverage": "WARRANTY"},
    {"kind": "LABOUR", "code": "PS-2", "description": "Free service 1 labour", "qty": "1", "unit_price": "450.00",
     "price_includes_gst": False, "coverage": "FREE_SERVICE"},
    {"kind": "PART", "code": "BRK-SHOE-01", "qty": "1"},
]   # the customer pays 1,180 + 200 = 1,380; warranty parts worth 338.98, free labour 450


def other_client(app, code: str):
    client = app.test_client()
    assert login(client, code, "2580").status_code == 303
    return client


def test_the_service_invoice_page_groups_the_lines_by_who_pays_with_their_totals(engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    page = shop.client.get(f"/billing/invoices/{invoice_id}")
    assert page.status_code == 200
    words = plain(page)
    assert "Service invoice BLRSI/" in words and "Job card: BLRJC/26/41" in words and "KA01AB1234" in words
    groups = [words.index(t) for t in ("Paid by the customer", "Under warranty: no charge", "Free service: no charge")]
    assert groups == sorted(groups)
    assert "Paid by the customer: ₹1,380.00 (taxable value ₹1,169.49 + GST ₹210.51)" in words
    assert "claimed from the manufacturer. To pay: ₹0.00" in words
    assert "Warranty: work worth ₹338.98 before GST" in words and "Free service: work worth ₹450.00" in words
    assert "value ₹338.98" in words and "value ₹450.00" in words
    assert "998714" in words and "8714" in words
    assert "Invoice total ₹1,380.00" in words
    assert amount_in_words(M("1380.00")) in words
    assert "To pay by the customer: ₹1,380.00" in words and "Take a payment" in words
    assert "upi://pay?pa=voltmotors@okaxis" in text(page) and "am=1380.00" in text(page)


def test_the_printed_service_invoice_carries_the_groups_sac_hsn_and_amount_in_words(engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    no = scalar(engine, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
    response = shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    words = squeezed(pdf_text(response))
    for expected in ("TAXINVOICE", squeezed(f"Invoice No. {no}"), "Serviceinvoice:workshoplabourandparts",
                     "Jobcard:BLRJC/26/41", "Paidbythecustomer", "Underwarranty", "Freeservice", "998714", "8714",
                     "₹338.98", "₹450.00", "₹1,380.00", squeezed(amount_in_words(M("1380.00"))),
                     "ORIGINALFORRECIPIENT"):
        assert expected in words, expected
    assert "JOBSHEET" not in words
    assert scalar(engine, "SELECT count(*) FROM platform.printed_document WHERE document_id = :i",
                  i=invoice_id) == 1   # kept like every posted document


def test_a_job_card_all_under_warranty_prints_a_no_charge_job_sheet_to_sign(engine, shop):
    sheet_id = bill(engine, shop, [MIXED[1], MIXED[2]])
    page = plain(shop.client.get(f"/billing/invoices/{sheet_id}"))
    assert "Job sheet BLRJS/" in page and "No charge to the customer" in page
    assert "Take a payment" not in page and "Credit note" not in page
    response = shop.client.get(f"/billing/invoices/{sheet_id}/pdf")
    words = squeezed(pdf_text(response))
    assert "JOBSHEET" in words and "TAXINVOICE" not in words and "NOCHARGE" in words
    assert "CUSTOMERCOPY" in words and "WORKSHOPCOPY" in words and "ORIGINALFORRECIPIENT" not in words
    assert "Customer'ssignature" in words and "Topay(nocharge)₹0.00" in words
    assert "ZeroRupeesOnly" in words and "₹338.98" in words and "₹450.00" in words
    assert "job-sheet-BLRJS-26-1.pdf" in response.headers["Content-Disposition"]
    receipt = shop.client.get(f"/billing/invoices/{sheet_id}/receipt")
    assert receipt.status_code == 404


def test_the_service_advisor_takes_upi_then_card_until_it_is_paid_in_full(engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    url = f"/billing/invoices/{invoice_id}/receipt"
    page = shop.client.get(url)
    assert "service invoice" in plain(page) and "scan to pay ₹1,380.00" in plain(page)
    form = {"csrf_token": hidden(text(page), "csrf_token"), "key": hidden(text(page), "key"),
            "received_from": "Asha Rao"}
    no_utr = shop.client.post(url, data={**form, "mode": "UPI", "amount": "1000.00"})
    assert no_utr.status_code == 422
    paid = shop.client.post(url, data={**form, "mode": "UPI", "amount": "1000.00", "reference": "UTR55443322"})
    assert paid.status_code == 303, plain(paid)
    assert not scalar(engine, "SELECT billing.invoice_paid_in_full(:i)", i=invoice_id)
    page = shop.client.get(url)
    form = {"csrf_token": hidden(text(page), "csrf_token"), "key": hidden(text(page), "key"),
            "received_from": "Asha Rao"}
    too_much = shop.client.post(url, data={**form, "mode": "CARD", "amount": "381.00", "reference": "CARD-9911"})
    assert too_much.status_code == 422 and "More than the ₹380.00 this sale still owes" in plain(too_much)
    paid = shop.client.post(url, data={**form, "mode": "CARD", "amount": "380.00", "reference": "CARD-9911"})
    assert paid.status_code == 303
    assert scalar(engine, "SELECT billing.invoice_paid_in_full(:i)", i=invoice_id) is True
    invoice_page = plain(shop.client.get(f"/billing/invoices/{invoice_id}"))
    assert "Paid in full" in invoice_page and "Take a payment" not in invoice_page
    assert scalar(engine, "SELECT count(*) FROM billing.receipt WHERE invoice_id = :i", i=invoice_id) == 2


def test_accounts_correct_a_service_invoice_with_a_credit_note_and_no_part_goes_back_to_stock(app, engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    accounts = other_client(app, "ACC1")
    url = f"/billing/invoices/{invoice_id}/credit-note"
    page = accounts.get(url)
    assert "Nothing goes back to stock" in plain(page)
    response = accounts.post(url, data={"csrf_token": hidden(text(page), "csrf_token"), "key": hidden(text(page), "key"),
                                        "reason": "Labour billed at the wrong rate"})
    assert response.status_code == 303, plain(response)
    with engine.connect() as conn:
        assert b.balance(conn, shop.branch, shop.part)["qty"] == M(10)
    credit = accounts.get(response.headers["Location"])
    assert "Labour billed at the wrong rate" in plain(credit)
    assert scalar(engine, "SELECT billing.invoice_paid_in_full(:i)", i=invoice_id) is False


def test_who_opens_a_service_invoice(app, engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    assert other_client(app, "ACC1").get(f"/billing/invoices/{invoice_id}").status_code == 200
    assert other_client(app, "TEC1").get(f"/billing/invoices/{invoice_id}").status_code == 403   # never prices
    assert shop.client.get(f"/billing/invoices/{invoice_id}/credit-note").status_code == 403      # accounts correct


def test_the_sales_register_and_receivables_list_the_service_invoice_but_not_the_job_sheet(app, engine, shop):
    invoice_id = bill(engine, shop, MIXED)
    sheet_id = bill(engine, shop, [MIXED[1]])
    numbers = {i: scalar(engine, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=i)
               for i in (invoice_id, sheet_id)}
    accounts = other_client(app, "ACC1")
    register = plain(accounts.get("/billing/registers/sales"))
    assert numbers[invoice_id] in register and numbers[sheet_id] not in register and "Service" in register
    only_service = plain(accounts.get("/billing/registers/sales?kind=SERVICE"))
    assert numbers[invoice_id] in only_service
    owed = plain(accounts.get("/billing/registers/receivables"))
    assert numbers[invoice_id] in owed and "₹1,380.00" in owed and numbers[sheet_id] not in owed
