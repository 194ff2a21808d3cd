"""The service workshop: arrival of a vehicle (sold here or elsewhere), job cards numbered per
branch and year, the inspection checklist, battery readings per pack with their flags, photos,
the workshop board that technicians move cards along, and each vehicle's service history with
its battery health chart. Other modules hang their panels on the arrival and vehicle pages'
"service_vehicle" slot (webapp/panels.py)."""
from flask import Blueprint

from ..documents import register_document
from ..panels import register_panel

bp = Blueprint("service", __name__, url_prefix="/service")

register_document("job_card", "service.job_card", "job_card_id")

from . import arrival, bill, board, estimates, glance, intervals, jobcards, parts, settings, vehicles  # noqa: E402,F401


@bp.record_once
def _hang_panels(state) -> None:
    """The workshop's own panel on its arrival and vehicle pages: next service due, unpaid bills."""
    register_panel(state.app, "service_vehicle", "service.bill", "service/bill_panel.html", bill.vehicle_panel, order=40)
    register_panel(state.app, "dashboard", "service.glance", "service/_glance.html", glance.panel, order=40)
