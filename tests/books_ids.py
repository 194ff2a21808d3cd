"""A voucher of the branch and the branch's customer's ledger, so each route of the books opens a real record
in the access matrix and the branch isolation test (an id that does not exist would only show the 404 page)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from webapp.finance import api
from webapp.formatting import today_ist


def books_ids(engine, branch_id: int, customer_id: int) -> dict:
    """A receipt voucher from the customer (their party ledger, made here, is the branch's), one of the
    company's own sub-groups and a bank account of the branch. Returns the route args."""
    with engine.begin() as conn:
        ledger_id = api.party_ledger(conn, "CUSTOMER", customer_id)
        voucher_id = api.post_voucher(conn, branch_id=branch_id, voucher_type="RECEIPT", on=today_ist(),
                                      narration="Advance from the customer", lines=[
                                          api.Line(api.ledger_key(conn, "CASH"), Decimal("500.00")),
                                          api.Line(ledger_id, Decimal("-500.00"))])
        group_id = conn.execute(sa.text(
            """INSERT INTO finance.account_group (name, parent_id, nature)
               SELECT 'Matrix upkeep ' || :b, group_id, nature FROM finance.account_group
                WHERE name = 'Indirect Expenses' RETURNING group_id"""), {"b": branch_id}).scalar_one()
        bank_ledger_id = conn.execute(sa.text(
            """INSERT INTO finance.ledger (name, group_id)
               SELECT 'Matrix Bank ' || :b, group_id FROM finance.account_group WHERE name = 'Bank Accounts'
               RETURNING ledger_id"""), {"b": branch_id}).scalar_one()
        conn.execute(sa.text(
            """INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc)
               VALUES (:l, :b, 'Matrix Bank', lpad(CAST(:b AS text), 12, '5'), 'HDFC0001234')"""),
            {"l": bank_ledger_id, "b": branch_id})
    return {"ledger_id": ledger_id, "voucher_id": voucher_id, "group_id": group_id, "bank_ledger_id": bank_ledger_id}
