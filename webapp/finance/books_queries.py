"""What the books' screens read: ledger balances for a period (finance.ledger_totals, whole months from
finance.ledger_month and the part months from the lines, sql/functions/95_finance_reports.sql), a
ledger's lines with their running balance, the day book, one voucher, and the stock value on a day.

Every query sees what the request's branch policies let it see (sql/0041_finance.sql): a branch's
staff their branch, a head-office user every branch; ``branch`` narrows it to one branch (None: all
the request may see). Amounts are Decimal, positive for debit. Functions take the connection and
never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

ZERO = Decimal("0.00")

# The voucher types' names on screen (finance.voucher.voucher_type).
VOUCHER_TYPE_LABELS = {"SALES": "Sales",  # data, not access
                       "CREDIT_NOTE": "Credit note", "DEBIT_NOTE": "Debit note",
                       "RECEIPT": "Receipt", "PAYMENT": "Payment", "PURCHASE": "Purchase", "JOURNAL": "Journal",
                       "CONTRA": "Contra"}
NATURES = ("ASSETS", "LIABILITIES", "INCOME", "EXPENSES")   # data, the account groups' natures


def fy_start(on: date) -> date:
    """The first day of the Indian financial year (1 April) that ``on`` falls in."""
    return date(on.year if on.month >= 4 else on.year - 1, 4, 1)


# --------------------------------------------------------------------------- branches


def visible_branches(conn: Connection) -> list:
    """The branches this request may see (one for a branch's staff, all for the head office)."""
    return conn.execute(sa.text(
        """SELECT branch_id, branch_code, coalesce(trade_name, legal_name) AS name FROM master.branch
            WHERE branch_id = ANY (platform.visible_branch_ids()) ORDER BY branch_code""")).mappings().all()


# --------------------------------------------------------------------------- groups and balances


@dataclass
class Balance:
    opening: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit

    @property
    def movement(self) -> Decimal:
        return self.debit - self.credit

    def add(self, other: "Balance") -> None:
        self.opening += other.opening
        self.debit += other.debit
        self.credit += other.credit

    def is_nil(self) -> bool:
        return not (self.opening or self.debit or self.credit)


@dataclass
class GroupNode:
    group_id: int
    name: str
    parent_id: int | None
    nature: str
    gross_profit: bool
    is_system: bool
    depth: int = 0
    own: Balance = field(default_factory=Balance)      # its own ledgers
    total: Balance = field(default_factory=Balance)    # with its sub-groups
    children: list["GroupNode"] = field(default_factory=list)


def groups(conn: Connection) -> list:
    return conn.execute(sa.text(
        """SELECT group_id, name, parent_id, nature, gross_profit, is_system, sort_order
             FROM finance.account_group ORDER BY sort_order, lower(name)""")).mappings().all()


def group_tree(group_rows, own: dict[int, Balance]) -> list[GroupNode]:
    """The groups as a tree (Tally's primary groups at the top, in their order), each with its own
    ledgers' balance and the total with its sub-groups."""
    nodes = {g["group_id"]: GroupNode(g["group_id"], g["name"], g["parent_id"], g["nature"], g["gross_profit"],
                                      g["is_system"]) for g in group_rows}
    roots = []
    for g in group_rows:
        node = nodes[g["group_id"]]
        node.own = own.get(node.group_id, Balance())
        (nodes[node.parent_id].children if node.parent_id in nodes else roots).append(node)

    def roll(node: GroupNode, depth: int) -> Balance:
        node.depth = depth
        node.total = Balance(node.own.opening, node.own.debit, node.own.credit)
        for child in node.children:
            node.total.add(roll(child, depth + 1))
        return node.total

    for root in roots:
        roll(root, 0)
    return roots


def walk(nodes: list[GroupNode]):
    """Every group of the tree, parents before their sub-groups."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def subtree_ids(node: GroupNode) -> list[int]:
    return [n.group_id for n in walk([node])]


_TOTALS_BY_GROUP = sa.text("SELECT group_id, opening, debit, credit FROM finance.group_totals(:from, :to, :branch)")


def balances_by_group(conn: Connection, date_from: date, date_to: date, branch: int | None) -> dict[int, Balance]:
    """Each group's own ledgers: opening at date_from, debits and credits to date_to (one read of the groups'
    monthly totals and the part months' lines, finance.group_totals)."""
    return {r.group_id: Balance(r.opening, r.debit, r.credit)
            for r in conn.execute(_TOTALS_BY_GROUP, {"from": date_from, "to": date_to, "branch": branch})}


def ledgers_of_groups(conn: Connection, group_ids: list[int], date_from: date, date_to: date,
                      branch: int | None, *, with_nil: bool = False) -> list:
    """The ledgers directly under these groups with their balances (the drill-down of a group, the
    chart of accounts). ``with_nil``: also ledgers with no balance and no movement."""
    return conn.execute(sa.text(
        f"""SELECT l.ledger_id, l.name, l.group_id, l.system_key, l.gstin, l.is_active, l.branch_id,
                   l.customer_id IS NOT NULL OR l.oem_id IS NOT NULL OR l.financier_id IS NOT NULL
                       OR l.insurer_id IS NOT NULL AS is_party,
                   coalesce(t.opening, 0) AS opening, coalesce(t.debit, 0) AS debit, coalesce(t.credit, 0) AS credit
              FROM finance.ledger l
              {'LEFT ' if with_nil else ''}JOIN finance.ledger_totals(:from, :to, :branch) t ON t.ledger_id = l.ledger_id
             WHERE l.group_id = ANY (:groups)
             ORDER BY lower(l.name)"""),
        {"from": date_from, "to": date_to, "branch": branch, "groups": group_ids}).mappings().all()


# --------------------------------------------------------------------------- one ledger


def ledger(conn: Connection, ledger_id: int):
    """A ledger as the request may see it (a customer's ledger of another branch: None)."""
    return conn.execute(sa.text(
        """SELECT l.*, g.name AS group_name, g.nature, b.branch_code,
                  (SELECT ba.ledger_id IS NOT NULL FROM finance.bank_account ba WHERE ba.ledger_id = l.ledger_id)
                      AS is_bank_account
             FROM finance.ledger l JOIN finance.account_group g USING (group_id)
             LEFT JOIN master.branch b ON b.branch_id = l.branch_id
            WHERE l.ledger_id = :id"""), {"id": ledger_id}).mappings().first()


def ledger_balance(conn: Connection, ledger_id: int, date_from: date, date_to: date, branch: int | None) -> Balance:
    row = conn.execute(sa.text("SELECT opening, debit, credit FROM finance.ledger_totals(:from, :to, :branch, :ledger)"),
                       {"from": date_from, "to": date_to, "branch": branch, "ledger": ledger_id}).first()
    return Balance(row.opening, row.debit, row.credit) if row else Balance()


def ledger_lines(conn: Connection, ledger_id: int, date_from: date, date_to: date, branch: int | None,
                 opening: Decimal, page: int | None = None, size: int | None = None) -> list:
    """The ledger's lines in the period, oldest first, each with the balance after it (from
    ``opening``) and the ledger on the other side of its voucher (the largest; "(as per details)"
    when there are several). page None: every line (the exports)."""
    limit = "" if page is None else " LIMIT :limit OFFSET :offset"
    return conn.execute(sa.text(
        f"""WITH lines AS (
                SELECT l.voucher_id, l.line_no, l.voucher_date, l.debit, l.credit,
                       :opening + sum(l.debit - l.credit) OVER (ORDER BY l.voucher_date, l.voucher_id, l.line_no)
                           AS balance
                  FROM finance.voucher_line l
                 WHERE l.ledger_id = :ledger AND l.voucher_date BETWEEN :from AND :to
                   AND (CAST(:branch AS integer) IS NULL OR l.branch_id = :branch))
            SELECT x.*, v.voucher_no, v.voucher_type, v.narration, v.source_table, v.source_id, b.branch_code,
                   o.other_ledger_id, o.other_name, o.others
              FROM (SELECT * FROM lines ORDER BY voucher_date, voucher_id, line_no{limit}) x
              JOIN finance.voucher v ON v.voucher_id = x.voucher_id
              JOIN master.branch b ON b.branch_id = v.branch_id
              LEFT JOIN LATERAL (
                   SELECT (array_agg(ol.ledger_id ORDER BY ol.debit + ol.credit DESC))[1] AS other_ledger_id,
                          (array_agg(g.name ORDER BY ol.debit + ol.credit DESC))[1] AS other_name,
                          count(*) AS others
                     FROM finance.voucher_line ol JOIN finance.ledger g ON g.ledger_id = ol.ledger_id
                    WHERE ol.voucher_id = x.voucher_id AND (ol.debit > 0) <> (x.debit > 0)) o ON true
             ORDER BY x.voucher_date, x.voucher_id, x.line_no"""),
        {"ledger": ledger_id, "from": date_from, "to": date_to, "branch": branch, "opening": opening,
         "limit": size, "offset": ((page or 1) - 1) * (size or 0)}).mappings().all()


def ledger_line_count(conn: Connection, ledger_id: int, date_from: date, date_to: date, branch: int | None) -> int:
    return conn.execute(sa.text(
        """SELECT count(*) FROM finance.voucher_line l
            WHERE l.ledger_id = :ledger AND l.voucher_date BETWEEN :from AND :to
              AND (CAST(:branch AS integer) IS NULL OR l.branch_id = :branch)"""),
        {"ledger": ledger_id, "from": date_from, "to": date_to, "branch": branch}).scalar_one()


def ledgers_in_groups_named(conn: Connection, group_name: str) -> list:
    """The ledgers under a group of Tally's (Cash-in-Hand, Bank Accounts) and its sub-groups: the
    choices of the cash book and the bank book."""
    return conn.execute(sa.text(
        """WITH RECURSIVE g AS (SELECT group_id FROM finance.account_group WHERE name = :name AND is_system
                                UNION SELECT c.group_id FROM finance.account_group c JOIN g ON c.parent_id = g.group_id)
           SELECT l.ledger_id, l.name FROM finance.ledger l
            WHERE l.group_id IN (SELECT group_id FROM g) ORDER BY l.system_key IS NULL, lower(l.name)"""),
        {"name": group_name}).mappings().all()


def ledger_choices(conn: Connection, *, active_only: bool = True) -> list:
    """Every ledger the request may see, for a journal line or the ledger chooser."""
    return conn.execute(sa.text(
        f"""SELECT l.ledger_id, l.name, g.name AS group_name FROM finance.ledger l
              JOIN finance.account_group g USING (group_id)
             {'WHERE l.is_active' if active_only else ''}
             ORDER BY lower(l.name)""")).mappings().all()


# --------------------------------------------------------------------------- the day book and a voucher


def _day_book_where(vtype: str | None) -> str:
    return ("v.voucher_date BETWEEN :from AND :to"
            " AND (CAST(:branch AS integer) IS NULL OR v.branch_id = :branch)"
            + (" AND v.voucher_type = :vtype" if vtype else ""))


def day_book(conn: Connection, date_from: date, date_to: date, branch: int | None, vtype: str | None,
             page: int | None = None, size: int | None = None) -> list:
    """The vouchers of the period, in date order, each with its lines (one read for the page)."""
    limit = "" if page is None else " LIMIT :limit OFFSET :offset"
    return conn.execute(sa.text(
        f"""WITH page AS (
                SELECT v.voucher_id, v.voucher_no, v.voucher_type, v.voucher_date, v.narration, v.source_table,
                       v.source_id, v.branch_id
                  FROM finance.voucher v
                 WHERE {_day_book_where(vtype)}
                 ORDER BY v.voucher_date, v.voucher_id{limit})
            SELECT p.*, b.branch_code,
                   (SELECT json_agg(json_build_object('ledger_id', l.ledger_id, 'name', g.name,
                                                      'debit', l.debit, 'credit', l.credit) ORDER BY l.line_no)
                      FROM finance.voucher_line l JOIN finance.ledger g ON g.ledger_id = l.ledger_id
                     WHERE l.voucher_id = p.voucher_id) AS lines,
                   (SELECT sum(l.debit) FROM finance.voucher_line l WHERE l.voucher_id = p.voucher_id) AS amount
              FROM page p JOIN master.branch b ON b.branch_id = p.branch_id
             ORDER BY p.voucher_date, p.voucher_id"""),
        {"from": date_from, "to": date_to, "branch": branch, "vtype": vtype, "limit": size,
         "offset": ((page or 1) - 1) * (size or 0)}).mappings().all()


def day_book_totals(conn: Connection, date_from: date, date_to: date, branch: int | None, vtype: str | None) -> dict:
    """How many vouchers and their debits, from the lines (one range of their (branch, date) index)."""
    join = " JOIN finance.voucher v ON v.voucher_id = l.voucher_id AND v.voucher_type = :vtype" if vtype else ""
    return dict(conn.execute(sa.text(
        f"""SELECT count(DISTINCT l.voucher_id) AS vouchers, coalesce(sum(l.debit), 0) AS amount
              FROM finance.voucher_line l{join}
             WHERE l.voucher_date BETWEEN :from AND :to AND (CAST(:branch AS integer) IS NULL OR l.branch_id = :branch)"""),
        {"from": date_from, "to": date_to, "branch": branch, "vtype": vtype}).mappings().one())


def voucher(conn: Connection, voucher_id: int):
    return conn.execute(sa.text(
        """SELECT v.*, b.branch_code, s.name AS posted_by_name
             FROM finance.voucher v JOIN master.branch b USING (branch_id)
             LEFT JOIN master.staff s ON s.staff_id = v.posted_by
            WHERE v.voucher_id = :id"""), {"id": voucher_id}).mappings().first()


def voucher_lines(conn: Connection, voucher_id: int) -> list:
    return conn.execute(sa.text(
        """SELECT l.line_no, l.ledger_id, g.name, l.debit, l.credit, ag.name AS group_name
             FROM finance.voucher_line l JOIN finance.ledger g ON g.ledger_id = l.ledger_id
             JOIN finance.account_group ag ON ag.group_id = g.group_id
            WHERE l.voucher_id = :id ORDER BY l.line_no"""), {"id": voucher_id}).mappings().all()


# --------------------------------------------------------------------------- stock


def stock_values(conn: Connection, before: date, on: date, branch: int | None) -> tuple[Decimal, Decimal]:
    """Parts and vehicles on hand, at cost, at the end of ``before`` and of ``on`` (finance.stock_value):
    a P&L's opening and closing stock, in one read."""
    row = conn.execute(sa.text(
        """SELECT (SELECT parts + vehicles FROM finance.stock_value(:before, :branch)) AS opening,
                  (SELECT parts + vehicles FROM finance.stock_value(:on, :branch)) AS closing"""),
        {"before": before, "on": on, "branch": branch}).one()
    return row.opening, row.closing


def cash_and_bank(conn: Connection, on: date, branch: int) -> list:
    """The branch's cash and each bank account's balance at the end of the day (the books' own monthly
    totals and the month's lines, finance.ledger_totals of one ledger), for the home screen, cash first:
    one statement, each ledger's totals read by its own index."""
    return conn.execute(sa.text("""
        SELECT l.ledger_id, l.name, l.system_key IS NOT DISTINCT FROM 'CASH' AS is_cash,
               coalesce(t.opening + t.debit - t.credit, 0) AS balance
          FROM finance.ledger l
          LEFT JOIN LATERAL finance.ledger_totals(:on, :on, :branch, l.ledger_id) t ON true
         WHERE l.system_key = 'CASH'
            OR l.group_id = (SELECT group_id FROM finance.account_group WHERE lower(name) = 'bank accounts')
         ORDER BY 3 DESC, l.name"""), {"on": on, "branch": branch}).mappings().all()
