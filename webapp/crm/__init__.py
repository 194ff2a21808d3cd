"""CRM: the lead (the sales enquiry of before, moved by sql/0035) from walk-in, phone, website form,
referral, event or the OEM portal; its follow-ups and calls, test rides on demo vehicles, its loss
with a reason, the customer made from it, and the funnel and lost-reason reports. Quotations and
bookings stay sales'; they read the lead through api.py."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("crm", __name__, url_prefix="/crm")

# Every view module registers its routes on bp (the endpoint names are bp's: crm.<function>).
from . import follow_ups, imports, leads, lost_reasons, reports, test_rides  # noqa: E402,F401


@bp.record_once
def _hang_panels(state) -> None:
    """Panels this module draws on other modules' pages (webapp/panels.py)."""
    register_panel(state.app, "dashboard", "crm.follow_ups", "crm/_dashboard_follow_ups.html",
                   follow_ups.dashboard_panel, order=10)
