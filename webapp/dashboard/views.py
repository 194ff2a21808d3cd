"""Dashboard: who is logged in, and the modules this role may open."""
from __future__ import annotations

from flask import render_template

from ..navigation import visible_sections
from ..security import ALL_STAFF, roles
from . import bp


@bp.get("/")
@roles(*ALL_STAFF)
def home():
    return render_template("dashboard/home.html", sections=visible_sections())
