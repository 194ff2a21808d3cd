"""Documents numbered by their own trigger (sql/0018): purchase orders at approval, goods
receipts, stock transfers and counts, in their branch's series of the financial year, after
every check that could refuse them (a refused document uses no number, and does not wait for
the counter); a row written with its number keeps it. And the one registry of documents found
again by their form's idempotency key (webapp.documents), which knows no module's tables.
"""
from __future__ import annotations

import ast
from pathlib import Path

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, scalar

from webapp import documents
from webapp.billing import posting  # noqa: F401  (registers billing's documents)
from webapp.inventory import services as inventory
from webapp.procurement import services as procurement
from webapp.sales import services as sales  # noqa: F401  (registers sales' documents)

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"


def last_no(conn, branch_id: int, series: str) -> int:
    """How many numbers the branch's series has given, over every financial year."""
    return scalar(conn, "SELECT coalesce(sum(last_no), 0) FROM master.document_counter "
                        "WHERE branch_id = :b AND series = :s", b=branch_id, s=series)


def fy_today(conn) -> str:
    fy = scalar(conn, "SELECT master.fy_start_year((now() AT TIME ZONE 'Asia/Kolkata')::date)")
    return f"{fy % 100:02d}"


@pytest.fixture
def shop(conn):
    branch = b.branch(conn, prefix="BLR")
    cat = b.vehicle_catalog(conn, colours=("Red",))
    return {"branch": branch, "oem": cat.oem_id, "variant": cat.variant_id,
            "manager": b.staff(conn, branch, "MANAGER"), "sales": b.staff(conn, branch, "SALES")}


def draft(conn, shop, *, lines: bool = True, order_date: str = "2026-04-06") -> int:
    po = b.purchase_order(conn, shop["branch"], shop["oem"], order_date=order_date)
    if lines:
        b.po_line(conn, po, 2, "95000.00", variant_id=shop["variant"], colour="Red")
    return po


def po_no(conn, po: int) -> str | None:
    return scalar(conn, "SELECT po_no FROM procurement.purchase_order WHERE po_id = :p", p=po)


def set_status(conn, po: int, status: str) -> None:
    conn.execute(sa.text("UPDATE procurement.purchase_order SET status = :s WHERE po_id = :p"), {"s": status, "p": po})


# ----------------------------------------------------------------------------- purchase orders


def test_a_purchase_order_is_numbered_by_its_approval_and_a_refused_approval_uses_no_number(conn, shop):
    po = draft(conn, shop)
    assert po_no(conn, po) is None                                       # a draft has no number
    with refused(conn, "purchase_order_approver"):
        b.approve_po(conn, po, shop["sales"])
    with refused(conn, "purchase_order_has_lines"):
        b.approve_po(conn, draft(conn, shop, lines=False), shop["manager"])
    assert last_no(conn, shop["branch"], "PO") == 0

    assert b.approve_po(conn, po, shop["manager"]) == "BLRPO/26/1"       # the order date's financial year
    set_status(conn, po, "DRAFT")                                        # sent back, approved again:
    assert b.approve_po(conn, po, shop["manager"]) == "BLRPO/26/1"       # the same number
    assert b.approve_po(conn, draft(conn, shop, order_date="2027-04-01"), shop["manager"]) == "BLRPO/27/1"
    cancelled = draft(conn, shop)
    set_status(conn, cancelled, "CANCELLED")
    assert po_no(conn, cancelled) is None
    assert b.approve_po(conn, draft(conn, shop), shop["manager"]) == "BLRPO/26/2"


def test_approving_from_the_screen_service_returns_the_number_the_database_gave(conn, shop):
    po = draft(conn, shop)
    number = procurement.approve_purchase_order(conn, po, shop["manager"])
    assert number == po_no(conn, po) == "BLRPO/26/1"
    set_status(conn, po, "DRAFT")
    assert procurement.approve_purchase_order(conn, po, shop["manager"]) == "BLRPO/26/1"
    assert last_no(conn, shop["branch"], "PO") == 1


# ----------------------------------------------------------------------------- goods receipts


def test_a_goods_receipt_is_numbered_on_insert_and_a_refused_one_uses_no_number(conn, shop):
    with refused(conn, "goods_receipt_po_open"):
        b.goods_receipt(conn, draft(conn, shop), shop["branch"])
    po = draft(conn, shop)
    b.approve_po(conn, po, shop["manager"])
    b.send_po(conn, po)
    with refused(conn, "goods_receipt_branch"):
        b.goods_receipt(conn, po, b.branch(conn))
    assert last_no(conn, shop["branch"], "GRN") == 0

    first = b.goods_receipt(conn, po, shop["branch"], received_on="2026-04-20")
    assert scalar(conn, "SELECT grn_no FROM procurement.goods_receipt WHERE grn_id = :g", g=first) == "BLRGRN/26/1"
    # A receipt written with its number (the history generator's copies) keeps it and takes none.
    given = scalar(conn, """INSERT INTO procurement.goods_receipt (grn_no, po_id, branch_id, received_on)
                            VALUES ('BLRGRN/26/900', :po, :b, '2026-04-21') RETURNING grn_no""",
                   po=po, b=shop["branch"])
    assert given == "BLRGRN/26/900" and last_no(conn, shop["branch"], "GRN") == 1
    after_april = b.goods_receipt(conn, po, shop["branch"], received_on="2027-04-02")
    assert scalar(conn, "SELECT grn_no FROM procurement.goods_receipt WHERE grn_id = :g",
                  g=after_april) == "BLRGRN/27/1"                        # a new financial year starts at 1


# ----------------------------------------------------------------------------- transfers and counts


def test_a_transfer_is_numbered_in_the_senders_series_and_a_refused_one_uses_no_number(conn):
    sender, receiver = b.branch(conn, prefix="MYS"), b.branch(conn)
    add = """INSERT INTO inventory.stock_transfer (branch_id, to_branch_id) VALUES (:f, :t) RETURNING transfer_no"""
    with refused(conn, "stock_transfer_check"):
        scalar(conn, add, f=sender, t=sender)
    assert last_no(conn, sender, "TRF") == 0
    fy = fy_today(conn)
    assert scalar(conn, add, f=sender, t=receiver) == f"MYSTRF/{fy}/1"
    assert scalar(conn, add, f=sender, t=receiver) == f"MYSTRF/{fy}/2"
    assert last_no(conn, receiver, "TRF") == 0


def test_a_count_is_numbered_and_a_second_open_count_is_refused_before_taking_one(conn):
    branch = b.branch(conn, prefix="HSR")
    fy = fy_today(conn)
    first, first_no = inventory.start_count(conn, branch)
    assert first_no == scalar(conn, "SELECT count_no FROM inventory.stock_count WHERE count_id = :c", c=first)
    assert first_no == f"HSRCNT/{fy}/1"
    with refused(conn, "stock_count_one_open_idx"):
        inventory.start_count(conn, branch)
    assert last_no(conn, branch, "CNT") == 1
    conn.execute(sa.text("UPDATE inventory.stock_count SET status = 'CANCELLED' WHERE count_id = :c"), {"c": first})
    assert inventory.start_count(conn, branch)[1] == f"HSRCNT/{fy}/2"


# ----------------------------------------------------------------------------- a refusal never waits for the counter


def test_a_refused_document_is_refused_at_once_while_another_holds_the_counter(committed):
    """The checks come before the number: with the branch's counters held by an open posting, a
    document that is refused anyway says so at once instead of queueing for a number."""
    with committed.begin() as conn:
        branch = b.branch(conn)
        cat = b.vehicle_catalog(conn, colours=("Red",))
        shop = {"branch": branch, "oem": cat.oem_id, "variant": cat.variant_id}
        manager, salesman = b.staff(conn, branch, "MANAGER"), b.staff(conn, branch, "SALES")
        sent, to_approve, still_draft = draft(conn, shop), draft(conn, shop), draft(conn, shop)
        b.approve_po(conn, sent, manager)
        b.send_po(conn, sent)
    with committed.connect() as holder, committed.connect() as other:
        holder.begin()
        b.approve_po(holder, to_approve, manager)                  # holds the branch's PO counter
        b.goods_receipt(holder, sent, branch)                      # and its GRN counter
        other.begin()
        other.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
        with refused(other, "purchase_order_approver"):
            b.approve_po(other, still_draft, salesman)
        with refused(other, "goods_receipt_po_open"):
            b.goods_receipt(other, still_draft, branch)
        other.rollback()
        holder.rollback()


# ----------------------------------------------------------------------------- the registry


def test_every_registered_document_is_found_by_a_unique_idempotency_key_on_its_primary_key(conn):
    registered = documents.registered_documents()
    assert {"invoice", "receipt", "refund", "credit_note", "booking", "quotation", "delivery"} <= set(registered)
    for doc in registered.values():
        unique = scalar(conn, """
            SELECT count(*) FROM pg_constraint c JOIN pg_attribute a
                ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
             WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'u' AND cardinality(c.conkey) = 1
               AND a.attname = 'idempotency_key'""", t=doc.table)
        key = scalar(conn, """
            SELECT a.attname FROM pg_constraint c JOIN pg_attribute a
                ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
             WHERE c.conrelid = CAST(:t AS regclass) AND c.contype = 'p'""", t=doc.table)
        assert unique == 1 and key == doc.id_column, doc


def test_a_document_name_belongs_to_one_table(conn):
    invoice = documents.registered("invoice")
    assert documents.register_document("invoice", invoice.table, invoice.id_column) == invoice   # imported again
    with pytest.raises(ValueError):
        documents.register_document("invoice", "sales.booking", "booking_id")
    with pytest.raises(ValueError):
        documents.register_document("odd", "sales.booking; DROP TABLE x", "booking_id")
    assert documents.registered("invoice") == invoice and "odd" not in documents.registered_documents()
    with pytest.raises(KeyError):
        documents.already_posted(conn, "no_such_document", "00000000-0000-0000-0000-000000000000")


def test_the_shared_document_core_imports_no_domain_module():
    domain = {p.name for p in WEBAPP.iterdir() if (p / "__init__.py").exists()}
    assert {"billing", "sales", "procurement", "inventory"} <= domain
    for name in ("documents.py", "submit_once.py"):
        tree = ast.parse((WEBAPP / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                imported = [(node.module or "").split(".")[0]] + [a.name for a in node.names if not node.module]
                assert not domain & set(imported), f"{name} imports {node.module or imported}"
            elif isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for module in modules:
                    parts = (module or "").split(".")
                    assert not (parts[0] == "webapp" and len(parts) > 1 and parts[1] in domain), f"{name}: {module}"
