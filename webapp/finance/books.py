"""The books on screen: trial balance (groups with a drill-down to their ledgers), profit and loss,
balance sheet, day book, cash book, bank book, a ledger's account with its running balance, and one
voucher. Each report for any period (the financial year to date by default), for one branch or every
branch the user may see (row-level security decides which: a head-office user sees all), on screen,
as PDF (?format=pdf) and as CSV / Excel (?format=csv / xlsx).

Balances come from finance.ledger_totals (sql/functions/95_finance_reports.sql): whole months from
the monthly totals kept with every voucher line, part months from the lines. The P&L's opening and
closing stock are the stock records' value at cost on the day before the period and its last day
(finance.stock_value): the books post purchases as expenses, as Tally's periodic stock does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user

from ..billing.api import Column, export_response
from ..db import get_conn
from ..formatting import inr, today_ist
from ..forms import DateArg, date_arg, url_date
from ..pages import choice_arg, found_or_404, rows_or_page
from ..paging import paged
from ..pdf import pdf_response, render_pdf
from ..security import allow, may_open
from . import books_queries as q
from . import bp

ZERO = Decimal("0.00")
FORMATS = ("csv", "xlsx", "pdf")
ROWS_TARGET = "book-rows"

# The page of the document a voucher was posted from, where it has one: (endpoint, its id argument).
SOURCE_PAGES = {
    "billing.invoice": ("billing.invoice_detail", "invoice_id", "Invoice"),
    "billing.receipt": ("billing.receipt_detail", "receipt_id", "Receipt"),
    "billing.refund": ("billing.refund_detail", "refund_id", "Refund"),
    "billing.credit_note": ("billing.credit_note_detail", "credit_note_id", "Credit note"),
    "procurement.purchase_invoice": ("procurement.pinv_detail", "pinv_id", "Purchase invoice"),
    "warranty.claim": ("warranty.claim_detail", "claim_id", "Warranty claim"),
}


@bp.app_template_filter("drcr")
def drcr(amount) -> str:
    """A balance as an accountant reads it: '₹1,20,000.00 Dr', '₹500.00 Cr', '—' for nil."""
    if amount is None or Decimal(amount) == 0:
        return "—"
    return f"{inr(abs(Decimal(amount)))} {'Dr' if amount > 0 else 'Cr'}"


# --------------------------------------------------------------------------- the period and the branch


@dataclass
class Scope:
    date_from: date
    date_to: date
    from_arg: DateArg
    to_arg: DateArg
    branch: int | None         # None: every branch the user may see
    branches: list             # the branches the user may choose from
    label: str                 # "BLR1" / "All branches"

    @property
    def period(self) -> str:
        return f"{self.date_from:%d-%m-%Y} to {self.date_to:%d-%m-%Y}"

    def args(self, **more) -> dict:
        base = {"from": url_date(self.date_from), "to": url_date(self.date_to)}
        if self.branch:
            base["branch"] = self.branch
        return {**base, **{k: v for k, v in more.items() if v not in (None, "")}}


def _scope(conn, start: date | None = None) -> Scope:
    """?from= ?to= (the financial year to date by default, or from ``start``) and ?branch= (one of the
    user's branches; none: all of them)."""
    today = today_ist()
    from_arg, to_arg = date_arg("from", start or q.fy_start(today)), date_arg("to", today)
    if to_arg.value < from_arg.value:
        from_arg.value, to_arg.value = to_arg.value, from_arg.value
    branches = q.visible_branches(conn)
    ids = {str(b["branch_id"]): b for b in branches}
    chosen = ids.get(request.args.get("branch", ""))
    if chosen is None and len(branches) == 1:
        chosen = branches[0]
    branch = chosen["branch_id"] if chosen and len(branches) > 1 else None
    label = chosen["branch_code"] if chosen else "All branches"
    return Scope(from_arg.value, to_arg.value, from_arg, to_arg, branch, branches, label)


def _format() -> str | None:
    return choice_arg("format", FORMATS, None)


def _download(fmt: str, name: str, title: str, scope: Scope, columns, rows, *, heading_extra: str = ""):
    """The report as a file: PDF through the printed-document renderer, CSV / Excel through billing's
    register export (amounts as plain numbers, Dr positive)."""
    heading = f"{title} {scope.label}, {scope.period}{heading_extra}"
    filename = f"{name}-{scope.date_from:%Y%m%d}-{scope.date_to:%Y%m%d}"
    if fmt == "pdf":
        from ..master.api import branch_for_print

        pdf = render_pdf("finance/books/report_pdf.html", title=title, heading=heading, columns=columns, rows=rows,
                         branch=branch_for_print(get_conn(), scope.branch or current_user.branch_id))
        return pdf_response(pdf, filename + ".pdf")
    flat = [{**r, "label": "    " * r.get("depth", 0) + r.get("label", "")} for r in rows]
    return export_response(fmt, filename, title, columns, flat, heading=heading)


def _report_page(template: str, scope: Scope, endpoint: str, **context):
    return render_template(template, scope=scope, endpoint=endpoint,
                           export_args=scope.args(**context.pop("extra_args", {})), **context)


# --------------------------------------------------------------------------- trial balance


TB_COLUMNS = (Column("Particulars", "label"), Column("Opening (Dr +)", "opening", "money"),
              Column("Debit", "debit", "money"), Column("Credit", "credit", "money"),
              Column("Closing (Dr +)", "closing", "money"))


def _balance_row(label: str, balance: q.Balance, depth: int = 0, kind: str = "group", url: str | None = None) -> dict:
    return {"label": label, "depth": depth, "kind": kind, "url": url, "opening": balance.opening,
            "debit": balance.debit, "credit": balance.credit, "closing": balance.closing}


def _tree(conn, scope: Scope):
    return q.group_tree(q.groups(conn), q.balances_by_group(conn, scope.date_from, scope.date_to, scope.branch))


@bp.get("/trial-balance")
@allow("ledger.read")
def trial_balance():
    """Every group with its opening balance, the period's debits and credits and its closing balance;
    ?group= shows one group's sub-groups and ledgers."""
    conn = get_conn()
    scope = _scope(conn)
    roots = _tree(conn, scope)
    group_id = request.args.get("group", "")
    focus = next((n for n in q.walk(roots) if str(n.group_id) == group_id), None)
    rows = []
    if focus is None:
        for node in q.walk(roots):
            if not node.total.is_nil():
                rows.append(_balance_row(node.name, node.total, node.depth,
                                         url=url_for("finance.trial_balance", **scope.args(group=node.group_id))))
        totals = q.Balance()
        for root in roots:
            totals.add(root.total)
        title = "Trial balance"
    else:
        for child in focus.children:
            if not child.total.is_nil():
                rows.append(_balance_row(child.name, child.total, 0,
                                         url=url_for("finance.trial_balance", **scope.args(group=child.group_id))))
        for led in q.ledgers_of_groups(conn, [focus.group_id], scope.date_from, scope.date_to, scope.branch):
            if not (led["opening"] or led["debit"] or led["credit"]):
                continue   # a party settled before the period and quiet since: nothing to show
            rows.append(_balance_row(led["name"], q.Balance(led["opening"], led["debit"], led["credit"]), 0, "ledger",
                                     url_for("finance.ledger_account", ledger_id=led["ledger_id"], **scope.args())))
        totals = focus.total
        title = f"Trial balance: {focus.name}"
    total_row = _balance_row("Total", totals, kind="total")
    fmt = _format()
    if fmt:
        return _download(fmt, "trial-balance", title, scope, TB_COLUMNS, [*rows, total_row])
    return _report_page("finance/books/trial_balance.html", scope, "finance.trial_balance", rows=rows,
                        total=total_row, title=title, focus=focus,
                        extra_args={"group": focus.group_id if focus else None})


# --------------------------------------------------------------------------- profit and loss, balance sheet

STATEMENT_COLUMNS = (Column("Particulars", "label"), Column("Amount", "amount", "money"))


def _line(label: str, amount: Decimal, depth: int = 1, kind: str = "group", url: str | None = None) -> dict:
    return {"label": label, "amount": amount, "depth": depth, "kind": kind, "url": url}


def _group_lines(nodes, sign: int, scope: Scope, *, closing: bool) -> tuple[list[dict], Decimal]:
    lines, total = [], ZERO
    for node in nodes:
        amount = sign * (node.total.closing if closing else node.total.movement)
        if amount or not node.total.is_nil():
            lines.append(_line(node.name, amount, url=url_for("finance.trial_balance",
                                                              **scope.args(group=node.group_id))))
        total += amount
    return lines, total


def profit_and_loss_lines(conn, scope: Scope, roots=None) -> tuple[list[dict], dict]:
    """The P&L as lines (trading account to gross profit, then net profit) and its figures."""
    roots = roots if roots is not None else _tree(conn, scope)
    opening_stock, closing_stock = q.stock_values(conn, scope.date_from - timedelta(days=1), scope.date_to,
                                                  scope.branch)
    direct_income = [n for n in roots if n.nature == "INCOME" and n.gross_profit]
    direct_expense = [n for n in roots if n.nature == "EXPENSES" and n.gross_profit]
    indirect_income = [n for n in roots if n.nature == "INCOME" and not n.gross_profit]
    indirect_expense = [n for n in roots if n.nature == "EXPENSES" and not n.gross_profit]
    sales, sales_total = _group_lines(direct_income, -1, scope, closing=False)
    costs, costs_total = _group_lines(direct_expense, 1, scope, closing=False)
    income, income_total = _group_lines(indirect_income, -1, scope, closing=False)
    expenses, expenses_total = _group_lines(indirect_expense, 1, scope, closing=False)
    gross = sales_total + closing_stock - opening_stock - costs_total
    net = gross + income_total - expenses_total
    lines = [_line("Trading income", sales_total + closing_stock, 0, "heading"), *sales,
             _line("Closing stock (stock records, at cost)", closing_stock),
             _line("Cost of sales", opening_stock + costs_total, 0, "heading"),
             _line("Opening stock (stock records, at cost)", opening_stock), *costs,
             _line("Gross profit" if gross >= 0 else "Gross loss", gross, 0, "total"),
             _line("Indirect incomes", income_total, 0, "heading"), *income,
             _line("Indirect expenses", expenses_total, 0, "heading"), *expenses,
             _line("Net profit" if net >= 0 else "Net loss", net, 0, "total")]
    return lines, {"gross": gross, "net": net, "opening_stock": opening_stock, "closing_stock": closing_stock}


@bp.get("/profit-and-loss")
@allow("ledger.read")
def profit_and_loss():
    conn = get_conn()
    scope = _scope(conn)
    lines, figures = profit_and_loss_lines(conn, scope)
    fmt = _format()
    if fmt:
        return _download(fmt, "profit-and-loss", "Profit and loss", scope, STATEMENT_COLUMNS, lines)
    return _report_page("finance/books/statement.html", scope, "finance.profit_and_loss", lines=lines,
                        title="Profit and loss", figures=figures)


def balance_sheet_lines(conn, scope: Scope) -> tuple[list[dict], dict]:
    """Liabilities (with the P&L account: results before the period and the period's net profit) and
    assets (with the closing stock) at the period's end; a difference in the ledgers' own opening
    balances is shown on the side it makes up, as Tally does."""
    roots = _tree(conn, scope)
    pl_lines, figures = profit_and_loss_lines(conn, scope, roots)
    results = [n for n in roots if n.nature in ("INCOME", "EXPENSES")]
    before = -sum((n.total.opening for n in results), ZERO) + figures["opening_stock"]
    liabilities, liabilities_total = _group_lines([n for n in roots if n.nature == "LIABILITIES"], -1, scope,
                                                  closing=True)
    assets, assets_total = _group_lines([n for n in roots if n.nature == "ASSETS"], 1, scope, closing=True)
    difference = sum((n.total.closing for n in roots), ZERO)   # nil when the ledgers' openings balance
    liabilities += [_line("Profit & Loss A/c", before + figures["net"]),
                    _line("Results before the period (with the stock at its start)", before, 2, "detail"),
                    _line("Net profit of the period" if figures["net"] >= 0 else "Net loss of the period",
                          figures["net"], 2, "detail")]
    liabilities_total += before + figures["net"]
    assets.append(_line("Closing stock (stock records, at cost)", figures["closing_stock"]))
    assets_total += figures["closing_stock"]
    if difference > 0:
        liabilities.append(_line("Difference in opening balances", difference))
        liabilities_total += difference
    elif difference < 0:
        assets.append(_line("Difference in opening balances", -difference))
        assets_total += -difference
    lines = [_line("Liabilities", liabilities_total, 0, "heading"), *liabilities,
             _line("Assets", assets_total, 0, "heading"), *assets]
    return lines, {**figures, "liabilities": liabilities_total, "assets": assets_total, "difference": difference,
                   "before": before}


@bp.get("/balance-sheet")
@allow("ledger.read")
def balance_sheet():
    conn = get_conn()
    scope = _scope(conn)
    lines, figures = balance_sheet_lines(conn, scope)
    fmt = _format()
    if fmt:
        return _download(fmt, "balance-sheet", "Balance sheet", scope, STATEMENT_COLUMNS, lines,
                         heading_extra=f" (as at {scope.date_to:%d-%m-%Y})")
    return _report_page("finance/books/statement.html", scope, "finance.balance_sheet", lines=lines,
                        title="Balance sheet", figures=figures)


# --------------------------------------------------------------------------- a ledger's account; cash and bank books

LEDGER_COLUMNS = (Column("Date", "voucher_date", "date"), Column("Voucher", "voucher_no"),
                  Column("Type", "type_label"), Column("Particulars", "particulars"), Column("Branch", "branch_code"),
                  Column("Debit", "debit", "money"), Column("Credit", "credit", "money"),
                  Column("Balance (Dr +)", "balance", "money"), Column("Narration", "narration"))


def _ledger_rows(lines) -> list[dict]:
    return [{**r, "type_label": q.VOUCHER_TYPE_LABELS[r["voucher_type"]],
             "particulars": (r["other_name"] or "") + (" (as per details)" if (r["others"] or 0) > 1 else "")}
            for r in lines]


def _ledger_account(conn, led, scope: Scope, endpoint: str, title: str, choices=None):
    balance = q.ledger_balance(conn, led["ledger_id"], scope.date_from, scope.date_to, scope.branch)
    fmt = _format()
    if fmt:
        lines = _ledger_rows(q.ledger_lines(conn, led["ledger_id"], scope.date_from, scope.date_to, scope.branch,
                                            balance.opening))
        ends = [{"label": "Opening balance", "particulars": "Opening balance", "balance": balance.opening},
                *lines,
                {"particulars": "Closing balance", "debit": balance.debit, "credit": balance.credit,
                 "balance": balance.closing}]
        if fmt == "pdf":
            ends = [{**r, "label": r.get("particulars", "")} for r in ends]
        return _download(fmt, "ledger-" + led["name"][:40], f"{title}: {led['name']}", scope, LEDGER_COLUMNS, ends)
    count = q.ledger_line_count(conn, led["ledger_id"], scope.date_from, scope.date_to, scope.branch)
    size = current_app.config["PAGE_SIZE"]
    rows, page = paged(lambda n, s: (_ledger_rows(q.ledger_lines(conn, led["ledger_id"], scope.date_from,
                                                                 scope.date_to, scope.branch, balance.opening, n,
                                                                 s)), count), size)
    extra = {} if endpoint == "finance.ledger_account" else {"ledger": led["ledger_id"]}
    url_args = {"ledger_id": led["ledger_id"]} if endpoint == "finance.ledger_account" else {}
    return rows_or_page("finance/books/ledger_account.html", "finance/books/_ledger_rows.html", ROWS_TARGET,
                        scope=scope, ledger=led, balance=balance, rows=rows, page=page, endpoint=endpoint,
                        title=title, choices=choices, url_args=url_args,
                        page_args={**scope.args(**extra), **url_args}, export_args={**scope.args(**extra), **url_args},
                        results_id=ROWS_TARGET, from_arg=scope.from_arg, to_arg=scope.to_arg,
                        voucher_links=True)


@bp.get("/ledgers/<int:ledger_id>")
@allow("ledger.read")
def ledger_account(ledger_id: int):
    """A ledger's account: opening balance, each line with the running balance, the closing balance."""
    conn = get_conn()
    led = found_or_404(q.ledger(conn, ledger_id))
    return _ledger_account(conn, led, _scope(conn), "finance.ledger_account", "Ledger")


def _book(group_name: str, endpoint: str, title: str):
    conn = get_conn()
    choices = q.ledgers_in_groups_named(conn, group_name)
    if not choices:
        abort(404)
    wanted = request.args.get("ledger", "")
    chosen = next((c for c in choices if str(c["ledger_id"]) == wanted), choices[0])
    led = found_or_404(q.ledger(conn, chosen["ledger_id"]))
    return _ledger_account(conn, led, _scope(conn), endpoint, title, choices)


@bp.get("/cash-book")
@allow("ledger.read")
def cash_book():
    """The cash ledger's account (any ledger under Cash-in-Hand)."""
    return _book("Cash-in-Hand", "finance.cash_book", "Cash book")


@bp.get("/bank-book")
@allow("ledger.read")
def bank_book():
    """A bank ledger's account (any ledger under Bank Accounts)."""
    return _book("Bank Accounts", "finance.bank_book", "Bank book")


# --------------------------------------------------------------------------- the day book and a voucher

DAY_BOOK_COLUMNS = (Column("Date", "voucher_date", "date"), Column("Voucher", "voucher_no"),
                    Column("Type", "type_label"), Column("Branch", "branch_code"), Column("Ledger", "ledger"),
                    Column("Debit", "debit", "money"), Column("Credit", "credit", "money"),
                    Column("Narration", "narration"))


def _day_book_export_rows(vouchers) -> list[dict]:
    """One row per voucher line, the voucher's own columns on its first line."""
    rows = []
    for v in vouchers:
        for n, line in enumerate(v["lines"] or []):
            head = {"voucher_date": v["voucher_date"], "voucher_no": v["voucher_no"],
                    "type_label": q.VOUCHER_TYPE_LABELS[v["voucher_type"]], "branch_code": v["branch_code"],
                    "narration": v["narration"]} if n == 0 else {}
            rows.append({**head, "ledger": line["name"], "label": line["name"],
                         "debit": Decimal(str(line["debit"])) or None, "credit": Decimal(str(line["credit"])) or None})
    return rows


@bp.get("/day-book")
@allow("ledger.read")
def day_book():
    """Every voucher of a day or a period (today by default), with its lines."""
    conn = get_conn()
    scope = _scope(conn, today_ist())
    vtype = choice_arg("type", q.VOUCHER_TYPE_LABELS, None)
    fmt = _format()
    if fmt:
        vouchers = q.day_book(conn, scope.date_from, scope.date_to, scope.branch, vtype)
        return _download(fmt, "day-book", "Day book", scope, DAY_BOOK_COLUMNS, _day_book_export_rows(vouchers))
    totals = q.day_book_totals(conn, scope.date_from, scope.date_to, scope.branch, vtype)
    size = current_app.config["PAGE_SIZE"]
    rows, page = paged(lambda n, s: (q.day_book(conn, scope.date_from, scope.date_to, scope.branch, vtype, n, s),
                                     totals["vouchers"]), size)
    args = scope.args(type=vtype)
    return rows_or_page("finance/books/day_book.html", "finance/books/_day_book_rows.html", ROWS_TARGET,
                        scope=scope, rows=rows, page=page, totals=totals, vtype=vtype, types=q.VOUCHER_TYPE_LABELS,
                        page_args=args, export_args=args, results_id=ROWS_TARGET, from_arg=scope.from_arg,
                        to_arg=scope.to_arg, endpoint="finance.day_book")


def source_link(v) -> tuple[str, str | None]:
    """What a voucher was posted from, and the link to its page when there is one the user may open."""
    if not v["source_table"]:
        return "Entered in the books", None
    endpoint, arg, label = SOURCE_PAGES.get(v["source_table"], (None, None, v["source_table"]))
    text = f"{label} {v['voucher_no']}"
    if endpoint and endpoint in current_app.view_functions and may_open(endpoint):
        return text, url_for(endpoint, **{arg: v["source_id"]})
    return text, None


@bp.get("/vouchers/<int:voucher_id>")
@allow("ledger.read")
def voucher_detail(voucher_id: int):
    conn = get_conn()
    v = found_or_404(q.voucher(conn, voucher_id))
    lines = q.voucher_lines(conn, voucher_id)
    source, source_url = source_link(v)
    return render_template("finance/books/voucher.html", v=v, lines=lines, source=source, source_url=source_url,
                           type_label=q.VOUCHER_TYPE_LABELS[v["voucher_type"]],
                           total=sum((ln["debit"] for ln in lines), ZERO))
