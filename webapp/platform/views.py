"""GET /healthz: is the app up and is PostgreSQL reachable."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from ..db import UNAVAILABLE_ERRORS, database
from ..security import public
from . import bp


@bp.get("/healthz")
@public
def healthz():
    # Its own short connection: the request's session machinery is skipped for this path.
    try:
        with database().engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except UNAVAILABLE_ERRORS as exc:
        return jsonify(status="unavailable", database="unreachable", detail=type(exc).__name__), 503
    except Exception as exc:  # e.g. the embedded server could not start
        return jsonify(status="unavailable", database="unreachable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="reachable")
