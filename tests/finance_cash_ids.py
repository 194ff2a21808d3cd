"""A bank account, an expense and an imported statement line of the access matrix's branch, so the
expense, bank and reconciliation routes open real records."""
from __future__ import annotations

import builders as b
import finance_cash_builders as fb

from webapp.formatting import today_ist


def finance_cash_ids(engine, branch_id: int) -> dict:
    with engine.begin() as conn:
        accountant = b.staff(conn, branch_id, "ACCOUNTS")
        b.act_as(conn, accountant)
        bank_id = fb.bank_account(conn, branch_id)
        expense_id = fb.expense(conn, branch_id, on=today_ist(), mode="BANK", bank_ledger_id=bank_id, ref="UTR12345")
        fb.bill(conn, expense_id)
        statement_id = fb.statement(conn, bank_id, branch_id, [
            {"txn_date": today_ist(), "narration": "NEFT UTR12345 SUPPLIER", "withdrawal": "1000.00"}])
        line_id = b.scalar(conn, "SELECT line_id FROM finance.bank_line WHERE statement_id = :s", s=statement_id)
        b.act_as(conn, None)
    return {"expense_id": expense_id, "bank_id": bank_id, "line_id": line_id}
