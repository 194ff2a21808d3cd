"""Reading a bank statement file (CSV or XLSX as HDFC, ICICI, SBI, Axis and Kotak give them) into its
lines. Nothing here touches the database.

A statement has preamble rows (the bank's name, the account, the period), then a header row, then one
row per transaction, then often a summary. The header row is found by its column names (each bank
names the same columns differently: "Withdrawal Amt.", "Withdrawal Amount (INR )", "Debit", "DR"),
or by the names a bank account's saved layout remembers. A file whose header cannot be found is
refused with what was found in it."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

MAX_ROWS = 5000
MAX_BYTES = 4 * 1024 * 1024
FIELDS = ("date", "narration", "ref", "value_date", "withdrawal", "deposit", "balance")
REQUIRED = ("date", "narration", "withdrawal", "deposit")
TITLES = {"date": "Date", "narration": "Narration", "ref": "Cheque / ref. no.", "value_date": "Value date",
          "withdrawal": "Withdrawal", "deposit": "Deposit", "balance": "Balance"}
BANKS = {"HDFC": "HDFC Bank", "ICICI": "ICICI Bank", "SBI": "State Bank of India", "AXIS": "Axis Bank",
         "KOTAK": "Kotak Mahindra Bank", "OTHER": "Another bank"}

# Column names as the banks write them, lower-cased with everything but letters and digits removed.
_ALIASES = {
    "date": {"date", "txndate", "transactiondate", "trandate", "postingdate", "transdate", "txnposteddate"},
    "value_date": {"valuedt", "valuedate"},
    "narration": {"narration", "description", "particulars", "transactionremarks", "remarks", "details",
                  "transactiondetails", "transactiondescription"},
    "ref": {"chqrefno", "refnochequeno", "chequenumber", "chqno", "chequeno", "refno", "chequerefno",
            "chqrefnumber", "referenceno", "reference", "utrno"},
    "withdrawal": {"withdrawalamt", "withdrawalamountinr", "withdrawalamount", "withdrawal", "withdrawals", "debit",
                   "dr", "debitamount", "withdrawaldr", "debitinr"},
    "deposit": {"depositamt", "depositamountinr", "depositamount", "deposit", "deposits", "credit", "cr",
                "creditamount", "depositcr", "creditinr"},
    "balance": {"closingbalance", "balanceinr", "balance", "bal", "runningbalance", "availablebalance"},
}
# Which bank a header row is most likely from (for the saved layout's label; the columns decide the reading).
_BANK_MARKS = (("ICICI", {"transactionremarks"}), ("HDFC", {"closingbalance", "valuedt"}),
               ("SBI", {"txndate", "refnochequeno"}), ("AXIS", {"trandate", "particulars"}),
               ("KOTAK", {"chqrefno", "description"}))
_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}


_DATE_LIKE = re.compile(r"\s*\d{1,4}[ /.-][A-Za-z0-9]{1,9}[ /.-]\d{2,4}\b")


def key(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


@dataclass
class Layout:
    """Which header (as written in the file) holds each field; None for an optional field not there."""
    bank_code: str
    columns: dict[str, str | None]

    def missing(self) -> list[str]:
        return [TITLES[f] for f in REQUIRED if not self.columns.get(f)]


@dataclass
class Line:
    row_no: int
    txn_date: date
    narration: str
    ref_no: str | None
    value_date: date | None
    withdrawal: Decimal
    deposit: Decimal
    balance: Decimal | None


@dataclass
class Statement:
    layout: Layout
    header_row: int
    headers: list[str]
    lines: list[Line] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def first_date(self) -> date | None:
        return min((ln.txn_date for ln in self.lines), default=None)

    @property
    def last_date(self) -> date | None:
        return max((ln.txn_date for ln in self.lines), default=None)


class Unreadable(ValueError):
    """The file is not a statement this reader understands; the message says what was found."""


# --------------------------------------------------------------------------- the file as rows


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rows_from_upload(filename: str, data: bytes) -> list[list[str]]:
    """The cells of a CSV or XLSX file, row by row (the first sheet of a workbook)."""
    if len(data) > MAX_BYTES:
        raise Unreadable(f"A statement file of at most {MAX_BYTES // (1024 * 1024)} MB: export a shorter period")
    name = filename.lower()
    if data[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(data)
    if name.endswith((".csv", ".txt", ".tsv")):
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return rows_from_text(data.decode(encoding))
            except UnicodeDecodeError:
                continue
    raise Unreadable("Upload the statement as the bank gives it: a .csv or .xlsx file")


def rows_from_text(text: str) -> list[list[str]]:
    """The cells of a CSV (or tab-separated) text; the separator is the one the text uses most."""
    lines = text.splitlines()[: MAX_ROWS + 100]
    sample = "\n".join(lines[:60])
    delimiter = max((",", "\t", ";", "|"), key=sample.count)
    return [[_clean(c) for c in row] for row in csv.reader(lines, delimiter=delimiter)]


def as_text(rows: list[list[str]]) -> str:
    """The rows as tab-separated text (what the preview carries to the confirmation)."""
    return "\n".join("\t".join(row).rstrip("\t") for row in rows)


def _clean(value) -> str:
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise Unreadable("This file could not be read as an Excel workbook (.xlsx)") from exc
    try:
        rows = []
        for n, values in enumerate(book.worksheets[0].iter_rows(values_only=True)):
            if n >= MAX_ROWS + 100:
                break
            rows.append([_xlsx_cell(v) for v in values])
        return rows
    finally:
        book.close()


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"
    if isinstance(value, date):
        return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return _clean(value)


# --------------------------------------------------------------------------- the layout


def _field_of(title: str) -> str | None:
    k = key(title)
    return next((f for f, names in _ALIASES.items() if k in names), None)


def detect_layout(headers: list[str]) -> Layout:
    """The layout a header row suggests: each field's column by the banks' names for it."""
    columns: dict[str, str | None] = dict.fromkeys(FIELDS)
    for title in headers:
        f = _field_of(title)
        if f and not columns[f]:
            columns[f] = title
    keys = {key(t) for t in headers}
    bank = next((code for code, marks in _BANK_MARKS if marks <= keys), "OTHER")
    return Layout(bank, columns)


def _header_row(rows: list[list[str]], saved: Layout | None) -> tuple[int, Layout] | None:
    for n, row in enumerate(rows[:60]):
        keys = {key(c) for c in row if c}
        if saved and all(key(saved.columns[f] or "") in keys for f in REQUIRED):
            return n, Layout(saved.bank_code, {f: (saved.columns.get(f) if key(saved.columns.get(f) or "") in keys
                                                   else None) for f in FIELDS})
        found = detect_layout(row)
        if not found.missing():
            return n, found
    return None


def what_was_found(rows: list[list[str]]) -> str:
    """The first rows with something in them, for the refusal of an unknown layout."""
    shown = [" | ".join(c for c in row if c) for row in rows if any(row)][:4]
    return "; ".join(f"“{s[:120]}”" for s in shown) or "nothing (the file is empty)"


def read_statement(rows: list[list[str]], saved: Layout | None = None,
                   chosen: dict[str, str | None] | None = None) -> Statement:
    """The statement's lines. ``saved`` is the bank account's remembered layout; ``chosen`` the
    columns picked on the preview (they win). Raises Unreadable for an unknown layout."""
    found = _header_row(rows, saved)
    if found is None:
        raise Unreadable("The columns of this statement were not recognised (date, narration, withdrawal and "
                         "deposit). Found: " + what_was_found(rows))
    header_at, layout = found
    headers = rows[header_at]
    if chosen:
        layout = Layout(layout.bank_code if chosen.get("bank_code") in (None, "") else chosen["bank_code"],
                        {f: (chosen.get(f) or None) if chosen.get(f) in headers or not chosen.get(f)
                         else layout.columns[f] for f in FIELDS})
    statement = Statement(layout, header_at + 1, headers)
    if layout.missing():
        statement.problems.append("Choose the column of: " + ", ".join(layout.missing()))
        return statement
    index = {f: headers.index(layout.columns[f]) if layout.columns.get(f) else None for f in FIELDS}
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if len(statement.lines) >= MAX_ROWS:
            statement.problems.append(f"More than {MAX_ROWS} lines: export a shorter period")
            break
        cells = {f: (row[i] if i is not None and i < len(row) else "") for f, i in index.items()}
        _read_row(statement, n, cells)
    if not statement.lines and not statement.problems:
        statement.problems.append("The statement has no transactions under its header row")
    return statement


def _read_row(statement: Statement, n: int, cells: dict[str, str]) -> None:
    when = parse_date(cells["date"])
    withdrawal, deposit = parse_money(cells["withdrawal"]), parse_money(cells["deposit"])
    if when is None:
        if _DATE_LIKE.match(cells["date"]) and (withdrawal or deposit):
            statement.problems.append(f"Row {n}: the date “{cells['date']}” was not understood")
        return   # separators, continuation lines, the summary under the lines
    if withdrawal is False or deposit is False:
        statement.problems.append(f"Row {n}: an amount was not understood")
        return
    if bool(withdrawal) == bool(deposit):
        if withdrawal or deposit:
            statement.problems.append(f"Row {n}: both a withdrawal and a deposit")
        return   # a dated row without an amount (an opening balance line)
    narration = cells["narration"][:300] or "-"
    balance = parse_money(cells.get("balance") or "", signed=True)
    statement.lines.append(Line(
        row_no=n, txn_date=when, narration=narration, ref_no=(_ref(cells.get("ref") or "") or None),
        value_date=parse_date(cells.get("value_date") or ""), withdrawal=withdrawal or Decimal("0.00"),
        deposit=deposit or Decimal("0.00"), balance=balance if balance is not False else None))


def _ref(value: str) -> str:
    value = value.strip().lstrip("'")
    return "" if set(value) <= {"0", "-", " "} else value[:60]


def parse_date(text: str) -> date | None:
    """A statement's date: 05/12/26, 05/12/2026, 05-12-2026, 05.12.2026, 05 Dec 2026, 05-Dec-26, 2026-12-05."""
    value = text.strip().lower()
    day = month = year = None
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t].*)?", value):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: .*)?", value):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := re.fullmatch(r"(\d{1,2})[ /-]([a-z]{3})[a-z]*[ ,/-]+(\d{2}|\d{4})", value):
        day, month, year = int(m.group(1)), _MONTHS.get(m.group(2)), int(m.group(3))
    if day is None or month is None:
        return None
    year += 2000 if year < 100 else 0
    try:
        made = date(year, month, day)
    except ValueError:
        return None
    return made if 2000 < year < 2200 else None


def parse_money(text: str, signed: bool = False) -> Decimal | None | bool:
    """An amount as banks write it ('1,23,456.00', '500', '12,000.00 Cr'); None when blank or zero,
    False when not an amount. ``signed``: a balance marked Dr is negative."""
    value = text.strip().replace(",", "").replace("₹", "").replace("INR", "").strip()
    if value in ("", "-", "--"):
        return None
    sign = 1
    if m := re.fullmatch(r"(.*?)\s*\(?(cr|dr)\)?\.?", value, re.IGNORECASE):
        value, sign = m.group(1).strip(), (-1 if m.group(2).lower() == "dr" and signed else 1)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return False
    if not amount.is_finite() or abs(amount) >= Decimal("1e13"):
        return False
    amount = (amount * sign).quantize(Decimal("0.01"))
    if not signed and amount < 0:
        amount = -amount
    return amount if (amount or signed) else None


def fingerprint(text: str, columns: dict) -> str:
    """What the preview showed: confirming any other text or columns shows a new preview instead."""
    return hashlib.sha256((text + "\x00" + repr(sorted(columns.items()))).encode()).hexdigest()
