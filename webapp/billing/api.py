"""What other modules may use of billing: the balance of a sale, taking its advance, cancelling it
with its refund due, and the tax invoice a stock transfer to another GSTIN needs.

The one door into this module: others import from here, never from its views, queries or posting
(tests/test_import_contract.py). Its panel on the sale page is registered, not imported
(webapp/billing/__init__.py, webapp/panels.py).
"""
from .posting import (
    RECEIPT_MODES,
    REFUND_MODES,
    booking_balance,
    cancel_booking,
    post_receipt,
    post_transfer_invoice,
    transfer_needs_invoice,
)

__all__ = ["RECEIPT_MODES", "REFUND_MODES", "booking_balance", "cancel_booking", "post_receipt",
           "post_transfer_invoice", "transfer_needs_invoice"]
