"""Insurance sold with a vehicle: the policy, its own-damage and third-party validity, the
commission receivable, and the renewal list."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("insurance", __name__, url_prefix="/insurance")

from . import views  # noqa: E402,F401


@bp.record_once
def _hang_panels(state) -> None:
    """Panels this module draws on other modules' pages (webapp/panels.py)."""
    register_panel(state.app, "sale", "insurance.policy", "insurance/_sale_policy.html", views.policy_context, order=30)
