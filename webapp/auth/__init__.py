"""Login with staff code + PIN, sessions, switch user, first-run setup, own PIN change."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
