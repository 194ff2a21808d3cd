"""Dashboard: who is logged in, and the modules this role may open."""
from __future__ import annotations

from flask import render_template

from ..navigation import visible_sections
from ..security import allow
from . import bp


@bp.get("/")
@allow("dashboard.read")
def home():
    return render_template("dashboard/home.html", sections=visible_sections())
