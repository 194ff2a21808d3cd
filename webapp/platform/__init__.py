"""Platform endpoints that belong to no business module (health check)."""
from flask import Blueprint

bp = Blueprint("platform", __name__)

from . import views  # noqa: E402,F401
