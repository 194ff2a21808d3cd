"""GST invoice arithmetic (webapp.billing.tax): hand-checked cases and properties.

Every expected figure below is worked out by hand in the comments; rounding is
ROUND_HALF_UP to the paisa (PostgreSQL's round(x, 2)) and to the rupee for the
grand total.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.billing.tax import (
    HsnSummaryRow,
    InvoiceLine,
    amount_in_words,
    compute_invoice,
    compute_line,
)

D = Decimal


def scooter(price: str = "157000", discount: str = "0") -> InvoiceLine:
    return InvoiceLine("Electric scooter", "8711 60", D("1"), D(price), D("5"), price_includes_gst=True,
                       discount=D(discount))


def line(price: str, rate: str, qty: str = "1", hsn: str = "8714", inclusive: bool = False,
         discount: str = "0", description: str = "Part") -> InvoiceLine:
    return InvoiceLine(description, hsn, D(qty), D(price), D(rate), price_includes_gst=inclusive,
                       discount=D(discount))


# ----------------------------------------------------------------------------- the e-scooter


def test_inclusive_scooter_intra_state():
    # 157000 x 100 / 105 = 149523.8095238... -> 149523.81 (taxable)
    # tax = 157000.00 - 149523.81 = 7476.19
    # CGST = round(7476.19 / 2) = round(3738.095) = 3738.10 (half up); SGST = 7476.19 - 3738.10 = 3738.09
    # check: 149523.81 + 3738.10 + 3738.09 = 157000.00, the quoted price; no round off.
    inv = compute_invoice([scooter()], intra_state=True)
    (ln,) = inv.lines
    assert ln.gross_value == D("157000.00")
    assert ln.taxable_value == D("149523.81")
    assert ln.tax == D("7476.19")
    assert (ln.cgst, ln.sgst, ln.igst) == (D("3738.10"), D("3738.09"), D("0.00"))
    assert ln.total == D("157000.00")
    assert ln.half_rate == D("2.5")
    assert (inv.taxable_value, inv.cgst, inv.sgst, inv.igst) == (
        D("149523.81"), D("3738.10"), D("3738.09"), D("0.00"))
    assert inv.tax == D("7476.19")
    assert inv.round_off == D("0.00")
    assert inv.grand_total == D("157000.00")
    assert amount_in_words(inv.grand_total) == "One Lakh Fifty-Seven Thousand Rupees Only"


def test_inclusive_scooter_inter_state_is_igst():
    # Same working back: taxable 149523.81, tax 7476.19, all of it IGST.
    inv = compute_invoice([scooter()], intra_state=False)
    (ln,) = inv.lines
    assert (ln.taxable_value, ln.tax) == (D("149523.81"), D("7476.19"))
    assert (ln.cgst, ln.sgst, ln.igst) == (D("0.00"), D("0.00"), D("7476.19"))
    assert (inv.cgst, inv.sgst, inv.igst) == (D("0.00"), D("0.00"), D("7476.19"))
    assert inv.grand_total == D("157000.00")
    assert inv.round_off == D("0.00")
    assert inv.hsn_summary == (HsnSummaryRow("871160", D("5"), D("149523.81"), D("0.00"), D("0.00"),
                                             D("7476.19")),)


# ----------------------------------------------------------------------------- several rates


def several_rates() -> list[InvoiceLine]:
    return [
        scooter(),
        # accessories, exclusive: 2 x 1249.50 = 2499.00; 18% = 449.82
        line("1249.50", "18", qty="2", hsn="8714", description="Helmet"),
        # labour, exclusive: 1.5 h x 566.67 = 850.005 -> 850.01 (half up); 18% of 850.01 = 153.0018 -> 153.00
        line("566.67", "18", qty="1.5", hsn="998714", description="Labour"),
    ]


def test_several_rates_intra_state():
    # line          taxable      tax      CGST     SGST
    # scooter 5%   149523.81  7476.19  3738.10  3738.09
    # helmet 18%     2499.00   449.82   224.91   224.91
    # labour 18%      850.01   153.00    76.50    76.50
    # total        152872.82  8079.01  4039.51  4039.50
    # before round off 152872.82 + 8079.01 = 160951.83 -> 160952.00, round off +0.17
    inv = compute_invoice(several_rates(), intra_state=True)
    assert [(ln.taxable_value, ln.tax, ln.cgst, ln.sgst, ln.total) for ln in inv.lines] == [
        (D("149523.81"), D("7476.19"), D("3738.10"), D("3738.09"), D("157000.00")),
        (D("2499.00"), D("449.82"), D("224.91"), D("224.91"), D("2948.82")),
        (D("850.01"), D("153.00"), D("76.50"), D("76.50"), D("1003.01")),
    ]
    assert inv.taxable_value == D("152872.82")
    assert (inv.cgst, inv.sgst, inv.igst) == (D("4039.51"), D("4039.50"), D("0.00"))
    assert inv.tax == D("8079.01")
    assert inv.total_before_round_off == D("160951.83")
    assert inv.round_off == D("0.17")
    assert inv.grand_total == D("160952.00")
    assert amount_in_words(inv.grand_total) == "One Lakh Sixty Thousand Nine Hundred Fifty-Two Rupees Only"
    # HSN summary, sorted by code: "871160" < "8714" < "998714"
    assert inv.hsn_summary == (
        HsnSummaryRow("871160", D("5"), D("149523.81"), D("3738.10"), D("3738.09"), D("0.00")),
        HsnSummaryRow("8714", D("18"), D("2499.00"), D("224.91"), D("224.91"), D("0.00")),
        HsnSummaryRow("998714", D("18"), D("850.01"), D("76.50"), D("76.50"), D("0.00")),
    )
    assert sum(row.tax for row in inv.hsn_summary) == D("8079.01")


def test_several_rates_inter_state():
    # IGST per line = the line's tax: 7476.19 + 449.82 + 153.00 = 8079.01; same grand total.
    inv = compute_invoice(several_rates(), intra_state=False)
    assert [ln.igst for ln in inv.lines] == [D("7476.19"), D("449.82"), D("153.00")]
    assert (inv.cgst, inv.sgst, inv.igst) == (D("0.00"), D("0.00"), D("8079.01"))
    assert (inv.round_off, inv.grand_total) == (D("0.17"), D("160952.00"))
    assert [row.igst for row in inv.hsn_summary] == [D("7476.19"), D("449.82"), D("153.00")]


def test_hsn_summary_merges_lines_of_one_code_and_rate_and_splits_rates():
    # charger 8504 5%:  12000.00, tax 600.00 (300.00 / 300.00)
    # helmet 8714 18%:    999.00, tax 179.82 (89.91 / 89.91)
    # guard 8714 18%:   1500.00 - 100.00 = 1400.00, tax 252.00 (126.00 / 126.00)
    # mat 8714 28%:       100.00, tax 28.00 (14.00 / 14.00)
    # summary 8714 @18%: 999.00 + 1400.00 = 2399.00; CGST 89.91 + 126.00 = 215.91, SGST the same
    inv = compute_invoice([
        line("999", "18", description="Helmet"),
        line("12000", "5", hsn="8504", description="Charger"),
        line("1500", "18", discount="100", description="Guard"),
        line("100", "28", description="Mat"),
    ], intra_state=True)
    assert inv.hsn_summary == (
        HsnSummaryRow("8504", D("5"), D("12000.00"), D("300.00"), D("300.00"), D("0.00")),
        HsnSummaryRow("8714", D("18"), D("2399.00"), D("215.91"), D("215.91"), D("0.00")),
        HsnSummaryRow("8714", D("28"), D("100.00"), D("14.00"), D("14.00"), D("0.00")),
    )
    # invoice: taxable 14499.00, tax 600 + 179.82 + 252 + 28 = 1059.82; 15558.82 -> 15559.00 (+0.18)
    assert (inv.taxable_value, inv.tax) == (D("14499.00"), D("1059.82"))
    assert (inv.round_off, inv.grand_total) == (D("0.18"), D("15559.00"))
    assert sum(r.taxable_value for r in inv.hsn_summary) == inv.taxable_value


def test_rate_written_differently_is_one_summary_row():
    inv = compute_invoice([line("100", "18"), line("100", "18.00")], intra_state=True)
    assert len(inv.hsn_summary) == 1
    assert inv.hsn_summary[0].taxable_value == D("200.00")


# ----------------------------------------------------------------------------- discounts


def test_discount_on_exclusive_line_reduces_taxable_value():
    # 2 x 1500.00 = 3000.00 - 300.00 = 2700.00 taxable; 18% = 486.00 (243.00 / 243.00); total 3186.00
    ln = compute_line(line("1500", "18", qty="2", discount="300"), intra_state=True)
    assert (ln.gross_value, ln.discount, ln.taxable_value) == (D("3000.00"), D("300.00"), D("2700.00"))
    assert (ln.tax, ln.cgst, ln.sgst, ln.total) == (D("486.00"), D("243.00"), D("243.00"), D("3186.00"))


def test_discount_on_inclusive_scooter():
    # 157000 - 2000 = 155000.00 inclusive; 155000 x 100 / 105 = 147619.047619... -> 147619.05
    # tax = 155000.00 - 147619.05 = 7380.95; CGST = round(3690.475) = 3690.48 (half up), SGST 3690.47
    inv = compute_invoice([scooter(discount="2000")], intra_state=True)
    (ln,) = inv.lines
    assert (ln.taxable_value, ln.tax) == (D("147619.05"), D("7380.95"))
    assert (ln.cgst, ln.sgst) == (D("3690.48"), D("3690.47"))
    assert inv.grand_total == D("155000.00")


def test_discount_of_the_whole_line_leaves_nothing_to_tax():
    ln = compute_line(line("500", "18", discount="500"), intra_state=True)
    assert (ln.taxable_value, ln.tax, ln.total) == (D("0.00"), D("0.00"), D("0.00"))


def test_discount_above_the_line_value_is_refused():
    with pytest.raises(ValueError, match="discount"):
        line("500", "18", discount="500.01")
    with pytest.raises(ValueError, match="discount"):
        line("500", "18", discount="-1")
    with pytest.raises(ValueError, match="paise"):
        line("500", "18", discount="1.005")


# ----------------------------------------------------------------------------- rounding


def test_tax_rounds_half_up_not_to_even():
    # 80.25 x 18% = 14.445 -> 14.45 (half up; banker's rounding would give 14.44)
    # CGST = round(7.225) = 7.23, SGST = 14.45 - 7.23 = 7.22
    # total 80.25 + 14.45 = 94.70 -> 95.00, round off +0.30
    inv = compute_invoice([line("80.25", "18")], intra_state=True)
    (ln,) = inv.lines
    assert (ln.tax, ln.cgst, ln.sgst) == (D("14.45"), D("7.23"), D("7.22"))
    assert (inv.round_off, inv.grand_total) == (D("0.30"), D("95.00"))
    # 10.10 x 5% = 0.505 -> 0.51
    assert compute_line(line("10.10", "5"), intra_state=False).tax == D("0.51")


@pytest.mark.parametrize(("price", "rate", "round_off", "grand"), [
    ("100.50", "0", "0.50", "101.00"),   # exactly half a rupee goes up
    ("100.49", "0", "-0.49", "100.00"),  # just below half goes down
    ("100.51", "0", "0.49", "101.00"),
    ("100.00", "0", "0.00", "100.00"),
    ("85.17", "18", "0.50", "101.00"),   # 85.17 x 18% = 15.3306 -> 15.33; 85.17 + 15.33 = 100.50 -> 101
    ("84.00", "18", "-0.12", "99.00"),   # 84.00 x 18% = 15.12; 99.12 -> 99
    ("0.40", "0", "-0.40", "0.00"),      # a tiny invoice rounds to zero rupees
])
def test_round_off_to_the_rupee(price, rate, round_off, grand):
    inv = compute_invoice([line(price, rate)], intra_state=True)
    assert inv.round_off == D(round_off)
    assert inv.grand_total == D(grand)
    assert inv.total_before_round_off + inv.round_off == inv.grand_total


def test_inclusive_28_percent_works_back_to_the_price():
    # 999.00 x 100 / 128 = 780.46875 -> 780.47; tax 999.00 - 780.47 = 218.53
    # CGST round(109.265) = 109.27, SGST 109.26
    ln = compute_line(line("999", "28", inclusive=True), intra_state=True)
    assert (ln.taxable_value, ln.tax, ln.cgst, ln.sgst) == (D("780.47"), D("218.53"), D("109.27"), D("109.26"))
    assert ln.total == D("999.00")


def test_zero_rated_inclusive_line():
    ln = compute_line(line("250", "0", inclusive=True), intra_state=True)
    assert (ln.taxable_value, ln.tax, ln.cgst, ln.sgst) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"))


# ----------------------------------------------------------------------------- input checks


def test_floats_are_refused():
    with pytest.raises(TypeError):
        InvoiceLine("Part", "8714", D("1"), 99.5, D("18"))
    with pytest.raises(TypeError):
        InvoiceLine("Part", "8714", 1.0, D("99.50"), D("18"))
    with pytest.raises(TypeError):
        amount_in_words(10.5)


def test_ints_and_strings_are_taken_as_decimals():
    ln = InvoiceLine("Part", "8714", 2, "99.50", 18)
    assert (ln.qty, ln.unit_price, ln.gst_rate) == (D("2"), D("99.50"), D("18"))
    assert compute_line(ln, intra_state=True).tax == D("35.82")  # 199.00 x 18% = 35.82


@pytest.mark.parametrize("kwargs", [
    {"qty": D("0")}, {"qty": D("-1")}, {"unit_price": D("-1")}, {"gst_rate": D("-5")},
    {"gst_rate": D("101")}, {"hsn_code": "87A4"}, {"hsn_code": "871"}, {"hsn_code": "123456789"},
    {"description": "  "}, {"unit_price": "abc"}, {"qty": D("NaN")},
])
def test_bad_lines_are_refused(kwargs):
    fields = {"description": "Part", "hsn_code": "8714", "qty": D("1"), "unit_price": D("10"), "gst_rate": D("18")}
    with pytest.raises(ValueError):
        InvoiceLine(**{**fields, **kwargs})


def test_an_invoice_needs_a_line():
    with pytest.raises(ValueError):
        compute_invoice([], intra_state=True)


def test_hsn_spaces_are_dropped():
    assert scooter().hsn_code == "871160"


# ----------------------------------------------------------------------------- amount in words


@pytest.mark.parametrize(("amount", "words"), [
    ("0", "Zero Rupees Only"),
    ("0.00", "Zero Rupees Only"),
    ("0.50", "Zero Rupees and Fifty Paise Only"),
    ("0.01", "Zero Rupees and One Paisa Only"),
    ("1", "One Rupee Only"),
    ("1.01", "One Rupee and One Paisa Only"),
    ("19", "Nineteen Rupees Only"),
    ("20", "Twenty Rupees Only"),
    ("99", "Ninety-Nine Rupees Only"),
    ("100", "One Hundred Rupees Only"),
    ("101", "One Hundred One Rupees Only"),
    ("110.05", "One Hundred Ten Rupees and Five Paise Only"),
    ("1000", "One Thousand Rupees Only"),
    ("1001", "One Thousand One Rupees Only"),
    ("99999", "Ninety-Nine Thousand Nine Hundred Ninety-Nine Rupees Only"),
    ("100000", "One Lakh Rupees Only"),
    ("100001", "One Lakh One Rupees Only"),
    ("123456.50", "One Lakh Twenty-Three Thousand Four Hundred Fifty-Six Rupees and Fifty Paise Only"),
    ("1000000", "Ten Lakh Rupees Only"),
    ("9999999", "Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred Ninety-Nine Rupees Only"),
    ("10000000", "One Crore Rupees Only"),
    ("12345678.50",
     "One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight Rupees and Fifty Paise Only"),
    ("1000000000", "One Hundred Crore Rupees Only"),  # 1,00,00,00,000
    ("99999999999.99",  # 99,99,99,99,999.99, the largest
     ("Nine Thousand Nine Hundred Ninety-Nine Crore Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred "
      "Ninety-Nine Rupees and Ninety-Nine Paise Only")),
])
def test_amount_in_words(amount, words):
    assert amount_in_words(D(amount)) == words


def test_amount_in_words_takes_an_int():
    assert amount_in_words(157000) == "One Lakh Fifty-Seven Thousand Rupees Only"


@pytest.mark.parametrize("amount", ["-0.01", "-1", "100000000000", "1.005"])
def test_amount_in_words_refuses(amount):
    with pytest.raises(ValueError):
        amount_in_words(D(amount))


_NUMBER_WORDS = {w: i for i, w in enumerate((
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
    "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"))}
_NUMBER_WORDS.update({w: 10 * i for i, w in enumerate(
    ("Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"), start=2)})


def _words_to_int(words: str) -> int:
    """The inverse of the Indian-system spelling, for the round-trip property."""
    if " Crore" in words:
        head, _, rest = words.partition(" Crore")
        return _words_to_int(head) * 10_000_000 + (_words_to_int(rest.strip()) if rest.strip() else 0)
    total = current = 0
    for token in words.split():
        if token in ("Lakh", "Thousand"):
            total += current * (100_000 if token == "Lakh" else 1_000)
            current = 0
        elif token == "Hundred":
            current *= 100
        else:
            current += sum(_NUMBER_WORDS[part] for part in token.split("-"))
    return total + current


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=9_999_999_999_999))
def test_amount_in_words_round_trips(paise):
    amount = D(paise) / 100
    words = amount_in_words(amount)
    match = re.fullmatch(r"(.+) (Rupee|Rupees)(?: and (.+) (Paisa|Paise))? Only", words)
    assert match, words
    rupee_words, rupee_noun, paise_words, paise_noun = match.groups()
    assert _words_to_int(rupee_words) == paise // 100
    assert rupee_noun == ("Rupee" if paise // 100 == 1 else "Rupees")
    if paise % 100:
        assert _words_to_int(paise_words) == paise % 100
        assert paise_noun == ("Paisa" if paise % 100 == 1 else "Paise")
    else:
        assert paise_words is None


# ----------------------------------------------------------------------------- properties

RATES = [D(r) for r in ("0", "5", "12", "18", "28", "40")]
HSN_CODES = ["871160", "8714", "998714", "8504", "850760"]


@st.composite
def invoice_lines(draw):
    qty = draw(st.one_of(
        st.integers(min_value=1, max_value=20).map(D),
        st.integers(min_value=1, max_value=100_000).map(lambda n: D(n) / 1000),  # 0.001 .. 100.000
    ))
    price = D(draw(st.integers(min_value=0, max_value=50_000_000))) / 100  # up to 5,00,000.00
    gross_paise = int((qty * price).quantize(D("0.01"), rounding=ROUND_HALF_UP) * 100)
    discount = D(draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=gross_paise)))) / 100
    return InvoiceLine(
        description="Item", hsn_code=draw(st.sampled_from(HSN_CODES)), qty=qty, unit_price=price,
        gst_rate=draw(st.sampled_from(RATES)), price_includes_gst=draw(st.booleans()), discount=discount,
    )


def _is_paisa(value: Decimal) -> bool:
    return value == value.quantize(D("0.01"))


@settings(max_examples=400, deadline=None)
@given(st.lists(invoice_lines(), min_size=1, max_size=8), st.booleans())
def test_invoice_properties(lines, intra_state):
    inv = compute_invoice(lines, intra_state)
    for entered, ln in zip(lines, inv.lines):
        for value in (ln.taxable_value, ln.tax, ln.cgst, ln.sgst, ln.igst, ln.total):
            assert _is_paisa(value) and value >= 0
        assert ln.cgst + ln.sgst + ln.igst == ln.tax
        if intra_state:
            assert ln.igst == 0
            assert ln.cgst - ln.sgst in (D("0"), D("0.01"))
        else:
            assert ln.cgst == ln.sgst == 0
        after_discount = (entered.qty * entered.unit_price).quantize(D("0.01"), ROUND_HALF_UP) - entered.discount
        if entered.price_includes_gst:
            # the printed line adds up to the price quoted, less the discount
            assert ln.taxable_value + ln.tax == after_discount
            assert abs(ln.taxable_value * (100 + entered.gst_rate) / 100 - after_discount) <= D("0.01") * (
                1 + entered.gst_rate / 100) / 2
        else:
            assert ln.taxable_value == after_discount
            assert ln.tax == (ln.taxable_value * entered.gst_rate / 100).quantize(D("0.01"), ROUND_HALF_UP)
        assert ln.total == ln.taxable_value + ln.tax

    line_sum = sum((ln.taxable_value for ln in inv.lines), D(0))
    assert line_sum == inv.taxable_value
    assert sum((ln.cgst for ln in inv.lines), D(0)) == inv.cgst
    assert sum((ln.sgst for ln in inv.lines), D(0)) == inv.sgst
    assert sum((ln.igst for ln in inv.lines), D(0)) == inv.igst
    assert line_sum + inv.cgst + inv.sgst + inv.igst + inv.round_off == inv.grand_total
    assert abs(inv.round_off) <= D("0.50")
    assert inv.round_off != D("-0.50")  # half a rupee goes up
    assert inv.grand_total == inv.grand_total.to_integral_value() and _is_paisa(inv.grand_total)

    summary = inv.hsn_summary
    assert sum((r.taxable_value for r in summary), D(0)) == inv.taxable_value
    assert sum((r.cgst for r in summary), D(0)) == inv.cgst
    assert sum((r.sgst for r in summary), D(0)) == inv.sgst
    assert sum((r.igst for r in summary), D(0)) == inv.igst
    assert sum((r.tax for r in summary), D(0)) == inv.tax
    keys = [(r.hsn_code, r.gst_rate) for r in summary]
    assert keys == sorted(set(keys))
    assert set(keys) == {(ln.hsn_code, ln.gst_rate) for ln in lines}

    words = amount_in_words(inv.grand_total)
    assert words.endswith(" Rupee Only" if inv.grand_total == 1 else " Rupees Only")
