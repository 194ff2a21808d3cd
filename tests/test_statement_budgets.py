"""Statement budgets: how many SQL statements a screen or a posting may run in one request.

Every GET screen of the url_map (test_access's enumeration and record ids, so a new module's
screens are measured as soon as they exist) is opened as ADMIN, and the main postings are made
through their forms; each request's statements (session lookup and COMMIT included, see
tests/budgets.py) are counted and compared with BUDGETS. A change that adds queries to a screen
fails here with the statements listed; a screen without a budget fails naming it. A budget is the
count measured when it was set, plus one; lower it when a screen gets cheaper.
"""
from __future__ import annotations

import re

import builders as b
import pytest
import sqlalchemy as sa
from budgets import StatementCounter, over_budget
from conftest import login
from test_access import browser, requests_for, showroom  # noqa: F401  (showroom is a fixture)

from webapp.formatting import today_ist
from webapp.sales import services

PIN = "2580"

# The statements are counted on the app's real engine, COMMIT included: these requests commit.
pytestmark = pytest.mark.commits

# Every request runs at least three: the request's wait limits, the session lookup (which also
# sets the acting staff and branch for the audit and the branch policies) and the COMMIT; the
# session row is written back when it changed or at most once a minute (its last use), so a screen
# may run one more. A screen's own reading is the rest. Budget = measured + 1.
BUDGETS = {
    "dashboard.home": 15,  # crm follow-ups 1; at a glance: sales 2, billing 3 (the kept monthly totals and balances),
                           # workshop 2, stock 2, cash and bank 1 (each ledger's totals by LATERAL), the OEM's dues 1
    # 22 measured: one label look-up per audited table with a row on the page (audit/labels.py), then the staff filter
    "audit.log_list": 23,
    # 8 measured: booking, states, branch state, state name, the draft; the booking in the fixture has no unit, so the
    # draft stops early
    "billing.invoice_new": 9,
    "billing.receipt_new": 7,
    "billing.refund_new": 7,
    "billing.counter_new": 7,
    "billing.credit_note_detail": 8,
    "billing.credit_note_pdf": 10,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "billing.invoice_detail": 8,
    # 8 measured: the invoice document (invoice, branch, lines, balance) and the unit's VIN
    "billing.credit_note_new": 9,
    "billing.invoice_pdf": 10,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "billing.counter_receipt_new": 8,
    "billing.receipt_detail": 6,
    "billing.receipt_pdf": 9,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "billing.refund_detail": 7,
    "billing.refund_pdf": 10,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "billing.receipt_register": 6,
    "billing.receivables": 5,  # 6 before: the ageing buckets and the page were two reads (now one, sql/0020)
    "billing.sales_register": 6,
    "platform.healthz": 3,
    # The books (webapp/finance): a report is the branches, the groups and one aggregate of finance.ledger_totals
    # (+ the stock at both ends for the P&L and balance sheet); a ledger's account its balance, count and page.
    "finance.trial_balance": 7,
    "finance.profit_and_loss": 8,
    "finance.balance_sheet": 8,
    "finance.day_book": 7,
    "finance.cash_book": 10,
    "finance.bank_book": 10,
    "finance.ledger_account": 9,
    "finance.voucher_detail": 6,
    "finance.journal_new": 5,
    "finance.journal_line": 4,
    "finance.chart_of_accounts": 9,
    "finance.ledger_new": 5,
    "finance.ledger_edit": 6,
    "finance.group_new": 5,
    "finance.group_edit": 6,
    "finance.bank_account_new": 5,
    "finance.bank_account_edit": 6,
    # The work on a job card (webapp/service/estimates.py, parts.py); each list is one read whatever its length.
    # 9 measured: the card, the labour, part and technician choices, the lines with their GST rates, the approvals
    "service.estimate": 10,
    "service.approval": 6,
    # 7 measured: the card, its part lines with their stock, requests and issues
    "service.parts": 8,
    "service.parts_requests": 5,
    "service.my_jobs": 5,
    # The bill (webapp/service/bill.py): the card, its billable lines, the masters and GST rates of the draft, the gate pass
    "service.bill": 12,
    "service.gate_pass_print": 6,
    "insurance.policy_new": 6,
    "insurance.policy_detail": 6,
    "insurance.policy_edit": 7,
    "insurance.renewals": 5,  # 6 before: the count and the page were two reads (now one)
    "inventory.count_list": 8,
    "inventory.count_detail": 7,
    "inventory.part_stock_list": 8,
    "inventory.part_stock_card": 8,
    "inventory.part_stock_adjust": 6,
    "inventory.part_stock_labels": 5,
    "inventory.transfer_list": 7,
    "inventory.transfer_detail": 6,
    "inventory.transfer_challan_pdf": 10,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "inventory.transfer_new": 5,
    # 8 measured: status, model, colour and branch filters beside the rows
    "inventory.unit_list": 9,
    # 8 measured: the unit, its status history, batteries, receipt and transfers
    "inventory.unit_detail": 9,
    "inventory.unit_battery_swap": 6,
    "inventory.ageing_report": 6,
    "auth.login": 4,
    "master.branch_list": 5,
    "master.branch_edit": 5,
    "master.branch_new": 4,
    "master.customer_list": 5,
    "master.customer_detail": 6,  # +1: the reminders module's consent panel (webapp/communication)
    "master.customer_edit": 6,
    "master.customer_new": 6,
    "master.financier_list": 5,
    "master.financier_edit": 5,
    "master.financier_new": 4,
    "master.hsn_list": 5,
    "master.hsn_detail": 6,
    "master.hsn_edit": 5,
    "master.hsn_rate_new": 5,
    "master.hsn_new": 4,
    "master.hsn_rate_edit": 6,
    "master.insurer_list": 5,
    "master.insurer_edit": 5,
    "master.insurer_new": 4,
    "master.labour_list": 5,
    "master.labour_edit": 6,
    "master.labour_new": 5,
    "master.part_list": 6,
    "master.part_detail": 5,
    "master.part_edit": 8,
    "master.part_new": 6,
    "master.staff_list": 5,
    "master.staff_detail": 5,
    "master.staff_edit": 7,
    "master.staff_new": 6,
    "oem.oem_list": 5,
    "oem.oem_detail": 7,
    "oem.oem_edit": 6,
    "oem.model_new": 5,
    "oem.model_list": 5,
    "oem.model_detail": 7,
    "oem.model_edit": 7,
    "oem.variant_new": 6,
    "oem.oem_new": 4,
    "oem.price_edit": 7,
    "oem.scheme_list": 6,
    "oem.scheme_edit": 7,
    "oem.scheme_new": 6,
    # 8 measured: variant, colours, current and all prices, schemes
    "oem.variant_detail": 9,
    "oem.variant_edit": 7,
    "oem.price_new": 6,
    "procurement.pinv_list": 6,
    "procurement.pinv_detail": 7,
    # 8 measured: one read per goods receipt still to be invoiced (four in the fixture): grows with them
    "procurement.pinv_new": 6,
    "procurement.po_list": 6,
    "procurement.po_detail": 7,
    # 8 measured: order, supplier, lines, vehicle and part choices
    "procurement.po_edit": 9,
    "procurement.po_pdf": 6,
    "procurement.grn_new": 5,
    "procurement.po_new": 5,
    "procurement.payable_list": 7,
    "procurement.grn_list": 6,
    "procurement.grn_detail": 7,
    "auth.profile": 5,
    # 3 measured with no VIN asked; with a VIN sold here it reads the unit and its sale, its packs, the cover,
    # free services, plans and open campaigns (budget in tests/test_warranty_screens.py)
    "warranty.check": 4,
    "warranty.plan_list": 5,
    "warranty.plan_new": 7,
    "warranty.plan_edit": 8,
    "warranty.plan_sell": 4,
    "warranty.rule_list": 6,
    "warranty.rule_edit": 6,
    "warranty.campaign_list": 5,
    "warranty.campaign_new": 7,
    # 6 measured: the campaign, its page of VINs with the count, the totals
    "warranty.campaign_detail": 7,
    "auth.change_pin": 4,
    "sales.pipeline": 5,
    "sales.booking_list": 6,
    # 12 measured: the sale page: booking, progress, charges, steps, accessory lines (read once, for the
    # agreed terms and the steps), receipts, refunds, cash limit, policy
    "sales.booking_detail": 14,   # + 1: the extended-warranty charges and the plans to name (warranty's panel)
    "sales.accessories": 7,
    "sales.allot": 6,
    "sales.cancel": 6,
    "sales.deliver": 7,
    # 9 measured: the on-road items are read twice (form fields, then the booking's quote)
    "sales.booking_edit": 10,
    "sales.exchange": 6,
    "sales.finance": 7,
    "sales.pdi": 6,
    "sales.registration": 6,
    "sales.subsidy": 6,
    "sales.booking_new": 7,
    "sales.customer_search": 4,
    "sales.delivery_pdf": 10,  # +2: its kept PDF looked up, and kept at this first print (webapp/pdf.py)
    "sales.discount_list": 5,
    # The enquiry addresses of before only redirect to the lead's (crm): 3 measured; with an id, + the lead
    # (404 when it is not the user's to see)
    "sales.enquiry_list": 4,
    "sales.enquiry_detail": 5,
    "sales.enquiry_quote": 5,
    "sales.quotation_new": 7,
    "sales.enquiry_new": 4,
    "crm.lead_list": 5,
    "crm.lead_new": 6,
    "crm.lead_check_mobile": 4,
    # 10 measured: the lead, its quotations, calls and test rides; the lost reasons, demo vehicles and the
    # branch's salespeople for its forms
    "crm.lead_detail": 11,
    "crm.lead_edit": 8,  # 7 measured: the lead, the models, the other leads and customers with its mobile
    "crm.test_ride_back": 5,
    "crm.test_ride_list": 6,
    "crm.follow_ups": 5,
    "crm.lead_import": 4,
    "crm.funnel": 5,
    "crm.lost_reasons": 5,
    "crm.lost_reason_list": 5,
    "sales.quotation_detail": 6,
    "sales.quotation_pdf": 7,
    "sales.quotation_preview": 6,
    "sales.settings": 7,
    "sales.subsidy_list": 6,
    "auth.setup": 5,
    "service.arrival": 4,
    "service.board": 6,  # 7 before: the states and their moves are one read (queries.board_states)
    "service.checklist": 6,
    "service.job_card_cancel": 5,
    # 10 measured: the card, its moves, state history, checklist, readings, photos; the warranty claims panel
    # + 1: the campaigns open for the vehicle, offered as job lines (warranty claims panel)
    "service.job_card_detail": 12,
    "service.job_card_edit": 7,
    "service.job_card_new": 6,
    "service.photo_image": 5,
    "service.photo_thumbnail": 5,
    "service.reading_new": 7,
    "service.unit_arrive": 5,
    # 12 measured: the vehicle with its open card and last reading, packs, readings of every pack, job cards;
    # the warranty panel's vehicle cover, battery cover, free services, plans and open campaigns
    # + 1: the workshop's own panel (the owner's unpaid service bills, webapp/service/bill.py; the next service due
    #   comes with the vehicle's row)
    # + 1: the vehicle's warranty claims in its service history (warranty.api.vehicle_claims)
    "service.vehicle_detail": 15,
    "service.vehicle_new": 5,
    "service.settings": 6,
    # Warranty claims to the OEM (budgets measured + 1)
    "warranty.claim_register": 7,       # OEMs with claims, the ageing per OEM, the claims
    "warranty.claim_detail": 8,         # the claim, its lines, its evidence (readings and photos), its history
    "warranty.claim_pdf": 10,           # the claim page's reads, the photos' thumbnails, the letterhead
    "warranty.claim_new": 6,            # the job card, the campaigns the vehicle matches
    "warranty.recall_claim_new": 5,     # the campaign
    "warranty.claim_edit": 6,           # the claim, the evidence to choose from
    "warranty.claim_line_new": 7,       # the claim, the labour operations, the parts
    "warranty.claim_submit": 5,
    "warranty.claim_decide": 5,
    "warranty.claim_settle": 5,
    "warranty.returnable_parts": 5,
    "warranty.part_returned": 5,
    "warranty.pack_swap": 7,            # the job card, the packs in the vehicle, the packs in the parts master
    "warranty.labour_rates": 5,
    "warranty.labour_rate_new": 5,
    # Communication (webapp/communication/views.py). The bell is polled every minute: the session lookup, its one
    # count statement, the COMMIT (never the session row: polling is not the user's activity).
    "communication.bell": 4,
    "communication.notifications": 5,
    "communication.rule_list": 5,
    "communication.rule_new": 5,
    "communication.rule_edit": 6,
    "communication.template_list": 5,
    "communication.template_new": 5,
    "communication.template_edit": 6,
    "communication.settings": 5,
    "communication.outbox": 5,
    "communication.call_list": 5,
    "communication.call_list_pdf": 6,
    "communication.call_outcome": 5,
    "communication.consent": 6,
    # The WhatsApp webhook's verification (webapp/communication/hooks.py) reads no table: without the verify token,
    # a 403 after the session lookup.
    "communication.whatsapp_verify": 3,
    # GST returns (webapp/finance/returns.py): the GSTINs, the period's parameters, the portal checks, then
    # GSTR-1's five reads (documents by rate, B2CS, nil, HSN, Table 13) / GSTR-3B's three / the reconciliation's
    # documents and vouchers plus the sales register's totals once per branch of the GSTIN (one here)
    "finance.gstr1": 12,
    "finance.gstr1_json": 12,
    "finance.gstr3b": 9,
    "finance.gstr3b_json": 9,
    "finance.gstr3b_pdf": 10,         # + the letterhead
    "finance.reconcile": 9,
    "finance.return_parameters": 5,   # the last closed day, every parameter's rows in one read
    # HR (webapp/hr). The month's screens read the days once, with the totals (hr.attendance_totals).
    "hr.punch": 4,                      # no terminal cookie: the page saying so
    "hr.terminal_setup": 6,             # the cookie's terminal, the actor, the branch's terminals
    "hr.my_attendance": 9,              # employed?, the days, the punches, the balances, the applications
    "hr.leave_new": 7,                  # employed?, the leave types, the balances
    "hr.team": 6,                       # leave waiting, forgotten out-punches
    "hr.correction_new": 5,             # the staff to choose from
    "hr.people": 5,
    "hr.person": 9,                     # the person, departments, managers, shifts, the documents
    "hr.document_file": 5,
    "hr.settings": 8,                   # quotas, shifts, holidays, departments
    "hr.shift_edit": 5,
    "hr.sheet": 6,                      # the totals with each day's status, the close
    "hr.sheet_pdf": 7,                  # + the branch's letterhead
    "hr.sheet_xlsx": 6,
    # Expenses, cash, bank and months (webapp/finance cash.py, bank.py, period.py). The reconciliation: the account,
    # the unmatched lines with their suggestions, the unmatched vouchers, the matched lines, the statements.
    "finance.expense_new": 6,
    "finance.expense_list": 5,
    "finance.expense_detail": 5,
    "finance.expense_bill": 5,
    "finance.cash_closing": 6,
    "finance.bank_accounts": 5,
    "finance.statement_import": 6,
    "finance.bank_reconcile": 9,
    "finance.bank_line": 7,
    "finance.months": 7,
    # Payroll (webapp/payroll): an approved run of the fixture (tests/payroll_ids.py).
    "payroll.runs": 5,
    "payroll.my_payslips": 5,
    "payroll.people": 5,
    "payroll.run_detail": 6,            # the run, its lines
    "payroll.register_xlsx": 6,
    "payroll.bank_csv": 6,
    "payroll.ecr": 6,
    "payroll.esi_csv": 6,
    "payroll.payslip_pdf": 7,           # the run, the line, the branch's letterhead
    "payroll.my_payslip_pdf": 7,
    "payroll.structures": 9,            # the person, the structures, the regimes, the loans, the tax declarations
    "payroll.arrears": 6,               # the people, the arrears
    "payroll.rates": 11,                # PF, ESI, PT, TDS, old regime limits; the branch's state and the states
    # Incentives (webapp/payroll/incentives.py) and the full and final statement (settlement.py).
    "payroll.incentives": 6,            # the month's run, each person's totals
    "payroll.incentives_person": 8,     # the person, the lines with their documents, the adjustments, the run
    "payroll.incentives_rules": 7,      # the roles and models for the form, the rules with their slabs
    "payroll.settlement_pdf": 8,        # the run, the settlement with its rates, the line, the letterhead
    "payroll.my_incentives": 8,         # oneself, one's lines with their documents, the adjustments, the run
}

# Finance (H29), measured + 1: the Tally export page (branches, company, counts per type), its two downloads
# (branches and company, then the groups and the ledgers, or the vouchers' lines in one read), OEM receivables
# (every claim added up in one read, the schemes) and the list behind a figure (the page with its count; the
# OEM's name too when one is chosen).
BUDGETS.update({
    "finance.tally_export": 7,
    "finance.tally_masters": 8,
    "finance.tally_vouchers": 7,
    "finance.oem_receivables": 6,
    "finance.oem_receivable_items": 5,
})


@pytest.fixture
def counter(app):
    counting = StatementCounter(app.extensions["erp_db"].engine)
    yield counting
    counting.close()


def get_screens(app, ids) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET route, with the ids of records that exist."""
    return [(endpoint, path) for endpoint, method, path in requests_for(app, ids) if method == "GET"]


def measure_screens(app, showroom, counter) -> dict[str, list[str]]:  # noqa: F811
    client, _ = browser(app, showroom, "ADMIN")
    measured = {}
    for endpoint, path in get_screens(app, showroom["ids"]):
        with counter.measure() as statements:
            response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        name = endpoint if endpoint not in measured else f"{endpoint} {path}"
        measured[name] = list(statements)
    return measured


def test_every_screen_stays_within_its_statement_budget(app, showroom, counter):  # noqa: F811
    measured = measure_screens(app, showroom, counter)
    assert len(measured) >= 50
    assert over_budget(measured, BUDGETS) == [], {name: len(s) for name, s in measured.items()}



# --------------------------------------------------------------------------- postings

# Budget = measured + 1. Each posting runs in a savepoint (SAVEPOINT, RELEASE) and writes the
# session row (the flash message), and redirects: the page it leads to is its own request.
POSTING_BUDGETS = {
    # 18 measured: the form's reference reads (on-road items twice, vehicles, states, price), the customer,
    # the booking and its advance receipt (each key looked up once), the booking for the message
    "booking with its advance": 19,
    # 13 measured: booking, the key, balance, payer names, cash limit; the receipt; the receipt for the message
    "receipt": 14,
    # 17 measured (21 before the key, the place of supply and the booking were read once each): booking, key,
    # states, branch state; one read of the booking for the invoice, rates, charges, accessories, the invoice
    # and its lines; the invoice for the message
    "vehicle invoice": 18,
    "delivery": 10,
    # 24 measured (27 before the key and the showroom's state were read once each): the part rows and the draft
    # are read for the preview and again by the posting; the invoice, its receipt and the invoice for the message
    "counter sale with its receipt": 25,
}


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert match, f"no {name} on the form"
    return match.group(1)


def form_of(client, url: str, *names: str) -> dict:
    """The hidden fields (CSRF token, idempotency keys) of the form as the browser holds it."""
    page = client.get(url).get_data(as_text=True)
    return {name: hidden(page, name) for name in ("csrf_token", *names)}


@pytest.fixture
def shop(app, engine, make_staff):
    """A showroom with a priced scooter, one more in stock, a customer, ten brake shoes; its ADMIN logged in."""
    with engine.begin() as conn:
        sale = b.sale_setup(conn, state="29", units=2)
        part_id = b.part(conn, part_no="BRK-SHOE-01", purchase_price="120.00")
        b.receive(conn, sale.branch_id, part_id, 10, "120.00")
    make_staff("ADM1", "ADMIN", PIN, branch_id=sale.branch_id)
    client = app.test_client()
    assert login(client, "ADM1", PIN).status_code == 303
    return client, sale


def measure_postings(engine, shop, counter) -> dict[str, list[str]]:
    """Each main posting made once through its form; the POST that posts is measured."""
    client, sale = shop
    today = today_ist()
    measured = {}

    def post(name: str, url: str, data: dict) -> str:
        with counter.measure() as statements:
            response = client.post(url, data=data)
        assert response.status_code == 303, (name, response.status_code, response.get_data(as_text=True)[-2000:])
        measured[name] = list(statements)
        return response.headers["Location"]

    item = f"{sale.catalog.variant_id}:{sale.catalog.colours[0]}"
    form = form_of(client, "/sales/bookings/new", "idempotency_key", "advance_key")
    where = post("booking with its advance", "/sales/bookings/new", {
        **form, "customer_id": str(sale.customer_id), "item": item, "advance_amount": "5000",
        "advance_mode": "CASH"})
    booking_id = int(where.rsplit("/", 1)[1])
    with engine.begin() as conn:
        services.allot(conn, booking_id, sale.unit_id)

    url = f"/billing/bookings/{booking_id}/receipt"
    post("receipt", url, {**form_of(client, url, "key"), "mode": "UPI", "amount": "20000",
                          "received_from": "Customer", "reference": "UTR0000000042"})

    url = f"/billing/bookings/{booking_id}/invoice"
    post("vehicle invoice", url, {**form_of(client, url, "key"), "place_of_supply": "29"})

    with engine.begin() as conn:
        b.act_as(conn, sale.manager_id)
        b.ready_for_handover(conn, booking_id, str(today))
        b.release_handover(conn, booking_id, sale.manager_id)
    url = f"/sales/bookings/{booking_id}/deliver"
    post("delivery", url, {**form_of(client, url, "key"), "delivered_on": str(today),
                           "received_by_name": "Asha Rao"})

    url = "/billing/counter-sale"
    post("counter sale with its receipt", url, {**form_of(client, url, "key"), "action": "post",
                                                "lines-0-part_no": "BRK-SHOE-01", "lines-0-qty": "2"})
    return measured


def test_the_main_postings_stay_within_their_statement_budgets(engine, shop, counter):
    measured = measure_postings(engine, shop, counter)
    assert set(measured) == set(POSTING_BUDGETS)
    assert over_budget(measured, POSTING_BUDGETS) == [], {name: len(s) for name, s in measured.items()}




# --------------------------------------------------------------------------- the budgets bind


def test_a_screen_without_a_budget_or_over_it_is_named(app):
    problems = over_budget({"sales.new_screen": ["SELECT 1", "COMMIT"],
                            "sales.pipeline": ["SELECT 1"] * (BUDGETS["sales.pipeline"] + 1),
                            "dashboard.home": ["SELECT 1"] * BUDGETS["dashboard.home"]}, BUDGETS)
    assert len(problems) == 2
    assert problems[0].startswith("sales.new_screen: no statement budget; it runs 2 statements")
    assert problems[1].startswith(f"sales.pipeline: {BUDGETS['sales.pipeline'] + 1} statements, "
                                  f"budget {BUDGETS['sales.pipeline']}")


def test_queries_added_to_the_sale_page_break_its_budget(engine, shop, counter, monkeypatch):
    from webapp.sales import queries

    client, sale = shop
    with engine.begin() as conn:
        booking_id = b.booking(conn, sale, on=str(today_ist()))
    url = f"/sales/bookings/{booking_id}"
    assert client.get("/").status_code == 200  # the session row is written after the login, not in what is measured

    with counter.measure() as statements:
        assert client.get(url).status_code == 200
        with engine.connect() as owner:  # the owner's engine (a fixture's reading) is not the request's
            owner.execute(sa.text("SELECT 1"))
    assert statements[1].startswith("SELECT s.session_id") and statements[-1] == "COMMIT"
    assert over_budget({"sales.booking_detail": statements}, BUDGETS) == []

    progress = queries.booking_progress

    def progress_read_twice_more(conn, booking_id):
        conn.execute(sa.text("SELECT 1"))
        conn.execute(sa.text("SELECT 2"))
        return progress(conn, booking_id)

    monkeypatch.setattr(queries, "booking_progress", progress_read_twice_more)
    with counter.measure() as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(statements) + 2
    problems = over_budget({"sales.booking_detail": more}, BUDGETS)
    assert len(problems) == 1 and problems[0].startswith("sales.booking_detail: ")
    assert "SELECT 1" in problems[0] and "SELECT 2" in problems[0]
