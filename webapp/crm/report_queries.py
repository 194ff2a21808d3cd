"""The funnel (leads -> test rides -> bookings -> deliveries) by month, source or salesperson, and
the lost-reason analysis, for leads dated within a period at the branch. A lead counts at each stage
it reached: a test ride taken, a booking made (cancelled ones too: it was booked), a delivery made."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

GROUPS = {"month": "Month", "source": "Source", "salesperson": "Salesperson"}
_KEYS = {"month": "to_char(l.lead_date, 'YYYY-MM')", "source": "l.source", "salesperson": "sp.name"}


def funnel(conn: Connection, branch_id: int, start: date, end: date, group: str, own: int | None = None):
    key = _KEYS[group]
    return conn.execute(sa.text(f"""
        SELECT {key} AS key,
               count(*) AS leads,
               count(*) FILTER (WHERE x.rode) AS test_rides,
               count(*) FILTER (WHERE x.booked) AS bookings,
               count(*) FILTER (WHERE x.delivered) AS deliveries,
               count(*) FILTER (WHERE l.status = 'LOST') AS lost
          FROM crm.lead l
          JOIN master.staff sp ON sp.staff_id = l.salesperson_id
          -- each lead's stages from its own rows (booking_lead_idx, test_ride_lead_idx), not a hash of
          -- every ride and booking of five years
         CROSS JOIN LATERAL (
               SELECT EXISTS (SELECT 1 FROM crm.test_ride r WHERE r.lead_id = l.lead_id) AS rode,
                      bk.booked, bk.delivered
                 FROM (SELECT count(*) > 0 AS booked, coalesce(bool_or(b.stage = 'DELIVERED'), false) AS delivered
                         FROM sales.booking b WHERE b.lead_id = l.lead_id) bk) x
         WHERE l.branch_id = :b AND l.lead_date BETWEEN :start AND :end
           AND (CAST(:own AS integer) IS NULL OR l.salesperson_id = :own)
         GROUP BY 1 ORDER BY 1"""), {"b": branch_id, "start": start, "end": end, "own": own}).mappings().all()


def lost_reasons(conn: Connection, branch_id: int, start: date, end: date):
    """Lost leads of the period by reason (every reason of the list, none lost too), most first."""
    return conn.execute(sa.text("""
        SELECT r.reason_code, r.label, count(l.lead_id) AS lost,
               count(l.lead_id) FILTER (WHERE l.source = 'WALK_IN') AS walk_in,
               count(l.lead_id) FILTER (WHERE l.source <> 'WALK_IN') AS other_sources
          FROM crm.lost_reason r
          LEFT JOIN crm.lead l ON l.lost_reason_code = r.reason_code AND l.status = 'LOST'
                              AND l.branch_id = :b AND l.lead_date BETWEEN :start AND :end
         GROUP BY r.reason_code, r.label, r.sort_order
        HAVING count(l.lead_id) > 0 OR bool_or(r.active)
         ORDER BY count(l.lead_id) DESC, r.sort_order"""), {"b": branch_id, "start": start, "end": end}).mappings().all()
