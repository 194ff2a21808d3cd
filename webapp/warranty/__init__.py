"""Warranty: the vehicle's and each battery pack's cover (years / km from the sale, extended
plans, the rule a replacement pack follows), free services due, and the OEM's recall / service
campaigns; claims to the OEM from the job cards and the battery pack swap under warranty."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("warranty", __name__, url_prefix="/warranty")

from . import claims, sale_plan, views  # noqa: E402,F401
from .facts import km  # noqa: E402

bp.add_app_template_filter(km, "km")


@bp.record_once
def _hang_panels(state) -> None:
    """Panels this module draws on other modules' pages (webapp/panels.py): the warranty facts on
    the service arrival page ("service_vehicle": a subject with vin, variant_id, model_id,
    sale_date, last_odometer_km, mfg_month, pack_ids)."""
    register_panel(state.app, "service_vehicle", "warranty.vehicle", "warranty/_vehicle_panel.html",
                   views.service_vehicle_context, order=20)
    register_panel(state.app, "service_job_card", "warranty.claims", "warranty/_job_card_claims.html",
                   claims.job_card_context, order=20)
    register_panel(state.app, "sale", "warranty.sale_plan", "warranty/_sale_plan.html", sale_plan.sale_context,
                   order=40)
