"""The home screen every role lands on; later modules add their tiles."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from . import views  # noqa: E402,F401
