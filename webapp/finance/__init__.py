"""The books: account groups and ledgers, vouchers posted by every document in its own transaction,
the period lock, and what is read out of them (books, GST returns, the Tally export).

The rules live in PostgreSQL (sql/0041_finance.sql, sql/functions/95_finance.sql); other modules
post through webapp/finance/api.py or, for documents posted by trigger, through the SQL functions
named there."""
from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/finance")

# Every view module registers its routes on bp (the endpoint names are bp's: finance.<function>).
from . import bank, books, cash, journal, ledgers, period, receivables, returns, returns_params, tally_views  # noqa: E402,F401


@bp.record_once
def _add_books_command(state) -> None:
    """`flask --app wsgi books backfill`: the vouchers of documents that have none; and the books' figures
    on the home screen (webapp/panels.py)."""
    from ..panels import register_panel
    from . import glance
    from .cli import books_group

    state.app.cli.add_command(books_group)
    register_panel(state.app, "dashboard", "finance.glance", "finance/_glance.html", glance.panel, order=35)
