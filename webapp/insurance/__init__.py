"""Insurance sold with a vehicle: the policy, its own-damage and third-party validity, the
commission receivable, and the renewal list."""
from flask import Blueprint

bp = Blueprint("insurance", __name__, url_prefix="/insurance")

from . import views  # noqa: E402,F401
