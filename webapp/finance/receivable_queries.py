"""What the OEM owes the branch, read from where each claim is recorded:

* PM E-DRIVE subsidy: sales.subsidy_claim (with the OEM of its booking's model, kept by trigger:
  sql/0050, sql/functions/95_finance_oem.sql, so no booking is read to add them up); claimed
  when the claim is raised on the OEM's portal, credited when the OEM credits it; the claim records
  no approval step;
* warranty claims (repairs, batteries, recalls) and free-service labour claims: warranty.claim, by
  status (DRAFT not yet claimed, SUBMITTED, APPROVED / PARTLY_APPROVED with the approved amount,
  REJECTED, SETTLED with the amount credited);
* free services delivered with no labour claim on their job card: listed as not yet claimed, without
  an amount (the claim is priced when it is raised);
* scheme incentives: oem.scheme holds the OEM's dealer-incentive schemes, but no sale records which
  scheme it earned and nothing records a claim or a credit: the screen lists the schemes in force.

One CTE (items_cte) gives a row per claim or unclaimed free service of the branch; the summary adds them
up per OEM and source, the list shows the rows behind one figure. Functions take the connection and
never commit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SOURCES = {"SUBSIDY": "PM E-DRIVE subsidy", "WARRANTY": "Warranty claims", "FREE_SERVICE": "Free-service labour"}
STAGES = {"unclaimed": "Not yet claimed", "claimed": "Claimed", "approved": "Approved", "credited": "Credited",
          "pending": "Pending"}
BUCKETS = ("0-30", "31-60", "61-90", "90+")

# What the list shows besides the figures: each row's number and status in words (the summary leaves
# them out: it adds up every claim of the branch, and reads only what it adds).
_SUBSIDY_WORDS = """, sc.booking_no AS ref_no,
           CASE WHEN sc.credited_on IS NOT NULL THEN 'Credited'
                WHEN sc.claim_raised_on IS NOT NULL THEN 'Claimed ' || sc.claim_no
                ELSE 'Not yet claimed' END AS status_label"""
_CLAIM_WORDS = ", c.claim_no, (SELECT s.label FROM warranty.claim_status s WHERE s.status = c.status)"
_CARD_WORDS = ", jc.job_card_no, 'Free service ' || jc.free_service_no || ' done, labour not claimed'"


def items_cte(detail: bool) -> str:
    """A row per receivable of the branch: oem_id, source, ref_id (the sale's booking, the claim, or minus
    the job card of a free service never claimed), is_unclaimed, the amounts claimed / approved /
    credited (NULL where that step has not happened or is not recorded), is_pending with the amount
    pending (NULL when not priced yet), since (the day its age runs from); with ``detail`` its number
    (ref_no) and status in words. ``aged`` adds age_days and bucket (the index of BUCKETS; NULL when
    nothing is pending)."""
    unclaimed_free_services = f"""
    UNION ALL
    SELECT m.oem_id, 'FREE_SERVICE', -jc.job_card_id,
           true, NULL, NULL, NULL, true, NULL,
           (jc.closed_at AT TIME ZONE 'Asia/Kolkata')::date {_CARD_WORDS if detail else ""}
      FROM service.job_card jc
      JOIN service.vehicle sv ON sv.vehicle_id = jc.vehicle_id
      JOIN oem.variant v ON v.variant_id = sv.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
     WHERE jc.branch_id = :branch AND jc.service_type = 'FREE_SERVICE' AND jc.state = 'DELIVERED'
       AND NOT EXISTS (SELECT 1 FROM warranty.claim c
                        WHERE c.job_card_id = jc.job_card_id AND c.kind = 'FREE_SERVICE_LABOUR')"""
    return f"""
items AS (
    SELECT sc.oem_id, 'SUBSIDY' AS source, sc.booking_id AS ref_id,
           sc.claim_raised_on IS NULL AND sc.credited_on IS NULL AS is_unclaimed,
           CASE WHEN sc.claim_raised_on IS NOT NULL THEN sc.eligible_amount END AS claimed,
           NULL::numeric AS approved, sc.credited_amount AS credited,
           sc.credited_on IS NULL AS is_pending,
           CASE WHEN sc.credited_on IS NULL THEN sc.eligible_amount END AS pending,
           coalesce(sc.claim_raised_on, sc.listed_on) AS since {_SUBSIDY_WORDS if detail else ""}
      FROM sales.subsidy_claim sc
     WHERE sc.branch_id = :branch AND NOT sc.booking_cancelled
    UNION ALL
    SELECT c.oem_id, CASE WHEN c.kind = 'FREE_SERVICE_LABOUR' THEN 'FREE_SERVICE' ELSE 'WARRANTY' END,
           c.claim_id,
           c.status = 'DRAFT',
           CASE WHEN c.status <> 'DRAFT' THEN c.claimed_amount END,
           c.approved_amount, c.settled_amount,
           c.status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'PARTLY_APPROVED'),
           CASE WHEN c.status IN ('DRAFT', 'SUBMITTED') THEN c.claimed_amount
                WHEN c.status IN ('APPROVED', 'PARTLY_APPROVED') THEN c.approved_amount END,
           coalesce(c.submitted_on, c.raised_on) {_CLAIM_WORDS if detail else ""}
      FROM warranty.claim c
     WHERE c.branch_id = :branch{unclaimed_free_services}),
aged AS (
    SELECT i.*, :today - i.since AS age_days,
           CASE WHEN NOT i.is_pending THEN NULL ELSE {bucket_of("i.since")} END AS bucket
      FROM items i)"""


STAGE_SQL = {"unclaimed": "a.is_unclaimed", "claimed": "a.claimed IS NOT NULL", "approved": "a.approved IS NOT NULL",
             "credited": "a.credited IS NOT NULL", "pending": "a.is_pending"}


def summary(conn: Connection, branch_id: int, today: date):
    """Per OEM and source: counts and amounts not yet claimed, claimed, approved, credited, pending,
    and pending by age bucket (b0..b3 with their counts n0..n3). Added up per (OEM, source) first,
    then named."""
    buckets = ",\n".join(
        f"count(*) FILTER (WHERE a.bucket = {k}) AS n{k}, sum(a.pending) FILTER (WHERE a.bucket = {k}) AS b{k}"
        for k in range(len(BUCKETS)))
    return conn.execute(sa.text(f"""
        WITH {items_cte(detail=False)},
        totals AS (
            SELECT a.oem_id, a.source,
                   count(*) FILTER (WHERE a.is_unclaimed) AS n_unclaimed,
                   sum(a.pending) FILTER (WHERE a.is_unclaimed) AS unclaimed,
                   count(a.claimed) AS n_claimed, sum(a.claimed) AS claimed,
                   count(a.approved) AS n_approved, sum(a.approved) AS approved,
                   count(a.credited) AS n_credited, sum(a.credited) AS credited,
                   count(*) FILTER (WHERE a.is_pending) AS n_pending, sum(a.pending) AS pending,
                   {buckets}
              FROM aged a GROUP BY a.oem_id, a.source)
        SELECT t.*, o.brand FROM totals t JOIN oem.oem o ON o.oem_id = t.oem_id
         ORDER BY o.brand, t.oem_id, t.source"""), {"branch": branch_id, "today": today}).mappings().all()


def bucket_of(since: str) -> str:
    """The index of BUCKETS a pending amount falls in, by the days from ``since`` to :today."""
    return (f"CASE WHEN :today - {since} <= 30 THEN 0 WHEN :today - {since} <= 60 THEN 1 "
            f"WHEN :today - {since} <= 90 THEN 2 ELSE 3 END")


def pending_by_age(conn: Connection, branch_id: int, today: date) -> dict[int, tuple[int, Decimal]]:
    """What the OEM owes the branch, by age bucket: {bucket: (count, amount)} of the subsidy and warranty
    claims pending (the summary's own definitions; the free services never claimed, which carry no
    amount yet, are left out), for the home screen. Read from finance.oem_pending_day (sql/0058), the
    claims pending per day their age runs from, kept by trigger with every claim: a few rows a day
    instead of every claim of the branch."""
    rows = conn.execute(sa.text(f"""
        SELECT {bucket_of("d.since")} AS bucket, sum(d.claims) AS n, sum(d.amount) AS amount
          FROM finance.oem_pending_day d WHERE d.branch_id = :branch GROUP BY 1"""),
        {"branch": branch_id, "today": today}).all()
    return {r.bucket: (r.n, r.amount) for r in rows}


def dealer_schemes(conn: Connection, today: date):
    """The OEMs' dealer-incentive schemes in force today (what the books can say of incentives)."""
    return conn.execute(sa.text("""
        SELECT s.scheme_id, s.oem_id, o.brand, s.name, s.amount, s.valid_from, s.valid_to,
               coalesce(m.name || ' ' || v.name, 'Every model') AS applies_to
          FROM oem.scheme s JOIN oem.oem o ON o.oem_id = s.oem_id
          LEFT JOIN oem.variant v ON v.variant_id = s.variant_id
          LEFT JOIN oem.model m ON m.model_id = v.model_id
         WHERE s.kind = 'DEALER_INCENTIVE' AND :today BETWEEN s.valid_from AND s.valid_to
         ORDER BY o.brand, s.valid_to, s.name"""), {"today": today}).mappings().all()


def item_filter(source: str, oem_id: int | None, stage: str, bucket: str) -> tuple[str, dict]:
    where, params = ["a.source = :source"], {"source": source}
    if oem_id is not None:
        where.append("a.oem_id = :oem")
        params["oem"] = oem_id
    if stage:
        where.append(STAGE_SQL[stage])
    if bucket:
        where.append("a.bucket = :bucket")
        params["bucket"] = BUCKETS.index(bucket)
    return " AND ".join(where), params


def item_page(conn: Connection, branch_id: int, today: date, filt: tuple[str, dict], limit: int | None,
              offset: int = 0):
    """The receivables matching the filter, oldest first, each with who it is about (the customer of
    the sale or job card, the claim's VIN), and the number found (``found``) on every row."""
    where, params = filt
    return conn.execute(sa.text(f"""
        WITH {items_cte(detail=True)},
        hits AS MATERIALIZED (
            SELECT a.*, count(*) OVER () AS found FROM aged a WHERE {where}
             ORDER BY a.since, a.ref_id LIMIT :limit OFFSET :offset)
        SELECT h.*, o.brand,
               CASE h.source WHEN 'SUBSIDY' THEN sc_c.name
                             WHEN 'WARRANTY' THEN wc.vin
                             ELSE coalesce(fc.vin, jc_c.name) END AS about
          FROM hits h
          JOIN oem.oem o ON o.oem_id = h.oem_id
          LEFT JOIN sales.booking bk ON h.source = 'SUBSIDY' AND bk.booking_id = h.ref_id
          LEFT JOIN master.customer sc_c ON sc_c.customer_id = bk.customer_id
          LEFT JOIN warranty.claim wc ON h.source = 'WARRANTY' AND wc.claim_id = h.ref_id
          LEFT JOIN warranty.claim fc ON h.source = 'FREE_SERVICE' AND h.ref_id > 0 AND fc.claim_id = h.ref_id
          LEFT JOIN service.job_card jc ON h.source = 'FREE_SERVICE' AND h.ref_id < 0 AND jc.job_card_id = -h.ref_id
          LEFT JOIN master.customer jc_c ON jc_c.customer_id = jc.customer_id
         ORDER BY h.since, h.ref_id"""),
        {**params, "branch": branch_id, "today": today, "limit": limit, "offset": offset}).mappings().all()


def oem_name(conn: Connection, oem_id: int) -> str | None:
    return conn.execute(sa.text("SELECT brand FROM oem.oem WHERE oem_id = :o"), {"o": oem_id}).scalar()
