"""How screens answer: one shape for forms and one for lists, used by every module."""
from __future__ import annotations

from flask import current_app, render_template, request


def form_page(template: str, form, **context):
    """A form page: 200 when fresh, 422 when it comes back with errors (what was typed kept)."""
    return render_template(template, form=form, **context), 422 if form.errors else 200


def rows_or_page(page_template: str, rows_template: str, target: str, **context):
    """One URL serves the whole page or, for its search box and pager, just the rows.

    Chosen by HX-Target (never by bare HX-Request, which boosted links also send); the answer
    varies on those headers, so caches keep the two apart.
    """
    template = rows_template if request.htmx.target == target else page_template
    response = current_app.make_response(render_template(template, **context))
    response.vary.update(("HX-Request", "HX-Target"))
    return response
