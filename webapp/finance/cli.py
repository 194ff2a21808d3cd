"""flask --app wsgi books backfill

Posts the voucher of every document that has none (finance.backfill_vouchers,
sql/functions/96_finance_posting.sql): the documents of a showroom that used the ERP before the books
existed, or any loaded with the triggers off. Safe to run again: a document posts at most one voucher,
so a second run posts nothing. A document dated in a month closed in the books is not posted; it is
counted as skipped, and posts once the month is reopened and the command runs again."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..cli import _database_errors_as_message

books_group = AppGroup("books", help="The books: post the vouchers of documents that have none.")

NAMES = {"billing.invoice": "invoices", "billing.credit_note": "credit notes", "billing.receipt": "receipts",
         "billing.refund": "refunds", "procurement.purchase_invoice": "purchase invoices",
         "procurement.supplier_payment": "supplier payments", "sales.subsidy_claim": "subsidy credits",
         "warranty.claim": "warranty settlements", "insurance.policy": "insurance commissions",
         "inventory.stock_transfer": "transfers received on a tax invoice"}


@books_group.command("backfill")
def backfill_command():
    """Post the vouchers of every document that has none (one transaction; prints the counts)."""
    database = current_app.extensions["erp_db"]
    with database.owner_engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM finance.backfill_vouchers()")).all()
    if not rows:
        click.echo("every document has its voucher: nothing to post")
        return
    for r in rows:
        line = f"{NAMES.get(r.document, r.document)}: {r.posted} posted"
        if r.nothing_to_post:
            line += f", {r.nothing_to_post} of no value (no voucher)"
        if r.skipped_closed_month:
            line += f", {r.skipped_closed_month} skipped (dated in a closed month: reopen it and run again)"
        click.echo(line)
    click.echo(f"{sum(r.posted for r in rows)} vouchers posted")


backfill_command.callback = _database_errors_as_message(backfill_command.callback)
