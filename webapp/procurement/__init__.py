"""Buying from OEMs: purchase orders, goods receipts, purchase invoices, payments."""
from flask import Blueprint

bp = Blueprint("procurement", __name__, url_prefix="/procurement")

from . import views  # noqa: E402,F401
