"""The vehicle as other modules' panels see it, and the addresses of the workshop's pages."""
from __future__ import annotations

from flask import url_for


def vehicle_subject(vehicle, packs) -> dict:
    """The "service_vehicle" slot's subject from a vehicle row (queries.get_vehicle) and its packs
    (queries.vehicle_packs)."""
    return {
        "vehicle_id": vehicle["vehicle_id"], "unit_id": vehicle["unit_id"], "vin": vehicle["vin"],
        "registration_no": vehicle["registration_no"], "variant_id": vehicle["variant_id"],
        "model_id": vehicle["model_id"], "sale_date": vehicle["sale_date"], "customer_id": vehicle["customer_id"],
        "last_odometer_km": vehicle["last_odometer_km"], "last_odometer_on": vehicle["last_odometer_on"],
        "mfg_month": vehicle["mfg_month"], "pack_ids": pack_history(packs, vehicle["sale_date"]),
        "used_free_services": list(vehicle["used_free_services"] or ()),
        "open_job_card_id": vehicle["open_job_card_id"],
        # the next service due, as the card triggers keep it on the vehicle (the workshop's own panel shows it)
        "next_service_due_on": vehicle["next_service_due_on"], "next_service_due_km": vehicle["next_service_due_km"],
        "next_free_service_no": vehicle["next_free_service_no"],
    }


def pack_history(packs, sale_date) -> list[dict]:
    """Every pack the vehicle has held (service.vehicle_pack rows), each with the pack it replaced: the
    one taken out on the day it was fitted, after the sale (the fitment history has no other link).
    The warranty's battery rule follows a replacement's term from the pack it replaced."""
    removed_on = {}
    for p in packs:
        if p["removed_on"] is not None:
            removed_on.setdefault(p["removed_on"], p["pack_id"])
    return [{"pack_id": p["pack_id"], "serial": p["serial"], "fitted_on": p["fitted_on"], "removed_on": p["removed_on"],
             "replaced_pack_id": removed_on.get(p["fitted_on"]) if p["fitted_on"] > sale_date else None}
            for p in packs]


def vehicle_url(vehicle_id: int) -> str:
    return url_for("service.vehicle_detail", vehicle_id=vehicle_id)


def job_card_url(job_card_id: int) -> str:
    return url_for("service.job_card_detail", job_card_id=job_card_id)
