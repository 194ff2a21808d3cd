"""HR: employment details on top of the staff record, attendance punched by PIN at a shared terminal,
shifts, weekly offs and holidays, leave with its balances and approval by the reporting manager, and the
monthly attendance sheet that payroll reads once the month is closed (webapp/hr/api.py)."""
from flask import Blueprint

bp = Blueprint("hr", __name__, url_prefix="/hr")

from . import attendance, leave, people, settings, terminal  # noqa: E402,F401
