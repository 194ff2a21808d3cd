"""What the OEM owes the branch, read from where each claim is recorded:

* PM E-DRIVE subsidy: sales.subsidy_claim (the sale's booking names the model, so the OEM); claimed
  when the claim is raised on the OEM's portal, credited when the OEM credits it; the claim records
  no approval step;
* warranty claims (repairs, batteries, recalls) and free-service labour claims: warranty.claim, by
  status (DRAFT not yet claimed, SUBMITTED, APPROVED / PARTLY_APPROVED with the approved amount,
  REJECTED, SETTLED with the amount credited);
* free services delivered with no labour claim on their job card: listed as not yet claimed, without
  an amount (the claim is priced when it is raised);
* scheme incentives: oem.scheme holds the OEM's dealer-incentive schemes, but no sale records which
  scheme it earned and nothing records a claim or a credit: the screen lists the schemes in force.

One CTE (ITEMS) gives a row per claim or unclaimed free service of the branch; the summary adds them
up per OEM and source, the list shows the rows behind one figure. Functions take the connection and
never commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SOURCES = {"SUBSIDY": "PM E-DRIVE subsidy", "WARRANTY": "Warranty claims", "FREE_SERVICE": "Free-service labour"}
STAGES = {"unclaimed": "Not yet claimed", "claimed": "Claimed", "approved": "Approved", "credited": "Credited",
          "pending": "Pending"}
BUCKETS = ("0-30", "31-60", "61-90", "90+")

# A row per receivable: oem_id, source, ref (its document's id and number), is_unclaimed, the amounts
# claimed / approved / credited (NULL where that step has not happened or is not recorded),
# is_pending with the amount pending (NULL when not priced yet), and since (the day its age runs from).
ITEMS = """
items AS (
    SELECT m.oem_id, 'SUBSIDY' AS source, sc.booking_id AS ref_id, sc.booking_no AS ref_no,
           sc.claim_raised_on IS NULL AND sc.credited_on IS NULL AS is_unclaimed,
           CASE WHEN sc.claim_raised_on IS NOT NULL THEN sc.eligible_amount END AS claimed,
           NULL::numeric AS approved, sc.credited_amount AS credited,
           sc.credited_on IS NULL AS is_pending,
           CASE WHEN sc.credited_on IS NULL THEN sc.eligible_amount END AS pending,
           coalesce(sc.claim_raised_on, sc.listed_on) AS since,
           CASE WHEN sc.credited_on IS NOT NULL THEN 'Credited'
                WHEN sc.claim_raised_on IS NOT NULL THEN 'Claimed ' || sc.claim_no
                ELSE 'Not yet claimed' END AS status_label
      FROM sales.subsidy_claim sc
      JOIN sales.booking bk ON bk.booking_id = sc.booking_id
      JOIN oem.variant v ON v.variant_id = bk.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
     WHERE sc.branch_id = :branch AND NOT sc.booking_cancelled
    UNION ALL
    SELECT c.oem_id, CASE WHEN c.kind = 'FREE_SERVICE_LABOUR' THEN 'FREE_SERVICE' ELSE 'WARRANTY' END,
           c.claim_id, c.claim_no,
           c.status = 'DRAFT',
           CASE WHEN c.status <> 'DRAFT' THEN c.claimed_amount END,
           c.approved_amount, c.settled_amount,
           c.status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'PARTLY_APPROVED'),
           CASE WHEN c.status IN ('DRAFT', 'SUBMITTED') THEN c.claimed_amount
                WHEN c.status IN ('APPROVED', 'PARTLY_APPROVED') THEN c.approved_amount END,
           coalesce(c.submitted_on, c.raised_on),
           s.label
      FROM warranty.claim c JOIN warranty.claim_status s ON s.status = c.status
     WHERE c.branch_id = :branch
    UNION ALL
    SELECT m.oem_id, 'FREE_SERVICE', -jc.job_card_id, jc.job_card_no,
           true, NULL, NULL, NULL, true, NULL,
           (jc.closed_at AT TIME ZONE 'Asia/Kolkata')::date,
           'Free service ' || jc.free_service_no || ' done, labour not claimed'
      FROM service.job_card jc
      JOIN service.vehicle sv ON sv.vehicle_id = jc.vehicle_id
      JOIN oem.variant v ON v.variant_id = sv.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
     WHERE jc.branch_id = :branch AND jc.service_type = 'FREE_SERVICE' AND jc.state = 'DELIVERED'
       AND NOT EXISTS (SELECT 1 FROM warranty.claim c
                        WHERE c.job_card_id = jc.job_card_id AND c.kind = 'FREE_SERVICE_LABOUR')),
aged AS (
    SELECT i.*, :today - i.since AS age_days,
           CASE WHEN NOT i.is_pending THEN NULL
                WHEN :today - i.since <= 30 THEN '0-30' WHEN :today - i.since <= 60 THEN '31-60'
                WHEN :today - i.since <= 90 THEN '61-90' ELSE '90+' END AS bucket
      FROM items i)"""

STAGE_SQL = {"unclaimed": "a.is_unclaimed", "claimed": "a.claimed IS NOT NULL", "approved": "a.approved IS NOT NULL",
             "credited": "a.credited IS NOT NULL", "pending": "a.is_pending"}


def summary(conn: Connection, branch_id: int, today: date):
    """Per OEM and source: counts and amounts not yet claimed, claimed, approved, credited, pending,
    and pending by age bucket (b0..b3 with their counts n0..n3)."""
    buckets = ",\n".join(
        f"count(*) FILTER (WHERE a.bucket = '{b}') AS n{k}, sum(a.pending) FILTER (WHERE a.bucket = '{b}') AS b{k}"
        for k, b in enumerate(BUCKETS))
    return conn.execute(sa.text(f"""
        WITH {ITEMS}
        SELECT a.oem_id, o.brand, a.source,
               count(*) FILTER (WHERE a.is_unclaimed) AS n_unclaimed,
               sum(a.pending) FILTER (WHERE a.is_unclaimed) AS unclaimed,
               count(a.claimed) AS n_claimed, sum(a.claimed) AS claimed,
               count(a.approved) AS n_approved, sum(a.approved) AS approved,
               count(a.credited) AS n_credited, sum(a.credited) AS credited,
               count(*) FILTER (WHERE a.is_pending) AS n_pending, sum(a.pending) AS pending,
               {buckets}
          FROM aged a JOIN oem.oem o ON o.oem_id = a.oem_id
         GROUP BY a.oem_id, o.brand, a.source
         ORDER BY o.brand, a.source"""), {"branch": branch_id, "today": today}).mappings().all()


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
        params["bucket"] = bucket
    return " AND ".join(where), params


def item_page(conn: Connection, branch_id: int, today: date, filt: tuple[str, dict], limit: int | None,
              offset: int = 0):
    """The receivables matching the filter, oldest first, each with who it is about (the customer of
    the sale or job card, the claim's VIN), and the number found (``found``) on every row."""
    where, params = filt
    return conn.execute(sa.text(f"""
        WITH {ITEMS},
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
