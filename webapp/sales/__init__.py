"""Selling vehicles: quotations, bookings, allotment, finance and exchange, subsidy,
registration, PDI and delivery."""
from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/sales")

# Every view module registers its routes on bp (the endpoint names are bp's: sales.<function>).
from . import (  # noqa: E402,F401
    accessories,
    allotment,
    cancellation,
    discounts,
    finance,
    handover,
    quotations,
    registration,
    step_settings,
    steps,
    views,
)
