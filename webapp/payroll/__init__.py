"""Payroll: the statutory rates as dated master data, salary structures, and the monthly salary run per
branch over HR's closed attendance month (PF, ESI, professional tax, TDS, loan recoveries), its
register, payslips, statutory files, and the salary voucher posted on approval."""
from flask import Blueprint

bp = Blueprint("payroll", __name__, url_prefix="/payroll")

from . import incentives, rates, settlement, tax, views  # noqa: E402,F401
