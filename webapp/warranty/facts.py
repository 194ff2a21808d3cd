"""What the workshop sees about a vehicle's warranty at a glance: the vehicle's and each battery
pack's cover with what is left in months and km, the extended plans sold for it, the free
services (used, due, to come, expired) and the open recall / service campaigns.

One function, ``vehicle_facts``, over a plain description of the vehicle (the "subject"), so the
service arrival page (its "service_vehicle" panel slot) and this module's warranty check screen
draw the same facts from the same rules.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from ..formatting import ddmmyyyy, group_indian, today_ist
from . import queries

PACK_TERMS = {"ORIGINAL": "fitted at sale", "REMAINING": "replacement: the rest of the replaced pack's term",
              "FRESH": "replacement: a fresh term from fitment"}
FREE_SERVICE_STATES = {"USED": "Used", "DUE": "Due now", "TO_COME": "To come", "EXPIRED": "Expired"}
CAMPAIGN_KINDS = {"RECALL": "Recall", "SERVICE": "Service campaign"}


def km(value: int | None) -> str:
    """12500 -> '12,500 km' (Indian grouping)."""
    if value is None:
        return ""
    return f"{'-' if value < 0 else ''}{group_indian(str(abs(int(value))))} km"


def why_not(cover: Mapping[str, Any]) -> str | None:
    """The reason a cover does not hold, in the workshop's words (None when it holds)."""
    reason = cover["reason"]
    if reason is None:
        return None
    if reason == "EXPIRED_BY_DATE":
        return f"Expired by date: the last day covered was {ddmmyyyy(cover['ends_on'])}"
    if reason == "EXPIRED_BY_KM":
        return f"Expired by km: covered up to {km(cover['ends_km'])}"
    if reason == "NOT_STARTED":
        return f"Not sold yet on this date (the cover starts on {ddmmyyyy(cover['starts_on'])})"
    if reason == "NO_WARRANTY":
        return "The variant carries no warranty of this kind"
    return reason


def left_text(cover: Mapping[str, Any]) -> str:
    """'1 year 2 months 3 days and 12,000 km left' (what comes first ends it)."""
    months, days = cover["left_months"] or 0, cover["left_days"] or 0
    parts = []
    if months >= 12:
        parts.append(f"{months // 12} year{'s' if months // 12 != 1 else ''}")
    if months % 12:
        parts.append(f"{months % 12} month{'s' if months % 12 != 1 else ''}")
    if days or not parts:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    text = " ".join(parts)
    if cover["left_km"] is not None:
        text += f" and {km(cover['left_km'])}"
    return text + " left"


def _cover(row: Mapping[str, Any]) -> dict:
    cover = dict(row)
    cover["why_not"] = why_not(cover)
    cover["left"] = left_text(cover) if cover["covered"] else None
    return cover


def _packs(subject: Mapping[str, Any]) -> list[dict]:
    return [{"pack_id": p.get("pack_id"), "serial": p.get("serial"), "fitted_on": p.get("fitted_on"),
             "fitted_km": p.get("fitted_km"), "replaced_pack_id": p.get("replaced_pack_id"),
             "soh_pct": p.get("soh_pct")} for p in subject.get("pack_ids") or ()]


def vehicle_facts(conn: Connection, subject: Mapping[str, Any], on: date | None = None) -> dict:
    """The facts for one vehicle. ``subject``: vin, variant_id, model_id, sale_date,
    last_odometer_km, mfg_month, pack_ids (list of {pack_id, serial, fitted_on, replaced_pack_id};
    optional fitted_km, soh_pct, and removed_on for a pack no longer fitted, given so a replacement
    finds the term it continues), and optionally used_free_services (the numbers used) and on (the
    day asked about; today when absent)."""
    on = on or subject.get("on") or today_ist()
    vin, sale_date, km = subject["vin"], subject.get("sale_date"), subject.get("last_odometer_km")
    facts: dict[str, Any] = {"vin": vin, "on": on, "km": km, "sale_date": sale_date, "vehicle": None,
                             "packs": [], "free_services": [], "plans": [], "campaigns": []}
    if subject.get("variant_id") is None:
        facts["sale_date"] = sale_date = None   # the cover needs the variant's terms
    if sale_date is not None:
        variant_id = subject["variant_id"]
        facts["vehicle"] = _cover(queries.vehicle_coverage(conn, vin, variant_id, sale_date, on, km))
        packs = _packs(subject)
        if packs:
            fitted = {p["pack_id"] for p in subject.get("pack_ids") or () if not p.get("removed_on")}
            facts["packs"] = [dict(_cover(r), term_label=PACK_TERMS.get(r["pack_term"], r["pack_term"]))
                              for r in queries.battery_coverage(conn, vin, variant_id, sale_date, on, km, packs)
                              if r["pack_id"] in fitted]
        used = list(subject.get("used_free_services") or ())
        facts["free_services"] = [dict(r, state_label=FREE_SERVICE_STATES[r["state"]]) for r in
                                  queries.free_services(conn, subject["model_id"], sale_date, on, km, used)]
        facts["plans"] = queries.plan_sales_of(conn, vin)
    facts["campaigns"] = [dict(c, kind_label=CAMPAIGN_KINDS[c["kind"]]) for c in
                          queries.open_campaigns(conn, vin, subject.get("model_id"), subject.get("mfg_month"), on)]
    facts["free_due"] = [f for f in facts["free_services"] if f["state"] in ("DUE", "TO_COME")]
    return facts


def subject_of_sold_unit(conn: Connection, unit: Mapping[str, Any]) -> dict:
    """The subject for a unit this showroom sold (queries.sold_unit): its packs from the fitment
    history, the odometer as handed over."""
    packs = queries.unit_packs(conn, unit["unit_id"], unit["sale_date"])
    return {"vin": unit["vin"], "variant_id": unit["variant_id"], "model_id": unit["model_id"],
            "sale_date": unit["sale_date"], "last_odometer_km": unit["odometer_km"], "mfg_month": unit["mfg_month"],
            "pack_ids": packs}
