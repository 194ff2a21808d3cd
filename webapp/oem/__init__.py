"""OEMs and what they make: models, variants, colours, dated price lists, schemes."""
from flask import Blueprint

bp = Blueprint("oem", __name__, url_prefix="/oem")

from . import views  # noqa: E402,F401
