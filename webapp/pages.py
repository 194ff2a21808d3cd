"""How screens answer: one shape for forms and one for lists, used by every module."""
from __future__ import annotations

from flask import abort, current_app, get_template_attribute, render_template, request

from .forms import DateArg

# What a search box takes: longer than any name, number, VIN or address anyone searches for, so
# nothing typed is cut (it was 40 or 60 characters, cut without a word).
SEARCH_MAX = 200


def search_text(name: str = "q") -> str:
    """The text typed into a search box (query string or form), trimmed of spaces."""
    return request.values.get(name, "").strip()[:SEARCH_MAX]


def choice_arg(name: str, choices, default=""):
    """A list filter from the query string: one of `choices`, else `default` (also when it is missing)."""
    value = request.args.get(name, default)
    return value if value in choices else default


def found_or_404(row):
    """The row a screen shows, or the 404 page when the query found none."""
    if row is None:
        abort(404)
    return row


def form_page(template: str, form, **context):
    """A form page: 200 when fresh, 422 when it comes back with errors (what was typed kept)."""
    return render_template(template, form=form, **context), 422 if form.errors else 200


def rows_or_page(page_template: str, rows_template: str, target: str, **context):
    """One URL serves the whole page or, for its search box and pager, just the rows.

    Chosen by HX-Target (never by bare HX-Request, which boosted links also send); the answer
    varies on those headers, so caches keep the two apart.
    """
    rows_only = request.htmx.target == target
    body = render_template(rows_template if rows_only else page_template, **context)
    if rows_only:  # the filters stay as typed in the browser; a date filter's message is put next to it
        help_for = get_template_attribute("_macros/forms.html", "date_filter_help")
        body += "".join(str(help_for(v, True)) for v in context.values() if isinstance(v, DateArg))
    response = current_app.make_response(body)
    response.vary.update(("HX-Request", "HX-Target"))
    return response
