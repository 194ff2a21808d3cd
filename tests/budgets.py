"""Counting the SQL statements one request runs on the app's engine (statement budgets).

``StatementCounter`` listens on the engine every request uses (the app role's, webapp/db.py
``Database.engine``): each statement sent to PostgreSQL (``before_cursor_execute``: the session
lookup, the request's wait limits, every query and write, savepoints) and each COMMIT or ROLLBACK
of a transaction counts one. Only what runs while ``measure()`` is open, and in the thread that
opened it (the test client's request), is counted; the fixtures' own seeding uses the owner's
engine and is never seen. Not counted, because they are the pool's and not the request's: the
connection check on checkout (``pool_pre_ping``) and the reset when the connection goes back
(a ROLLBACK that PostgreSQL does not even receive after the request's COMMIT).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import sqlalchemy as sa


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []
        self._thread: int | None = None
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "rollback", self._rollback)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)
        sa.event.remove(self.engine, "rollback", self._rollback)

    def _record(self, what: str) -> None:
        if self._thread is not None and threading.get_ident() == self._thread:
            self.statements.append(what)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self._record(" ".join(statement.split())[:160])

    def _commit(self, conn):
        self._record("COMMIT")

    def _rollback(self, conn):
        self._record("ROLLBACK")

    @contextmanager
    def measure(self):
        """Count the statements run inside the block; yields the list they are appended to."""
        self.statements = []
        self._thread = threading.get_ident()
        try:
            yield self.statements
        finally:
            self._thread = None


def over_budget(measured: dict[str, list[str]], budgets: dict[str, int]) -> list[str]:
    """What breaks the budgets: a screen measured without a budget, or more statements than its budget
    (the statements listed, so the one added is seen)."""
    problems = []
    for name, statements in sorted(measured.items()):
        if name not in budgets:
            problems.append(f"{name}: no statement budget; it runs {len(statements)} statements, add it to BUDGETS")
        elif len(statements) > budgets[name]:
            listing = "\n    ".join(statements)
            problems.append(f"{name}: {len(statements)} statements, budget {budgets[name]}:\n    {listing}")
    return problems
