"""Selling vehicles: enquiries, quotations, bookings, allotment, finance and exchange, subsidy,
registration, PDI and delivery."""
from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/sales")

from . import accessories, steps, views  # noqa: E402,F401
