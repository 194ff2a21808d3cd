"""What the Tally export reads: the branches one may export, the Tally company's name, the count of
vouchers per type in a period, the vouchers' lines and the masters they use. Functions take the
connection and never commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tally import MONEY_GROUPS


def branches(conn: Connection):
    """The branches whose books this person may export (their own; every branch for who works across
    branches)."""
    return conn.execute(sa.text("""
        SELECT branch_id, branch_code, legal_name FROM master.branch
         WHERE platform.branch_visible(branch_id) ORDER BY branch_code""")).mappings().all()


def company(conn: Connection, branch_id: int):
    """The Tally company the branch's books go to: the name set here, else the branch's legal name."""
    return conn.execute(sa.text("""
        SELECT coalesce(t.company_name, b.legal_name) AS company_name, t.company_name IS NOT NULL AS is_set,
               b.legal_name, b.gstin, t.changed_at
          FROM master.branch b LEFT JOIN finance.tally_company t ON t.branch_id = b.branch_id
         WHERE b.branch_id = :b"""), {"b": branch_id}).mappings().first()


def save_company(conn: Connection, branch_id: int, name: str) -> None:
    conn.execute(sa.text("""
        INSERT INTO finance.tally_company (branch_id, company_name) VALUES (:b, :name)
        ON CONFLICT (branch_id) DO UPDATE
           SET company_name = EXCLUDED.company_name, changed_by = audit.current_staff_id(), changed_at = now()"""),
        {"b": branch_id, "name": name})


def counts(conn: Connection, branch_id: int, start: date, end: date):
    """Vouchers per type in the period with their total (the debits: a voucher's size)."""
    return conn.execute(sa.text("""
        WITH sized AS (
            SELECT ln.voucher_id, sum(ln.debit) AS total, count(*) AS lines
              FROM finance.voucher_line ln
             WHERE ln.branch_id = :b AND ln.voucher_date BETWEEN :start AND :end
             GROUP BY ln.voucher_id)
        SELECT v.voucher_type, count(*) AS vouchers, sum(s.lines) AS lines, sum(s.total) AS total
          FROM sized s JOIN finance.voucher v ON v.voucher_id = s.voucher_id
         GROUP BY v.voucher_type"""), {"b": branch_id, "start": start, "end": end}).mappings().all()


def voucher_rows(conn: Connection, branch_id: int, start: date, end: date):
    """Every line of the period's vouchers, in voucher then line order, with what the XML needs of its
    ledger (name, whether it is a party's, whether it is cash or bank)."""
    return conn.execute(sa.text("""
        SELECT v.voucher_id, v.voucher_type, v.voucher_no, v.voucher_date, v.narration,
               l.name AS ledger_name, ln.debit, ln.credit,
               num_nonnulls(l.customer_id, l.oem_id, l.financier_id, l.insurer_id) > 0 AS is_party,
               g.name = ANY (:money) AS in_money_group
          FROM finance.voucher v
          JOIN finance.voucher_line ln ON ln.voucher_id = v.voucher_id
          JOIN finance.ledger l ON l.ledger_id = ln.ledger_id
          JOIN finance.account_group g ON g.group_id = l.group_id
         WHERE v.branch_id = :b AND v.voucher_date BETWEEN :start AND :end
         ORDER BY v.voucher_date, v.voucher_id, ln.line_no"""),
        {"b": branch_id, "start": start, "end": end, "money": sorted(MONEY_GROUPS)}).mappings()


def added_groups(conn: Connection):
    """The account groups the company added beyond Tally's own, with their parent's name."""
    return conn.execute(sa.text("""
        SELECT g.name, p.name AS parent, g.nature, g.gross_profit
          FROM finance.account_group g LEFT JOIN finance.account_group p ON p.group_id = g.parent_id
         WHERE NOT g.is_system ORDER BY g.sort_order, g.name""")).mappings().all()


def used_ledgers(conn: Connection, branch_id: int, start: date, end: date):
    """Every ledger the period's vouchers use, and every GST duty ledger, with its group and, for a
    party, its GSTIN, state and address."""
    return conn.execute(sa.text("""
        WITH used AS (
            SELECT DISTINCT ln.ledger_id FROM finance.voucher_line ln
             WHERE ln.branch_id = :b AND ln.voucher_date BETWEEN :start AND :end
            UNION
            SELECT l.ledger_id FROM finance.ledger l WHERE l.gst_duty_head IS NOT NULL)
        SELECT l.name, g.name AS parent, l.gst_duty_head,
               num_nonnulls(l.customer_id, l.oem_id, l.financier_id, l.insurer_id) > 0 AS is_party,
               coalesce(l.gstin, c.gstin, o.gstin, f.gstin, i.gstin) AS gstin,
               s.name AS state,
               coalesce(c.name, o.legal_name, f.name, i.name) AS mailing_name,
               c.address_line1, c.address_line2, c.city, o.address AS oem_address, c.pincode
          FROM used u
          JOIN finance.ledger l ON l.ledger_id = u.ledger_id
          JOIN finance.account_group g ON g.group_id = l.group_id
          LEFT JOIN master.customer c ON c.customer_id = l.customer_id
          LEFT JOIN oem.oem o ON o.oem_id = l.oem_id
          LEFT JOIN master.financier f ON f.financier_id = l.financier_id
          LEFT JOIN master.insurer i ON i.insurer_id = l.insurer_id
          LEFT JOIN master.state s
                 ON s.state_code = coalesce(c.state_code, o.state_code,
                                            left(coalesce(l.gstin, f.gstin, i.gstin), 2)::char(2))
         ORDER BY g.name, l.name"""), {"b": branch_id, "start": start, "end": end}).mappings().all()
