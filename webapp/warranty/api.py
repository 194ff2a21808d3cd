"""What other modules may use of warranty: the coverage of a vehicle and of its battery packs, the
free services due, the open recall / service campaigns and marking one done, the vehicle's claims
to the OEM (its service history), and the facts the
service arrival page shows (its "service_vehicle" panel is registered by this module, see
__init__.py; the page needs no import for it).

The one door into this module (tests/test_import_contract.py). Every rule is PostgreSQL's
(sql/functions/92_warranty.sql); these functions take the request's connection and never commit.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Connection

from ..formatting import today_ist
from . import claim_queries, queries
from .facts import vehicle_facts, why_not
from .forms import CAMPAIGN_DONE_ERRORS

__all__ = ["CAMPAIGN_DONE_ERRORS", "battery_coverage", "free_services", "mark_done", "open_campaigns",
           "vehicle_claims", "vehicle_coverage", "vehicle_facts", "why_not"]


def vehicle_claims(conn: Connection, vehicle_id: int) -> list[dict]:
    """The vehicle's warranty claims to the OEM, newest first (one statement): claim_id, claim_no,
    raised_on, kind, kind_label, status, status_label, oem_claim_ref, job_card_no, claimed_amount,
    approved_amount and settled_amount (None until decided / settled)."""
    return [{**r, "kind_label": claim_queries.KINDS.get(r["kind"], r["kind"])}
            for r in claim_queries.vehicle_claims(conn, vehicle_id)]


def vehicle_coverage(conn: Connection, vin: str, variant_id: int, sale_date: date, on: date, km: int | None):
    """The vehicle warranty on the day at the odometer: covered, reason (None, NOT_STARTED,
    NO_WARRANTY, EXPIRED_BY_DATE, EXPIRED_BY_KM), starts_on, ends_on, ends_km, left_months,
    left_days, left_km, plan_sale_id and plan_name (an extended plan that lengthens it)."""
    return queries.vehicle_coverage(conn, vin, variant_id, sale_date, on, km)


def battery_coverage(conn: Connection, vin: str, variant_id: int, sale_date: date, on: date, km: int | None,
                     packs: list[dict]):
    """Each pack's battery warranty (the same columns as vehicle_coverage, plus pack_id, serial,
    pack_term ORIGINAL / REMAINING / FRESH, min_soh_pct, soh_pct and soh_below_floor). packs:
    [{pack_id, serial, fitted_on, replaced_pack_id, fitted_km (optional), soh_pct (optional)}]."""
    return queries.battery_coverage(conn, vin, variant_id, sale_date, on, km, packs)


def free_services(conn: Connection, model_id: int, sale_date: date, on: date, km: int | None, used: list[int]):
    """The model's free services for the vehicle: service_no, due_months, due_km, due_on, state
    (USED, DUE, TO_COME, EXPIRED), expired_by, left_days, left_km. ``used``: the service numbers
    the vehicle's job cards used (the job card table keeps each used once)."""
    return queries.free_services(conn, model_id, sale_date, on, km, used)


def open_campaigns(conn: Connection, vin: str, model_id: int | None, mfg_month: date | None, on: date | None = None):
    """The recall / service campaigns open on the day (today) that match the vehicle and are not
    yet done on it: campaign_id, code, title, kind, operation_code, operation_name, instructions."""
    return queries.open_campaigns(conn, vin, model_id, mfg_month, on or today_ist())


def mark_done(conn: Connection, *, campaign_id: int, vin: str, done_on: date, branch_id: int,
              model_id: int | None = None, mfg_month: date | None = None, job_ref: str | None = None) -> int:
    """Record the campaign done on the VIN (once per campaign and VIN; only while it is open and
    on a vehicle it matches: the database refuses otherwise, CAMPAIGN_DONE_ERRORS names why)."""
    return queries.insert_campaign_done(conn, campaign_id=campaign_id, vin=vin, model_id=model_id,
                                        mfg_month=mfg_month, done_on=done_on, branch_id=branch_id, job_ref=job_ref)
