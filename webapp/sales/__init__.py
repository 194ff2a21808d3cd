"""Selling vehicles: quotations, bookings, allotment, finance and exchange, subsidy,
registration, PDI and delivery."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("sales", __name__, url_prefix="/sales")

# Every view module registers its routes on bp (the endpoint names are bp's: sales.<function>).
from . import (  # noqa: E402,F401
    accessories,
    allotment,
    cancellation,
    discounts,
    finance,
    glance,
    handover,
    quotations,
    registration,
    step_settings,
    steps,
    views,
)


@bp.record_once
def _hang_panels(state) -> None:
    """Sales' figures on the home screen (webapp/panels.py)."""
    register_panel(state.app, "dashboard", "sales.glance", "sales/_glance.html", glance.panel, order=20)
