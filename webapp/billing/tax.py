"""GST tax-invoice arithmetic (CGST Rules, rule 46): pure Python, Decimal only.

Money is never a float. Every rounding is ROUND_HALF_UP to the paisa (as
PostgreSQL's round(numeric, 2)); the grand total is rounded half up to the whole
rupee with a visible round-off.

Per line:
- gross value = round(qty * unit_price, 2); discount (paisa, 0 <= discount <= gross)
  reduces it before tax;
- GST-exclusive price: taxable = gross - discount, tax = round(taxable * rate / 100, 2);
- GST-inclusive price (vehicles): inclusive = gross - discount,
  taxable = round(inclusive * 100 / (100 + rate), 2), tax = inclusive - taxable, so
  the printed line adds up to the price quoted;
- intra-state: CGST = round(tax / 2, 2), SGST = tax - CGST; inter-state: IGST = tax.

Invoice: totals by head, sum of line totals, round off (|round_off| <= 0.50, .50 goes
up), grand total (whole rupees) and an HSN summary per (HSN/SAC, rate).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PAISA = Decimal("0.01")
RUPEE = Decimal(1)
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Largest amount amount_in_words() spells: 99,99,99,99,999.99 (9,999 crore ...).
MAX_WORDS_AMOUNT = Decimal("99999999999.99")


def round_paisa(value: Decimal) -> Decimal:
    """Round half up to two decimals, as PostgreSQL's round(value, 2)."""
    return value.quantize(PAISA, rounding=ROUND_HALF_UP)


def round_rupee(value: Decimal) -> Decimal:
    """Round half up to the whole rupee, kept with two decimals (100.50 -> 101.00)."""
    return value.quantize(RUPEE, rounding=ROUND_HALF_UP).quantize(PAISA)


def _decimal(value: object, name: str) -> Decimal:
    """Decimal, int or a numeric str; floats (and bools) are refused."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return result


def _paisa_exact(value: Decimal, name: str) -> Decimal:
    if value != value.quantize(PAISA, rounding=ROUND_HALF_UP):
        raise ValueError(f"{name} must be a whole number of paise: {value}")
    return value.quantize(PAISA)


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
        qty = _decimal(self.qty, "qty")
        if qty <= 0:
            raise ValueError("qty must be above zero")
        unit_price = _decimal(self.unit_price, "unit_price")
        if unit_price < 0:
            raise ValueError("unit_price must not be negative")
        rate = _decimal(self.gst_rate, "gst_rate")
        if not 0 <= rate <= 100:
            raise ValueError("gst_rate must be a percentage from 0 to 100")
        discount = _paisa_exact(_decimal(self.discount, "discount"), "discount")
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
        taxable = round_paisa(after_discount * HUNDRED / (HUNDRED + rate))
        tax = after_discount - taxable
    else:
        taxable = after_discount
        tax = round_paisa(taxable * rate / HUNDRED)
    if intra_state:
        cgst = round_paisa(tax / 2)
        sgst = tax - cgst
        igst = ZERO
    else:
        cgst = sgst = ZERO
        igst = tax
    return LineTax(line=line, gross_value=gross, discount=line.discount, taxable_value=taxable, tax=tax,
                   cgst=cgst, sgst=sgst, igst=igst, total=taxable + tax)


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


# ----------------------------------------------------------------------------- words

_ONES = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
         "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen")
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts.append(f"{_ONES[hundreds]} Hundred")
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def _integer_words(n: int) -> str:
    """Indian system: 12345678 -> 'One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight'."""
    if n == 0:
        return "Zero"
    crore, n = divmod(n, 10_000_000)
    lakh, n = divmod(n, 100_000)
    thousand, n = divmod(n, 1_000)
    parts = []
    if crore:
        # up to 9,999 crore within MAX_WORDS_AMOUNT: "Nine Thousand Nine Hundred Ninety-Nine Crore"
        parts.append(f"{_integer_words(crore)} Crore")
    if lakh:
        parts.append(f"{_below_hundred(lakh)} Lakh")
    if thousand:
        parts.append(f"{_below_hundred(thousand)} Thousand")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def amount_in_words(amount: Decimal) -> str:
    """Decimal('123456.50') -> 'One Lakh Twenty-Three Thousand Four Hundred Fifty-Six Rupees and
    Fifty Paise Only'; whole rupees -> '... Rupees Only'; 0 -> 'Zero Rupees Only';
    0.50 -> 'Zero Rupees and Fifty Paise Only'; 1.01 -> 'One Rupee and One Paisa Only'. Up to 99,99,99,99,999.99; negative
    amounts and fractions of a paisa are refused (ValueError)."""
    value = _decimal(amount, "amount")
    if value < 0:
        raise ValueError("amount in words: negative amounts are refused")
    if value > MAX_WORDS_AMOUNT:
        raise ValueError("amount in words: above 99,99,99,99,999.99")
    value = _paisa_exact(value, "amount")
    rupees, paise = divmod(int(value * 100), 100)
    words = f"{_integer_words(rupees)} {'Rupee' if rupees == 1 else 'Rupees'}"
    if paise:
        words += f" and {_below_hundred(paise)} {'Paisa' if paise == 1 else 'Paise'}"
    return words + " Only"
