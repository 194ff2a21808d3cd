"""What other modules may use of billing: the balance of a sale, taking its advance, cancelling it
with its refund due, the tax invoice a stock transfer to another GSTIN needs, and the workshop's
bill of a job card (a service invoice, or a no-charge job sheet), its balance, its payment (a receipt
against the invoice: post_receipt(invoice_id=...)) and whether it is paid in full for the gate pass (and the
credit notes of a job card's earlier bills), a customer's unpaid service invoices, and the counter invoice that
sells an extended warranty plan for a VIN (post_plan_invoice), and the sales register's totals
(SalesFilter, sales_totals) that the GST reconciliation compares with the return and the books, and the
invoices' kept monthly totals of one kind (month_totals: the workshop's revenue on the home screen).

The one door into this module: others import from here, never from its views, queries or posting
(tests/test_import_contract.py). Its panel on the sale page is registered, not imported
(webapp/billing/__init__.py, webapp/panels.py).
"""
from .glance_queries import month_totals
from .plans import post_plan_invoice
from .posting import (
    RECEIPT_MODES,
    REFUND_MODES,
    booking_balance,
    cancel_booking,
    post_receipt,
    post_transfer_invoice,
    transfer_needs_invoice,
)
from .registers import EXPORT_FORMATS, Column, SalesFilter, export_response, sales_totals
from .service_invoices import (
    COVERAGES,
    SERVICE_INVOICE_REFUSALS,
    draft_service_invoice,
    invoice_paid_in_full,
    is_job_sheet,
    post_service_invoice,
    service_invoice_balance,
    service_invoice_credits,
    service_invoice_numbers,
    unpaid_service_invoices,
)

__all__ = ["COVERAGES", "EXPORT_FORMATS", "Column", "export_response", "RECEIPT_MODES", "REFUND_MODES", "SERVICE_INVOICE_REFUSALS", "booking_balance",
           "cancel_booking", "draft_service_invoice", "invoice_paid_in_full", "is_job_sheet", "month_totals", "post_receipt",
           "post_plan_invoice", "post_service_invoice", "post_transfer_invoice", "service_invoice_balance",
           "service_invoice_credits", "service_invoice_numbers",
           "transfer_needs_invoice", "SalesFilter", "sales_totals",
           "unpaid_service_invoices"]
