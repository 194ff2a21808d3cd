"""What other modules may use of the workshop (tests/test_import_contract.py): the subject a
"service_vehicle" panel is drawn for, and the addresses of a vehicle's and a job card's pages.

Panels for the arrival and vehicle pages are registered on the "service_vehicle" slot
(webapp/panels.py) with a context function ``(conn, subject) -> dict | None``; the subject is
``vehicle_subject``'s dict: vehicle_id, unit_id (None: sold elsewhere), vin, registration_no,
variant_id, model_id, sale_date, customer_id, last_odometer_km, last_odometer_on, mfg_month, pack_ids
(every pack the vehicle has held: pack_id, serial, fitted_on, removed_on (None: in it now),
replaced_pack_id), used_free_services (the free-service numbers of its job cards not cancelled, at
any branch: service.free_services_used reads them past the branches' row-level security),
open_job_card_id (this branch's open card, or None).

For the service invoice: ``customer_work_approved(conn, job_card_id)`` is the database's answer
(service.customer_work_approved) to "has the customer approved all the customer-paid work?", and
``billable_lines(conn, job_card_id)`` the lines to bill (service.job_line_billable: parts at what
was issued).

The job card page has a slot too, "service_job_card": its subject is job_card_id, vehicle_id, state,
service_type. ``pack_trends(readings, floor)`` groups battery readings (pack_id, serial, read_at,
soh_pct, flags, job_card_no) by pack, each with the SoH chart templates/service/_macros.html draws;
FLAG_LABELS names a reading's flags.
"""
from .subject import job_card_url, vehicle_subject, vehicle_url
from .vehicles import FLAG_LABELS, pack_trends
from .work_queries import billable_lines, customer_work_approved

__all__ = ["FLAG_LABELS", "billable_lines", "customer_work_approved", "job_card_url", "pack_trends",
           "vehicle_subject", "vehicle_url"]
