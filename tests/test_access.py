"""Who may open what: every route's declaration, the role x route matrix, CSRF on every
form post, no changes on GET, the security headers, and the 403/404 pages."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from books_ids import books_ids
from catalog_ids import catalog_ids
from claim_ids import claim_ids
from communication_ids import communication_ids
from conftest import ROOT, csrf_from, login, page_csrf
from crm_ids import crm_ids
from finance_cash_ids import finance_cash_ids
from hr_ids import hr_ids
from incentive_ids import incentive_ids
from inventory_ids import inventory_ids
from payroll_ids import payroll_ids
from procurement_ids import procurement_ids
from sales_ids import sales_ids
from service_bill_ids import service_bill_ids
from service_ids import service_ids
from warranty_ids import warranty_ids

from webapp.capabilities import CAPABILITIES
from webapp.security import PUBLIC, ROLES, allowed_roles

PIN = "2580"

# ----------------------------------------------------------------------------- the access table
# Written out by hand, on purpose: it is what the showroom expects, not what the decorators say.

STAFF_ROLES = frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS", "DEALER"})
ANYONE = "anyone, logged in or not"
# The providers' delivery reports (webapp/communication/hooks.py): no login and no CSRF token, a secret shared
# with the provider instead. Without it every role, and anyone, gets 403 (and no browser form posts there).
PROVIDER = "a provider's server holding the shared secret"
ADMIN_ONLY = frozenset({"ADMIN"})

# A page more roles may read than may submit: {"GET": who reads it, "POST": who submits it}.
SALE_READERS = frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"})
SALE_STEP = {"GET": SALE_READERS, "POST": frozenset({"ADMIN", "MANAGER", "SALES"})}
WORKSHOP_COUNTER = frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"})
WORKSHOP_FLOOR = WORKSHOP_COUNTER | {"TECHNICIAN"}
WORKSHOP_READERS = WORKSHOP_FLOOR | {"ACCOUNTS"}
WORKSHOP_STEP = {"GET": WORKSHOP_READERS, "POST": WORKSHOP_FLOOR}
WARRANTY_READERS = frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "ACCOUNTS"})

ACCESS = {
    "platform.healthz": ANYONE,
    "auth.login": ANYONE,
    "auth.setup": ANYONE,
    "dashboard.home": STAFF_ROLES,
    "auth.logout": STAFF_ROLES,
    "auth.switch_user": STAFF_ROLES,
    "auth.profile": STAFF_ROLES,
    "auth.change_pin": STAFF_ROLES,
    "auth.end_other_sessions": STAFF_ROLES,
    "master.staff_list": ADMIN_ONLY,
    "master.staff_new": ADMIN_ONLY,
    "master.staff_detail": ADMIN_ONLY,
    "master.staff_edit": ADMIN_ONLY,
    "master.staff_set_active": ADMIN_ONLY,
    "master.staff_reset_pin": ADMIN_ONLY,
    "master.branch_list": ADMIN_ONLY,
    "master.branch_new": ADMIN_ONLY,
    "master.branch_edit": ADMIN_ONLY,
    # Catalog: every staff role but the sub-dealer reads it; ADMIN and MANAGER change it, ACCOUNTS
    # also the tax master; customers belong to the counter roles and accounts, not the workshop floor.
    "master.hsn_list": STAFF_ROLES - {"DEALER"},
    "master.hsn_detail": STAFF_ROLES - {"DEALER"},
    "master.hsn_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "master.hsn_edit": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "master.hsn_rate_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "master.hsn_rate_edit": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "master.customer_list": frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "ACCOUNTS"}),
    "master.customer_new": frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "ACCOUNTS"}),
    "master.customer_detail": frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "ACCOUNTS"}),
    "master.customer_edit": frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "ACCOUNTS"}),
    "master.financier_list": STAFF_ROLES - {"DEALER"},
    "master.financier_new": frozenset({"ADMIN", "MANAGER"}),
    "master.financier_edit": frozenset({"ADMIN", "MANAGER"}),
    "master.insurer_list": STAFF_ROLES - {"DEALER"},
    "master.insurer_new": frozenset({"ADMIN", "MANAGER"}),
    "master.insurer_edit": frozenset({"ADMIN", "MANAGER"}),
    "master.part_list": STAFF_ROLES - {"DEALER"},
    "master.part_detail": STAFF_ROLES - {"DEALER"},
    "master.part_new": frozenset({"ADMIN", "MANAGER"}),
    "master.part_edit": frozenset({"ADMIN", "MANAGER"}),
    "master.labour_list": STAFF_ROLES - {"DEALER"},
    "master.labour_new": frozenset({"ADMIN", "MANAGER"}),
    "master.labour_edit": frozenset({"ADMIN", "MANAGER"}),
    "oem.oem_list": STAFF_ROLES - {"DEALER"},
    "oem.oem_detail": STAFF_ROLES - {"DEALER"},
    "oem.oem_new": frozenset({"ADMIN", "MANAGER"}),
    "oem.oem_edit": frozenset({"ADMIN", "MANAGER"}),
    "oem.model_list": STAFF_ROLES - {"DEALER"},
    "oem.model_detail": STAFF_ROLES - {"DEALER"},
    "oem.model_new": frozenset({"ADMIN", "MANAGER"}),
    "oem.model_edit": frozenset({"ADMIN", "MANAGER"}),
    "oem.variant_detail": STAFF_ROLES - {"DEALER"},
    "oem.variant_new": frozenset({"ADMIN", "MANAGER"}),
    "oem.variant_edit": frozenset({"ADMIN", "MANAGER"}),
    "oem.colour_add": frozenset({"ADMIN", "MANAGER"}),
    "oem.colour_set_active": frozenset({"ADMIN", "MANAGER"}),
    "oem.price_new": frozenset({"ADMIN", "MANAGER"}),
    "oem.price_edit": frozenset({"ADMIN", "MANAGER"}),
    "oem.scheme_list": STAFF_ROLES - {"DEALER"},
    "oem.scheme_new": frozenset({"ADMIN", "MANAGER"}),
    "oem.scheme_edit": frozenset({"ADMIN", "MANAGER"}),
    "audit.log_list": ADMIN_ONLY,
    # Purchasing: managers, administrators and accounts buy; only managers and administrators
    # approve, cancel or close an order.
    "procurement.po_list": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.po_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.po_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.po_edit": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.po_approve": frozenset({"ADMIN", "MANAGER"}),
    "procurement.po_send": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.po_cancel": frozenset({"ADMIN", "MANAGER"}),
    "procurement.po_close": frozenset({"ADMIN", "MANAGER"}),
    "procurement.po_pdf": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.grn_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.grn_list": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.grn_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.pinv_list": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.pinv_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.pinv_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.pinv_payment": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "procurement.payable_list": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    # Stock: vehicles for sales and accounts, parts for the workshop; changes by managers.
    "inventory.unit_list": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "inventory.ageing_report": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "inventory.unit_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS", "SERVICE_ADVISOR"}),
    "inventory.unit_status": frozenset({"ADMIN", "MANAGER"}),
    "inventory.unit_battery_swap": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "inventory.part_stock_list": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS"}),
    "inventory.part_stock_card": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS"}),
    "inventory.part_stock_labels": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS"}),
    "inventory.part_stock_bin": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "inventory.part_stock_adjust": frozenset({"ADMIN", "MANAGER"}),
    "inventory.transfer_list": STAFF_ROLES - {"DEALER"},
    "inventory.transfer_detail": STAFF_ROLES - {"DEALER"},
    "inventory.transfer_new": frozenset({"ADMIN", "MANAGER"}),
    "inventory.transfer_receive": frozenset({"ADMIN", "MANAGER"}),
    "inventory.transfer_challan_pdf": STAFF_ROLES - {"DEALER"},
    "inventory.count_list": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS"}),
    "inventory.count_detail": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS"}),
    "inventory.count_line": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN"}),
    "inventory.count_add_part": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN"}),
    "inventory.count_start": frozenset({"ADMIN", "MANAGER"}),
    "inventory.count_approve": frozenset({"ADMIN", "MANAGER"}),
    "inventory.count_cancel": frozenset({"ADMIN", "MANAGER"}),
    # Sales (front): sellers enquire, quote and book; accounts reads the pipeline, lists, sale pages and quotations.
    "sales.pipeline": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.booking_list": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.booking_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.booking_new": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.booking_edit": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.customer_search": frozenset({"ADMIN", "MANAGER", "SALES"}),
    # The enquiry addresses of before answer with a redirect to the lead's (crm).
    "sales.enquiry_list": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.enquiry_new": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.enquiry_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.enquiry_quote": frozenset({"ADMIN", "MANAGER", "SALES"}),
    # CRM: sellers work leads (a salesperson their own), accounts reads them; managers reassign,
    # take in the OEM portal's leads and read the funnel.
    "crm.lead_list": SALE_READERS,
    "crm.lead_new": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_check_mobile": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_detail": SALE_READERS,
    "crm.lead_lost": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_edit": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_contact": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_follow_up": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_customer": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.lead_reassign": frozenset({"ADMIN", "MANAGER"}),
    "crm.test_ride_start": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "crm.test_ride_back": SALE_STEP,
    "crm.test_ride_list": SALE_READERS,
    "crm.follow_ups": SALE_READERS,
    "crm.lead_import": frozenset({"ADMIN", "MANAGER"}),
    "crm.funnel": frozenset({"ADMIN", "MANAGER"}),
    "crm.lost_reasons": frozenset({"ADMIN", "MANAGER"}),
    "crm.lost_reason_list": frozenset({"ADMIN", "MANAGER"}),
    "crm.lost_reason_active": frozenset({"ADMIN", "MANAGER"}),
    "sales.quotation_new": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.quotation_preview": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.quotation_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.quotation_pdf": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    # Sales (steps): sellers change a sale's steps, accounts reads them; managers decide discounts and settings.
    "sales.allot": SALE_STEP,
    "sales.deallot": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.discount_list": frozenset({"ADMIN", "MANAGER"}),
    "sales.discount_decide": frozenset({"ADMIN", "MANAGER"}),
    "sales.pdi": SALE_STEP,
    "sales.deliver": SALE_STEP,
    "sales.release_handover": frozenset({"ADMIN", "MANAGER"}),
    "sales.accessories": SALE_STEP,
    "sales.accessory_remove": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.delivery_pdf": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "sales.finance": SALE_STEP,
    "sales.exchange": SALE_STEP,
    "sales.subsidy": SALE_STEP,
    "sales.subsidy_list": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "sales.registration": SALE_STEP,
    "sales.cancel": frozenset({"ADMIN", "MANAGER", "SALES"}),
    "sales.settings": frozenset({"ADMIN", "MANAGER"}),
    "sales.settings_discount_limits": frozenset({"ADMIN", "MANAGER"}),
    "sales.settings_pdi_items": frozenset({"ADMIN", "MANAGER"}),
    "sales.settings_onroad_items": frozenset({"ADMIN", "MANAGER"}),
    # Insurance: the policy sold with a vehicle and the renewal list, for the sale's roles (SALES on own bookings).
    "insurance.policy_new": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "insurance.policy_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "insurance.policy_edit": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "insurance.renewals": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    # Billing (money): receipts by sales (own bookings) and accounts; refunds and registers by accounts.
    "billing.receipt_new": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "billing.counter_receipt_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS", "SERVICE_ADVISOR"}),
    "billing.receipt_detail": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "billing.receipt_pdf": frozenset({"ADMIN", "MANAGER", "SALES", "ACCOUNTS"}),
    "billing.refund_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.refund_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.refund_pdf": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.sales_register": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.receipt_register": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.receivables": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    # Billing (invoices): accounts posts invoices and credit notes; the service advisor also sells
    # over the counter and opens the counter invoices (a vehicle invoice is a 404 for them).
    "billing.invoice_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.invoice_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS", "SERVICE_ADVISOR"}),
    "billing.invoice_pdf": frozenset({"ADMIN", "MANAGER", "ACCOUNTS", "SERVICE_ADVISOR"}),
    "billing.invoice_einvoice": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.credit_note_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.credit_note_detail": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.credit_note_pdf": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "billing.counter_new": frozenset({"ADMIN", "MANAGER", "ACCOUNTS", "SERVICE_ADVISOR"}),
    # Workshop: the counter (service advisor) receives vehicles and runs job cards; technicians read the
    # board, their jobs and vehicles' histories, record checklists, readings and photos and move cards;
    # accounts reads; sales and the sub-dealer have no business in the workshop.
    "service.arrival": WORKSHOP_COUNTER,
    "service.vehicle_new": WORKSHOP_COUNTER,
    "service.unit_arrive": WORKSHOP_COUNTER,
    "service.vehicle_detail": WORKSHOP_READERS,
    "service.job_card_new": WORKSHOP_COUNTER,
    "service.job_card_detail": WORKSHOP_READERS,
    "service.job_card_edit": WORKSHOP_COUNTER,
    "service.job_card_cancel": WORKSHOP_COUNTER,
    "service.checklist": WORKSHOP_STEP,
    "service.reading_new": WORKSHOP_STEP,
    "service.photo_add": WORKSHOP_FLOOR,
    "service.photo_image": WORKSHOP_READERS,
    "service.photo_thumbnail": WORKSHOP_READERS,
    "service.job_card_take": WORKSHOP_FLOOR,
    "service.board": WORKSHOP_READERS,
    "service.job_card_move": WORKSHOP_FLOOR,
    "service.settings": WORKSHOP_READERS,
    "service.settings_checklist": frozenset({"ADMIN", "MANAGER"}),
    "service.settings_limit_new": frozenset({"ADMIN", "MANAGER"}),
    "service.settings_interval_new": frozenset({"ADMIN", "MANAGER"}),
    # Warranty: the workshop and accounts read cover, plans and campaigns and sell plans; managers set the
    # plans; the workshop runs the OEM's campaigns (accounts only reads them).
    "warranty.check": WARRANTY_READERS,
    "warranty.plan_list": WARRANTY_READERS,
    "warranty.plan_new": frozenset({"ADMIN", "MANAGER"}),
    "warranty.plan_edit": frozenset({"ADMIN", "MANAGER"}),
    "warranty.plan_sell": WARRANTY_READERS,
    "warranty.rule_list": frozenset({"ADMIN", "MANAGER"}),
    "warranty.rule_edit": frozenset({"ADMIN", "MANAGER"}),
    "warranty.campaign_list": WARRANTY_READERS,
    "warranty.campaign_detail": WARRANTY_READERS,
    "warranty.campaign_new": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "warranty.campaign_done": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "warranty.campaign_close": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "warranty.campaign_line_add": frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"}),
    "warranty.booking_plan": frozenset({"ADMIN", "MANAGER", "SALES"}),
    # Claims to the OEM: the workshop's counter and accounts raise and move them; accounts (and the
    # managers) record the OEM's credit; the counter swaps a battery pack on a job card.
    "warranty.claim_register": WARRANTY_READERS,
    "warranty.claim_detail": WARRANTY_READERS,
    "warranty.claim_pdf": WARRANTY_READERS,
    "warranty.claim_new": WARRANTY_READERS,
    "warranty.recall_claim_new": WARRANTY_READERS,
    "warranty.claim_edit": WARRANTY_READERS,
    "warranty.claim_line_new": WARRANTY_READERS,
    "warranty.claim_line_delete": WARRANTY_READERS,
    "warranty.claim_submit": WARRANTY_READERS,
    "warranty.claim_decide": WARRANTY_READERS,
    "warranty.claim_settle": {"GET": WARRANTY_READERS, "POST": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})},
    "warranty.returnable_parts": WARRANTY_READERS,
    "warranty.part_returned": WARRANTY_READERS,
    "warranty.pack_swap": {"GET": WARRANTY_READERS, "POST": WORKSHOP_COUNTER},
    "warranty.labour_rates": WARRANTY_READERS,
    "warranty.labour_rate_new": frozenset({"ADMIN", "MANAGER"}),
}

# Finance (H29): the Tally export is the accountant's and the administrator's; OEM receivables are read by
# whoever reads the registers.
ACCESS.update({
    "finance.tally_export": frozenset({"ADMIN", "ACCOUNTS"}),
    "finance.tally_masters": frozenset({"ADMIN", "ACCOUNTS"}),
    "finance.tally_vouchers": frozenset({"ADMIN", "ACCOUNTS"}),
    "finance.oem_receivables": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "finance.oem_receivable_items": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
})

# Communication: the administrator sets reminder rules, templates and providers and runs reminders from the
# screen; managers read the outbox; the counter (sales, service advisor) works the call list; who keeps customers
# records their consent; every staff member but the sub-dealer has the bell.
CALLERS = frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR"})
ACCESS.update({
    "communication.rule_list": ADMIN_ONLY,
    "communication.rule_new": ADMIN_ONLY,
    "communication.rule_edit": ADMIN_ONLY,
    "communication.run_now": ADMIN_ONLY,
    "communication.template_list": ADMIN_ONLY,
    "communication.template_new": ADMIN_ONLY,
    "communication.template_edit": ADMIN_ONLY,
    "communication.settings": ADMIN_ONLY,
    "communication.outbox": frozenset({"ADMIN", "MANAGER"}),
    "communication.call_list": CALLERS,
    "communication.call_list_pdf": CALLERS,
    "communication.call_outcome": CALLERS,
    "communication.consent": frozenset({"ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "ACCOUNTS"}),
    "communication.bell": STAFF_ROLES - {"DEALER"},
    "communication.notifications": STAFF_ROLES - {"DEALER"},
    "communication.sms_report": PROVIDER,
    "communication.whatsapp_verify": PROVIDER,
    "communication.whatsapp_status": PROVIDER,
})

# GST returns (webapp/finance/returns.py): the accountant and the managers.
GST_RETURNS = frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})
ACCESS.update({
    "finance.gstr1": GST_RETURNS,
    "finance.gstr1_json": GST_RETURNS,
    "finance.gstr3b": GST_RETURNS,
    "finance.gstr3b_json": GST_RETURNS,
    "finance.gstr3b_pdf": GST_RETURNS,
    "finance.reconcile": GST_RETURNS,
    # the dated return parameters (webapp/finance/returns_params.py): read with the returns, added by accounts
    "finance.return_parameters": GST_RETURNS,
    "finance.return_parameter_add": frozenset({"ADMIN", "ACCOUNTS"}),
})

# HR (webapp/hr): every staff member (not the sub-dealer) sees their own attendance and leave and decides their team's
# leave (the database checks they are the reporting manager); managers keep people, settings, the punching
# terminal and correction punches; accounts read the monthly sheet and close it with the administrator. The
# punching screen itself is open: the browser is a terminal by its signed cookie and each punch checks the PIN.
HR_STAFF = STAFF_ROLES - {"DEALER"}
HR_MANAGERS = frozenset({"ADMIN", "MANAGER"})
ACCESS.update({
    "hr.punch": ANYONE,
    "hr.terminal_setup": HR_MANAGERS,
    "hr.terminal_revoke": HR_MANAGERS,
    "hr.my_attendance": HR_STAFF,
    "hr.leave_new": HR_STAFF,
    "hr.leave_cancel": HR_STAFF,
    "hr.team": HR_STAFF,
    "hr.leave_decide": HR_STAFF,
    "hr.correction_new": HR_STAFF,
    "hr.people": HR_MANAGERS,
    "hr.person": HR_MANAGERS,
    "hr.document_add": HR_MANAGERS,
    "hr.document_file": HR_MANAGERS,
    "hr.settings": HR_MANAGERS,
    "hr.shift_new": HR_MANAGERS,
    "hr.shift_edit": HR_MANAGERS,
    "hr.holiday_new": HR_MANAGERS,
    "hr.department_new": HR_MANAGERS,
    "hr.quota_save": HR_MANAGERS,
    "hr.carry_forward": HR_MANAGERS,
    "hr.sheet": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "hr.sheet_pdf": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "hr.sheet_xlsx": frozenset({"ADMIN", "MANAGER", "ACCOUNTS"}),
    "hr.sheet_close": frozenset({"ADMIN", "ACCOUNTS"}),
})

# The books' expenses, cash, bank and months (webapp/finance cash.py, bank.py, period.py): accountants and managers
# read them; accounts and the administrator record expenses, import statements and match them; accountants and
# managers close the day's cash; accounts and the administrator close a month, managers and the administrator reopen it.
BOOKS_READERS = frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})
BOOKS_POSTERS = frozenset({"ADMIN", "ACCOUNTS"})
ACCESS.update({
    "finance.expense_new": BOOKS_POSTERS,
    "finance.expense_list": BOOKS_READERS,
    "finance.expense_detail": BOOKS_READERS,
    "finance.expense_bill": BOOKS_READERS,
    "finance.cash_closing": BOOKS_READERS,
    "finance.bank_accounts": BOOKS_READERS,
    "finance.statement_import": BOOKS_POSTERS,
    "finance.bank_reconcile": BOOKS_READERS,
    "finance.bank_line": BOOKS_READERS,
    "finance.bank_match": BOOKS_POSTERS,
    "finance.bank_unmatch": BOOKS_POSTERS,
    "finance.months": BOOKS_READERS,
    "finance.month_close": BOOKS_POSTERS,
    "finance.month_reopen": frozenset({"ADMIN", "MANAGER"}),
})

# The books (webapp/finance/books.py, journal.py, ledgers.py): accounts and the managers read them; accounts and
# the administrator key journals and keep the chart of accounts and the bank accounts.
BOOKS_READERS = frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})
BOOKS_KEEPERS = frozenset({"ADMIN", "ACCOUNTS"})
ACCESS.update({
    "finance.trial_balance": BOOKS_READERS,
    "finance.profit_and_loss": BOOKS_READERS,
    "finance.balance_sheet": BOOKS_READERS,
    "finance.day_book": BOOKS_READERS,
    "finance.cash_book": BOOKS_READERS,
    "finance.bank_book": BOOKS_READERS,
    "finance.ledger_account": BOOKS_READERS,
    "finance.voucher_detail": BOOKS_READERS,
    "finance.journal_new": BOOKS_KEEPERS,
    "finance.journal_line": BOOKS_KEEPERS,
    "finance.chart_of_accounts": BOOKS_KEEPERS,
    "finance.ledger_new": BOOKS_KEEPERS,
    "finance.ledger_edit": BOOKS_KEEPERS,
    "finance.group_new": BOOKS_KEEPERS,
    "finance.group_edit": BOOKS_KEEPERS,
    "finance.bank_account_new": BOOKS_KEEPERS,
    "finance.bank_account_edit": BOOKS_KEEPERS,
})

# Payroll (webapp/payroll): accounts and the administrator run it (structures, the run, the bank, PF and ESI
# files); managers read the register to approve it; everyone else sees their own approved payslips only.
PAYROLL_RUN = frozenset({"ADMIN", "ACCOUNTS"})
PAYROLL_REVIEW = frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})
ACCESS.update({
    "payroll.runs": PAYROLL_REVIEW,
    "payroll.run_new": PAYROLL_RUN,
    "payroll.run_detail": PAYROLL_REVIEW,
    "payroll.run_recompute": PAYROLL_RUN,
    "payroll.run_check": PAYROLL_RUN,
    "payroll.run_send_back": PAYROLL_REVIEW,
    "payroll.run_approve": frozenset({"ADMIN", "MANAGER"}),
    "payroll.run_paid": PAYROLL_RUN,
    "payroll.register_xlsx": PAYROLL_REVIEW,
    "payroll.bank_csv": PAYROLL_RUN,
    "payroll.ecr": PAYROLL_RUN,
    "payroll.esi_csv": PAYROLL_RUN,
    "payroll.payslip_pdf": PAYROLL_REVIEW,
    "payroll.my_payslips": HR_STAFF,
    "payroll.my_payslip_pdf": HR_STAFF,
    "payroll.structures": PAYROLL_RUN,
    "payroll.people": PAYROLL_RUN,
    "payroll.regime_choose": PAYROLL_RUN,
    "payroll.loan_new": PAYROLL_RUN,
    # Payroll tax (webapp/payroll/tax.py, rates.py): declarations and arrears are payroll's; managers read the rates.
    "payroll.declaration_save": PAYROLL_RUN,
    "payroll.arrears": PAYROLL_RUN,
    "payroll.arrears_new": PAYROLL_RUN,
    "payroll.rates": PAYROLL_REVIEW,
    "payroll.rates_pf": PAYROLL_RUN,
    "payroll.rates_esi": PAYROLL_RUN,
    "payroll.rates_pt": PAYROLL_RUN,
    "payroll.rates_tds": PAYROLL_RUN,
    "payroll.rates_old_regime": PAYROLL_RUN,
})
# Incentives and the full and final settlement (webapp/payroll/incentives.py, settlement.py): accounts keep the
# rules and compute a month, managers read them and adjust a person's month; the settlement is the register's.
INCENTIVE_READERS = frozenset({"ADMIN", "MANAGER", "ACCOUNTS"})
ACCESS.update({
    "payroll.incentives": INCENTIVE_READERS,
    "payroll.incentives_compute": PAYROLL_RUN,
    "payroll.incentives_person": {"GET": INCENTIVE_READERS, "POST": frozenset({"ADMIN", "MANAGER"})},
    "payroll.incentives_rules": {"GET": INCENTIVE_READERS, "POST": PAYROLL_RUN},
    "payroll.incentives_rule_end": PAYROLL_RUN,
    "payroll.settlement_pdf": PAYROLL_REVIEW,
    "payroll.notice_shortfall": PAYROLL_RUN,
    "payroll.my_incentives": HR_STAFF,
})

# Routes whose own job, when used, is to send the browser to the login page
# (logging out, or the setup wizard once the showroom is set up).
LEADS_TO_LOGIN = {"auth.logout", "auth.switch_user", "auth.setup"}

ANONYMOUS = "anonymous"

# The work on a job card: its prices (estimate, approval) are read by the counter and accounts, never the
# workshop floor; parts are issued by the counter; the parts page (no prices) is read by the workshop;
# technicians mark their lines done from "my jobs"; parts requests are purchasing's (accounts) and the counter's.
JOB_WORK_COUNTER = frozenset({"ADMIN", "MANAGER", "SERVICE_ADVISOR"})
JOB_WORK_PRICES = {"GET": JOB_WORK_COUNTER | {"ACCOUNTS"}, "POST": JOB_WORK_COUNTER}
ACCESS.update({
    "service.estimate": JOB_WORK_PRICES,
    "service.approval": JOB_WORK_PRICES,
    "service.line_remove": JOB_WORK_COUNTER,
    "service.parts": JOB_WORK_COUNTER | {"TECHNICIAN", "ACCOUNTS"},
    "service.parts_issue": JOB_WORK_COUNTER,
    "service.parts_return": JOB_WORK_COUNTER,
    "service.parts_requests": JOB_WORK_COUNTER | {"ACCOUNTS"},
    "service.parts_request_status": JOB_WORK_COUNTER | {"ACCOUNTS"},
    "service.my_jobs": JOB_WORK_COUNTER | {"TECHNICIAN"},
    "service.line_done": JOB_WORK_COUNTER | {"TECHNICIAN"},
})

# The job card's bill and gate pass (webapp/service/bill.py): prices are never the technician's; the
# invoice is made by the counter or accounts (service_invoice.post); the counter issues the gate pass.
ACCESS.update({
    "service.bill": JOB_WORK_COUNTER | {"ACCOUNTS"},
    "service.bill_make": JOB_WORK_COUNTER | {"ACCOUNTS"},
    "service.gate_pass_issue": JOB_WORK_COUNTER,
    "service.gate_pass_print": WORKSHOP_READERS,
})


def admitted(endpoint: str, method: str):
    """Who the table lets use this route with this method: a set of roles, or ANYONE."""
    allowed = ACCESS[endpoint]
    return allowed.get(method, allowed["GET"]) if isinstance(allowed, dict) else allowed


def routes(app):
    """Every rule of the app except static files."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def undeclared_routes(app) -> list[str]:
    return sorted(rule.endpoint for rule in routes(app)
                  if allowed_roles(app.view_functions[rule.endpoint]) is None)


def requests_for(app, ids: dict[str, int]):
    """(endpoint, method, path) for every route and every method it answers (GET and/or POST)."""
    found = []
    for rule in sorted(routes(app), key=lambda r: r.rule):
        # An id the fixture does not create is one that does not exist: allowed roles then get a
        # 404 from the view, refused roles the 403 from the role check, which is what is tested.
        path = rule.build({arg: ids.get(arg, 999_999) for arg in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


@pytest.fixture
def showroom(app, engine, make_branch, make_staff):
    """One staff member of every role, plus someone to act on and a branch; returns the ids."""
    branch_id = make_branch()
    codes = {}
    for n, role in enumerate(ROLES):
        make_staff(f"R{n}", role, PIN, branch_id=branch_id)
        codes[role] = f"R{n}"
    target_id, _, _ = make_staff("TGT", "SALES", "7391", branch_id=branch_id)
    ids = {"staff_id": target_id, "branch_id": branch_id, **catalog_ids(engine, branch_id),
           **procurement_ids(engine, branch_id), **sales_ids(engine, branch_id), **warranty_ids(engine, branch_id)}
    ids.update(inventory_ids(engine, branch_id, ids["part_id"]))
    ids.update(service_ids(engine, branch_id))
    ids.update(claim_ids(engine, branch_id))
    ids.update(service_bill_ids(engine, branch_id))
    ids.update(crm_ids(engine, branch_id, ids["lead_id"]))
    ids.update(communication_ids(engine, branch_id, ids["customer_id"]))
    ids.update(hr_ids(engine, branch_id, target_id))
    ids.update(finance_cash_ids(engine, branch_id))
    ids.update(books_ids(engine, branch_id, ids["customer_id"]))
    ids.update(payroll_ids(engine, branch_id))
    ids.update(incentive_ids(engine))
    return {"codes": codes, "ids": ids, "target": target_id}


def browser(app, showroom, role):
    """A fresh browser, logged in as the role (or not), and a CSRF token of its session."""
    client = app.test_client()
    if role == ANONYMOUS:
        return client, page_csrf(client, "/login")
    assert login(client, showroom["codes"][role], PIN).status_code == 303
    return client, page_csrf(client, "/profile")


def send(client, method, path, token=None, headers=None):
    data = {"csrf_token": token} if token else {}
    return client.open(path, method=method, data=data if method != "GET" else None, headers=headers or {})


def location(response) -> str:
    return response.headers.get("Location", "")


def target_state(engine, staff_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pin_hash, is_active, must_change_pin, updated_at FROM master.staff "
                                    "WHERE staff_id = :id"), {"id": staff_id}).one()


# ----------------------------------------------------------------------------- (a) declarations


def test_every_route_declares_its_roles_or_is_public(app):
    assert undeclared_routes(app) == []
    for rule in routes(app):
        declared = allowed_roles(app.view_functions[rule.endpoint])
        assert declared == PUBLIC or (isinstance(declared, frozenset) and declared and declared <= set(ROLES)), (
            rule.endpoint, declared)


def test_every_route_names_capabilities_of_the_one_map_not_roles(app):
    # Who may do what is written once, in webapp/capabilities.py; a route names what it needs.
    for rule in routes(app):
        view = app.view_functions[rule.endpoint]
        if allowed_roles(view) == PUBLIC:
            continue
        read, write = view.capability
        assert allowed_roles(view, "GET") == CAPABILITIES[read], rule.endpoint
        assert allowed_roles(view, "POST") == CAPABILITIES[write], rule.endpoint


ROLE_NAMES = re.compile(r"""['"](ADMIN|MANAGER|SALES|SERVICE_ADVISOR|TECHNICIAN|ACCOUNTS|DEALER)['"]""")


def test_no_template_or_view_names_a_role_it_should_ask_the_map_about():
    # Buttons and links ask can('...') or may_open(endpoint); a role named in a template or a view is a
    # second copy of the map. A role as data (the first staff member is an ADMIN) says so on its line;
    # data about roles, such as discount limits per role, lives in tables.
    named = [f"{path.relative_to(ROOT)}:{n}" for folder in ("templates", "webapp")
             for path in sorted((ROOT / folder).rglob("*.htm*" if folder == "templates" else "*.py"))
             if path.name not in ("capabilities.py", "config.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if (ROLE_NAMES.search(line) or "current_user.role in" in line or "current_user.role ==" in line)
             and "# data, not access" not in line and "(data, not access)" not in line]
    assert named == []


def test_a_route_someone_forgot_to_declare_is_caught_and_refused_even_to_an_admin(make_app, make_staff):
    fresh = make_app()

    @fresh.get("/forgotten")
    def forgotten():
        return "the secret price list"

    assert undeclared_routes(fresh) == ["forgotten"]
    make_staff("AD1", "ADMIN", PIN)
    client = fresh.test_client()
    assert login(client, "AD1", PIN).status_code == 303
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "secret price list" not in response.get_data(as_text=True)


def test_the_access_table_names_every_route_and_every_role(app, engine):
    assert set(ACCESS) == {rule.endpoint for rule in routes(app)}, "a route was added or removed: update ACCESS"
    assert STAFF_ROLES == set(ROLES), "a role was added or removed: decide what it may open"
    with engine.connect() as conn:
        assert set(conn.execute(sa.text("SELECT role_code FROM master.role")).scalars()) == set(ROLES)


# ----------------------------------------------------------------------------- (b) the matrix


def may_end_the_session(endpoint, response) -> bool:
    """A request after which the browser logs in again: the login routes' own (log out, switch user, a new
    PIN, other sessions ended), or one that sent it to the login page. Any other route leaves the session as
    it was; were that ever not so, the next request of the same browser would be refused and reported."""
    return endpoint.startswith("auth.") or endpoint in LEADS_TO_LOGIN or location(response).startswith("/login")


@pytest.mark.parametrize("role", [*ROLES, ANONYMOUS])
def test_each_role_opens_exactly_the_routes_the_showroom_allows_it(app, engine, showroom, role):
    before = target_state(engine, showroom["target"])
    problems = []
    client = None
    for endpoint, method, path in requests_for(app, showroom["ids"]):
        allowed = admitted(endpoint, method) == ANYONE or (
            admitted(endpoint, method) != PROVIDER and role != ANONYMOUS and role in admitted(endpoint, method))
        if client is None:
            client, token = browser(app, showroom, role)
        response = send(client, method, path, token)
        status, where = response.status_code, location(response)
        if (allowed and method != "GET" and may_end_the_session(endpoint, response)) or endpoint in LEADS_TO_LOGIN:
            client = None  # it may have changed the session (logged out, a new PIN): the next one logs in afresh
        what = f"{role} {method} {path} -> {status} {where}"
        if status >= 500:
            problems.append(f"{what}: server error")
        elif admitted(endpoint, method) == PROVIDER:
            if status != 403:
                problems.append(f"{what}: expected 403 without the provider's secret")
        elif allowed:
            if status in (401, 403):
                problems.append(f"{what}: refused, but the table allows it")
            elif where.startswith("/login") and not (endpoint in LEADS_TO_LOGIN and where == "/login"):
                problems.append(f"{what}: sent to login, but the table allows it")
        elif role == ANONYMOUS:
            expected = f"/login?next={path}" if method == "GET" else "/login"
            if status != 303 or where != expected:
                problems.append(f"{what}: expected 303 to {expected}")
        elif status != 403 or "Not allowed" not in response.get_data(as_text=True):
            problems.append(f"{what}: expected the 403 page")
    assert problems == []
    if role not in ADMIN_ONLY:  # every refused request left the staff member alone
        assert target_state(engine, showroom["target"]) == before


# ----------------------------------------------------------------------------- (c) CSRF


def state_changing(app, ids):
    """The routes a browser's form or htmx posts to (the providers' reports are not: they carry a secret)."""
    return [(e, m, p) for e, m, p in requests_for(app, ids)
            if m not in ("GET", "HEAD", "OPTIONS") and admitted(e, m) != PROVIDER]


def test_every_form_post_without_a_csrf_token_is_refused_with_400(app, showroom):
    posts = state_changing(app, showroom["ids"])
    assert len(posts) >= 10
    problems = []
    client, _ = browser(app, showroom, "ADMIN")  # one login: a refused post leaves the session as it was
    for endpoint, method, path in posts:
        response = send(client, method, path)  # a form on another site, posting with the cookie
        if response.status_code != 400:
            problems.append(f"{method} {path} -> {response.status_code}")
        elif "did not come from this system" not in response.get_data(as_text=True):
            problems.append(f"{method} {path}: 400 without the explanation")
    assert problems == []


def test_every_htmx_post_with_the_x_csrftoken_header_is_accepted(app, showroom):
    problems = []
    client = None
    for endpoint, method, path in state_changing(app, showroom["ids"]):
        if client is None:
            client, token = browser(app, showroom, "ADMIN")
        response = send(client, method, path, headers={"X-CSRFToken": token, "HX-Request": "true"})
        if response.status_code in (400, 401, 403) or response.status_code >= 500:
            problems.append(f"{method} {path} -> {response.status_code}")
        if may_end_the_session(endpoint, response):
            client = None
    assert problems == []


def test_a_logout_without_a_token_does_not_log_out(app, showroom):
    client, _ = browser(app, showroom, "SALES")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_a_token_from_another_session_is_refused(app, engine, showroom):
    _, others_token = browser(app, showroom, "MANAGER")
    admin, _ = browser(app, showroom, "ADMIN")
    before = target_state(engine, showroom["target"])
    response = admin.post(f"/master/staff/{showroom['target']}/reset-pin", data={"csrf_token": others_token})
    assert response.status_code == 400
    assert target_state(engine, showroom["target"]) == before


def test_over_https_a_post_from_another_site_is_refused_even_with_a_valid_token(app, engine, showroom):
    https = {"base_url": "https://localhost"}
    client = app.test_client()
    token = csrf_from(client.get("/login", **https).get_data(as_text=True))
    form = {"staff_code": showroom["codes"]["ADMIN"], "pin": PIN, "csrf_token": token}
    for referer in (None, "https://evil.example/login", "http://localhost/login"):
        headers = {"Referer": referer} if referer else {}
        response = client.post("/login", data=form, headers=headers, **https)
        assert response.status_code == 400, referer
    # The Referrer-Policy (same-origin) lets the browser send what the check needs:
    assert client.post("/login", data=form, headers={"Referer": "https://localhost/login"},
                       **https).status_code == 303


def test_the_login_form_itself_needs_its_token(app, engine, showroom):
    client = app.test_client()
    response = client.post("/login", data={"staff_code": showroom["codes"]["ADMIN"], "pin": PIN})
    assert response.status_code == 400
    assert client.get("/").status_code == 303


def test_a_token_from_before_login_does_not_work_after_it(app, showroom):
    client = app.test_client()
    anonymous_token = page_csrf(client, "/login")
    client.post("/login", data={"staff_code": showroom["codes"]["SALES"], "pin": PIN, "csrf_token": anonymous_token})
    assert client.post("/logout", data={"csrf_token": anonymous_token}).status_code == 400


# ----------------------------------------------------------------------------- (d) GET changes nothing


def business_state(engine):
    """The audit trail's length and a fingerprint of the master data (sessions excluded)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM audit.log),
                      (SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY staff_id), '')) FROM master.staff s),
                      (SELECT md5(coalesce(string_agg(b::text, '|' ORDER BY branch_id), '')) FROM master.branch b)"""
        )).one()


@pytest.mark.parametrize("role", ["ADMIN", "SALES", ANONYMOUS])
def test_opening_any_page_changes_nothing(app, engine, showroom, role):
    client, _ = browser(app, showroom, role)
    gets = [(e, p) for e, m, p in requests_for(app, showroom["ids"]) if m == "GET"]
    assert len(gets) >= 10
    changed = []
    for endpoint, path in gets:
        before = business_state(engine)
        for headers in ({}, {"HX-Request": "true", "HX-Target": "staff-results"}):
            client.get(path, headers=headers)
        if business_state(engine) != before:
            changed.append(path)
    assert changed == []


def test_a_post_only_action_cannot_be_triggered_by_a_link(app, engine, showroom):
    client, _ = browser(app, showroom, "ADMIN")
    before = target_state(engine, showroom["target"])
    for path in ("/logout", "/switch-user", "/profile/sessions/end-others",
                 f"/master/staff/{showroom['target']}/reset-pin", f"/master/staff/{showroom['target']}/active"):
        assert client.get(path).status_code == 405, path
    assert client.get("/").status_code == 200  # still logged in
    assert target_state(engine, showroom["target"]) == before


# ----------------------------------------------------------------------------- (e) headers


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def sample_responses(app, showroom):
    anonymous = app.test_client()
    sales, _ = browser(app, showroom, "SALES")
    admin, _ = browser(app, showroom, "ADMIN")
    return {
        "login page": anonymous.get("/login"),
        "redirect to login": anonymous.get("/master/staff"),
        "htmx 401": anonymous.get("/master/staff", headers={"HX-Request": "true"}),
        "health check": anonymous.get("/healthz"),
        "static file": anonymous.get("/static/css/app.css"),
        "dashboard": admin.get("/"),
        "staff list": admin.get("/master/staff"),
        "403 page": sales.get("/master/staff"),
        "404 page": admin.get("/no-such-page"),
        "400 page": admin.post("/logout"),
        "htmx fragment": admin.get("/master/staff", headers={"HX-Request": "true", "HX-Target": "staff-results"}),
    }


def test_every_response_carries_the_security_headers(app, showroom):
    problems = []
    for name, response in sample_responses(app, showroom).items():
        csp = csp_directives(response)
        scripts = csp.get("script-src", csp.get("default-src"))
        if not scripts or "'unsafe-inline'" in scripts or "'unsafe-eval'" in scripts or "*" in scripts:
            problems.append(f"{name}: script-src {scripts}")
        if csp.get("frame-ancestors") not in (["'none'"], ["'self'"]):
            problems.append(f"{name}: frame-ancestors {csp.get('frame-ancestors')}")
        if csp.get("object-src") != ["'none'"]:
            problems.append(f"{name}: object-src {csp.get('object-src')}")
        if "'unsafe-inline'" in csp.get("style-src", csp.get("default-src", [])):
            problems.append(f"{name}: inline styles allowed")
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{name}: X-Content-Type-Options")
        if response.headers.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
            problems.append(f"{name}: Referrer-Policy {response.headers.get('Referrer-Policy')}")
        if response.headers.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN"):
            problems.append(f"{name}: X-Frame-Options")
    assert problems == []


def test_the_error_page_shown_when_saving_fails_at_commit_still_carries_the_headers(app, engine, showroom):
    """A failure at COMMIT itself (disk full, a deferred check) is answered after the headers were added."""
    client = app.test_client()
    page_csrf(client, "/login")
    # An anonymous visitor has no session row (nor its cookie) until a login succeeds.
    assert client.get_cookie("erp_session") is None
    with engine.begin() as conn:
        conn.execute(sa.text("""CREATE FUNCTION public.refuse_at_commit() RETURNS trigger LANGUAGE plpgsql
                                AS $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$"""))
        conn.execute(sa.text("""CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON master.staff_session
                                DEFERRABLE INITIALLY DEFERRED
                                FOR EACH ROW EXECUTE FUNCTION public.refuse_at_commit()"""))
    try:
        token = page_csrf(client, "/login")
        response = client.post("/login", data={"staff_code": showroom["codes"]["ADMIN"], "pin": PIN,
                                               "csrf_token": token})
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER refuse_at_commit ON master.staff_session"))
            conn.execute(sa.text("DROP FUNCTION public.refuse_at_commit()"))
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "'unsafe-inline'" not in response.headers.get("Content-Security-Policy", "'unsafe-inline'")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert not response.headers.getlist("Set-Cookie")  # nothing was saved, the session included
    assert client.get_cookie("erp_session") is None
    assert client.get("/").status_code == 303  # not logged in


def test_pages_with_showroom_data_are_not_kept_in_the_browser_cache(app, showroom):
    responses = sample_responses(app, showroom)
    for name in ("dashboard", "staff list", "403 page", "htmx fragment", "login page"):
        assert "no-store" in responses[name].headers.get("Cache-Control", ""), name


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def test_no_page_relies_on_inline_script_or_style_that_the_csp_would_block(app, showroom):
    admin, _ = browser(app, showroom, "ADMIN")
    pages = {p: admin.get(p) for e, m, p in requests_for(app, showroom["ids"])
             if m == "GET" and admitted(e, m) != PROVIDER}       # a provider's check answers 403 to a browser
    pages["/login"] = app.test_client().get("/login")
    assert all(r.status_code in (200, 302) for r in pages.values()), {p: r.status_code for p, r in pages.items()}
    # Pages only: a PDF (a printed purchase order) is not HTML and holds no script.
    inline = {p: INLINE.findall(r.get_data(as_text=True)) for p, r in pages.items() if r.mimetype == "text/html"}
    assert {p: found for p, found in inline.items() if found} == {}


# ----------------------------------------------------------------------------- (f) error pages


def test_a_role_without_access_gets_the_403_page_in_the_apps_look(app, showroom):
    sales, _ = browser(app, showroom, "SALES")
    response = sales.get("/master/staff")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Not allowed" in page and "Your role does not give access" in page
    assert '<link rel="stylesheet" href="/static/css/app.css' in page
    assert "Staff R2" in page  # the top bar with who is logged in
    assert 'href="/">Back to the dashboard' in page
    assert csrf_from(page)  # a full page: log out and switch user still work from it


def test_an_htmx_request_without_access_gets_a_403_message_not_a_whole_page(app, showroom):
    sales, _ = browser(app, showroom, "SALES")
    response = sales.post(f"/master/staff/{showroom['target']}/active",
                          headers={"HX-Request": "true", "X-CSRFToken": page_csrf(sales, "/profile")})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Not allowed" in body and "<html" not in body


@pytest.mark.parametrize("role", ["ADMIN", ANONYMOUS])
def test_an_unknown_address_gets_the_404_page_in_the_apps_look(app, showroom, role):
    client, _ = browser(app, showroom, role)
    response = client.get("/master/no-such-screen")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page
    assert '<link rel="stylesheet" href="/static/css/app.css' in page
    assert ("Back to the dashboard" if role == "ADMIN" else "Go to login") in page


def test_a_staff_member_that_does_not_exist_is_a_404_page(app, showroom):
    admin, _ = browser(app, showroom, "ADMIN")
    response = admin.get("/master/staff/999999")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------- login's "next"


@pytest.mark.parametrize("next_, lands_on", [
    ("/master/staff?q=ravi", "/master/staff?q=ravi"),
    ("https://evil.example/login", "/"),
    ("//evil.example/login", "/"),
    ("/\\evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("http:evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_after_login_the_browser_only_ever_goes_to_a_page_of_this_server(app, showroom, next_, lands_on):
    client = app.test_client()
    token = page_csrf(client, "/login")
    response = client.post("/login", data={"staff_code": showroom["codes"]["ADMIN"], "pin": PIN, "next": next_,
                                           "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on


def test_the_opener_policy_is_sent_over_https_only(client):
    """On the showroom's plain-HTTP LAN address Chromium ignores COOP and logs an error on every page."""
    assert "Cross-Origin-Opener-Policy" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://erp.showroom.example")
    assert secure.headers["Cross-Origin-Opener-Policy"] == "same-origin"
