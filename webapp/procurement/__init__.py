"""Buying from OEMs: purchase orders, goods receipts, purchase invoices, payments."""
from flask import Blueprint

bp = Blueprint("procurement", __name__, url_prefix="/procurement")

# Every view module registers its routes on bp (the endpoint names are bp's: procurement.<function>).
from . import orders, purchase_invoices, receipts  # noqa: E402,F401
