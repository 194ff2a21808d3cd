"""What other modules may use of crm: the lead a quotation or booking is made for (if the signed-in
user may see it: else the 404 page) and what the sales forms start pre-filled with from it.

The one door into this module (tests/test_import_contract.py): sales imports this, never crm's
queries or views. The lead's status follows the quotation and the booking by trigger
(sql/functions/93_crm.sql), so sales writes nothing of crm's.
"""
from __future__ import annotations

from datetime import date

from .access import lead_or_404 as lead_for_sale
from .queries import LEAD_SOURCES, LEAD_STATUSES, OPEN_STATUSES


def booking_prefill(lead, today: date) -> dict:
    """The booking form's start from the lead: its customer (made from the lead once), the mobile to
    find them by, whether they need finance, and the expected date when it is still ahead."""
    expected = lead["expected_purchase_on"]
    return {"customer_id": lead["customer_id"], "customer_q": lead["mobile"],
            "finance_needed": bool(lead["finance_needed"]),
            "expected_delivery": expected if expected is not None and expected >= today else None}


__all__ = ["LEAD_SOURCES", "LEAD_STATUSES", "OPEN_STATUSES", "booking_prefill", "lead_for_sale"]
