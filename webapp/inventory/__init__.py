"""Stock: vehicle units by chassis, battery packs, spare parts ledger, transfers, counts."""
from flask import Blueprint

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

from . import views  # noqa: E402,F401
