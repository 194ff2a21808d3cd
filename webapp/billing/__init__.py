"""Selling documents and money: GST tax invoices (vehicle and counter sales), receipts,
refunds, credit notes, their PDFs and the registers. The arithmetic is in billing.tax,
posting in billing.posting."""
from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/billing")

from . import invoices, register_views, views  # noqa: E402,F401
