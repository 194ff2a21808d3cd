"""Indian identifiers: the Python checks (webapp/validators.py) and the database's
master.is_* functions must give the same answer on the same text, and the CHECK
constraints built on them must refuse bad values whoever writes the row."""
from __future__ import annotations

import unicodedata

import pytest
import sqlalchemy as sa
from conftest import gstin
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from webapp import validators as v
from webapp.master.queries import insert_branch, insert_staff

KINDS = ("gstin", "pan", "ifsc", "upi_id", "mobile", "phone", "email", "pincode", "bank_account")

# One round trip answers every kind for one value.
ALL_DB_CHECKS = sa.text(", ".join(f"master.is_{kind}(CAST(:v AS text)) AS {kind}" for kind in KINDS).join(
    ("SELECT ", "")))


def python_says(value: str) -> dict[str, bool]:
    return {kind: getattr(v, f"is_{kind}")(value) for kind in KINDS}


def database_says(conn, value: str) -> dict[str, bool]:
    return dict(conn.execute(ALL_DB_CHECKS, {"v": value}).mappings().one())


# ----------------------------------------------------------------------------- hand-picked cases

# Real GSTINs published by their holders (the check character was not computed by our code).
REAL_GSTINS = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "07AAGFF2194N1Z1", "33AAACH7409R1Z8", "24AAACC1206D1ZM"]

CASES = [
    # kind, value, valid?
    *[("gstin", g, True) for g in REAL_GSTINS],
    ("gstin", "27AAPFU0939F1ZW", False),      # wrong check character
    ("gstin", "27AAPFU0993F1ZV", False),      # two digits swapped: the check character notices
    ("gstin", "72AAPFU0939F1ZV", False),      # state code digits swapped
    ("gstin", "27aapfu0939f1zv", False),      # lowercase
    ("gstin", "27AAPFU0939F1Z", False),       # 14 characters
    ("gstin", "27AAPFU0939F1ZVV", False),     # 16 characters
    ("gstin", "27AAPFU0939F1ZV\n", False),    # trailing newline
    ("gstin", " 27AAPFU0939F1ZV", False),     # leading space
    ("gstin", "٢٧AAPFU0939F1ZV", False),      # Arabic-Indic digits
    ("gstin", "२७AAPFU0939F1ZV", False),      # Devanagari digits
    ("gstin", "２７AAPFU0939F1ZV", False),     # full-width digits
    ("gstin", "27AAPFU0939F1YV", False),      # 14th character must be Z
    ("gstin", gstin("27AAPFU0939F0Z"), False),  # entity code 0 does not exist, even with a right check
    ("gstin", "", False),
    ("pan", "AAPFU0939F", True),
    ("pan", "ABCDE1234F", True),
    ("pan", "abcde1234f", False),
    ("pan", "ABCDE1234f", False),
    ("pan", "ABCD1234F", False),
    ("pan", "ABCDE1234FF", False),
    ("pan", "ABCDE12345", False),
    ("pan", "ABCDE 1234F", False),
    ("pan", "ABCDE1234F\n", False),
    ("pan", "ABCDE１２３４F", False),
    ("ifsc", "HDFC0001234", True),
    ("ifsc", "SBIN0000001", True),
    ("ifsc", "ICIC0ABC123", True),
    ("ifsc", "HDFC1001234", False),           # fifth character must be 0
    ("ifsc", "HDFCO001234", False),           # ... the digit 0, not the letter O
    ("ifsc", "hdfc0001234", False),
    ("ifsc", "HDFC000123", False),
    ("ifsc", "HDFC00012345", False),
    ("ifsc", "HDFC0001234\n", False),
    ("upi_id", "voltev.blr@okaxis", True),
    ("upi_id", "ramesh.gowda-1@oksbi", True),
    ("upi_id", "9845012345@ybl", True),
    ("upi_id", "name@", False),
    ("upi_id", "@okaxis", False),
    ("upi_id", "n@okaxis", False),            # name part is at least 2 characters
    ("upi_id", ".name@okaxis", False),
    ("upi_id", "name@1bank", False),          # the bank handle starts with a letter
    ("upi_id", "name@ok axis", False),
    ("upi_id", "name@@okaxis", False),
    ("upi_id", "name@okaxis\n", False),
    ("upi_id", "n" * 64 + "@okaxis", True),   # longest name part
    ("upi_id", "n" * 65 + "@okaxis", False),
    ("upi_id", "name@o" + "k" * 31, True),    # longest bank handle
    ("upi_id", "name@o" + "k" * 32, False),
    ("mobile", "9845012345", True),
    ("mobile", "6000000000", True),
    ("mobile", "5845012345", False),
    ("mobile", "984501234", False),
    ("mobile", "98450123456", False),
    ("mobile", "+919845012345", False),
    ("mobile", "98450 12345", False),
    ("mobile", "९८४५०१२३४५", False),           # Devanagari digits
    ("mobile", "9845012345\n", False),
    ("mobile", "98450१2345", False),           # one Devanagari digit inside
    ("phone", "080-41234567", True),
    ("phone", "0821 2345678", True),
    ("phone", "9845012345", True),
    ("phone", "+91 9845012345", False),
    ("phone", "080-4123456-", False),
    ("phone", "-8041234567", False),
    ("phone", "12345", False),
    ("phone", "0" + "1" * 18 + "9", True),    # 20 characters, the longest
    ("phone", "0" + "1" * 19 + "9", False),
    ("phone", "080-41234567\n", False),
    ("email", "a@b.co", True),
    ("email", "ramesh.gowda@voltev.example", True),
    ("email", "a" * 249 + "@b.co", True),     # 254 characters, the most an address may have
    ("email", "a" * 250 + "@b.co", False),    # 255 characters
    ("email", "a@b", False),
    ("email", "a b@c.in", False),
    ("email", "a@b@c.in", False),
    ("email", "@b.in", False),
    ("email", "a@.in", False),
    ("email", "a@b.in\n", False),
    ("email", "a@b.in\t", False),
    ("pincode", "560001", True),
    ("pincode", "110001", True),
    ("pincode", "060001", False),
    ("pincode", "56000", False),
    ("pincode", "5600011", False),
    ("pincode", "560 001", False),
    ("pincode", "５６０００１", False),
    ("pincode", "560001\n", False),
    ("pincode", "56000١", False),            # one Arabic-Indic digit at the end
    ("bank_account", "123456789", True),
    ("bank_account", "1" * 18, True),
    ("bank_account", "12345678", False),
    ("bank_account", "1" * 19, False),
    ("bank_account", "1234 5678 9012", False),
    ("bank_account", "12345678901a", False),
    ("bank_account", "١٢٣٤٥٦٧٨٩", False),
    ("bank_account", "123456789\n", False),
    ("bank_account", "12345678٩", False),
]


def _case_id(kind: str, value: str) -> str:
    return f"{kind}:{value[:20]!r}" + ("..." if len(value) > 20 else "")


@pytest.mark.parametrize("kind, value, expected", CASES, ids=[_case_id(k, val) for k, val, _ in CASES])
def test_identifier_is_judged_the_same_by_python_and_by_the_database(engine, kind, value, expected):
    assert getattr(v, f"is_{kind}")(value) is expected
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT master.is_{kind}(:v)"), {"v": value}).scalar_one() is expected


def test_database_checks_pass_a_missing_value_through_so_optional_columns_stay_optional(engine):
    with engine.connect() as conn:
        row = conn.execute(sa.text(ALL_DB_CHECKS.text.replace("CAST(:v AS text)", "NULL::text"))).one()
    assert all(answer is None for answer in row)


def test_exactly_one_check_character_completes_a_gstin(engine):
    first14 = "29AAJCV4821K1Z"
    candidates = [first14 + c for c in v.GSTIN_ALPHABET]
    python_valid = [g for g in candidates if v.is_gstin(g)]
    with engine.connect() as conn:
        db_valid = conn.execute(sa.text("SELECT g FROM unnest(CAST(:gs AS text[])) g WHERE master.is_gstin(g)"),
                                {"gs": candidates}).scalars().all()
    assert len(python_valid) == 1
    assert db_valid == python_valid


# ----------------------------------------------------------------------------- property test

# Characters that sit close to the valid ones: other scripts' digits, lowercase, spaces of
# every kind (Python's \s knows more of them than PostgreSQL's), control characters, punctuation.
lookalike = st.one_of(
    st.sampled_from("0123456789AZaz@._-+ \t\n\r\x0b\x0cßKé"),
    st.characters(categories=["Nd"]),                           # ٣ ३ ０ 𝟗 ...
    st.characters(categories=["Zs", "Zl", "Zp", "Cc"], exclude_characters="\x00"),
    st.characters(categories=["Lu", "Ll"], min_codepoint=0x80),  # Ａ é ...
)

VALID_SHAPES = {
    "pan": st.from_regex(r"[A-Z]{5}[0-9]{4}[A-Z]", fullmatch=True),
    "ifsc": st.from_regex(r"[A-Z]{4}0[A-Z0-9]{6}", fullmatch=True),
    "upi_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}@[A-Za-z][A-Za-z0-9]{1,31}", fullmatch=True),
    "mobile": st.from_regex(r"[6-9][0-9]{9}", fullmatch=True),
    "phone": st.from_regex(r"[0-9][0-9 -]{5,18}[0-9]", fullmatch=True),
    "email": st.from_regex(r"[a-z0-9._+]{1,30}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True),
    "pincode": st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    "bank_account": st.from_regex(r"[0-9]{9,18}", fullmatch=True),
    "gstin": st.from_regex(r"[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z", fullmatch=True).map(
        lambda first14: first14 + v.gstin_check_character(first14)),
}
FOREIGN_DIGITS = {d: [c for c in map(chr, range(0x80, 0x20000))
                     if unicodedata.category(c) == "Nd" and unicodedata.digit(c) == int(d)] for d in "0123456789"}
SLIPS = ("replace", "insert", "delete", "case", "one_case", "foreign_digit", "foreign_space", "newline", "pad",
         "stretch")


@st.composite
def near_valid(draw):
    """A valid value of some kind with up to three small slips of the kind people (and attackers) make."""
    value = draw(st.sampled_from(sorted(VALID_SHAPES)).flatmap(VALID_SHAPES.__getitem__))
    for slip in draw(st.lists(st.sampled_from(SLIPS), min_size=1, max_size=3)):
        if not value:
            break
        i = draw(st.integers(0, len(value) - 1))
        if slip == "replace":
            value = value[:i] + draw(lookalike) + value[i + 1:]
        elif slip == "insert":
            value = value[:i] + draw(lookalike) + value[i:]
        elif slip == "delete":
            value = value[:i] + value[i + 1:]
        elif slip == "case":
            value = value.swapcase()
        elif slip == "one_case":
            value = value[:i] + value[i].swapcase() + value[i + 1:]
        elif slip == "foreign_digit":  # the same digit from another script: ٣ for 3
            digits = [j for j, c in enumerate(value) if c in FOREIGN_DIGITS]
            if digits:
                j = draw(st.sampled_from(digits))
                value = value[:j] + draw(st.sampled_from(FOREIGN_DIGITS[value[j]])) + value[j + 1:]
        elif slip == "foreign_space":
            value = value[:i] + draw(st.sampled_from("\u00a0\u2009\u3000\x1c\x85\u2028")) + value[i:]
        elif slip == "newline":
            value = value + "\n"
        elif slip == "pad":
            value = " " + value + " "
        elif slip == "stretch":  # lengths around the limits
            value = value[:i] + value[i] * draw(st.integers(2, 40)) + value[i + 1:]
    return value


# PostgreSQL text cannot hold NUL, and surrogates cannot be encoded: those never reach either check.
any_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=300)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.one_of(any_text, near_valid()))
@example(value="27AAPFU0939F1ZV\n")
@example(value="a@b.c\x0b")
@example(value="٣" * 10)
def test_python_and_database_agree_on_any_text(owner_engine, value):
    with owner_engine.connect() as conn:
        assert python_says(value) == database_says(conn, value), repr(value)


# ----------------------------------------------------------------------------- CHECK constraints

STAFF_OK = {"staff_code": "S014", "name": "Kavya Reddy", "designation": "SALES", "phone": "9845012345",
            "email": "kavya@voltev.example", "pan": "ABCDE1234F", "upi_id": "kavya@okaxis",
            "bank_account_no": "123456789012", "ifsc": "HDFC0001234"}
FAKE_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def _refused(engine, statement) -> str:
    """Run statement(conn) in its own transaction; return the name of the constraint that refused it."""
    with pytest.raises(sa.exc.IntegrityError) as refused:
        with engine.begin() as conn:
            statement(conn)
    return refused.value.orig.diag.constraint_name


def test_a_valid_staff_row_is_accepted(engine, make_branch):
    branch_id = make_branch()
    with engine.begin() as conn:
        insert_staff(conn, {**STAFF_OK, "branch_id": branch_id}, FAKE_HASH)


@pytest.mark.parametrize("column, bad, constraint", [
    ("staff_code", "s014", "staff_staff_code_check"),
    ("staff_code", "S", "staff_staff_code_check"),
    ("name", "  ", "staff_name_check"),
    ("phone", "5845012345", "staff_phone_check"),
    ("phone", "9845012345\n", "staff_phone_check"),
    ("email", "kavya@voltev", "staff_email_check"),
    ("pan", "abcde1234f", "staff_pan_check"),
    ("upi_id", "kavya@", "staff_upi_id_check"),
    ("bank_account_no", "12345678", "staff_bank_account_no_check"),
    ("ifsc", "HDFC1001234", "staff_ifsc_check"),
    ("bank_account_no", None, "staff_bank_account_needs_ifsc"),
    ("ifsc", None, "staff_bank_account_needs_ifsc"),
    ("designation", "OWNER", "staff_designation_fkey"),
])
def test_the_database_refuses_a_bad_staff_value_whoever_inserts_it(engine, make_branch, column, bad, constraint):
    branch_id = make_branch()
    row = {**STAFF_OK, "branch_id": branch_id, column: bad}
    assert _refused(engine, lambda conn: insert_staff(conn, row, FAKE_HASH)) == constraint


def test_the_database_refuses_to_change_a_staff_pan_into_a_bad_one(engine, make_branch):
    branch_id = make_branch()
    with engine.begin() as conn:
        staff_id = insert_staff(conn, {**STAFF_OK, "branch_id": branch_id}, FAKE_HASH)
    assert _refused(engine, lambda conn: conn.execute(
        sa.text("UPDATE master.staff SET pan = 'ABCDE1234' WHERE staff_id = :id"), {"id": staff_id})
    ) == "staff_pan_check"


BRANCH_OK = {"branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "trade_name": None,
             "gstin": "29AAGCB7383J1Z4", "address_line1": "14, 100 Feet Road", "address_line2": None,
             "city": "Bengaluru", "pincode": "560038", "phone": "080-41234567", "email": None,
             "upi_id": None, "invoice_prefix": "BLR"}


def test_a_valid_branch_row_is_accepted_and_its_state_comes_from_the_gstin(engine, app):
    with engine.begin() as conn:
        branch_id = insert_branch(conn, BRANCH_OK)
        state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :id"),
                             {"id": branch_id}).scalar_one()
    assert state == "29"


@pytest.mark.parametrize("column, bad, constraint", [
    ("gstin", "29AAGCB7383J1Z5", "branch_gstin_check"),        # wrong check character
    ("gstin", "29aagcb7383j1z4", "branch_gstin_check"),
    ("gstin", "29AAGCB7383J1Z4\n", "branch_gstin_check"),
    ("gstin", gstin("99AABCT1000K1Z"), "branch_state_code_fkey"),  # well formed, but no such state
    ("branch_code", "blr 1", "branch_branch_code_check"),
    ("legal_name", " x ", "branch_legal_name_check"),
    ("pincode", "060001", "branch_pincode_check"),
    ("pincode", "56003８", "branch_pincode_check"),
    ("phone", "+91-80-41234567", "branch_phone_check"),
    ("email", "accounts@voltev", "branch_email_check"),
    ("upi_id", "voltev@", "branch_upi_id_check"),
    ("invoice_prefix", "BLR01", "branch_invoice_prefix_check"),
])
def test_the_database_refuses_a_bad_branch_value_whoever_inserts_it(engine, app, column, bad, constraint):
    row = {**BRANCH_OK, column: bad}
    assert _refused(engine, lambda conn: insert_branch(conn, row)) == constraint
