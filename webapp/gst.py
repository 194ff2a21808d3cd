"""GST arithmetic for every document that carries GST, sold or bought: pure Python, Decimal only.

Tax invoices (billing), purchase orders and the figures of a supplier's invoice (procurement)
all compute here, so a sale and a purchase of the same amount carry the same tax. Money is never
a float. Every rounding is ROUND_HALF_UP to the paisa (as PostgreSQL's round(numeric, 2), see
webapp.money); the grand total is rounded half up to the whole rupee with a visible round-off.

Per line:
- gross value = round(qty * unit_price, 2); discount (paisa, 0 <= discount <= gross)
  reduces it before tax;
- GST-exclusive price: taxable = gross - discount, tax = round(taxable * rate / 100, 2);
- GST-inclusive price (vehicles, MRP): inclusive = gross - discount,
  taxable = round(inclusive * 100 / (100 + rate), 2), tax = inclusive - taxable, so
  the printed line adds up to the price quoted;
- intra-state: CGST = round(tax / 2, 2), SGST = tax - CGST; inter-state: IGST = tax.

Invoice: totals by head, sum of line totals, round off (|round_off| <= 0.50, .50 goes
up), grand total (whole rupees) and an HSN summary per (HSN/SAC, rate).

Nothing here imports billing or procurement; both import this.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .money import HUNDRED, ZERO, as_decimal, paisa_exact, round_paisa, round_rupee


@dataclass(frozen=True)
class TaxHeads:
    cgst: Decimal
    sgst: Decimal
    igst: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


def tax_at_rate(taxable: Decimal, rate: Decimal) -> Decimal:
    """GST on a GST-exclusive taxable value, to the paisa: 5% of 100.10 = 5.005 -> 5.01."""
    return round_paisa(taxable * rate / HUNDRED)


def taxable_within(inclusive: Decimal, rate: Decimal) -> Decimal:
    """The taxable value inside a GST-inclusive amount, to the paisa; the tax is the rest, so the
    printed line adds up to the price quoted (1,55,000 at 5% -> 1,47,619.05 + 7,380.95)."""
    return round_paisa(inclusive * HUNDRED / (HUNDRED + rate))


def split_tax(tax: Decimal, intra_state: bool) -> TaxHeads:
    """One line's tax by head: within the state CGST = round(tax / 2, 2) and SGST the rest
    (5.01 -> 2.51 + 2.50); across states all of it IGST."""
    if intra_state:
        cgst = round_paisa(tax / 2)
        return TaxHeads(cgst, tax - cgst, ZERO)
    return TaxHeads(ZERO, ZERO, tax)


def exclusive_line_tax(taxable: Decimal, rate: Decimal | None, intra_state: bool) -> TaxHeads:
    """The tax heads of one GST-exclusive amount (no rate: no tax)."""
    if rate is None:
        return TaxHeads(ZERO, ZERO, ZERO)
    return split_tax(tax_at_rate(taxable, rate), intra_state)


@dataclass(frozen=True)
class InvoiceLine:
    """One line as entered. Numbers may be given as Decimal, int or str (never float)."""

    description: str
    hsn_code: str
    qty: Decimal
    unit_price: Decimal
    gst_rate: Decimal  # percent, e.g. Decimal("5") or Decimal("18")
    price_includes_gst: bool = False
    discount: Decimal = ZERO  # an amount in rupees, off the line value

    def __post_init__(self) -> None:
        description = (self.description or "").strip()
        if not description:
            raise ValueError("description is required")
        hsn = "".join((self.hsn_code or "").split())  # "8711 60" -> "871160"
        if not (hsn.isdigit() and hsn.isascii() and 4 <= len(hsn) <= 8):
            raise ValueError(f"HSN/SAC code must be 4 to 8 digits: {self.hsn_code!r}")
        qty = as_decimal(self.qty, "qty")
        if qty <= 0:
            raise ValueError("qty must be above zero")
        unit_price = as_decimal(self.unit_price, "unit_price")
        if unit_price < 0:
            raise ValueError("unit_price must not be negative")
        rate = as_decimal(self.gst_rate, "gst_rate")
        if not 0 <= rate <= 100:
            raise ValueError("gst_rate must be a percentage from 0 to 100")
        discount = paisa_exact(as_decimal(self.discount, "discount"), "discount")
        if discount < 0:
            raise ValueError("discount must not be negative")
        if discount > round_paisa(qty * unit_price):
            raise ValueError("discount must not exceed the line value")
        if not isinstance(self.price_includes_gst, bool):
            raise TypeError("price_includes_gst must be a bool")
        for name, value in (("description", description), ("hsn_code", hsn), ("qty", qty),
                            ("unit_price", unit_price), ("gst_rate", rate), ("discount", discount)):
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class LineTax:
    """A computed line: the input plus its values to the paisa."""

    line: InvoiceLine
    gross_value: Decimal  # round(qty * unit_price, 2), as quoted (inclusive or exclusive)
    discount: Decimal
    taxable_value: Decimal
    tax: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal
    total: Decimal  # taxable_value + tax

    @property
    def gst_rate(self) -> Decimal:
        return self.line.gst_rate

    @property
    def half_rate(self) -> Decimal:
        """The CGST (= SGST) rate printed on an intra-state invoice, e.g. 2.5 for 5%."""
        return self.line.gst_rate / 2


@dataclass(frozen=True)
class HsnSummaryRow:
    hsn_code: str
    gst_rate: Decimal
    taxable_value: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


@dataclass(frozen=True)
class Invoice:
    intra_state: bool
    lines: tuple[LineTax, ...]
    taxable_value: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal
    total_before_round_off: Decimal  # sum of line totals
    round_off: Decimal  # grand_total - total_before_round_off; -0.49 .. +0.50
    grand_total: Decimal  # whole rupees (two decimals, .00)
    hsn_summary: tuple[HsnSummaryRow, ...]  # sorted by (hsn_code, gst_rate)

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


def compute_line(line: InvoiceLine, intra_state: bool) -> LineTax:
    rate = line.gst_rate
    gross = round_paisa(line.qty * line.unit_price)
    after_discount = gross - line.discount
    if line.price_includes_gst:
        taxable = taxable_within(after_discount, rate)
        tax = after_discount - taxable
    else:
        taxable = after_discount
        tax = tax_at_rate(taxable, rate)
    heads = split_tax(tax, intra_state)
    return LineTax(line=line, gross_value=gross, discount=line.discount, taxable_value=taxable, tax=tax,
                   cgst=heads.cgst, sgst=heads.sgst, igst=heads.igst, total=taxable + tax)


def compute_invoice(lines: Iterable[InvoiceLine], intra_state: bool) -> Invoice:
    """Tax per line to the paisa, totals by head, round off to the rupee, HSN summary."""
    if not isinstance(intra_state, bool):
        raise TypeError("intra_state must be a bool")
    computed = tuple(compute_line(line, intra_state) for line in lines)
    if not computed:
        raise ValueError("an invoice needs at least one line")

    def total(attr: str, rows: Iterable[object]) -> Decimal:
        return sum((getattr(row, attr) for row in rows), ZERO)

    before = total("total", computed)
    grand = round_rupee(before)

    groups: dict[tuple[str, Decimal], list[LineTax]] = {}
    for row in computed:
        # normalize() so that 5, 5.0 and 5.00 are one rate.
        groups.setdefault((row.line.hsn_code, row.gst_rate.normalize()), []).append(row)
    summary = tuple(
        HsnSummaryRow(hsn_code=hsn, gst_rate=rate, taxable_value=total("taxable_value", rows),
                      cgst=total("cgst", rows), sgst=total("sgst", rows), igst=total("igst", rows))
        for (hsn, rate), rows in sorted(groups.items())
    )
    return Invoice(
        intra_state=intra_state, lines=computed,
        taxable_value=total("taxable_value", computed),
        cgst=total("cgst", computed), sgst=total("sgst", computed), igst=total("igst", computed),
        total_before_round_off=before, round_off=grand - before, grand_total=grand,
        hsn_summary=summary,
    )
