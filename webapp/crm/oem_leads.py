"""Reading the OEM portal's leads (pasted from its sheet, or its CSV / XLSX uploaded) row by row for
the preview. The text is split and an upload read by procurement's dispatch-list helpers
(procurement.api: the same shapes of list); nothing here writes. Row numbers are the text's line
numbers, so they match the spreadsheet's rows when pasted from its first row."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .. import validators as v
from ..forms import parse_date
from ..money import parse_amount
from ..procurement.api import split_rows

MAX_ROWS = 500
COLUMNS = ("ref", "name", "mobile", "email", "model", "budget", "expected", "notes")
TITLES = {"ref": "Lead ID", "name": "Name", "mobile": "Mobile", "email": "E-mail", "model": "Model",
          "budget": "Budget", "expected": "Expected date", "notes": "Notes"}
_ALIASES = {
    "ref": {"leadid", "leadno", "leadref", "id", "enquiryid", "enquiryno", "ref", "reference"},
    "name": {"name", "customer", "customername", "fullname", "leadname"},
    "mobile": {"mobile", "mobileno", "mobilenumber", "phone", "phoneno", "contact", "contactno"},
    "email": {"email", "emailid", "mail"},
    "model": {"model", "modelname", "product", "vehicle", "interestedin", "modelinterest"},
    "budget": {"budget", "budgetrs", "budgetinr", "price"},
    "expected": {"expecteddate", "expectedpurchase", "purchasedate", "expectedby", "buyby", "timeline"},
    "notes": {"notes", "note", "remarks", "remark", "comments", "comment"},
}
REF_RE = re.compile(r"[A-Za-z0-9/_.-]{1,40}")


@dataclass
class LeadRow:
    row_no: int
    ref: str | None = None
    name: str = ""
    mobile: str = ""
    email: str | None = None
    model_text: str = ""
    model_id: int | None = None
    budget: Decimal | None = None
    expected: date | None = None
    notes: str | None = None
    errors: list[str] = field(default_factory=list)

    def refuse(self, column: str, message: str) -> None:
        self.errors.append(f"Row {self.row_no}, {TITLES[column]}: {message}")


@dataclass
class LeadList:
    rows: list[LeadRow]
    problems: list[str]

    @property
    def messages(self) -> list[str]:
        return [*self.problems, *(m for r in self.rows for m in r.errors)]

    @property
    def is_clean(self) -> bool:
        return bool(self.rows) and not self.messages


def _column_of(title: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", title.lower())
    return next((c for c, names in _ALIASES.items() if key in names), None)


def fingerprint(text: str) -> str:
    """What the preview showed: confirming any other text shows a new preview instead of saving."""
    return hashlib.sha256(text.encode()).hexdigest()


def _model(text: str, models: list[tuple[int, str]]) -> int | None:
    """The catalogue model a portal's name means: its full name, or its name without the brand."""
    key = re.sub(r"\s+", " ", text.strip().lower())
    for model_id, label in models:
        if key == label.lower() or key == label.lower().split(" ", 1)[-1]:
            return model_id
    found = [m for m, label in models if key and key in label.lower()]
    return found[0] if len(found) == 1 else None


def parse_leads(text: str, models: list[tuple[int, str]], taken_refs: set[str], today: date) -> LeadList:
    """Each lead of the list with what is wrong with it; `taken_refs` are the OEM lead ids the branch
    already has."""
    rows = split_rows(text or "")
    if not rows:
        return LeadList([], ["The list is empty: paste the portal's sheet or upload its file"])
    header = [_column_of(c) for c in rows[0][1]]
    if "name" not in header or "mobile" not in header:
        return LeadList([], ["The first row must name the columns: at least Name and Mobile "
                             "(also Lead ID, E-mail, Model, Budget, Expected date, Notes)"])
    if len(rows) - 1 > MAX_ROWS:
        return LeadList([], [f"The list has more than {MAX_ROWS} leads: upload it in parts"])
    out: list[LeadRow] = []
    refs_seen: dict[str, int] = {}
    for row_no, cells in rows[1:]:
        values = {c: "" for c in COLUMNS}
        for column, cell in zip(header, cells):
            if column:
                values[column] = cell.strip()
        lead = LeadRow(row_no)
        lead.name = values["name"]
        if not 2 <= len(lead.name) <= 200:
            lead.refuse("name", "a name is 2 to 200 characters")
        lead.mobile = v.normalise_mobile(values["mobile"])
        if not v.is_mobile(lead.mobile):
            lead.refuse("mobile", f"“{values['mobile']}” is not a mobile number: 10 digits starting with 6-9")
        if values["email"]:
            lead.email = values["email"]
            if not v.is_email(lead.email):
                lead.refuse("email", f"“{lead.email}” is not an e-mail address")
        if values["ref"]:
            lead.ref = values["ref"]
            if not REF_RE.fullmatch(lead.ref):
                lead.refuse("ref", "1 to 40 letters, digits, / _ . -")
            elif lead.ref in taken_refs:
                lead.refuse("ref", f"lead {lead.ref} was taken in before")
            elif lead.ref in refs_seen:
                lead.refuse("ref", f"lead {lead.ref} is also on row {refs_seen[lead.ref]}")
            else:
                refs_seen[lead.ref] = row_no
        if values["model"]:
            lead.model_text = values["model"]
            lead.model_id = _model(values["model"], models)
            if lead.model_id is None:
                lead.refuse("model", f"“{values['model']}” is not a model in the catalogue")
        if values["budget"]:
            try:
                lead.budget = parse_amount(values["budget"], places=2)
            except ValueError:
                lead.refuse("budget", f"“{values['budget']}” is not an amount")
            else:
                if lead.budget is not None and not Decimal(0) < lead.budget < Decimal(1_000_000_000):
                    lead.refuse("budget", "not a sensible amount")
        if values["expected"]:
            try:
                lead.expected = parse_date(values["expected"])
            except ValueError:
                lead.refuse("expected", f"“{values['expected']}” is not a date: write it like 15-01-2027")
        if values["notes"]:
            lead.notes = values["notes"][:1000]
        out.append(lead)
    if not out:
        return LeadList([], ["The list has its column names but no lead"])
    return LeadList(out, [])
