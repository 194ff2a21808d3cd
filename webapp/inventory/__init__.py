"""Stock: vehicle units by chassis, battery packs, spare parts ledger, transfers, counts."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

# Every view module registers its routes on bp (the endpoint names are bp's: inventory.<function>).
from . import counts, glance, parts, transfers, vehicles  # noqa: E402,F401


@bp.record_once
def _hang_panels(state) -> None:
    """Stock's figures on the home screen (webapp/panels.py)."""
    register_panel(state.app, "dashboard", "inventory.glance", "inventory/_glance.html", glance.panel, order=50)
