"""The steps of a sale after booking: allotment, discount approval, finance, exchange,
subsidy, registration, PDI and delivery, cancellation, and the settings they run on.

Each step has its own page under /sales/bookings/<booking_id>/...; a successful POST goes back
to the sale's page. The rules (stages, the allotment race, the PDI gate, the order of the subsidy
steps, who decides a discount) are the database's (sql/0006, 0007): the views only turn its
constraint names into what the showroom reads.

This module draws the steps panel on the sale's page; the step pages are in allotment.py,
discounts.py, finance.py (finance, exchange, subsidy), registration.py (RTO registration, PDI),
handover.py (delivery, release, delivery note), cancellation.py and step_settings.py, sharing
step_common.py; their SQL is in step_queries.py.
"""
from __future__ import annotations

from flask import current_app

from ..security import can
from . import queries, step_queries
from .accessories import accessory_lines

# --------------------------------------------------------------------------- the panel on the sale's page


def subsidy_pending_step(claim) -> str | None:
    """The next step a subsidy claim waits for, or None when the OEM has credited it."""
    if claim["voucher_id"] is None:
        return "voucher"
    if claim["buyer_signed_on"] is None:
        return "signature"
    if claim["dealer_uploaded_on"] is None:
        return "upload"
    if claim["claim_raised_on"] is None:
        return "claim"
    if claim["credited_on"] is None:
        return "credit"
    return None


SUBSIDY_STEPS = {
    "voucher": "e-voucher id", "signature": "buyer's signature", "upload": "upload on the portal",
    "claim": "claim to the OEM", "credit": "OEM's credit",
}


def steps_context(conn, booking, accessories=None) -> dict:
    """What the sale page's steps panel (templates/sales/_steps.html) needs: one name, ``steps``."""
    row = step_queries.steps_panel(conn, booking["booking_id"])
    stage = booking["stage"]
    subsidy = None
    if row["eligible_amount"] is not None:
        subsidy = {"pending": subsidy_pending_step(row)}
        subsidy["pending_label"] = SUBSIDY_STEPS.get(subsidy["pending"])
    return {"steps": {
        "row": row,
        "subsidy": subsidy,
        "open": stage in ("BOOKED", "ALLOTTED"),
        "show_registration": not booking["is_low_speed"],
        "may_change": can("sale.change"),
        "may_decide": can("discount.decide"),
        "may_cancel": can("sale.change"),
        # The sale page has read the accessory lines already (its agreed terms list them).
        "accessories": accessories if accessories is not None else accessory_lines(conn, booking["booking_id"]),
        "gate": (queries.handover_gate(conn, booking["booking_id"], outstanding=stage == "INVOICED")
                 if stage in ("INVOICED", "DELIVERED") else None),
        "refund_pdf": "billing.refund_pdf" in current_app.view_functions,
    }}
