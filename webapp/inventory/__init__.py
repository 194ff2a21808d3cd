"""Stock: vehicle units by chassis, battery packs, spare parts ledger, transfers, counts."""
from flask import Blueprint

bp = Blueprint("inventory", __name__, url_prefix="/inventory")

# Every view module registers its routes on bp (the endpoint names are bp's: inventory.<function>).
from . import counts, parts, transfers, vehicles  # noqa: E402,F401
