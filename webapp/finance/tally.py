"""The Tally import XML: pure functions over rows, no database.

Two files, each an ENVELOPE that Tally's "Import Data" reads:

* masters (REPORTNAME "All Masters"): the account groups the company added beyond Tally's own,
  parents first, and every ledger the vouchers use with its PARENT group; the GST duty ledgers
  with TAXTYPE GST and their GSTDUTYHEAD; a party's GSTIN, state and address in the dated
  LEDGSTREGDETAILS.LIST / LEDMAILINGDETAILS.LIST of TallyPrime;
* vouchers (REPORTNAME "Vouchers"): one VOUCHER per voucher in the books, in the Accounting
  Voucher View, its ALLLEDGERENTRIES.LIST lines signed as Tally signs them: a debit is
  ISDEEMEDPOSITIVE Yes with a negative AMOUNT, a credit No with a positive one, so a voucher's
  amounts add up to zero.

Both are written with the standard library's streaming XML writer (xml.sax.saxutils.XMLGenerator,
which escapes text and attributes: a party "Sharma & Sons" is written "Sharma &amp; Sons"), one
TALLYMESSAGE at a time, so a year of vouchers (tens of thousands) never sits in memory as a tree:
``masters_xml`` and ``vouchers_xml`` yield the file in byte chunks.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import XMLGenerator

# Characters XML 1.0 cannot hold at all (a control character pasted into a name or narration):
# left out of what is written rather than make a file Tally cannot read.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# The books' voucher types as Tally names them (its predefined voucher types).
VOUCHER_TYPE_NAMES = {
    "SALES": "Sales", "CREDIT_NOTE": "Credit Note", "DEBIT_NOTE": "Debit Note", "RECEIPT": "Receipt",  # data, not access
    "PAYMENT": "Payment", "PURCHASE": "Purchase", "JOURNAL": "Journal", "CONTRA": "Contra",
}
# finance.ledger.gst_duty_head as Tally's GSTDUTYHEAD.
GST_DUTY_HEADS = {"CGST": "Central Tax", "SGST": "State Tax", "IGST": "Integrated Tax", "CESS": "Cess"}
ACCOUNTING_VIEW = "Accounting Voucher View"
# The groups whose ledgers stand for the other side of a voucher that has no party ledger
# (a cash sale's Cash, a bank payment's bank): Tally names one ledger of a voucher its party.
MONEY_GROUPS = frozenset({"Cash-in-Hand", "Bank Accounts", "Bank OD A/c"})


@dataclass(frozen=True)
class Group:
    """An account group the company added (Tally has its own 28); parent None: a primary group."""
    name: str
    parent: str | None
    nature: str            # ASSETS, LIABILITIES, INCOME, EXPENSES
    gross_profit: bool = False


@dataclass(frozen=True)
class Ledger:
    name: str
    parent: str            # the group's name
    gst_duty_head: str | None = None    # CGST, SGST, IGST, CESS for a duty ledger
    is_party: bool = False
    gstin: str | None = None
    state: str | None = None            # the state's name, as Tally lists states
    mailing_name: str | None = None
    address: tuple[str, ...] = ()
    pincode: str | None = None


@dataclass(frozen=True)
class Entry:
    """One line of a voucher: exactly one of debit and credit is above zero."""
    ledger: str
    debit: Decimal
    credit: Decimal
    is_party: bool = False
    in_money_group: bool = False


@dataclass
class Voucher:
    voucher_type: str      # the books' type: SALES, RECEIPT...
    number: str
    on: date
    narration: str | None
    entries: list[Entry] = field(default_factory=list)

    @property
    def party(self) -> str:
        """The ledger Tally shows as the voucher's party: its first party ledger (customer, OEM,
        financier, insurer), else its first cash or bank ledger, else its first ledger."""
        for test in (lambda e: e.is_party, lambda e: e.in_money_group, lambda e: True):
            for e in self.entries:
                if test(e):
                    return e.ledger
        raise ValueError(f"voucher {self.number} has no lines")


def tally_date(on: date) -> str:
    return on.strftime("%Y%m%d")


def tally_amount(debit: Decimal, credit: Decimal) -> tuple[str, str]:
    """(ISDEEMEDPOSITIVE, AMOUNT) of a line: a debit is Yes and negative, a credit No and positive."""
    if (debit > 0) == (credit > 0) or debit < 0 or credit < 0:
        raise ValueError(f"a line is a debit or a credit above zero, not {debit} / {credit}")
    if debit > 0:
        return "Yes", f"{-debit:.2f}"
    return "No", f"{credit:.2f}"


def yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


class _Writer:
    """XMLGenerator over a buffer that is emptied into the caller's chunks."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.xml = XMLGenerator(self.buffer, encoding="utf-8", short_empty_elements=True)

    def start(self, name: str, attrs: dict[str, str] | None = None) -> None:
        self.xml.startElement(name, {k: _NOT_XML.sub("", v) for k, v in (attrs or {}).items()})

    def end(self, name: str) -> None:
        self.xml.endElement(name)

    def text(self, name: str, value: str) -> None:
        self.xml.startElement(name, {})
        self.xml.characters(_NOT_XML.sub("", value))
        self.xml.endElement(name)

    def newline(self) -> None:
        self.xml.ignorableWhitespace("\n")

    def take(self) -> bytes:
        chunk = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return chunk


def _envelope(report: str, company: str, messages: Iterable, write_one) -> Iterator[bytes]:
    """ENVELOPE / HEADER / BODY / IMPORTDATA / REQUESTDESC / REQUESTDATA, one TALLYMESSAGE per
    message drawn by write_one(writer, message)."""
    if not company or not company.strip():
        raise ValueError("the Tally company's name is needed (SVCURRENTCOMPANY)")
    w = _Writer()
    w.xml.startDocument()
    w.start("ENVELOPE")
    w.start("HEADER")
    w.text("TALLYREQUEST", "Import Data")
    w.end("HEADER")
    w.start("BODY")
    w.start("IMPORTDATA")
    w.start("REQUESTDESC")
    w.text("REPORTNAME", report)
    w.start("STATICVARIABLES")
    w.text("SVCURRENTCOMPANY", company)
    w.end("STATICVARIABLES")
    w.end("REQUESTDESC")
    w.start("REQUESTDATA")
    w.newline()
    yield w.take()
    for message in messages:
        w.start("TALLYMESSAGE")
        write_one(w, message)
        w.end("TALLYMESSAGE")
        w.newline()
        yield w.take()
    w.end("REQUESTDATA")
    w.end("IMPORTDATA")
    w.end("BODY")
    w.end("ENVELOPE")
    w.newline()
    w.xml.endDocument()
    yield w.take()


# ----------------------------------------------------------------------------- masters


def groups_in_order(groups: Iterable[Group]) -> list[Group]:
    """Parents before their children (Tally refuses a group whose parent it does not know yet)."""
    pending = list(groups)
    known = {g.name for g in pending}
    placed: set[str] = set()
    ordered: list[Group] = []
    while pending:
        ready = [g for g in pending if g.parent is None or g.parent not in known or g.parent in placed]
        if not ready:
            raise ValueError("account groups form a loop: " + ", ".join(g.name for g in pending))
        for g in ready:
            ordered.append(g)
            placed.add(g.name)
        pending = [g for g in pending if g.name not in placed]
    return ordered


def _write_group(w: _Writer, g: Group) -> None:
    w.start("GROUP", {"NAME": g.name, "ACTION": "Create"})
    w.start("NAME.LIST", {"TYPE": "String"})
    w.text("NAME", g.name)
    w.end("NAME.LIST")
    w.text("PARENT", g.parent or "")
    if g.parent is None:   # a primary group says which side of the books it is on
        w.text("ISREVENUE", yes_no(g.nature in ("INCOME", "EXPENSES")))
        w.text("ISDEEMEDPOSITIVE", yes_no(g.nature in ("ASSETS", "EXPENSES")))
        w.text("AFFECTSGROSSPROFIT", yes_no(g.gross_profit))
    w.text("ISSUBLEDGER", "No")
    w.end("GROUP")


def _write_ledger(w: _Writer, led: Ledger, applicable_from: date) -> None:
    w.start("LEDGER", {"NAME": led.name, "ACTION": "Create"})
    w.start("NAME.LIST", {"TYPE": "String"})
    w.text("NAME", led.name)
    w.end("NAME.LIST")
    w.text("PARENT", led.parent)
    w.text("ISBILLWISEON", "No")
    if led.gst_duty_head:
        w.text("TAXTYPE", "GST")
        w.text("GSTDUTYHEAD", GST_DUTY_HEADS[led.gst_duty_head])
    if led.is_party and led.gstin:
        w.start("LEDGSTREGDETAILS.LIST")
        w.text("APPLICABLEFROM", tally_date(applicable_from))
        w.text("GSTREGISTRATIONTYPE", "Regular")
        if led.state:
            w.text("PLACEOFSUPPLY", led.state)
        w.text("GSTIN", led.gstin)
        w.end("LEDGSTREGDETAILS.LIST")
    if led.is_party and (led.state or led.address):
        w.start("LEDMAILINGDETAILS.LIST")
        if led.address:
            w.start("ADDRESS.LIST", {"TYPE": "String"})
            for line in led.address:
                w.text("ADDRESS", line)
            w.end("ADDRESS.LIST")
        w.text("APPLICABLEFROM", tally_date(applicable_from))
        w.text("MAILINGNAME", led.mailing_name or led.name)
        if led.state:
            w.text("STATE", led.state)
        w.text("COUNTRY", "India")
        if led.pincode:
            w.text("PINCODE", led.pincode)
        w.end("LEDMAILINGDETAILS.LIST")
    w.end("LEDGER")


def masters_xml(company: str, groups: Iterable[Group], ledgers: Iterable[Ledger], applicable_from: date) -> Iterator[bytes]:
    """The masters file: the company's own groups (parents first), then the ledgers.
    applicable_from dates the parties' GST and address details (Tally keeps them dated)."""
    messages = [("G", g) for g in groups_in_order(groups)] + [("L", led) for led in ledgers]

    def write(w: _Writer, message) -> None:
        kind, obj = message
        if kind == "G":
            _write_group(w, obj)
        else:
            _write_ledger(w, obj, applicable_from)

    return _envelope("All Masters", company, messages, write)


# ----------------------------------------------------------------------------- vouchers


def _write_voucher(w: _Writer, v: Voucher) -> None:
    type_name = VOUCHER_TYPE_NAMES[v.voucher_type]
    party = v.party
    w.start("VOUCHER", {"VCHTYPE": type_name, "ACTION": "Create", "OBJVIEW": ACCOUNTING_VIEW})
    w.text("DATE", tally_date(v.on))
    w.text("EFFECTIVEDATE", tally_date(v.on))
    w.text("VOUCHERTYPENAME", type_name)
    w.text("VOUCHERNUMBER", v.number)
    w.text("PARTYLEDGERNAME", party)
    w.text("PERSISTEDVIEW", ACCOUNTING_VIEW)
    w.text("ISINVOICE", "No")
    if v.narration:
        w.text("NARRATION", v.narration)
    # The party's lines first, as Tally shows them, then the rest in the voucher's order.
    for e in sorted(v.entries, key=lambda e: e.ledger != party):
        deemed_positive, amount = tally_amount(e.debit, e.credit)
        w.start("ALLLEDGERENTRIES.LIST")
        w.text("LEDGERNAME", e.ledger)
        w.text("ISDEEMEDPOSITIVE", deemed_positive)
        w.text("ISPARTYLEDGER", yes_no(e.ledger == party))
        w.text("AMOUNT", amount)
        w.end("ALLLEDGERENTRIES.LIST")
    w.end("VOUCHER")


def vouchers_xml(company: str, vouchers: Iterable[Voucher]) -> Iterator[bytes]:
    """The vouchers file, one TALLYMESSAGE per voucher; a voucher whose debits and credits differ
    (the database never keeps one) stops the file rather than reach Tally."""
    def write(w: _Writer, v: Voucher) -> None:
        if sum(e.debit for e in v.entries) != sum(e.credit for e in v.entries):
            raise ValueError(f"voucher {v.number} does not balance")
        _write_voucher(w, v)

    return _envelope("Vouchers", company, vouchers, write)


def vouchers_from_rows(rows: Iterable) -> Iterator[Voucher]:
    """Vouchers from the export query's rows (one per line, ordered by voucher then line): each row
    has voucher_id, voucher_type, voucher_no, voucher_date, narration, ledger_name, debit, credit,
    is_party, in_money_group."""
    current: Voucher | None = None
    current_id = None
    for r in rows:
        if r["voucher_id"] != current_id:
            if current is not None:
                yield current
            current_id = r["voucher_id"]
            current = Voucher(r["voucher_type"], r["voucher_no"], r["voucher_date"], r["narration"])
        current.entries.append(Entry(r["ledger_name"], r["debit"], r["credit"], bool(r["is_party"]),
                                     bool(r["in_money_group"])))
    if current is not None:
        yield current


__all__ = ["ACCOUNTING_VIEW", "Entry", "GST_DUTY_HEADS", "Group", "Ledger", "VOUCHER_TYPE_NAMES", "Voucher",
           "groups_in_order", "masters_xml", "tally_amount", "tally_date", "vouchers_from_rows", "vouchers_xml"]
