"""GST tax-invoice arithmetic (CGST Rules, rule 46), as billing has always imported it.

The arithmetic itself lives in the shared kernel, webapp.gst (lines, invoices, tax by head) and
webapp.money (rounding, amount in words), which procurement uses too: a sale and a purchase of
the same amount carry the same tax.
"""
from __future__ import annotations

from ..gst import (
    HsnSummaryRow,
    Invoice,
    InvoiceLine,
    LineTax,
    TaxHeads,
    compute_invoice,
    compute_line,
    exclusive_line_tax,
    split_tax,
    tax_at_rate,
)
from ..money import HUNDRED, MAX_WORDS_AMOUNT, PAISA, RUPEE, ZERO, amount_in_words, round_paisa, round_rupee

__all__ = [
    "HUNDRED", "MAX_WORDS_AMOUNT", "PAISA", "RUPEE", "ZERO", "HsnSummaryRow", "Invoice", "InvoiceLine", "LineTax",
    "TaxHeads", "amount_in_words", "compute_invoice", "compute_line", "exclusive_line_tax", "round_paisa",
    "round_rupee", "split_tax", "tax_at_rate",
]
