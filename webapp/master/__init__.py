"""Master data: showroom (branch) profile, staff, and the catalog (tax master, customers, financiers,
insurers, spare parts, labour operations)."""
from flask import Blueprint

bp = Blueprint("master", __name__, url_prefix="/master")

from . import catalog_views, views  # noqa: E402,F401
