"""Selling documents and money: GST tax invoices (vehicle and counter sales), receipts,
refunds, credit notes, their PDFs and the registers. The arithmetic is in billing.tax,
posting in billing.posting."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("billing", __name__, url_prefix="/billing")

from . import counter, glance, invoices, register_views, views  # noqa: E402,F401


@bp.record_once
def _hang_panels(state) -> None:
    """Panels this module draws on other modules' pages (webapp/panels.py)."""
    register_panel(state.app, "sale", "billing.money", "billing/_sale_money.html", views.money_context, order=20)
    register_panel(state.app, "dashboard", "billing.glance", "billing/_glance.html", glance.panel, order=30)
