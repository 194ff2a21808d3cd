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
        "pack_ids": [p["pack_id"] for p in packs if p["removed_on"] is None],
        "open_job_card_id": vehicle["open_job_card_id"],
    }


def vehicle_url(vehicle_id: int) -> str:
    return url_for("service.vehicle_detail", vehicle_id=vehicle_id)


def job_card_url(job_card_id: int) -> str:
    return url_for("service.job_card_detail", job_card_id=job_card_id)
