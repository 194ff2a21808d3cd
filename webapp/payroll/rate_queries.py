"""The dated statutory rates of payroll (sql/0052_payroll.sql, sql/0056_payroll_tax.sql): PF, ESI, professional tax
slabs per state, the income tax regimes with their slabs, and the old regime's deduction caps. Each list gives every
row, latest first, marked in force (the row a run of `today`'s month would use) and fixed (an approved run used
rates from its date or later: the database refuses to change it, sql/functions/99_payroll_tax.sql). A change of
rate is a new row (or row set) from a later month, written here. Each takes the connection and never commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

PF_PARTS = ("employee_pct", "eps_pct", "epf_pct", "edli_pct", "admin_pct", "wage_ceiling")
ESI_PARTS = ("employee_pct", "employer_pct", "gross_limit")
REGIME_PARTS = ("standard_deduction", "rebate_income", "rebate_max", "cess_pct", "marginal_relief")
LIMIT_PARTS = ("cap_80c", "cap_80d", "cap_24b", "rent_over_pct", "metro_pct", "other_pct")


def _dated(conn: Connection, table: str, month: date, order: str = "effective_from DESC"):
    """Every row of a single-key dated table, with in_force and fixed."""
    return conn.execute(sa.text(f"""
        SELECT t.*, t.effective_from = (SELECT max(effective_from) FROM {table} WHERE effective_from <= :m) AS in_force,
               t.effective_from <= coalesce(hr.payroll_fixed_through(), '-infinity') AS fixed
          FROM {table} t ORDER BY {order}"""), {"m": month}).mappings().all()


def pf_rates(conn: Connection, month: date):
    return _dated(conn, "hr.pay_pf_rate", month)


def esi_rates(conn: Connection, month: date):
    return _dated(conn, "hr.pay_esi_rate", month)


def old_regime_limits(conn: Connection, fy_start: date):
    return _dated(conn, "hr.pay_old_regime_limit", fy_start)


def pt_slabs(conn: Connection, month: date):
    """Every state's slab sets: one row a set (state, effective_from) with its slabs in order."""
    rows = conn.execute(sa.text("""
        WITH fixed AS (SELECT DISTINCT state_code, hr.payroll_fixed_through(state_code) AS through
                         FROM hr.pay_pt_slab)
        SELECT s.state_code, st.name AS state_name, s.effective_from, s.gross_from, s.monthly_tax, s.february_tax,
               s.effective_from = (SELECT max(x.effective_from) FROM hr.pay_pt_slab x
                                    WHERE x.state_code = s.state_code AND x.effective_from <= :m) AS in_force,
               s.effective_from <= coalesce(f.through, '-infinity') AS fixed
          FROM hr.pay_pt_slab s JOIN master.state st USING (state_code) JOIN fixed f USING (state_code)
         ORDER BY st.name, s.effective_from DESC, s.gross_from"""), {"m": month}).mappings().all()
    return _sets(rows, ("state_code", "effective_from"))


def tds_regimes(conn: Connection, fy_start: date):
    """Every regime year with its slabs in order, latest first."""
    rows = conn.execute(sa.text("""
        SELECT g.*, s.income_from, s.rate_pct,
               g.effective_from = (SELECT max(x.effective_from) FROM hr.pay_tds_regime x
                                    WHERE x.regime = g.regime AND x.effective_from <= :f) AS in_force,
               g.effective_from <= coalesce(hr.payroll_fixed_through(), '-infinity') AS fixed
          FROM hr.pay_tds_regime g LEFT JOIN hr.pay_tds_slab s USING (regime, effective_from)
         ORDER BY g.effective_from DESC, g.regime, s.income_from"""), {"f": fy_start}).mappings().all()
    return _sets(rows, ("regime", "effective_from"))


def _sets(rows, key: tuple[str, ...]) -> list[dict]:
    out: list[dict] = []
    for r in rows:
        if not out or tuple(out[-1][k] for k in key) != tuple(r[k] for k in key):
            out.append({**r, "slabs": []})
        out[-1]["slabs"].append(r)
    return out


def branch_state(conn: Connection, branch_id: int) -> str:
    return conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"), {"b": branch_id}).scalar_one()


def states(conn: Connection):
    return conn.execute(sa.text("SELECT state_code, name FROM master.state ORDER BY name")).all()


def add_pf_rate(conn: Connection, *, effective_from: date, **parts: Decimal) -> None:
    conn.execute(sa.text(f"INSERT INTO hr.pay_pf_rate (effective_from, {', '.join(PF_PARTS)}) "
                         f"VALUES (:f, {', '.join(':' + p for p in PF_PARTS)})"), {"f": effective_from, **parts})


def add_esi_rate(conn: Connection, *, effective_from: date, **parts: Decimal) -> None:
    conn.execute(sa.text(f"INSERT INTO hr.pay_esi_rate (effective_from, {', '.join(ESI_PARTS)}) "
                         f"VALUES (:f, {', '.join(':' + p for p in ESI_PARTS)})"), {"f": effective_from, **parts})


def add_old_regime_limit(conn: Connection, *, effective_from: date, **parts: Decimal) -> None:
    conn.execute(sa.text(f"INSERT INTO hr.pay_old_regime_limit (effective_from, {', '.join(LIMIT_PARTS)}) "
                         f"VALUES (:f, {', '.join(':' + p for p in LIMIT_PARTS)})"), {"f": effective_from, **parts})


def add_pt_slabs(conn: Connection, state_code: str, effective_from: date,
                 slabs: list[tuple[Decimal, Decimal, Decimal]]) -> None:
    """A state's new slab set: (gross from, monthly tax, February's tax) each."""
    conn.execute(sa.text("""INSERT INTO hr.pay_pt_slab (state_code, effective_from, gross_from, monthly_tax, february_tax)
                            VALUES (:s, :f, :g, :m, :feb)"""),
                 [{"s": state_code, "f": effective_from, "g": g, "m": m, "feb": feb} for g, m, feb in slabs])


def add_tds_regime(conn: Connection, regime: str, effective_from: date, slabs: list[tuple[Decimal, Decimal]],
                   **parts) -> None:
    """A regime's year: its standard deduction, rebate, cess and marginal relief, and its slabs (income from, rate)."""
    conn.execute(sa.text(f"INSERT INTO hr.pay_tds_regime (regime, effective_from, {', '.join(REGIME_PARTS)}) "
                         f"VALUES (:r, :f, {', '.join(':' + p for p in REGIME_PARTS)})"),
                 {"r": regime, "f": effective_from, **parts})
    conn.execute(sa.text("""INSERT INTO hr.pay_tds_slab (regime, effective_from, income_from, rate_pct)
                            VALUES (:r, :f, :i, :p)"""),
                 [{"r": regime, "f": effective_from, "i": i, "p": p} for i, p in slabs])
