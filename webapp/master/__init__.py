"""Master data: showroom (branch) profile and staff."""
from flask import Blueprint

bp = Blueprint("master", __name__, url_prefix="/master")

from . import views  # noqa: E402,F401
